/**
 * Virtual IPs for services (the ClusterIP analogue), from one IPv4 CIDR such as `127.2.0.0/16`.
 *
 * Pure bookkeeping, no store access: the caller seeds it with the addresses already in use (`reserve`) and
 * asks for new ones at admission (`allocate`). Allocation walks forward from the last address handed out and
 * wraps around, so a released address is not reused at once (a client that cached the old VIP is less likely
 * to reach the wrong service) and the sequence is predictable in tests. The free/used state is a bitmap, and
 * the search skips full 32-address words, so an allocation costs O(1) amortised while the pool has room and
 * at most capacity/32 word reads when it is nearly full.
 *
 * The network and broadcast addresses are never handed out for prefixes up to /30; a /31 or /32 has no such
 * addresses (RFC 3021), so every address in it is usable. Prefixes shorter than /8 are refused: a 16M-address
 * pool is already far more than one mesh needs.
 */
import { isIPv4 } from 'node:net';
import { ShoalError } from '../core/errors.js';

const MIN_PREFIX = 8;

export function ipv4ToNumber(ip: string): number | undefined {
  if (!isIPv4(ip)) return undefined;
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class VipAllocator {
  readonly cidr: string;
  /** The first and last usable addresses, as numbers. */
  private readonly first: number;
  private readonly last: number;
  private readonly used: Uint32Array;
  private count = 0;
  /** Offset (from `first`) where the next search starts: just after the last allocation. */
  private cursor = 0;

  constructor(cidr: string) {
    const bad = (why: string): ShoalError => new ShoalError('BadRequest', `invalid VIP range "${cidr}": ${why}`);
    const match = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
    if (!match) throw bad('expected an IPv4 CIDR such as 127.2.0.0/16');
    const base = ipv4ToNumber(match[1]!);
    const prefix = Number(match[2]);
    if (base === undefined) throw bad(`"${match[1]}" is not an IPv4 address`);
    if (prefix < MIN_PREFIX || prefix > 32) throw bad(`the prefix length must be between /${MIN_PREFIX} and /32`);
    const size = 2 ** (32 - prefix);
    if (base % size !== 0) {
      throw bad(`host bits are set (did you mean ${numberToIpv4(base - (base % size))}/${prefix}?)`);
    }
    this.cidr = cidr;
    const edges = prefix <= 30 ? 1 : 0;
    this.first = base + edges;
    this.last = base + size - 1 - edges;
    this.used = new Uint32Array(Math.ceil(this.capacity / 32));
  }

  /** How many addresses the range can hand out. */
  get capacity(): number {
    return this.last - this.first + 1;
  }

  /** How many are taken (allocated or reserved). */
  get size(): number {
    return this.count;
  }

  /** True when `ip` is one of the range's usable addresses (taken or not). */
  contains(ip: string): boolean {
    return this.offsetOf(ip) !== undefined;
  }

  /** True when `ip` is in the range and taken. */
  isAllocated(ip: string): boolean {
    const offset = this.offsetOf(ip);
    return offset !== undefined && this.isSet(offset);
  }

  /** Marks `ip` as taken; false if it is outside the range, not usable, or already taken. */
  reserve(ip: string): boolean {
    const offset = this.offsetOf(ip);
    if (offset === undefined || this.isSet(offset)) return false;
    this.set(offset, true);
    return true;
  }

  /** The next free address after the last one allocated. ServiceUnavailable when the range is exhausted. */
  allocate(): string {
    if (this.count >= this.capacity) {
      throw new ShoalError('ServiceUnavailable', `no free virtual IP left in ${this.cidr} (${this.capacity} in use)`);
    }
    const offset = this.findFree(this.cursor) ?? this.findFree(0);
    if (offset === undefined) throw new ShoalError('InternalError', `VIP bitmap of ${this.cidr} is inconsistent`);
    this.set(offset, true);
    this.cursor = offset + 1 >= this.capacity ? 0 : offset + 1;
    return numberToIpv4(this.first + offset);
  }

  /** Frees `ip`; false if it was not taken (or is outside the range). */
  release(ip: string): boolean {
    const offset = this.offsetOf(ip);
    if (offset === undefined || !this.isSet(offset)) return false;
    this.set(offset, false);
    return true;
  }

  private offsetOf(ip: string): number | undefined {
    const n = ipv4ToNumber(ip);
    if (n === undefined || n < this.first || n > this.last) return undefined;
    return n - this.first;
  }

  private isSet(offset: number): boolean {
    return (this.used[offset >>> 5]! & (1 << (offset & 31))) !== 0;
  }

  private set(offset: number, taken: boolean): void {
    const word = offset >>> 5;
    const bit = 1 << (offset & 31);
    if (taken) this.used[word] = this.used[word]! | bit;
    else this.used[word] = this.used[word]! & ~bit;
    this.count += taken ? 1 : -1;
  }

  /** The first free offset at or after `from`, or undefined. Skips full words 32 addresses at a time. */
  private findFree(from: number): number | undefined {
    let offset = from;
    while (offset < this.capacity) {
      const word = offset >>> 5;
      if (this.used[word] === 0xffffffff) {
        offset = (word + 1) * 32;
        continue;
      }
      if (!this.isSet(offset)) return offset;
      offset++;
    }
    return undefined;
  }
}
