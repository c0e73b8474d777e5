/**
 * The one Store interface. The embedded implementation is SQLite (sqlite-store.ts); the distributed one is
 * etcd (a later issue). Every implementation runs the conformance suite in test/unit/store/conformance.ts,
 * and shares the object rules in object-rules.ts and the watch fan-out in watch-hub.ts. docs/store.md
 * has the full semantics.
 *
 * resourceVersion is one monotonically increasing counter per store, rendered as a decimal string. Every
 * write (create, update, delete) takes the next value; a list answers with the store's current value, so
 * "list, then watch from its resourceVersion" misses nothing and repeats nothing. Compare resourceVersions
 * only for equality or, within one store, numerically; clients should treat them as opaque.
 *
 * The store does not validate schemas (src/api does); it only needs kind and metadata.name (else BadRequest).
 * Inputs are never mutated; every object handed out (results, list items, watch events) is a fresh copy
 * that the caller may mutate. A write resolves only once it is durable (survives kill -9).
 */
import type { StoredResource, Resource } from '../api/resource.js';
import type { LabelSelector } from './label-selector.js';

export interface ListOptions {
  /** Omit for every namespace. */
  namespace?: string;
  labelSelector?: LabelSelector;
}

export interface ListResult {
  items: StoredResource[];
  /** The store's resourceVersion at the moment of the list. */
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  /** For DELETED, the object as it was, with the resourceVersion of the deletion. */
  object: StoredResource;
}

export interface WatchOptions {
  /** Omit for every kind. */
  kind?: string;
  namespace?: string;
  labelSelector?: LabelSelector;
  /**
   * Deliver every change after this resourceVersion, then live changes. Omit (or '0'/'') to start with
   * the current state as ADDED events (each object at its own resourceVersion) followed by live changes,
   * as Kubernetes does. A resourceVersion older than the store retains fails with ShoalError 'Expired'
   * (HTTP 410, "too old resource version: N (M)", M the oldest still resumable): relist, then watch from
   * the list's resourceVersion. One newer than the store's current one also fails with 'Expired' (the
   * store was replaced: relisting is again the cure); a non-numeric one with 'BadRequest'.
   */
  resourceVersion?: string;
}

export interface Watch {
  /** Stop delivering events; no onEvent call follows it. Idempotent. */
  close(): void;
}

export interface DeleteOptions {
  /** Precondition: delete only if the object is still at this resourceVersion (else Conflict). */
  resourceVersion?: string;
}

export interface Store {
  /** Resolves undefined when absent. */
  get(kind: string, namespace: string, name: string): Promise<StoredResource | undefined>;
  list(kind: string, options?: ListOptions): Promise<ListResult>;
  /** Sets uid, creationTimestamp, resourceVersion, generation 1. AlreadyExists if the name is taken. */
  create(obj: Resource): Promise<StoredResource>;
  /**
   * Replaces the object. If obj.metadata.resourceVersion is set and is not the stored one: Conflict.
   * generation bumps only when spec changes (compared as canonical JSON: key order does not matter); uid
   * and creationTimestamp are kept, whatever the input says. NotFound if absent. An update that changes
   * nothing (everything but the server-owned metadata is equal) still succeeds and returns the stored
   * object unchanged: no new version, no event.
   */
  update(obj: Resource): Promise<StoredResource>;
  /** Resolves the deleted object (with the deletion's resourceVersion). NotFound if absent. */
  delete(kind: string, namespace: string, name: string, options?: DeleteOptions): Promise<StoredResource>;
  /**
   * Calls onEvent for every matching change, in resourceVersion order, none lost, none repeated.
   * Rejects with ShoalError 'Expired' if options.resourceVersion is older than the retained history.
   * onError is called once if the watch ends abnormally (the store closed, onEvent threw); no events follow.
   *
   * With a labelSelector, a change is delivered when the object matches before or after it, typed as
   * Kubernetes does: MODIFIED into the selector arrives as ADDED, out of it as DELETED (carrying the new,
   * no longer matching object). Replayed events may arrive before the returned promise resolves.
   * onEvent may be called synchronously from a writer's commit: keep it cheap (queue and return).
   */
  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (err: Error) => void): Promise<Watch>;
  /** The current resourceVersion. */
  currentVersion(): Promise<string>;
  /**
   * Flush queued writes and release resources; open watches get onError. Idempotent. After it, every
   * method rejects with ShoalError 'ServiceUnavailable'.
   */
  close(): Promise<void>;
}
