/** Small helpers for the store conformance suite: test objects, an event collector, error assertions. */
import assert from 'node:assert/strict';
import type { Resource, StoredResource } from '../../../src/api/resource.js';
import { isShoalError, type Reason } from '../../../src/core/errors.js';
import type { Store, WatchEvent } from '../../../src/store/store.js';

export interface OpenOptions {
  /** Watch history to retain, in events; implementations must honor it (etcd: compact to this many). */
  historyLimit?: number;
}

export type OpenStore = (options?: OpenOptions) => Promise<Store>;

export function svc(
  name: string,
  opts: { namespace?: string; labels?: Record<string, string>; spec?: unknown; kind?: string } = {},
): Resource {
  const metadata: Resource['metadata'] = { name };
  if (opts.namespace !== undefined) metadata.namespace = opts.namespace;
  if (opts.labels !== undefined) metadata.labels = opts.labels;
  return { apiVersion: 'v1', kind: opts.kind ?? 'Service', metadata, spec: opts.spec ?? { ports: [{ port: 80 }] } };
}

/** Opens a store, runs fn, always closes it. */
export async function withStore(
  open: OpenStore,
  fn: (s: Store) => Promise<void>,
  options?: OpenOptions,
): Promise<void> {
  const store = await open(options);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

export async function rejectsWith(promise: Promise<unknown>, reason: Reason, code: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isShoalError(err), `expected a ShoalError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.equal(err.code, code);
    return true;
  });
}

export const rv = (o: StoredResource): number => Number(o.metadata.resourceVersion);

/** Collects watch events; `until` waits (without sleeping when possible) for a condition on them. */
export class Collector {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  private wake: (() => void) | undefined;

  readonly onEvent = (e: WatchEvent): void => {
    this.events.push(e);
    this.wake?.();
  };

  readonly onError = (err: Error): void => {
    this.errors.push(err);
    this.wake?.();
  };

  async until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        assert.fail(`timed out waiting; have ${this.events.length} events: ${this.summary().join(' ')}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  untilCount(n: number): Promise<void> {
    return this.until(() => this.events.length >= n);
  }

  /** `ADDED:default/a@5` per event. */
  summary(): string[] {
    return this.events.map(
      (e) => `${e.type}:${e.object.metadata.namespace}/${e.object.metadata.name}@${e.object.metadata.resourceVersion}`,
    );
  }

  rvs(): number[] {
    return this.events.map((e) => Number(e.object.metadata.resourceVersion));
  }
}

/** Yields to the event loop a random small number of times, to interleave concurrent writers. */
export async function jitter(seed: { n: number }): Promise<void> {
  seed.n = (seed.n * 1103515245 + 12345) % 2147483648;
  const turns = seed.n % 3;
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

export function assertStrictlyIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) {
    assert.ok(values[i]! > values[i - 1]!, `not increasing at ${i}: ${values[i - 1]} then ${values[i]}`);
  }
}
