/**
 * What changed between two sets of one type, computed once and shared by every stream that makes the same step.
 *
 * A push hands thousands of streams the same new TypeResources (the push engine shares one set per namespace and
 * proxy type), and each of them last evaluated the same previous set. Rather than every stream comparing its whole
 * subscription with the new set (O(streams x subscribed names) per push), the first stream to make a step computes
 * the difference of the two sets, and every other stream only intersects that (usually tiny) difference with its
 * subscription: O(streams x changed names).
 *
 * Differences are filed under the newer set (weakly: they go when it does) and keyed by the older set's version, a
 * content hash, so a cached difference never keeps an old set alive. A few per newer set are kept, for streams that
 * lag behind by a push or two (a response awaiting its ACK coalesces the pushes behind it).
 */
import type { AnyMessage } from './protos.js';
import { shareEncoding } from './shared-wire.js';
import type { SnapshotResource, TypeResources } from './snapshot.js';

export interface TypeChange {
  /** The older set's version. */
  readonly fromVersion: string;
  readonly to: TypeResources;
  /** Resources of `to` that are new or whose version differs from the older set's, in `to`'s order. */
  readonly updated: readonly SnapshotResource[];
  /** Their encoded Anys, one shared array (its encoding is shared too: shared-wire.ts). */
  readonly updatedAnys: readonly AnyMessage[];
  /** Names of `updated` the older set did not have. */
  readonly added: ReadonlySet<string>;
  /** Names of the older set that `to` does not have. */
  readonly removed: readonly string[];
}

/** Differences kept per newer set. */
const KEPT = 4;

const byTarget = new WeakMap<TypeResources, TypeChange[]>();

/** Differences computed (not found in the cache) since the process started: what tests and benchmarks count. */
export const changeStats = { computed: 0, reused: 0 };

function compute(from: TypeResources, to: TypeResources): TypeChange {
  const updated: SnapshotResource[] = [];
  const added = new Set<string>();
  const removed: string[] = [];
  if (from !== to) {
    const before = from.resources;
    for (const [name, resource] of to.resources) {
      const previous = before.get(name);
      if (previous === undefined) added.add(name);
      if (previous === undefined || previous.version !== resource.version) updated.push(resource);
    }
    if (before.size + added.size !== to.resources.size) {
      for (const name of before.keys()) if (!to.resources.has(name)) removed.push(name);
    }
  }
  return Object.freeze({
    fromVersion: from.version,
    to,
    updated,
    updatedAnys: shareEncoding(updated.map((r) => r.resource)),
    added,
    removed,
  });
}

/** The difference from `from` to `to`, computed once per pair and shared. */
export function changeBetween(from: TypeResources, to: TypeResources): TypeChange {
  let list = byTarget.get(to);
  if (list === undefined) byTarget.set(to, (list = []));
  for (const change of list) {
    if (change.fromVersion === from.version) {
      changeStats.reused++;
      return change;
    }
  }
  changeStats.computed++;
  const change = compute(from, to);
  list.unshift(change);
  if (list.length > KEPT) list.length = KEPT;
  return change;
}

const allAnys = new WeakMap<TypeResources, readonly AnyMessage[]>();

/** Every resource of a set as encoded Anys, one shared array per set (for full-state responses). */
export function anysOf(set: TypeResources): readonly AnyMessage[] {
  let anys = allAnys.get(set);
  if (anys === undefined) {
    anys = shareEncoding([...set.resources.values()].map((r) => r.resource));
    allAnys.set(set, anys);
  }
  return anys;
}
