/**
 * How host-set.ts assembles its sources: endpoints grouped by priority and locality, each level's counts for the
 * priority arithmetic, and the sources and slots (see host-set.ts for what they mean) built from them.
 */
import type { HostSetInput, HostSource, SourceAvailability } from './host-set.js';
import type { PriorityCounts, PriorityLoads } from './priority-load.js';
import type { LbEndpoint, Locality } from './types.js';

/** One slot of the percent table: its sources and their cumulative (locality) weights. */
export interface Slot {
  readonly sources: Int32Array;
  readonly cumulative: Float64Array;
  readonly total: number;
}

/** One priority: endpoint indices, all and by availability, and its localities. */
export interface Level {
  readonly all: number[];
  readonly healthy: number[];
  readonly degraded: number[];
  readonly localities: LocalityGroup[];
}

/** One locality of a priority, with its load_balancing_weight (0 when not given). */
export interface LocalityGroup {
  readonly locality: Locality;
  readonly weight: number;
  readonly all: number[];
  readonly healthy: number[];
  readonly degraded: number[];
}

const localityKey = (l: Locality, priority: number): string =>
  `${priority}\u0000${l.region}\u0000${l.zone}\u0000${l.subZone}`;

const isHealthy = (e: LbEndpoint): boolean => e.health === 'HEALTHY' || e.health === 'UNKNOWN';

/** Endpoint indices by priority (index) and, inside each, by locality in order of appearance. */
export function groupLevels(endpoints: readonly LbEndpoint[], input: HostSetInput): Level[] {
  const weights = new Map<string, number>();
  (input.priorities ?? []).forEach((level, p) => {
    for (const w of level) weights.set(localityKey(w.locality, p), w.weight);
  });
  const levels: Level[] = [];
  const localities = new Map<string, LocalityGroup>();
  const maxPriority = endpoints.reduce((m, e) => Math.max(m, e.priority), -1);
  for (let p = 0; p <= maxPriority; p++) levels.push({ all: [], healthy: [], degraded: [], localities: [] });
  endpoints.forEach((e, i) => {
    const level = levels[e.priority]!;
    const key = localityKey(e.locality, e.priority);
    let loc = localities.get(key);
    if (loc === undefined) {
      loc = { locality: e.locality, weight: weights.get(key) ?? 0, all: [], healthy: [], degraded: [] };
      localities.set(key, loc);
      level.localities.push(loc);
    }
    for (const target of [level, loc]) {
      target.all.push(i);
      if (isHealthy(e)) target.healthy.push(i);
      else if (e.health === 'DEGRADED') target.degraded.push(i);
    }
  });
  return levels;
}

export function levelCounts(endpoints: readonly LbEndpoint[], level: Level): PriorityCounts {
  const weight = (list: number[]): number => list.reduce((s, i) => s + endpoints[i]!.weight, 0);
  return {
    hosts: level.all.length,
    healthy: level.healthy.length,
    degraded: level.degraded.length,
    hostsWeight: weight(level.all),
    healthyWeight: weight(level.healthy),
    degradedWeight: weight(level.degraded),
  };
}

export class SourceBuilder {
  readonly sources: HostSource[] = [];
  readonly hashSources: HostSource[] = [];
  readonly slots: Slot[] = [];
  private readonly flat = new Map<string, number>();

  constructor(
    private readonly endpoints: readonly LbEndpoint[],
    private readonly levels: readonly Level[],
    private readonly loads: PriorityLoads,
    private readonly factor: number,
    private readonly localityWeighted: boolean,
  ) {}

  /** The slot for (priority, availability): its sources and their cumulative weights; -1 when nothing to pick. */
  slot(p: number, availability: 'healthy' | 'degraded'): number {
    const level = this.levels[p]!;
    const ids: number[] = [];
    const weights: number[] = [];
    if (!this.loads.panic[p] && this.localityWeighted) {
      for (const loc of level.localities) {
        const eligible = loc[availability];
        const weight = loc.weight * Math.min(1, ((this.factor / 100) * eligible.length) / loc.all.length);
        if (weight <= 0 || eligible.length === 0) continue;
        ids.push(this.make(this.sources, p, availability, loc.locality, eligible, (i) => this.endpoints[i]!.weight));
        weights.push(weight);
      }
    }
    if (ids.length === 0) {
      const id = this.flatSource(this.sources, p, this.loads.panic[p] ? 'all' : availability);
      if (id < 0) return -1;
      ids.push(id);
      weights.push(1);
    }
    let total = 0;
    const cumulative = Float64Array.from(weights, (w) => (total += w));
    this.slots.push({ sources: Int32Array.from(ids), cumulative, total });
    return this.slots.length - 1;
  }

  /** The hash source for (priority, availability), locality weights folded into host weights; -1 when empty. */
  hashSource(p: number, availability: 'healthy' | 'degraded'): number {
    const which: SourceAvailability = this.loads.panic[p] ? 'all' : availability;
    const level = this.levels[p]!;
    const present = level.localities.filter((l) => l[which].length > 0);
    const localityTotal = present.reduce((s, l) => s + l.weight, 0);
    if (!this.localityWeighted || localityTotal === 0) return this.flatSource(this.hashSources, p, which);
    const folded = new Map<number, number>();
    for (const loc of present) {
      const hostsWeight = loc[which].reduce((s, i) => s + this.endpoints[i]!.weight, 0);
      for (const i of loc[which]) {
        folded.set(i, ((loc.weight / localityTotal) * this.endpoints[i]!.weight) / hostsWeight);
      }
    }
    const hosts = level[which].filter((i) => folded.get(i)! > 0);
    return this.make(this.hashSources, p, which, undefined, hosts, (i) => folded.get(i)!);
  }

  private flatSource(into: HostSource[], p: number, which: SourceAvailability): number {
    const key = `${into === this.sources ? 's' : 'h'}:${p}:${which}`;
    let id = this.flat.get(key);
    if (id === undefined) {
      id = this.make(into, p, which, undefined, this.levels[p]![which], (i) => this.endpoints[i]!.weight);
      this.flat.set(key, id);
    }
    return id;
  }

  /** Adds a source to `into` and returns its index there, or -1 for no hosts. */
  private make(
    into: HostSource[],
    priority: number,
    availability: SourceAvailability,
    locality: Locality | undefined,
    hosts: readonly number[],
    weightOf: (i: number) => number,
  ): number {
    if (hosts.length === 0) return -1;
    const weights = Float64Array.from(hosts, weightOf);
    const totalWeight = weights.reduce((s, w) => s + w, 0);
    const equalWeights = weights.every((w) => w === weights[0]);
    into.push({ priority, availability, locality, hosts: Int32Array.from(hosts), weights, totalWeight, equalWeights });
    return into.length - 1;
  }
}
