/**
 * A cluster's endpoints arranged the way Envoy's load balancers see them, built once per configuration change and
 * shared by every policy: priorities with their loads and panic state (priority-load.ts), localities with their
 * weights, and the *sources* a pick draws from.
 *
 * A pick first chooses a slot (a priority and an availability, healthy or degraded) by a percent in [0, 100) —
 * from a random number, or `hash % 100` for the hash policies, as Envoy's choosePriority does — then a source in
 * that slot: all hosts of the priority when it is in panic; with locality weighting, one locality's eligible hosts,
 * drawn by the locality's effective weight (weight * min(1, factor * eligible / hosts), Envoy's
 * effectiveLocalityWeight); otherwise the priority's eligible hosts. Each policy then keeps one small structure
 * per source (a cursor, a scheduler, a ring) and picks a host in it.
 *
 * The hash policies (ring_hash, maglev) use one *hash source* per slot instead: the slot's hosts (all of them in
 * panic) with locality weights folded into host weights (host weight / its locality's host weight * locality
 * weight / sum of locality weights), as Envoy's ThreadAwareLoadBalancerBase does, so one table covers every
 * locality and a key keeps its endpoint whatever locality it is in.
 */
import { groupLevels, levelCounts, SourceBuilder, type Slot } from './host-sources.js';
import { computePriorityLoads } from './priority-load.js';
import { EndpointStates, type EndpointState, type LbEndpoint, type Locality, type PickComplete } from './types.js';

export type SourceAvailability = 'healthy' | 'degraded' | 'all';

/** A set of hosts one pick draws from. `hosts` are indices into HostSet.endpoints, in input order. */
export interface HostSource {
  readonly priority: number;
  readonly availability: SourceAvailability;
  /** Set when the source is one locality's hosts (locality-weighted selection). */
  readonly locality: Locality | undefined;
  readonly hosts: Int32Array;
  /** The weight of each host: its endpoint weight, or for hash sources a locality-folded fraction. All > 0. */
  readonly weights: Float64Array;
  readonly totalWeight: number;
  readonly equalWeights: boolean;
}

/** A locality's load_balancing_weight at one priority; 0 (or not listed) means no load when locality-weighted. */
export interface LocalityWeight {
  readonly locality: Locality;
  readonly weight: number;
}

/**
 * One version of a cluster's endpoints (a ClusterLoadAssignment). The sidecar's decoded EndpointSet
 * (src/proxy/config/endpoints.ts) has this shape and can be passed as it is.
 */
export interface HostSetInput {
  readonly endpoints: readonly LbEndpoint[];
  /** Locality weights, index = priority (only `locality` and `weight` are read). */
  readonly priorities?: readonly (readonly LocalityWeight[])[];
  /** Percent (ClusterLoadAssignment.policy.overprovisioning_factor); default 140. */
  readonly overprovisioningFactor?: number;
  /** Priority health from host weights instead of host counts (policy.weighted_priority_health). Default false. */
  readonly weightedPriorityHealth?: boolean;
}

/** What the Cluster says about balancing over its hosts. The sidecar's decoded LbSettings fit. */
export interface HostSetOptions {
  /** common_lb_config.healthy_panic_threshold, percent; default 50 (Envoy's); 0 disables panic. */
  readonly panicThresholdPercent?: number;
  /** common_lb_config.locality_weighted_lb_config (or wrr_locality): pick a locality by weight first. */
  readonly localityWeighted?: boolean;
  /** The cluster's per-endpoint states, kept across rebuilds; a fresh store when omitted. */
  readonly states?: EndpointStates;
}

/** One priority level as /clusters and tests see it. */
export interface PriorityInfo {
  readonly priority: number;
  readonly hosts: number;
  readonly healthy: number;
  readonly degraded: number;
  readonly health: number;
  readonly healthyLoad: number;
  readonly degradedLoad: number;
  readonly panic: boolean;
}

export class HostSet {
  /** When every pick lands in one source (or none: -1), its id: pickers then skip the slot draw. */
  readonly fixedSource: number | undefined;
  readonly fixedHashSource: number | undefined;

