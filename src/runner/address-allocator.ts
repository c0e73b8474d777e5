/**
 * Pod addresses for `shoal up`: one IPv4 address per pod from a CIDR (127.1.0.0/16 by default: on Linux the whole
 * of 127.0.0.0/8 is loopback, so every pod can bind the standard ports on its own address). Addresses are handed out
 * round-robin, so a released address is reused only after every other one has been used: a restarted pod gets a new
 * address, and a peer that still holds the old one finds nothing there rather than the wrong pod. An address someone
 * else has bound (another `shoal up`, a test) is skipped: `isFree` is asked before an address is handed out.
 */
import { ShoalError } from '../core/errors.js';

export interface Cidr {
  /** The network address as a 32-bit number. */
  base: number;
  prefix: number;
  /** Usable host addresses: the network and broadcast addresses are left out. */
  size: number;
}

/** `127.1.0.0/16` -> { base, prefix, size }; a ShoalError naming the flag for anything else. */
export function parseCidr(text: string, flag = '--pod-cidr'): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || prefix < 8 || prefix > 30) {
    throw new ShoalError(
      'BadRequest',
      `${flag} ${text}: expected an IPv4 CIDR with a prefix of 8 to 30, e.g. 127.1.0.0/16`,
    );
  }
  const ip = octets.reduce((acc, o) => acc * 256 + o, 0);
  const span = 2 ** (32 - prefix);
  const base = ip - (ip % span);
  return { base, prefix, size: span - 2 };
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export class AddressAllocator {
  private readonly cidr: Cidr;
  private readonly used = new Set<number>();
  /** Offset (1..size) of the next address to try. */
  private cursor = 1;

  constructor(cidr: string | Cidr) {
    this.cidr = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  }

  /** The next address not held by a pod and free according to `isFree`; a ShoalError when none is left. */
  async allocate(isFree: (ip: string) => boolean | Promise<boolean> = () => true): Promise<string> {
    for (let tried = 0; tried < this.cidr.size; tried++) {
      const offset = this.cursor;
      this.cursor = (this.cursor % this.cidr.size) + 1;
      const n = this.cidr.base + offset;
      if (this.used.has(n)) continue;
      this.used.add(n);
      const ip = formatIp(n);
      let free = false;
      try {
        free = await isFree(ip);
      } finally {
        if (!free) this.used.delete(n);
      }
      if (free) return ip;
    }
    throw new ShoalError(
      'ServiceUnavailable',
      `no free pod address left in ${formatIp(this.cidr.base)}/${this.cidr.prefix}`,
    );
  }

  release(ip: string): void {
    const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    this.used.delete(n);
  }

  get inUse(): number {
    return this.used.size;
  }
}
