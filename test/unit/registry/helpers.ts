/** Registry test helpers: objects as users write them, and a harness of a real SqliteStore plus a Registry. */
import assert from 'node:assert/strict';
import type { Resource } from '../../../src/api/resource.js';
import type { MeshChange, MeshService, MeshView } from '../../../src/registry/model.js';
import { Registry, type RegistryLogger, type RegistryOptions } from '../../../src/registry/registry.js';
import { SqliteStore, type SqliteStoreOptions } from '../../../src/store/sqlite-store.js';

interface Meta {
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function meta(name: string, m: Meta): Resource['metadata'] {
  return { name, namespace: m.namespace ?? 'default', labels: m.labels, annotations: m.annotations };
}

export function service(name: string, spec: Record<string, unknown>, m: Meta = {}): Resource {
  return { apiVersion: 'v1', kind: 'Service', metadata: meta(name, m), spec };
}

export function workloadEntry(
  name: string,
  spec: Record<string, unknown>,
  m: Meta & { healthy?: 'True' | 'False' | 'Unknown' } = {},
): Resource {
  const obj: Resource = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: meta(name, m), spec };
  if (m.healthy) obj.status = { conditions: [{ type: 'Healthy', status: m.healthy }] };
  return obj;
}

export function serviceEntry(name: string, spec: Record<string, unknown>, m: Meta = {}): Resource {
  return { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: meta(name, m), spec };
}

export function istio(kind: string, name: string, spec: Record<string, unknown>, m: Meta = {}): Resource {
  return { apiVersion: 'networking.istio.io/v1', kind, metadata: meta(name, m), spec };
}

/** One published view and its change, with the change's set as a sorted array for exact assertions. */
export interface Publish {
  view: MeshView;
  change: MeshChange;
  endpointsChanged: string[];
}

export interface LogLine {
  level: string;
  obj: object;
  msg: string | undefined;
}

export class RecordingLogger implements RegistryLogger {
  readonly lines: LogLine[] = [];
  debug(obj: object, msg?: string): void {
    this.lines.push({ level: 'debug', obj, msg });
  }
  info(obj: object, msg?: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: 'error', obj, msg });
  }
  at(level: string): LogLine[] {
    return this.lines.filter((l) => l.level === level);
  }
}

/** A clock whose creation timestamps advance one second per object, so "oldest" is the order of creation. */
export function steppingClock(start = Date.parse('2025-01-01T00:00:00Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

export class Harness {
  readonly published: Publish[] = [];
  readonly logger = new RecordingLogger();
  readonly registry: Registry;

  private constructor(
    readonly store: SqliteStore,
    options: RegistryOptions,
  ) {
    this.registry = new Registry(store, { logger: this.logger, ...options });
    this.registry.subscribe((view, change) =>
      this.published.push({ view, change, endpointsChanged: [...change.endpointsChanged].sort() }),
    );
  }

  /** A store, seeded with `objects`, and a started registry over it. */
  static async open(
    objects: Resource[] = [],
    options: RegistryOptions = {},
    storeOptions: Partial<SqliteStoreOptions> = {},
  ): Promise<Harness> {
    const store = SqliteStore.open({ path: ':memory:', clock: steppingClock(), ...storeOptions });
    for (const o of objects) await store.create(o);
    const h = new Harness(store, options);
    await h.registry.start();
    return h;
  }

  get view(): MeshView {
    return this.registry.view();
  }

  get last(): Publish {
    const p = this.published.at(-1);
    assert.ok(p, 'nothing published');
    return p;
  }

  service(hostname: string): MeshService {
    const s = this.view.services.get(hostname);
    assert.ok(s, `no service ${hostname}; have ${[...this.view.services.keys()].join(', ')}`);
    return s;
  }

  /** Runs `fn`, lets the registry catch up, returns what was published meanwhile. */
  async during(fn: () => Promise<unknown>): Promise<Publish[]> {
    const before = this.published.length;
    await fn();
    await settle();
    return this.published.slice(before);
  }

  async close(): Promise<void> {
    this.registry.stop();
    await this.store.close();
  }
}

/** One turn of the event loop: the store's group commit and the registry's microtask have both run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `address:port->endpointPort,...` per endpoint, for compact assertions. */
export function endpointSummary(s: MeshService): string[] {
  return s.endpoints.map(
    (e) => `${e.address} ${[...e.ports].map(([p, t]) => `${p}->${t}`).join(',')} ${e.health} w${e.weight}`,
  );
}

export async function withHarness(
  objects: Resource[],
  fn: (h: Harness) => Promise<void> | void,
  options: RegistryOptions = {},
  storeOptions: Partial<SqliteStoreOptions> = {},
): Promise<void> {
  const h = await Harness.open(objects, options, storeOptions);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}
