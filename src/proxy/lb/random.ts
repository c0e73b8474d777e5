/**
 * RANDOM. Per source: equal weights draw a uniform index; different weights draw from a Vose alias table (built
 * once per host set), so a weighted pick is O(1): one random number chooses a column and, with its remaining
 * bits, between the column's host and its alias. Random numbers are 32-bit integer draws (hash.ts).
 */
import { err, ok, type Result } from '../../core/result.js';
import { asObject, unknownField } from './config.js';
import { drawsFor, type Draws } from './hash.js';
import type { HostSet, HostSource } from './host-set.js';
import {
  NO_HEALTHY_UPSTREAM,
  type BuildOptions,
  type LoadBalancerFactory,
  type PickComplete,
  type Picker,
  type PickResult,
} from './types.js';

export type RandomConfig = Record<string, never>;

/** Vose's alias method: host i with probability prob[i], else alias[i]; uniform columns. */
export class AliasTable {
  readonly prob: Float64Array;
  readonly alias: Int32Array;

  constructor(weights: Float64Array, total: number) {
    const n = weights.length;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = Float64Array.from(weights, (w) => (w * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1; // only floating-point leftovers
  }

  /** The position for a draw (a uniform 32-bit integer). */
  pick(draw: number): number {
    const x = ((draw >>> 0) / 4294967296) * this.prob.length;
    const column = Math.floor(x);
    return x - column < this.prob[column]! ? column : this.alias[column]!;
  }
}

export class RandomPicker implements Picker {
  private readonly tables: (AliasTable | undefined)[];
  private readonly results: readonly PickComplete[];
  private readonly fixed: number;

  constructor(
    private readonly hostSet: HostSet,
    private readonly draws: Draws,
  ) {
    this.results = hostSet.results;
    this.fixed = hostSet.fixedSource ?? -2;
    this.tables = hostSet.sources.map((s: HostSource) =>
      s.equalWeights ? undefined : new AliasTable(s.weights, s.totalWeight),
    );
  }

  pick(): PickResult {
    const id = this.fixed !== -2 ? this.fixed : this.hostSet.chooseSource(this.draws.next());
    if (id < 0) return NO_HEALTHY_UPSTREAM;
    const hosts = this.hostSet.sources[id]!.hosts;
    const table = this.tables[id];
    const draw = this.draws.next();
    const position = table === undefined ? Math.floor(((draw >>> 0) / 4294967296) * hosts.length) : table.pick(draw);
    return this.results[hosts[position]!]!;
  }
}

export const random: LoadBalancerFactory<RandomConfig> = {
  name: 'random',
  /** RANDOM has no config of its own. */
  parseConfig(json: unknown): Result<RandomConfig, string> {
    const obj = asObject(json, 'random_lb_config');
    if (!obj.ok) return obj;
    const unknown = unknownField(obj.value, [], 'random_lb_config');
    return unknown === undefined ? ok({}) : err(unknown);
  },
  build(hostSet: HostSet, _config: RandomConfig, options?: BuildOptions): Picker {
    return new RandomPicker(hostSet, drawsFor(options));
  },
};
