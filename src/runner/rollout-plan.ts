/**
 * What the Deployment controller does next, as a pure function of the pods it has: Kubernetes' RollingUpdate with
 * maxSurge 1 and maxUnavailable 0. Pods of the current template are "updated", the others "old".
 * - No old pods: create or remove pods until there are `desired`; surplus pods go unready first, then newest first.
 * - Rolling: an old pod that is not ready goes at once (it serves nothing); a ready old pod goes only while more
 *   than `desired` pods are ready (so availability never drops below `desired`); one updated pod is surged while
 *   fewer than `desired + 1` pods exist. Each step is re-planned when a pod becomes ready or goes away.
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

export function planReplicas(desired: number, pods: readonly PlannedPod[]): Plan {
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
  let ready = pods.filter((p) => p.ready && !remove.has(p.name)).length;
  for (const p of [...old].filter((o) => o.ready).sort(oldestFirst)) {
    if (ready <= desired) break;
    remove.add(p.name);
    ready--;
  }
  const remaining = pods.length - remove.size;
  const updatedRemaining = updated.filter((p) => !remove.has(p.name)).length;
  const create = updatedRemaining < desired && remaining < desired + 1 ? 1 : 0;
  return { create, remove: [...remove] };
}
