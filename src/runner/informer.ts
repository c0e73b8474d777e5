/**
 * A client-go style informer over the HTTP API: list, then watch from the list's resourceVersion; when the watch
 * ends it resumes from the last event's resourceVersion (relisting after a 410 Expired, and reporting the
 * difference as events), so the handler sees every change once, in order. The runner's controllers are built on
 * it, so `shoal up --server URL` and the embedded control plane take the same path.
 */
import type { KindDefinition } from '../api/kind.js';
import type { Resource } from '../api/resource.js';
import type { ApiClient } from '../cli/client.js';
import { ShoalError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export type InformerEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Resource };

const RETRY_MS = 500;

function keyOf(obj: Resource): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

export class Informer {
  private readonly cache = new Map<string, Resource>();
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private loop?: Promise<void>;
  private synced!: () => void;
  /** Resolves once the first list has been delivered. */
  readonly hasSynced = new Promise<void>((resolve) => (this.synced = resolve));

  constructor(
    private readonly client: ApiClient,
    private readonly def: KindDefinition,
    private readonly onEvent: (event: InformerEvent) => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  get(namespace: string, name: string): Resource | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  list(): Resource[] {
    return [...this.cache.values()];
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.abort.signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.synced();
        }
        await this.client.watch(this.def, undefined, this.resourceVersion, (e) => this.apply(e), this.abort.signal);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        if (err instanceof ShoalError && err.reason === 'Expired') needList = true;
        else this.logger.warn({ kind: this.def.kind, err: errorMessage(err) }, 'watch failed; retrying');
      }
      if (!this.abort.signal.aborted) await sleep(RETRY_MS, this.abort.signal);
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list(this.def, undefined);
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (old?.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.cache.set(key, obj);
      this.onEvent({ type: old ? 'MODIFIED' : 'ADDED', object: obj });
    }
    for (const [key, obj] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.onEvent({ type: 'DELETED', object: obj });
    }
    this.resourceVersion = list.metadata.resourceVersion;
  }

  private apply(event: InformerEvent): void {
    const key = keyOf(event.object);
    if (event.type === 'DELETED') this.cache.delete(key);
    else this.cache.set(key, event.object);
    this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
    this.onEvent(event);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
