/**
 * RING_HASH: a Ketama-style ring per hash source (host-set.ts). Each host is hashed onto the ring at the points
 * murmur3(`<key>_<i>`) for i = 0 .. points - 1 (hash.ts); a request hash goes to the first point at or after it
 * (binary search; wrapping to the first point), and the slot for the priority is `hash % 100` as in Envoy.
 *
 * Ring size. Envoy scales the ring so the lightest host gets ceil(minimum_ring_size * its share) points, which
 * changes every host's point count whenever a host comes or goes (10 -> 9 hosts at 1024: 103 -> 114 points
 * each), moving about as many keys between surviving hosts as the removed host had. Shoal gives a host
 * round(w / w_min * k) points, where k is the smallest power of two with k * sum(w / w_min) >= minimum_ring_size
 * (halved while the ring would exceed maximum_ring_size). A host's points change only when k does (the total
 * relative weight crossing a power-of-two fraction of the minimum: 8 -> 7 or 16 -> 15 equal hosts at 1024) or
 * w_min does, so in every other change a key whose host is still there keeps it: only the removed host's keys
 * move, and adding it back restores them.
 */
import { err, ok, type Result } from '../../core/result.js';
import { asObject, field, readNumber, unknownField } from './config.js';
import { drawsFor, murmur3Bytes, type Draws } from './hash.js';
import type { HostSet, HostSource } from './host-set.js';
import {
  NO_HEALTHY_UPSTREAM,
  type BuildOptions,
  type LbEndpoint,
  type LoadBalancerFactory,
  type PickComplete,
  type Picker,
  type PickInput,
  type PickResult,
} from './types.js';

export interface RingHashConfig {
  readonly minimumRingSize: number;
  readonly maximumRingSize: number;
}

/** Envoy's limit for both sizes, and its default maximum. */
export const MAX_RING_SIZE = 8_388_608;
const ORDINAL_BITS = 2 ** 21;
const SIGN = 0x80000000 | 0;

/** Points per host: round(relative weight * k), at least 1. */
function pointCounts(weights: Float64Array, config: RingHashConfig): Int32Array {
  const min = weights.reduce((m, w) => Math.min(m, w), Infinity);
  const relative = Float64Array.from(weights, (w) => w / min);
  const sum = relative.reduce((s, r) => s + r, 0);
  const counts = (k: number): Int32Array => Int32Array.from(relative, (r) => Math.max(1, Math.round(r * k)));
  const total = (c: Int32Array): number => c.reduce((s, x) => s + x, 0);
  let k = 1;
  while (k * sum < config.minimumRingSize) k *= 2;
  let result = counts(k);
  while (total(result) > config.maximumRingSize && k > 1) result = counts((k /= 2));
  if (total(result) > config.maximumRingSize) {
    result = Int32Array.from(relative, (r) => Math.max(1, Math.floor((r * config.maximumRingSize) / sum)));
  }
  return result;
}

/**
 * One ring: sorted point hashes and the endpoint index at each point, plus a bucket index over the top bits of
 * the hash (about one bucket per point, at most 2^16) so that a lookup searches one bucket, usually 0-2 points.
 * Hashes are compared as int32 with the sign bit flipped (unsigned order): values in the int32 range stay small
 * integers in V8, so a pick never boxes a number.
 */
export class Ring {
  /** Unsigned point hashes, sorted. */
  readonly hashes: Uint32Array;
  /** The endpoint index at each point. */
  readonly hosts: Int32Array;
  private readonly keys: Int32Array;
  private readonly buckets: Int32Array;
  private readonly shift: number;

