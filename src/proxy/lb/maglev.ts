/**
 * MAGLEV: the lookup table of Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer"
 * (NSDI 2016), section 3.4, with Envoy's weighting. Per hash source, each host (in key order) gets
 * offset = murmur3(key, seed 0) % M and skip = murmur3(key, seed 1) % (M - 1) + 1, its preference list being
 * offset, offset + skip, offset + 2 skip, ... mod M (M prime, so the list covers every entry). Hosts take turns
 * claiming their next free preferred entry until the table is full; with weights, a host takes its turn in round r
 * only while r * weight >= (turns taken) * max weight, so entries are shared in proportion to weight.
 *
 * A pick is one array read: table[hash % M]. The table is a pure function of the set of (key, weight) pairs, so
 * removing a host and adding it back restores every entry. Removing a host moves its entries and, unlike a ring,
 * a few others (the paper's "minimal disruption" is approximate): measured in test/unit/lb/maglev.test.ts.
 */
import { err, ok, type Result } from '../../core/result.js';
import { asObject, readNumber, unknownField } from './config.js';
import { drawsFor, murmur3String, type Draws } from './hash.js';
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

export interface MaglevConfig {
  readonly tableSize: number;
}

export const DEFAULT_TABLE_SIZE = 65537;
/** Envoy's largest table size. */
export const MAX_TABLE_SIZE = 5000011;

export function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** The endpoint index of every table entry. */
export function maglevTable(source: HostSource, endpoints: readonly LbEndpoint[], size: number): Int32Array {
  const order = Array.from(source.hosts.keys()).sort((a, b) => {
    const ka = endpoints[source.hosts[a]!]!.key;
    const kb = endpoints[source.hosts[b]!]!.key;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const n = order.length;
  const host = Int32Array.from(order, (p) => source.hosts[p]!);
  const weight = Float64Array.from(order, (p) => source.weights[p]!);
  const next = Int32Array.from(order, (p) => murmur3String(endpoints[source.hosts[p]!]!.key, 0) % size);
  const skip = Int32Array.from(order, (p) => (murmur3String(endpoints[source.hosts[p]!]!.key, 1) % (size - 1)) + 1);
  const turns = new Float64Array(n);
  const maxWeight = weight.reduce((m, w) => Math.max(m, w), 0);
  const table = new Int32Array(size).fill(-1);
  let filled = 0;
  for (let round = 1; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      if (round * weight[i]! < turns[i]! * maxWeight) continue;
      turns[i]!++;
      let c = next[i]!;
      while (table[c] !== -1) {
        c += skip[i]!;
        if (c >= size) c -= size;
      }
      table[c] = host[i]!;
      c += skip[i]!;
      next[i] = c >= size ? c - size : c;
      filled++;
    }
  }
  return table;
}

export class MaglevPicker implements Picker {
  readonly tables: readonly Int32Array[];
  private readonly results: readonly PickComplete[];
  private readonly fixed: number;
  private readonly size: number;

  constructor(
    private readonly hostSet: HostSet,
    config: MaglevConfig,
    private readonly draws: Draws,
  ) {
    this.results = hostSet.results;
    this.fixed = hostSet.fixedHashSource ?? -2;
    this.size = config.tableSize;
    this.tables = hostSet.hashSources.map((s) => maglevTable(s, hostSet.endpoints, config.tableSize));
  }

  /** With no hash, a random entry (Envoy's behaviour). */
  pick(input?: PickInput): PickResult {
    const given = input?.hash;
    // int32 (not uint32) so V8 keeps it a small integer across calls: no boxing on the pick path.
    const hash = given !== undefined ? given | 0 : this.draws.next();
    const id = this.fixed !== -2 ? this.fixed : this.hostSet.chooseHashSource(hash);
    if (id < 0) return NO_HEALTHY_UPSTREAM;
    return this.results[this.tables[id]![(hash >>> 0) % this.size]!]!;
  }
}

const WHAT = 'maglev_lb_config';

export const maglev: LoadBalancerFactory<MaglevConfig> = {
  name: 'maglev',
  /** maglev_lb_config: table_size, a prime <= 5000011 (default 65537), as Envoy validates it. */
  parseConfig(json: unknown): Result<MaglevConfig, string> {
    const obj = asObject(json, WHAT);
    if (!obj.ok) return obj;
    const unknown = unknownField(obj.value, ['table_size'], WHAT);
    if (unknown !== undefined) return err(unknown);
    const size = readNumber(obj.value, 'table_size', WHAT, {
      min: 2,
      max: MAX_TABLE_SIZE,
      integer: true,
      fallback: DEFAULT_TABLE_SIZE,
    });
    if (!size.ok) return size;
    if (!isPrime(size.value)) return err(`${WHAT}.table_size: ${size.value} is not prime`);
    return ok({ tableSize: size.value });
  },
  build(hostSet: HostSet, config: MaglevConfig, options?: BuildOptions): Picker {
    return new MaglevPicker(hostSet, config, drawsFor(options));
  },
};