  constructor(
    readonly endpoints: readonly LbEndpoint[],
    readonly states: readonly EndpointState[],
    readonly results: readonly PickComplete[],
    readonly priorities: readonly PriorityInfo[],
    readonly sources: readonly HostSource[],
    readonly hashSources: readonly HostSource[],
    private readonly slots: readonly Slot[],
    private readonly slotOfPercent: Int32Array,
    private readonly hashSourceOfPercent: Int32Array,
  ) {
    this.fixedSource = fixed(slotOfPercent, (s) =>
      s < 0 ? -1 : slots[s]!.sources.length === 1 ? slots[s]!.sources[0]! : undefined,
    );
    this.fixedHashSource = fixed(hashSourceOfPercent, (s) => s);
  }

  /**
   * The source for a pick, from a draw (a uniform 32-bit integer, hash.ts): its percent picks the slot, the
   * fraction past the percent the locality. -1: nothing to pick.
   */
  chooseSource(draw: number): number {
    const x = ((draw >>> 0) / 4294967296) * 100;
    let pct = Math.floor(x);
    if (pct > 99) pct = 99;
    const slotId = this.slotOfPercent[pct]!;
    if (slotId < 0) return -1;
    const slot = this.slots[slotId]!;
    const sources = slot.sources;
    if (sources.length === 1) return sources[0]!;
    const cumulative = slot.cumulative;
    const target = (x - pct) * slot.total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return sources[lo]!;
  }

  /** The hash source for a 32-bit hash (signed or unsigned, the same bits): Envoy's `hash % 100` priority choice. */
  chooseHashSource(hash: number): number {
    return this.hashSourceOfPercent[(hash >>> 0) % 100]!;
  }
}

function fixed(table: Int32Array, resolve: (slot: number) => number | undefined): number | undefined {
  const first = table[0]!;
  for (let i = 1; i < 100; i++) if (table[i] !== first) return undefined;
  return resolve(first);
}

function validate(endpoints: readonly LbEndpoint[]): void {
  const keys = new Set<string>();
  for (const e of endpoints) {
    if (e.key === '' || keys.has(e.key)) throw new RangeError(`endpoint key "${e.key}" is empty or repeated`);
    keys.add(e.key);
    if (!Number.isInteger(e.weight) || e.weight < 1) throw new RangeError(`endpoint ${e.key}: weight ${e.weight}`);
    if (!Number.isInteger(e.priority) || e.priority < 0 || e.priority > 127) {
      throw new RangeError(`endpoint ${e.key}: priority ${e.priority}`);
    }
  }
}

/** Builds the host set for one version of a cluster's endpoints. Throws RangeError on invalid endpoints (a bug). */
export function buildHostSet(input: HostSetInput, options: HostSetOptions = {}): HostSet {
  const endpoints = Object.freeze(input.endpoints.slice());
  validate(endpoints);
  const store = options.states ?? new EndpointStates();
  const states = endpoints.map((e) => store.acquire(e.key));
  store.retainOnly(new Set(endpoints.map((e) => e.key)));
  const results = endpoints.map((endpoint, i): PickComplete =>
    Object.freeze({ type: 'complete', endpoint, state: states[i]! }),
  );
  const factor = input.overprovisioningFactor ?? 140;
  const levels = groupLevels(endpoints, input);
  const loads = computePriorityLoads(
    levels.map((l) => levelCounts(endpoints, l)),
    {
      overprovisioningFactor: factor,
      panicThreshold: options.panicThresholdPercent ?? 50,
      weightedPriorityHealth: input.weightedPriorityHealth ?? false,
    },
  );
  const builder = new SourceBuilder(endpoints, levels, loads, factor, options.localityWeighted ?? false);
  const slotOfPercent = new Int32Array(100).fill(-1);
  const hashOfPercent = new Int32Array(100).fill(-1);
  let percent = 0;
  for (const availability of ['healthy', 'degraded'] as const) {
    levels.forEach((_, p) => {
      const load = loads[availability][p]!;
      if (load === 0) return;
      const slot = builder.slot(p, availability);
      const hash = builder.hashSource(p, availability);
      slotOfPercent.fill(slot, percent, percent + load);
      hashOfPercent.fill(hash, percent, percent + load);
      percent += load;
    });
  }
  const priorities = levels.map((l, p): PriorityInfo => ({
    priority: p,
    hosts: l.all.length,
    healthy: l.healthy.length,
    degraded: l.degraded.length,
    health: loads.health[p]!,
    healthyLoad: loads.healthy[p]!,
    degradedLoad: loads.degraded[p]!,
    panic: loads.panic[p]!,
  }));
  return new HostSet(
    endpoints,
    states,
    results,
    priorities,
    builder.sources,
    builder.hashSources,
    builder.slots,
    slotOfPercent,
    hashOfPercent,
  );
}
