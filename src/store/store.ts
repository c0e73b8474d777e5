/**
 * The one Store interface. The embedded implementation is SQLite (sqlite-store.ts); the distributed one is
 * etcd (a later issue). Every implementation runs the conformance suite in test/unit/store-conformance.ts.
 *
 * resourceVersion is one monotonically increasing counter per store, rendered as a decimal string. Every
 * write (create, update, delete) takes the next value; a list answers with the store's current value, so
 * "list, then watch from its resourceVersion" misses nothing and repeats nothing.
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
   * the current state as ADDED events followed by live changes, as Kubernetes does.
   * A resourceVersion older than the store retains fails with ShoalError 'Expired' (HTTP 410).
   */
  resourceVersion?: string;
}

export interface Watch {
  /** Stop delivering events. Idempotent. */
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
   * generation bumps only when spec changes; uid and creationTimestamp are kept. NotFound if absent.
   * An update that changes nothing still succeeds and returns the stored object unchanged (no new version).
   */
  update(obj: Resource): Promise<StoredResource>;
  /** Resolves the deleted object (with the deletion's resourceVersion). NotFound if absent. */
  delete(kind: string, namespace: string, name: string, options?: DeleteOptions): Promise<StoredResource>;
  /**
   * Calls onEvent for every matching change, in resourceVersion order, none lost, none repeated.
   * Rejects with ShoalError 'Expired' if options.resourceVersion is older than the retained history.
   * onError is called once if the watch ends abnormally (e.g. the store closed); no events follow it.
   */
  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (err: Error) => void): Promise<Watch>;
  /** The current resourceVersion. */
  currentVersion(): Promise<string>;
  /** Flush and release resources; pending watches get onError. */
  close(): Promise<void>;
}
