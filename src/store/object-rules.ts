/**
 * The object rules every Store implementation shares, as pure functions: how create sets the server-owned
 * metadata, how update carries it over and decides generation and no-op, how resourceVersions are parsed.
 * SQLite uses them today; the etcd store reuses them so both behave identically under the conformance suite.
 */
import { ShoalError } from '../core/errors.js';
import { keyOf, type ObjectKey, type Resource, type StoredResource } from '../api/resource.js';

/** JSON with object keys sorted at every level, so equal values serialize identically. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** RFC 3339 at second precision, UTC: `2025-01-31T12:00:00Z` (Kubernetes' metav1.Time format). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `'17'` -> 17. '' and undefined -> undefined. Anything not a non-negative integer: BadRequest. */
export function parseResourceVersion(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  if (!/^\d{1,15}$/.test(rv)) throw new ShoalError('BadRequest', `invalid resourceVersion "${rv}"`);
  return Number(rv);
}

/** The key of an object about to be written; BadRequest when kind or name is missing. */
export function writeKey(obj: Resource): ObjectKey {
  if (typeof obj.kind !== 'string' || obj.kind === '') throw new ShoalError('BadRequest', 'kind is required');
  if (typeof obj.metadata?.name !== 'string' || obj.metadata.name === '') {
    throw new ShoalError('BadRequest', `${obj.kind}: metadata.name is required`);
  }
  return keyOf(obj);
}

/** A deep copy through JSON: what is stored is exactly what a later read returns. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The object create stores: input copied, server-owned metadata set (generation 1). */
export function createdObject(obj: Resource, rv: number, uid: string, now: Date): StoredResource {
  const key = writeKey(obj);
  const copy = jsonCopy(obj);
  return {
    ...copy,
    metadata: {
      ...copy.metadata,
      namespace: key.namespace,
      uid,
      resourceVersion: String(rv),
      generation: 1,
      creationTimestamp: rfc3339(now),
    },
  };
}

/** Everything the user owns: the object without the server-owned metadata. */
function userContent(obj: Resource): string {
  const { resourceVersion: _rv, generation: _g, uid: _u, creationTimestamp: _c, namespace: _n, ...meta } = obj.metadata;
  return canonicalJson({ ...obj, metadata: meta });
}

export type UpdateOutcome = { changed: false; object: StoredResource } | { changed: true; object: StoredResource };

/**
 * Applies an update to the stored object. Conflict if obj carries a resourceVersion that is not the stored
 * one. Unchanged user content -> `changed: false` with the stored object as it is. Otherwise the new object
 * at `rv`, keeping uid and creationTimestamp, generation + 1 only when spec differs.
 */
export function updatedObject(stored: StoredResource, obj: Resource, rv: number): UpdateOutcome {
  const expected = obj.metadata.resourceVersion;
  if (expected !== undefined && expected !== '' && expected !== stored.metadata.resourceVersion) {
    throw ShoalError.conflict(
      obj.kind,
      obj.metadata.name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }
  if (userContent(stored) === userContent(obj)) return { changed: false, object: stored };
  const copy = jsonCopy(obj);
  const specChanged = canonicalJson(stored.spec) !== canonicalJson(copy.spec);
  return {
    changed: true,
    object: {
      ...copy,
      metadata: {
        ...copy.metadata,
        namespace: stored.metadata.namespace,
        uid: stored.metadata.uid,
        resourceVersion: String(rv),
        generation: stored.metadata.generation + (specChanged ? 1 : 0),
        creationTimestamp: stored.metadata.creationTimestamp,
      },
    },
  };
}

/** Delete's precondition check: Conflict if `expected` is set and is not the stored resourceVersion. */
export function checkDeletePrecondition(stored: StoredResource, expected: string | undefined): void {
  if (expected !== undefined && expected !== '' && expected !== stored.metadata.resourceVersion) {
    throw ShoalError.conflict(
      stored.kind,
      stored.metadata.name,
      `Precondition failed: ResourceVersion in precondition: ${expected}, ResourceVersion in object meta: ${stored.metadata.resourceVersion}`,
    );
  }
}

/** The deleted object as delete returns it and DELETED carries it: the last state at the deletion's rv. */
export function deletedObject(stored: StoredResource, rv: number): StoredResource {
  return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(rv) } };
}

/** Kubernetes' message for a watch from a resourceVersion the history no longer holds. */
export function tooOldResourceVersion(requested: number, oldestResumable: number): ShoalError {
  return ShoalError.gone(`too old resource version: ${requested} (${oldestResumable})`);
}
