/**
 * The Registry: lists and watches the kinds that make up the mesh (Service, ServiceEntry, WorkloadEntry,
 * VirtualService, DestinationRule, Gateway) and publishes immutable MeshViews (model.ts) as they change.
 * docs/registry.md has the rules; mesh-state.ts does the incremental rebuild.
 *
 * - start(): per kind, list then watch from the list's resourceVersion (gap-free); the first view is published
 *   once every kind is loaded.
 * - Watch events are queued (the store calls onEvent synchronously on its writer's commit) and applied in a
 *   microtask, so every event of one store commit, or of one tick, becomes one view and one MeshChange. A batch
 *   that changes nothing publishes nothing.
 * - A watch that ends abnormally is resumed from the last resourceVersion seen; when that is too old (410
 *   Expired) the kind is relisted and the difference applied. Retries back off from 0 to 5 s.
 * - Listeners are called synchronously, in subscription order, with the new view and what changed since the
 *   previous one; a listener that throws is logged and does not affect the others.
 */
import { errorMessage, isShoalError, ShoalError } from '../core/errors.js';
import type { StoredResource } from '../api/resource.js';
import type { Store, Watch, WatchEvent } from '../store/store.js';
import type { MeshChange, MeshView } from './model.js';
import { MeshState, WATCHED_KINDS, type RegistryLogger, type WatchedKind } from './mesh-state.js';

export type { RegistryLogger } from './mesh-state.js';
export { SIDECAR_INBOUND_PORT_ANNOTATION } from './workloads.js';

/** Timers, injectable so tests control retries. */
export interface RegistryClock {
  /** Runs `fn` after `ms` milliseconds; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export interface RegistryOptions {
  /** Cluster DNS domain: Services are `<name>.<namespace>.svc.<domain>`. Default `cluster.local`. */
  domain?: string;
  logger?: RegistryLogger;
  clock?: RegistryClock;
}

export type MeshListener = (view: MeshView, change: MeshChange) => void;

type QueueItem = { event: WatchEvent } | { kind: WatchedKind; items: StoredResource[] };

const NOOP = (): void => undefined;
const SILENT: RegistryLogger = { debug: NOOP, info: NOOP, warn: NOOP, error: NOOP };
const REAL_CLOCK: RegistryClock = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
const MAX_BACKOFF_MS = 5000;

/** 0, 100, 200, 400, ... 5000 ms. */
export function retryDelay(attempt: number): number {
  return attempt === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (attempt - 1));
}

export class Registry {
  private readonly state: MeshState;
  private readonly logger: RegistryLogger;
  private readonly clock: RegistryClock;
  private readonly listeners = new Set<MeshListener>();
  private queue: QueueItem[] = [];
  private flushScheduled = false;
  private started = false;
  private loaded = false;
  private stopped = false;
  /** Per kind: the open watch, its generation (events of an older one are dropped), the last rv seen. */
  private readonly watches = new Map<WatchedKind, Watch>();
  private readonly generation = new Map<WatchedKind, number>();
  private readonly lastRv = new Map<WatchedKind, string>();
  private readonly timers = new Set<() => void>();

  constructor(
    private readonly store: Store,
    options: RegistryOptions = {},
  ) {
    this.logger = options.logger ?? SILENT;
    this.clock = options.clock ?? REAL_CLOCK;
    this.state = new MeshState(options.domain ?? 'cluster.local', this.logger);
  }

  /** Loads every kind and publishes the first view (version 1). Rejects if the initial lists fail. */
  async start(): Promise<void> {
    if (this.started) throw new ShoalError('BadRequest', 'registry already started');
    this.started = true;
    try {
      await Promise.all(WATCHED_KINDS.map((kind) => this.listAndWatch(kind)));
    } catch (err) {
      this.stop();
      throw err;
    }
    if (this.stopped) return;
    this.loaded = true;
    this.flush(true);
    const v = this.state.view;
    this.logger.info(
      { version: v.version, services: v.services.size, workloadEntries: this.state.count('WorkloadEntry') },
      'registry loaded',
    );
  }

