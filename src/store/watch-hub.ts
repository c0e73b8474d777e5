/**
 * Fan-out of committed changes to watchers, shared by the Store implementations.
 *
 * Each watcher has its own queue and a high-water resourceVersion: a change is queued only if its rv is above
 * the watcher's last one, so a change that reaches a watcher twice (once by replay, once live) is delivered
 * once, and the queue is drained in order even when onEvent re-enters the store (a list, a watch, a close).
 * onEvent runs synchronously on the writer's turn of the event loop: it must be cheap (copy the event onto
 * your own queue and return); a slow onEvent delays every writer and every other watcher.
 */
import { ShoalError, errorMessage } from '../core/errors.js';
import type { StoredResource } from '../api/resource.js';
import { matches, type LabelSelector } from './label-selector.js';
import type { Watch, WatchEvent, WatchEventType } from './store.js';

/** One committed change, as the hub sees it. `json` is the object; parsed per delivery (callers may mutate). */
export interface ChangeRecord {
  rv: number;
  type: WatchEventType;
  kind: string;
  namespace: string;
  labels: Record<string, string> | undefined;
  /** For MODIFIED: the labels before the change (selector watches need them). */
  prevLabels?: Record<string, string> | undefined;
  json: string;
}

export interface WatchFilter {
  kind?: string | undefined;
  namespace?: string | undefined;
  labelSelector?: LabelSelector | undefined;
}

interface Subscriber {
  filter: WatchFilter;
  lastRv: number;
  queue: ChangeRecord[];
  /** Index of the next record in queue to deliver (shift() on a 10k-record replay would be quadratic). */
  head: number;
  draining: boolean;
  closed: boolean;
  onEvent: (event: WatchEvent) => void;
  onError: ((err: Error) => void) | undefined;
}

export class WatchHub {
  private readonly subscribers = new Set<Subscriber>();

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Registers a watcher that has seen everything up to `fromRv`, then delivers `initial` (replayed history
   * or synthetic ADDED events) in order. Call it in the same synchronous section that read `initial`, so
   * no commit can fall between the read and the registration.
   */
  subscribe(
    filter: WatchFilter,
    fromRv: number,
    initial: readonly ChangeRecord[],
    onEvent: (event: WatchEvent) => void,
    onError?: (err: Error) => void,
  ): Watch {
    const sub: Subscriber = {
      filter,
      lastRv: fromRv,
      queue: [],
      head: 0,
      draining: false,
      closed: false,
      onEvent,
      onError,
    };
    this.subscribers.add(sub);
    for (const rec of initial) sub.queue.push(rec);
    this.drain(sub);
    return { close: () => this.remove(sub) };
  }

  /** Queues a committed change for every watcher whose filter it passes. Changes must come in rv order. */
  publish(rec: ChangeRecord): void {
    for (const sub of this.subscribers) {
      if (sub.closed || rec.rv <= sub.lastRv) continue;
      sub.lastRv = rec.rv;
      sub.queue.push(rec);
      this.drain(sub);
    }
  }

  /** Ends every watch with onError(err). */
  endAll(err: Error): void {
    for (const sub of [...this.subscribers]) this.fail(sub, err);
  }

  private remove(sub: Subscriber): void {
    sub.closed = true;
    sub.queue = [];
    sub.head = 0;
    this.subscribers.delete(sub);
  }

  private fail(sub: Subscriber, err: Error): void {
    if (sub.closed) return;
    this.remove(sub);
    if (!sub.onError) {
      // A handler that threw is a bug worth seeing even without onError; a store closing is not.
      if (err instanceof ShoalError && err.reason === 'InternalError') process.emitWarning(err.message);
      return;
    }
    try {
      sub.onError(err);
    } catch (e) {
      process.emitWarning(`store watch onError threw: ${errorMessage(e)}`);
    }
  }

  private drain(sub: Subscriber): void {
    if (sub.draining) return;
    sub.draining = true;
    try {
      while (!sub.closed && sub.head < sub.queue.length) {
        const rec = sub.queue[sub.head++]!;
        const type = eventTypeFor(sub.filter, rec);
        if (type === undefined) continue;
        try {
          sub.onEvent({ type, object: JSON.parse(rec.json) as StoredResource });
        } catch (e) {
          this.fail(sub, new ShoalError('InternalError', `watch handler threw: ${errorMessage(e)}`));
        }
      }
    } finally {
      sub.queue = sub.queue.slice(sub.head);
      sub.head = 0;
      sub.draining = false;
    }
  }
}

/**
 * The type this watcher sees for a change, or undefined to skip it. For label-selector watches Kubernetes'
 * rule: a MODIFIED object that starts matching arrives as ADDED, one that stops matching as DELETED.
 */
export function eventTypeFor(filter: WatchFilter, rec: ChangeRecord): WatchEventType | undefined {
  if (filter.kind !== undefined && filter.kind !== rec.kind) return undefined;
  if (filter.namespace !== undefined && filter.namespace !== rec.namespace) return undefined;
  const selector = filter.labelSelector;
  if (!selector || selector.requirements.length === 0) return rec.type;
  const now = matches(selector, rec.labels);
  if (rec.type !== 'MODIFIED') return now ? rec.type : undefined;
  const before = matches(selector, rec.prevLabels);
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return undefined;
}
