/**
 * Registry: watches that end abnormally are resumed from the last resourceVersion seen, and relisted when the
 * store no longer has it (410). The store is a real SqliteStore; SeveringStore only lets the test cut the
 * watches (as a lost connection to etcd would) and fail the next watch calls.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource, StoredResource } from '../../src/api/resource.js';
import { ShoalError } from '../../src/core/errors.js';
import { Registry, retryDelay, type RegistryClock } from '../../src/registry/registry.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type {
  DeleteOptions,
  ListOptions,
  ListResult,
  Store,
  Watch,
  WatchEvent,
  WatchOptions,
} from '../../src/store/store.js';
import { RecordingLogger, service, settle, workloadEntry } from '../unit/registry/helpers.js';

class SeveringStore implements Store {
  private live: { watch: Watch; onError: ((err: Error) => void) | undefined }[] = [];
  /** The next this many watch calls fail with ServiceUnavailable. */
  failWatches = 0;
  watchCalls: string[] = [];

  constructor(readonly inner: SqliteStore) {}

  get(kind: string, namespace: string, name: string): Promise<StoredResource | undefined> {
    return this.inner.get(kind, namespace, name);
  }
  list(kind: string, options?: ListOptions): Promise<ListResult> {
    return this.inner.list(kind, options);
  }
  create(obj: Resource): Promise<StoredResource> {
    return this.inner.create(obj);
  }
  update(obj: Resource): Promise<StoredResource> {
    return this.inner.update(obj);
  }
  delete(kind: string, namespace: string, name: string, options?: DeleteOptions): Promise<StoredResource> {
    return this.inner.delete(kind, namespace, name, options);
  }
  currentVersion(): Promise<string> {
    return this.inner.currentVersion();
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  async watch(options: WatchOptions, onEvent: (e: WatchEvent) => void, onError?: (err: Error) => void): Promise<Watch> {
    this.watchCalls.push(`${options.kind}@${options.resourceVersion}`);
    if (this.failWatches > 0) {
      this.failWatches--;
      throw new ShoalError('ServiceUnavailable', 'store unreachable');
    }
    const watch = await this.inner.watch(options, onEvent, onError);
    this.live.push({ watch, onError });
    return watch;
  }

  /** Ends every open watch abnormally. */
  sever(): void {
    const live = this.live;
    this.live = [];
    for (const { watch, onError } of live) {
      watch.close();
      onError?.(new Error('connection lost'));
    }
  }
}

/** Timers the test fires by hand, recording the delays asked for. */
class ManualClock implements RegistryClock {
  readonly delays: number[] = [];
  private pending: (() => void)[] = [];
  setTimeout(fn: () => void, ms: number): () => void {
    this.delays.push(ms);
    this.pending.push(fn);
    return () => {
      this.pending = this.pending.filter((f) => f !== fn);
    };
  }
  get size(): number {
    return this.pending.length;
  }
  async fire(): Promise<void> {
    const due = this.pending;
    this.pending = [];
    for (const fn of due) fn();
    for (let i = 0; i < 5; i++) await settle();
  }
}

const HOST = 'reviews.default.svc.cluster.local';
const reviews = service('reviews', { clusterIP: '10.96.0.1', selector: { app: 'reviews' }, ports: [{ port: 80 }] });
const we = (name: string, address: string) => workloadEntry(name, { address, labels: { app: 'reviews' } });

async function setup(historyLimit: number) {
  const inner = SqliteStore.open({ path: ':memory:', historyLimit });
  const store = new SeveringStore(inner);
  await store.create(reviews);
  await store.create(we('gone', '10.0.0.1'));
  await store.create(we('stays', '10.0.0.2'));
  const clock = new ManualClock();
  const logger = new RecordingLogger();
  const registry = new Registry(store, { clock, logger });
  await registry.start();
  const addresses = () =>
    registry
      .view()
      .services.get(HOST)!
      .endpoints.map((e) => e.address);
  return { inner, store, clock, logger, registry, addresses };
}

void describe('Registry: resubscribe', () => {
  void it('relists after a 410 and applies what it missed, deletions included, in one publish', async () => {
    const { inner, store, clock, logger, registry, addresses } = await setup(5);
    assert.deepEqual(addresses(), ['10.0.0.1', '10.0.0.2']);
    const versions: number[] = [];
    registry.subscribe((v) => versions.push(v.version));

    store.sever();
    await store.delete('WorkloadEntry', 'default', 'gone');
    for (let i = 3; i < 12; i++) await store.create(we(`w${i}`, `10.0.0.${i}`)); // well past historyLimit 5
    await settle();
    assert.deepEqual(versions, [], 'nothing is seen while disconnected');
    assert.equal(clock.size, 6, 'one retry per kind');
    assert.deepEqual(clock.delays, [0, 0, 0, 0, 0, 0], 'the first retry is immediate');

    store.watchCalls = [];
    await clock.fire();
    // The resume from the old resourceVersion failed with 410 for the kinds with changes, so they relisted.
    assert.ok(store.watchCalls.some((c) => c.startsWith('WorkloadEntry@')));
    assert.ok(logger.at('info').some((l) => l.msg === 'registry watch expired; relisting'));
    assert.deepEqual(addresses(), [
      '10.0.0.10',
      '10.0.0.11',
      '10.0.0.2',
      ...[3, 4, 5, 6, 7, 8, 9].map((i) => `10.0.0.${i}`),
    ]);
    assert.ok(versions.length >= 1, 'published the catch-up');

    // And the new watches are live.
    await store.delete('WorkloadEntry', 'default', 'stays');
    await settle();
    assert.equal(addresses().includes('10.0.0.2'), false);
    registry.stop();
    await inner.close();
  });

  void it('resumes from the last resourceVersion without relisting when the history still has it', async () => {
    const { inner, store, clock, logger, registry, addresses } = await setup(1000);
    store.sever();
    await store.create(we('late', '10.0.0.9'));
    await clock.fire();
    assert.deepEqual(addresses(), ['10.0.0.1', '10.0.0.2', '10.0.0.9']);
    assert.equal(logger.at('info').filter((l) => l.msg === 'registry watch expired; relisting').length, 0);
    registry.stop();
    await inner.close();
  });

  void it('backs off while the store refuses watches, then recovers; stop() cancels retries', async () => {
    const { inner, store, clock, registry, addresses } = await setup(1000);
    store.sever();
    store.failWatches = 6 * 3; // three failed rounds for the six kinds
    await clock.fire();
    await clock.fire();
    await clock.fire();
    const wantDelays = [0, 100, 200, 400].flatMap((d) => Array<number>(6).fill(d));
    assert.deepEqual(clock.delays, wantDelays);
    await store.create(we('back', '10.0.0.7'));
    await clock.fire();
    assert.deepEqual(addresses(), ['10.0.0.1', '10.0.0.2', '10.0.0.7']);
    assert.equal(clock.size, 0);

    store.sever();
    assert.equal(clock.size, 6);
    registry.stop();
    assert.equal(clock.size, 0, 'stop cancels pending retries');
    await inner.close();
  });

  void it('retryDelay: 0, then doubling from 100 ms up to 5 s', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelay),
      [0, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000],
    );
  });
});
