/**
 * ROUND_ROBIN. Per source: equal weights step a cursor through the hosts, starting at a random position (so that
 * sidecars receiving the same update do not all start on the same endpoint); different weights use the smooth
 * weighted schedule (edf.ts: exact Webster deadlines, 3:1 gives A A B A), advanced by a random number (< n) of
 * picks first, like Envoy's seeded EDF, and unrolled into a table when its period is short. Across sources
 * (priorities, localities) the choice is HostSet's.
 */
import { err, ok, type Result } from '../../core/result.js';
import { asObject, unknownField } from './config.js';
import { SmoothWeightedSchedule } from './edf.js';
import { drawsFor, unit, type Draws } from './hash.js';
import type { HostSet, HostSource } from './host-set.js';
import {
  NO_HEALTHY_UPSTREAM,
  type BuildOptions,
  type LoadBalancerFactory,
  type PickComplete,
  type Picker,
  type PickResult,
} from './types.js';

export type RoundRobinConfig = Record<string, never>;

/** A cursor over equally weighted hosts. */
class Cursor {
  private next: number;

  constructor(
    private readonly hosts: Int32Array,
    start: number,
  ) {
    this.next = start;
  }

  pick(): number {
    const i = this.next;
    this.next = i + 1 === this.hosts.length ? 0 : i + 1;
    return this.hosts[i]!;
  }
}

/** Periods up to this many picks are unrolled into a table: a pick is then one array read. */
const MAX_TABLE = 65536;

/**
 * The smooth schedule over differently weighted hosts: one period (sum of weights) precomputed into a table when
 * it is at most MAX_TABLE picks, else the EDF heap itself (O(log n) a pick).
 */
class Weighted {
  private readonly schedule: SmoothWeightedSchedule;
  private readonly table: Int32Array | undefined;
  private next = 0;

  constructor(
    private readonly hosts: Int32Array,
    weights: Float64Array,
    advance: number,
  ) {
    this.schedule = new SmoothWeightedSchedule(weights);
    const period = weights.reduce((s, w) => s + w, 0);
    if (period <= MAX_TABLE) {
      this.table = new Int32Array(period);
      for (let i = 0; i < period; i++) this.table[i] = hosts[this.schedule.next()]!;
      this.next = advance % period;
    } else {
      for (let i = 0; i < advance; i++) this.schedule.next();
    }
  }

  pick(): number {
    const table = this.table;
    if (table === undefined) return this.hosts[this.schedule.next()]!;
    const i = this.next;
    this.next = i + 1 === table.length ? 0 : i + 1;
    return table[i]!;
  }
}

export class RoundRobinPicker implements Picker {
  private readonly perSource: (Cursor | Weighted)[];
  private readonly results: readonly PickComplete[];
  private readonly fixed: number;

  constructor(
    private readonly hostSet: HostSet,
    private readonly draws: Draws,
  ) {
    this.results = hostSet.results;
    this.fixed = hostSet.fixedSource ?? -2;
    this.perSource = hostSet.sources.map((s: HostSource) => {
      const start = Math.floor(unit(draws.next()) * s.hosts.length);
      return s.equalWeights ? new Cursor(s.hosts, start) : new Weighted(s.hosts, s.weights, start);
    });
  }

  pick(): PickResult {
    const source = this.fixed !== -2 ? this.fixed : this.hostSet.chooseSource(this.draws.next());
    if (source < 0) return NO_HEALTHY_UPSTREAM;
    return this.results[this.perSource[source]!.pick()]!;
  }
}

export const roundRobin: LoadBalancerFactory<RoundRobinConfig> = {
  name: 'round_robin',
  /** round_robin_lb_config: slow start is not implemented, so the only valid config is empty. */
  parseConfig(json: unknown): Result<RoundRobinConfig, string> {
    const obj = asObject(json, 'round_robin_lb_config');
    if (!obj.ok) return obj;
    const unknown = unknownField(obj.value, [], 'round_robin_lb_config');
    return unknown === undefined ? ok({}) : err(unknown);
  },
  build(hostSet: HostSet, _config: RoundRobinConfig, options?: BuildOptions): Picker {
    return new RoundRobinPicker(hostSet, drawsFor(options));
  },
};