  /** The current view (version 0, empty, before start() has loaded). */
  view(): MeshView {
    return this.state.view;
  }

  /** Calls `listener` on every published view; returns the unsubscribe function. */
  subscribe(listener: MeshListener): () => void {
    const wrapped: MeshListener = (view, change) => listener(view, change);
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  /** Closes the watches and cancels retries; no view is published after it. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const watch of this.watches.values()) watch.close();
    this.watches.clear();
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.queue = [];
  }

  private async listAndWatch(kind: WatchedKind): Promise<void> {
    const list = await this.store.list(kind);
    if (this.stopped) return;
    this.enqueue({ kind, items: list.items });
    this.lastRv.set(kind, list.resourceVersion);
    try {
      await this.watchFrom(kind, list.resourceVersion);
    } catch (err) {
      // Far too many writes between the list and the watch: list again.
      if (!isShoalError(err, 'Expired')) throw err;
      await this.listAndWatch(kind);
    }
  }

  private async watchFrom(kind: WatchedKind, resourceVersion: string): Promise<void> {
    const gen = (this.generation.get(kind) ?? 0) + 1;
    this.generation.set(kind, gen);
    const current = (): boolean => !this.stopped && this.generation.get(kind) === gen;
    const watch = await this.store.watch(
      { kind, resourceVersion },
      (event) => {
        if (!current()) return;
        this.lastRv.set(kind, event.object.metadata.resourceVersion);
        this.enqueue({ event });
      },
      (err) => {
        if (current()) this.onWatchError(kind, err);
      },
    );
    if (current()) this.watches.set(kind, watch);
    else watch.close();
  }

  private onWatchError(kind: WatchedKind, err: Error): void {
    this.watches.delete(kind);
    this.generation.set(kind, (this.generation.get(kind) ?? 0) + 1);
    this.logger.warn({ kind, err: errorMessage(err) }, 'registry watch ended; resuming');
    this.retry(kind, 0);
  }

  private retry(kind: WatchedKind, attempt: number): void {
    if (this.stopped) return;
    const cancel = this.clock.setTimeout(() => {
      this.timers.delete(cancel);
      if (this.stopped) return;
      this.resume(kind).catch((err: unknown) => {
        if (this.stopped) return;
        this.logger.warn({ kind, attempt: attempt + 1, err: errorMessage(err) }, 'registry resubscribe failed');
        this.retry(kind, attempt + 1);
      });
    }, retryDelay(attempt));
    this.timers.add(cancel);
  }

  /** Watch again from the last resourceVersion seen; relist when the store no longer has it (410). */
  private async resume(kind: WatchedKind): Promise<void> {
    try {
      await this.watchFrom(kind, this.lastRv.get(kind) ?? '0');
    } catch (err) {
      if (!isShoalError(err, 'Expired')) throw err;
      this.logger.info({ kind, resourceVersion: this.lastRv.get(kind) }, 'registry watch expired; relisting');
      await this.listAndWatch(kind);
    }
  }

  private enqueue(item: QueueItem): void {
    this.queue.push(item);
    if (this.flushScheduled || !this.loaded) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush(false));
  }

  private flush(force: boolean): void {
    this.flushScheduled = false;
    if (this.stopped) return;
    const batch = this.queue;
    this.queue = [];
    for (const item of batch) {
      if ('event' in item) this.state.apply(item.event);
      else this.state.resync(item.kind, item.items);
    }
    const published = this.state.commit(force);
    if (!published) return;
    const { view, change } = published;
    this.logger.debug(
      { version: view.version, endpointsChanged: change.endpointsChanged.size, configChanged: change.configChanged },
      'mesh view published',
    );
    for (const listener of [...this.listeners]) {
      try {
        listener(view, change);
      } catch (err) {
        this.logger.error({ err: errorMessage(err), version: view.version }, 'mesh view listener threw');
      }
    }
  }
}
