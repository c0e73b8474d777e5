/**
 * WorkloadEntries registered by sidecars and owned by their xDS connection (Istio's WorkloadEntry auto-registration).
 *
 * A sidecar's node metadata carries what its entry needs (INSTANCE_IPS, LABELS, NAMESPACE, WORKLOAD_NAME,
 * SERVICE_ACCOUNT, locality, SHOAL_INBOUND_PORT, SHOAL_PORTS). When its first stream opens, the control plane creates
 * or takes over the WorkloadEntry `<WORKLOAD_NAME>` in its namespace. When its last stream ends:
 * - gracefully (the proxy half-closed the stream on purpose, as it does when shutting down): the entry goes at once;
 * - otherwise (the connection was lost): after a grace period (10 s, Istio's PILOT_WORKLOAD_ENTRY_GRACE_PERIOD),
 *   unless the proxy has reconnected by then.
 * Entries left by a previous control-plane process get the same grace period from startup.
 *
 * Health: with SHOAL_HEALTH_CHECKS=true in the metadata the entry starts Healthy=False until the proxy reports;
 * reports are Istio's `istio.io/health` requests on the ADS stream (no error_detail = healthy).
 */
import type { Resource } from '../api/resource.js';
import { errorMessage, isShoalError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { realTimers, type Timers } from '../core/debounce.js';
import type { Store } from '../store/store.js';
import type { XdsNode } from './xds/node.js';
import type { ProxyContext } from './xds/translate/proxy.js';

export const ANNOTATION_AUTO_REGISTERED = 'shoal.io/auto-registered';
export const ANNOTATION_PROXY_ID = 'shoal.io/proxy-id';
import { SIDECAR_INBOUND_PORT_ANNOTATION } from '../registry/workloads.js';
export const HEALTH_TYPE_URL = 'istio.io/health';

export interface AutoRegistrationOptions {
  store: Store;
  logger: Logger;
  gracePeriodMs?: number;
  timers?: Timers;
}

type Key = string; // namespace/name

export class AutoRegistration {
  private readonly pendingDeletes = new Map<Key, unknown>();
  private readonly owners = new Map<Key, string>(); // key -> node id of the connected owner
  private readonly grace: number;
  private readonly timers: Timers;
  /** Serialises the writes for one entry so they land in order. */
  private readonly queues = new Map<Key, Promise<void>>();

  constructor(private readonly opts: AutoRegistrationOptions) {
    this.grace = opts.gracePeriodMs ?? 10_000;
    this.timers = opts.timers ?? realTimers;
  }

  /** Schedules the removal of entries a previous process registered, unless their proxies come back in time. */
  async start(): Promise<void> {
    const { items } = await this.opts.store.list('WorkloadEntry');
    for (const we of items) {
      if (we.metadata.annotations?.[ANNOTATION_AUTO_REGISTERED] === 'true') {
        this.scheduleDelete(`${we.metadata.namespace}/${we.metadata.name}`);
      }
    }
  }

  stop(): void {
    for (const h of this.pendingDeletes.values()) this.timers.clearTimeout(h);
    this.pendingDeletes.clear();
  }

  /** Waits for queued writes (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  connected(node: XdsNode, proxy: ProxyContext): void {
    const entry = entryFor(node, proxy);
    if (entry === undefined) return;
    const key = `${entry.metadata.namespace}/${entry.metadata.name}`;
    this.cancelDelete(key);
    this.owners.set(key, node.id);
    this.enqueue(key, async () => {
      const current = await this.opts.store.get('WorkloadEntry', entry.metadata.namespace!, entry.metadata.name);
      if (current === undefined) await this.opts.store.create(entry);
      else await this.opts.store.update({ ...entry, status: current.status ?? entry.status });
      this.opts.logger.info({ workloadEntry: key, proxy: node.id }, 'workload registered');
    });
  }

  disconnected(node: XdsNode, proxy: ProxyContext, graceful: boolean): void {
    const entry = entryFor(node, proxy);
    if (entry === undefined) return;
    const key = `${entry.metadata.namespace}/${entry.metadata.name}`;
    if (this.owners.get(key) !== node.id) return;
    this.owners.delete(key);
    if (graceful) this.remove(key, 'graceful shutdown');
    else this.scheduleDelete(key);
  }

  /** An `istio.io/health` report: `message` undefined means healthy. */
  health(node: XdsNode, proxy: ProxyContext, message: string | undefined): void {
    const entry = entryFor(node, proxy);
    if (entry === undefined) return;
    const key = `${entry.metadata.namespace}/${entry.metadata.name}`;
    this.enqueue(key, async () => {
      const current = await this.opts.store.get('WorkloadEntry', entry.metadata.namespace!, entry.metadata.name);
      if (current === undefined) return;
      const status = healthStatus(message === undefined, message);
      const old = (current.status as { conditions?: { status: string; message?: string }[] } | undefined)
        ?.conditions?.[0];
      if (old?.status === status.conditions[0]!.status && old?.message === status.conditions[0]!.message) return;
      await this.opts.store.update({ ...current, status });
    });
  }

  private scheduleDelete(key: Key): void {
    this.cancelDelete(key);
    this.pendingDeletes.set(
      key,
      this.timers.setTimeout(() => {
        this.pendingDeletes.delete(key);
        if (!this.owners.has(key)) this.remove(key, `not reconnected within ${this.grace} ms`);
      }, this.grace),
    );
  }

  private cancelDelete(key: Key): void {
    const h = this.pendingDeletes.get(key);
    if (h !== undefined) this.timers.clearTimeout(h);
    this.pendingDeletes.delete(key);
  }

  private remove(key: Key, why: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    this.enqueue(key, async () => {
      if (this.owners.has(key)) return; // reclaimed meanwhile
      try {
        await this.opts.store.delete('WorkloadEntry', namespace, name);
        this.opts.logger.info({ workloadEntry: key, why }, 'workload deregistered');
      } catch (err) {
        if (!isShoalError(err, 'NotFound')) throw err;
      }
    });
  }

  private enqueue(key: Key, work: () => Promise<void>): void {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev
      .then(work)
      .catch((err: unknown) =>
        this.opts.logger.warn({ workloadEntry: key, error: errorMessage(err) }, 'auto-registration write failed'),
      )
      .finally(() => {
        if (this.queues.get(key) === next) this.queues.delete(key);
      });
    this.queues.set(key, next);
  }
}

function healthStatus(
  healthy: boolean,
  message?: string,
): { conditions: { type: string; status: string; lastTransitionTime: string; message?: string }[] } {
  return {
    conditions: [
      {
        type: 'Healthy',
        status: healthy ? 'True' : 'False',
        lastTransitionTime: new Date().toISOString(),
        ...(message ? { message } : {}),
      },
    ],
  };
}

/** The WorkloadEntry a sidecar's node describes, or undefined for proxies that do not register (gRPC clients, gateways). */
export function entryFor(node: XdsNode, proxy: ProxyContext): Resource | undefined {
  if (proxy.type !== 'sidecar' || !node.workloadName || !proxy.ip) return undefined;
  const md = node.metadata;
  const ports =
    typeof md.SHOAL_PORTS === 'object' && md.SHOAL_PORTS !== null && !Array.isArray(md.SHOAL_PORTS)
      ? md.SHOAL_PORTS
      : {};
  const portMap: Record<string, number> = {};
  for (const [k, v] of Object.entries(ports)) {
    const n = Number(v);
    if (Number.isInteger(n) && n > 0 && n < 65536) portMap[k] = n;
  }
  const locality = node.locality
    ? [node.locality.region, node.locality.zone, node.locality.subZone].filter((p) => p).join('/')
    : '';
  const annotations: Record<string, string> = { [ANNOTATION_AUTO_REGISTERED]: 'true', [ANNOTATION_PROXY_ID]: node.id };
  if (proxy.inboundPort) annotations[SIDECAR_INBOUND_PORT_ANNOTATION] = String(proxy.inboundPort);
  const healthChecks = md.SHOAL_HEALTH_CHECKS === 'true' || md.SHOAL_HEALTH_CHECKS === true;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name: node.workloadName, namespace: proxy.namespace, labels: { ...node.labels }, annotations },
    spec: {
      address: proxy.ip,
      labels: { ...node.labels },
      ...(Object.keys(portMap).length > 0 ? { ports: portMap } : {}),
      ...(node.serviceAccount ? { serviceAccount: node.serviceAccount } : {}),
      ...(locality ? { locality } : {}),
    },
    ...(healthChecks ? { status: healthStatus(false, 'waiting for the first readiness report') } : {}),
  };
}
