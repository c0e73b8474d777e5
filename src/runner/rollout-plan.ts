/**
 * What the Deployment controller does next, as a pure function of the pods it has: Kubernetes' RollingUpdate.
 * Pods of the current template are "updated", the others "old".
 * - No old pods: create or remove pods until there are `desired`; surplus pods go unready first, then newest first.
 * - Rolling: an old pod that is not ready goes at once (it serves nothing); a ready old pod goes only while at least
 *   `desired - maxUnavailable` pods stay ready; updated pods are created while there are fewer than
 *   `desired + maxSurge` pods. Each step is re-planned when a pod becomes ready or goes away. With Kubernetes'
 *   defaults (25% / 25%) and up to 3 replicas that is: surge one, wait until it is ready, stop one old.
 */
export interface PlannedPod {
  name: string;
  updated: boolean;
  ready: boolean;
  /** Creation order (ms since epoch, or any increasing number). */
  createdAt: number;
}

export interface Plan {
  /** How many updated pods to create. */
  create: number;
  /** Pods to stop, by name. */
  remove: string[];
}

const newestFirst = (a: PlannedPod, b: PlannedPod): number => b.createdAt - a.createdAt;
const oldestFirst = (a: PlannedPod, b: PlannedPod): number => a.createdAt - b.createdAt;

export interface RollingLimits {
  maxSurge: number;
  maxUnavailable: number;
}

type IntOrPercent = number | string | undefined;

/** Resolves `maxSurge` (percentages round up) and `maxUnavailable` (round down) as Kubernetes does; default 25%. */
export function rollingLimits(desired: number, maxSurge: IntOrPercent, maxUnavailable: IntOrPercent): RollingLimits {
  const resolve = (v: IntOrPercent, up: boolean): number => {
    if (typeof v === 'number') return v;
    const percent = Number((v ?? '25%').replace('%', ''));
    const exact = (desired * percent) / 100;
    return up ? Math.ceil(exact) : Math.floor(exact);
  };
  const surge = resolve(maxSurge, true);
  const unavailable = resolve(maxUnavailable, false);
  // Both 0 would never progress: Kubernetes then allows one unavailable.
  return { maxSurge: surge, maxUnavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

export function planReplicas(
  desired: number,
  pods: readonly PlannedPod[],
  limits: RollingLimits = { maxSurge: 1, maxUnavailable: 0 },
): Plan {
  const updated = pods.filter((p) => p.updated);
  const old = pods.filter((p) => !p.updated);
  if (old.length === 0) {
    if (updated.length <= desired) return { create: desired - updated.length, remove: [] };
    const surplus = [...updated]
      .sort((a, b) => Number(a.ready) - Number(b.ready) || newestFirst(a, b))
      .slice(0, updated.length - desired);
    return { create: 0, remove: surplus.map((p) => p.name) };
  }
  const remove = new Set<string>();
  for (const p of old) if (!p.ready) remove.add(p.name);
  // Updated pods beyond `desired` (a scale-down during a rollout) that are not ready go too.
  const extraUpdated = updated.length - desired;
  if (extraUpdated > 0) {
    [...updated]
      .filter((p) => !p.ready)
      .sort(newestFirst)
      .slice(0, extraUpdated)
      .forEach((p) => remove.add(p.name));
  }
  const minAvailable = Math.max(0, desired - limits.maxUnavailable);
  let ready = pods.filter((p) => p.ready && !remove.has(p.name)).length;
  for (const p of [...old].filter((o) => o.ready).sort(oldestFirst)) {
    if (ready - 1 < minAvailable) break;
    remove.add(p.name);
    ready--;
  }
  const remaining = pods.length - remove.size;
  const updatedRemaining = updated.filter((p) => !remove.has(p.name)).length;
  const create = Math.max(0, Math.min(desired - updatedRemaining, desired + limits.maxSurge - remaining));
  return { create, remove: [...remove] };
}
