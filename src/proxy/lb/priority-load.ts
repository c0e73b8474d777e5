/**
 * Envoy's priority arithmetic (LoadBalancerBase::recalculatePerPriorityState and ...PerPriorityPanic), in integer
 * percent exactly as Envoy computes it, so that the same ClusterLoadAssignment splits traffic the same way:
 *
 * - health(P) = min(100, overprovisioning_factor * healthy / total), integer division, where healthy and total are
 *   host counts, or host weights with weighted_priority_health; degraded(P) likewise with the degraded hosts;
 * - the 100% of load goes to priorities in order, each taking min(remaining, health(P) * 100 / normalized) with
 *   normalized = min(100, sum of health + degraded); then the rest to degraded availability the same way; a
 *   rounding remainder goes to the first priority with any healthy (else degraded) availability;
 * - a priority is in panic when (healthy + degraded hosts) / hosts * 100 < panic threshold (counts, not weights):
 *   its share is then spread over all its hosts, healthy or not; when every priority is in panic the load is split
 *   by host count instead; a threshold of 0 disables panic (then nothing available means P0 takes 100% and fails).
 */

/** One priority level's hosts, as counts and as weights. */
export interface PriorityCounts {
  readonly hosts: number;
  readonly healthy: number;
  readonly degraded: number;
  readonly hostsWeight: number;
  readonly healthyWeight: number;
  readonly degradedWeight: number;
}

export interface PriorityLoadOptions {
  /** Percent: Envoy's default 140 (a priority at 72% health or more takes all of its share). */
  readonly overprovisioningFactor: number;
  /** Percent, 0..100: Envoy's default 50. */
  readonly panicThreshold: number;
  readonly weightedPriorityHealth: boolean;
}

export interface PriorityLoads {
  /** Integer percent of requests per priority, healthy availability. With `degraded`, sums to 100. */
  readonly healthy: readonly number[];
  readonly degraded: readonly number[];
  /** Per priority: its share goes to all its hosts, healthy or not. */
  readonly panic: readonly boolean[];
  /** Priority health, percent (before normalisation), as Envoy reports it. */
  readonly health: readonly number[];
}

function availability(p: PriorityCounts, weighted: boolean, factor: number, degraded: boolean): number {
  const total = weighted ? p.hostsWeight : p.hosts;
  if (p.hosts === 0 || total === 0) return 0;
  const part = degraded ? (weighted ? p.degradedWeight : p.degraded) : weighted ? p.healthyWeight : p.healthy;
  return Math.min(100, Math.floor((factor * part) / total));
}

/** Envoy's distributeLoad: fills `load` in priority order; returns [first priority with availability, rest]. */
function distribute(load: number[], avail: readonly number[], total: number, normalized: number): [number, number] {
  let first = -1;
  for (let i = 0; i < avail.length; i++) {
    const a = avail[i]!;
    if (first < 0 && a > 0) first = i;
    load[i] = Math.min(total, Math.floor((a * 100) / normalized));
    total -= load[i]!;
  }
  return [first, total];
}

function inPanic(p: PriorityCounts, threshold: number): boolean {
  if (threshold === 0) return false;
  const percent = p.hosts === 0 ? 0 : (100 * (p.healthy + p.degraded)) / p.hosts;
  return percent < threshold;
}

export function computePriorityLoads(levels: readonly PriorityCounts[], options: PriorityLoadOptions): PriorityLoads {
  const n = levels.length;
  const factor = options.overprovisioningFactor;
  const weighted = options.weightedPriorityHealth;
  const health = levels.map((p) => availability(p, weighted, factor, false));
  const degradedAvail = levels.map((p) => availability(p, weighted, factor, true));
  const healthy = new Array<number>(n).fill(0);
  const degraded = new Array<number>(n).fill(0);
  const panic = new Array<boolean>(n).fill(false);
  if (n === 0) return { healthy, degraded, panic, health };

  let sum = 0;
  for (let i = 0; i < n; i++) sum += health[i]! + degradedAvail[i]!;
  const normalized = Math.min(100, sum);
  if (normalized > 0) {
    const [firstHealthy, rest] = distribute(healthy, health, 100, normalized);
    const [firstDegraded, remainder] = distribute(degraded, degradedAvail, rest, normalized);
    if (remainder !== 0) {
      if (firstHealthy >= 0) healthy[firstHealthy]! += remainder;
      else degraded[firstDegraded]! += remainder;
    }
  }

  const threshold = Math.min(100, Math.max(0, options.panicThreshold));
  if (normalized === 0 && threshold === 0) {
    healthy[0] = 100;
    return { healthy, degraded, panic, health };
  }
  let totalPanic = true;
  for (let i = 0; i < n; i++) {
    panic[i] = inPanic(levels[i]!, threshold);
    totalPanic &&= panic[i]!;
  }
  if (totalPanic) {
    // Every priority is in panic: split by host count, healthy or not (Envoy's recalculateLoadInTotalPanic).
    let hosts = 0;
    for (const p of levels) hosts += p.hosts;
    degraded.fill(0);
    healthy.fill(0);
    if (hosts === 0) {
      healthy[0] = 100;
      return { healthy, degraded, panic, health };
    }
    let rest = 100;
    let firstNonEmpty = -1;
    for (let i = 0; i < n; i++) {
      const count = levels[i]!.hosts;
      if (firstNonEmpty < 0 && count > 0) firstNonEmpty = i;
      healthy[i] = Math.floor((100 * count) / hosts);
      rest -= healthy[i]!;
    }
    healthy[firstNonEmpty]! += rest;
  }
  return { healthy, degraded, panic, health };
}