  constructor(source: HostSource, endpoints: readonly LbEndpoint[], config: RingHashConfig) {
    if (source.hosts.length >= ORDINAL_BITS) throw new RangeError(`ring hash: ${source.hosts.length} hosts`);
    // Hosts in key order, so that points with equal hashes sort the same way whatever the input order.
    const order = Array.from(source.hosts.keys()).sort((a, b) => {
      const ka = endpoints[source.hosts[a]!]!.key;
      const kb = endpoints[source.hosts[b]!]!.key;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    const counts = pointCounts(source.weights, config);
    const size = counts.reduce((s, c) => s + c, 0);
    const packed = new Float64Array(size);
    let at = 0;
    order.forEach((position, ordinal) => {
      const key = Buffer.from(`${endpoints[source.hosts[position]!]!.key}_`, 'utf8');
      const buffer = new Uint8Array(key.length + 10);
      buffer.set(key);
      for (let i = 0; i < counts[position]!; i++) {
        const digits = String(i);
        for (let d = 0; d < digits.length; d++) buffer[key.length + d] = digits.charCodeAt(d);
        packed[at++] = murmur3Bytes(buffer, key.length + digits.length) * ORDINAL_BITS + ordinal;
      }
    });
    packed.sort();
    this.hashes = new Uint32Array(size);
    this.hosts = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const v = packed[i]!;
      const ordinal = v % ORDINAL_BITS;
      this.hashes[i] = (v - ordinal) / ORDINAL_BITS;
      this.hosts[i] = source.hosts[order[ordinal]!]!;
    }
    this.keys = Int32Array.from(this.hashes, (h) => h ^ SIGN);
    const bits = Math.min(16, Math.max(1, Math.ceil(Math.log2(size))));
    this.shift = 32 - bits;
    this.buckets = new Int32Array((1 << bits) + 1);
    let point = 0;
    for (let b = 0; b <= 1 << bits; b++) {
      while (point < size && this.hashes[point]! >>> this.shift < b) point++;
      this.buckets[b] = point;
    }
  }

  /** The endpoint index for a 32-bit hash (signed or unsigned: the same bits). */
  find(hash: number): number {
    const bucket = hash >>> this.shift;
    let lo = this.buckets[bucket]!;
    let hi = this.buckets[bucket + 1]!;
    const key = hash ^ SIGN;
    const keys = this.keys;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return this.hosts[lo === keys.length ? 0 : lo]!;
  }
}

export class RingHashPicker implements Picker {
  readonly rings: readonly Ring[];
  private readonly results: readonly PickComplete[];
  private readonly fixed: number;

  constructor(
    private readonly hostSet: HostSet,
    config: RingHashConfig,
    private readonly draws: Draws,
  ) {
    this.results = hostSet.results;
    this.fixed = hostSet.fixedHashSource ?? -2;
    this.rings = hostSet.hashSources.map((s) => new Ring(s, hostSet.endpoints, config));
  }

  /** With no hash, a random point (Envoy's behaviour). */
  pick(input?: PickInput): PickResult {
    const given = input?.hash;
    const hash = given !== undefined ? given | 0 : this.draws.next();
    const id = this.fixed !== -2 ? this.fixed : this.hostSet.chooseHashSource(hash);
    if (id < 0) return NO_HEALTHY_UPSTREAM;
    return this.results[this.rings[id]!.find(hash)]!;
  }
}

const WHAT = 'ring_hash_lb_config';

export const ringHash: LoadBalancerFactory<RingHashConfig> = {
  name: 'ring_hash',
  /**
   * ring_hash_lb_config: minimum_ring_size (default 1024), maximum_ring_size (default 8M), both <= 8M. hash_function
   * (XX_HASH, MURMUR_HASH_2) is accepted and ignored: Shoal always uses murmur3_32.
   */
  parseConfig(json: unknown): Result<RingHashConfig, string> {
    const obj = asObject(json, WHAT);
    if (!obj.ok) return obj;
    const unknown = unknownField(obj.value, ['minimum_ring_size', 'maximum_ring_size', 'hash_function'], WHAT);
    if (unknown !== undefined) return err(unknown);
    const fn = field(obj.value, 'hash_function');
    if (fn !== undefined && fn !== 'XX_HASH' && fn !== 'MURMUR_HASH_2' && fn !== 0 && fn !== 1) {
      return err(`${WHAT}.hash_function: must be XX_HASH or MURMUR_HASH_2`);
    }
    const rule = { min: 1, max: MAX_RING_SIZE, integer: true };
    const min = readNumber(obj.value, 'minimum_ring_size', WHAT, { ...rule, fallback: 1024 });
    if (!min.ok) return min;
    const max = readNumber(obj.value, 'maximum_ring_size', WHAT, { ...rule, fallback: MAX_RING_SIZE });
    if (!max.ok) return max;
    if (min.value > max.value) return err(`${WHAT}: minimum_ring_size ${min.value} > maximum_ring_size ${max.value}`);
    return ok({ minimumRingSize: min.value, maximumRingSize: max.value });
  },
  build(hostSet: HostSet, config: RingHashConfig, options?: BuildOptions): Picker {
    return new RingHashPicker(hostSet, config, drawsFor(options));
  },
};
