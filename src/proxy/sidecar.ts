/**
 * `shoal sidecar` assembled: the xDS client (which registers the instance through its node metadata), the cluster
 * manager and listener manager fed by every configuration the client publishes, the readiness prober reporting the
 * app's health to the control plane, and the admin (15000), health (15021) and stats (15090) servers.
 *
 * Graceful shutdown (SIGTERM or POST /quitquitquit), so that no request fails while an instance leaves:
 *  1. mark itself unready (15021 answers 503), report the app unhealthy and half-close the ADS stream, so the
 *     control plane withdraws the endpoint at once;
 *  2. keep serving for the drain period (`drainMs`), while the withdrawal reaches the peers (new requests from them
 *     stop arriving); HTTP/1.1 responses now ask for `Connection: close`;
 *  3. stop accepting and finish requests in flight (up to `terminationDrainMs`);
 *  4. close everything; the caller exits.
 *
 * The same class runs `shoal gateway` when its identity is a GatewayIdentity: a `router~` node with no app, so no
 * prober and no health reports (the control plane registers no WorkloadEntry for it), admin servers and upstream
 * connections on its `--bind` address, and listeners from the Gateways that select it. A gateway turns LIVE (15021
 * 200, `whenReady()` resolves) only once a listener is bound: a gateway no Gateway selects serves nothing.
 */
import type { Server } from 'node:http';
import type { Probe } from '../api/kinds/pod-template.js';
import type { Logger } from '../core/logger.js';
import { createAdminServer, createHealthServer, createStatsServer } from './admin/admin-server.js';
import { createMetrics } from './admin/metrics.js';
import { probeCheck } from './agent/probe-checks.js';
import { Prober, probeTiming } from './agent/prober.js';
import type { ProxyConfig } from './config/index.js';
import type { AccessLogEntry } from './http/connection-manager.js';
import { ListenerManager, type ListenerLimits } from './listener/listener-manager.js';
import { ClusterManager } from './upstream/cluster-manager.js';
import { XdsClient, type XdsClientOptions } from './xds-client/client.js';
import { gatewayNode, sidecarNode, type GatewayIdentity, type SidecarIdentity } from './xds-client/node.js';

export interface SidecarOptions {
  /** A sidecar beside an app, or a gateway (`shoal gateway`). */
  readonly identity: SidecarIdentity | GatewayIdentity;
  /** Control-plane xDS addresses, tried in order. */
  readonly control: readonly string[];
  readonly logger: Logger;
  /** Admin server address (loopback) and ports; 0 picks a free port, undefined disables it. */
  readonly adminHost: string;
  readonly adminPort?: number;
  readonly healthPort?: number;
  readonly statsPort?: number;
  /** The app's readiness probe; default: TCP connect to the app port. `null`: no probing (always ready). Sidecars only. */
  readonly readinessProbe?: Probe | null;
  /** Step 2 of the shutdown. Default 3 s. */
  readonly drainMs?: number;
  /** Step 3 of the shutdown. Default 10 s. */
  readonly terminationDrainMs?: number;
  readonly limits?: Partial<ListenerLimits>;
  readonly accessLog?: (entry: AccessLogEntry) => void;
  readonly xds?: Partial<XdsClientOptions>;
}

export interface SidecarAddresses {
  admin?: string;
  health?: string;
  stats?: string;
}

type State = 'PRE_INITIALIZING' | 'INITIALIZING' | 'LIVE' | 'DRAINING' | 'TERMINATED';

export class Sidecar {
  readonly clusters: ClusterManager;
  readonly listeners: ListenerManager;
  readonly xds: XdsClient;
  private readonly prober: Prober | undefined;
  private readonly servers: Server[] = [];
  private state: State = 'PRE_INITIALIZING';
  private applying: Promise<void> = Promise.resolve();
  private configured = false;
  private readonly kind: 'sidecar' | 'gateway';
  /** The proxy's own address: the admin servers listen on it, upstream connections leave from it. */
  private readonly address: string;
  private readonly live: Promise<void>;
  private resolveLive: () => void = () => undefined;
  private appHealth?: { ready: boolean; message: string };
  private stopping?: Promise<void>;
  private quitHandler: () => void = () => void this.stop();

  constructor(private readonly options: SidecarOptions) {
    const identity = options.identity;
    this.kind = identity.type === 'gateway' ? 'gateway' : 'sidecar';
    this.address = identity.type === 'gateway' ? identity.bind : identity.podIp;
    this.live = new Promise((resolve) => (this.resolveLive = resolve));
    this.clusters = new ClusterManager(this.address);
    this.listeners = new ListenerManager({
      clusters: this.clusters,
      logger: options.logger,
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
      ...(options.accessLog !== undefined ? { accessLog: options.accessLog } : {}),
    });
    const probing = identity.type !== 'gateway' && options.readinessProbe !== null;
    this.xds = new XdsClient({
      servers: options.control,
      node: identity.type === 'gateway' ? gatewayNode(identity) : sidecarNode({ ...identity, healthChecks: probing }),
      logger: options.logger,
      // Reconnect within 5 s of a restarted control plane, well inside its 10 s grace period for the entries
      // sidecars registered before (Envoy's 30 s cap would let an entry lapse and its endpoint disappear).
      backoff: { baseMs: 500, maxMs: 5000 },
      ...options.xds,
    });
    if (probing) {
      const probe: Probe = options.readinessProbe ?? { tcpSocket: { port: identity.appPort }, periodSeconds: 2 };
      const check = probeCheck(probe, { host: identity.podIp, ports: identity.ports ?? { http: identity.appPort } });
      this.prober = new Prober(check, probeTiming(probe));
      this.prober.onChange((ready, outcome) => {
        options.logger.info({ ready, reason: outcome.message }, 'app readiness changed');
        this.appHealth = { ready, message: outcome.message };
        // Until its own listeners are bound the instance is not ready, whatever the app says (a pod is ready only
        // when every container is): reporting earlier would send peers to a port nobody listens on yet.
        if (this.state === 'LIVE') this.xds.reportHealth(ready, outcome.message);
      });
    }
  }

  /** Sets what POST /quitquitquit does (the CLI: shut down and exit). */
  onQuit(handler: () => void): void {
    this.quitHandler = handler;
  }

  get status(): State {
    return this.state;
  }

  get appReady(): boolean | undefined {
    return this.prober?.ready;
  }

  /** Starts the admin servers and the xDS client; resolves once they listen (not once configured). */
  async start(): Promise<SidecarAddresses> {
    const metrics = createMetrics({
      listeners: this.listeners,
      clusters: this.clusters,
      live: () => this.state === 'LIVE',
    });
    const addresses: SidecarAddresses = {};
    const { adminPort, healthPort, statsPort, adminHost } = this.options;
    if (adminPort !== undefined) {
      const admin = createAdminServer({
        listeners: this.listeners,
        clusters: this.clusters,
        metrics,
        config: () => this.xds.config,
        xdsStatus: () => this.xds.status(),
        state: () => this.state,
        appReady: () => this.appReady,
        quit: () => this.quitHandler(),
      });
      addresses.admin = await this.listen(admin, adminHost, adminPort);
    }
    if (healthPort !== undefined) {
      addresses.health = await this.listen(createHealthServer({ state: () => this.state }), this.address, healthPort);
    }
    if (statsPort !== undefined) {
      addresses.stats = await this.listen(createStatsServer(metrics), this.address, statsPort);
    }
    this.state = 'INITIALIZING';
    this.xds.subscribe((config) => this.apply(config));
    this.xds.start();
    this.prober?.start();
    return addresses;
  }

  /** Resolves once the first configuration is applied and the listeners are bound (LIVE). */
  whenReady(): Promise<void> {
    return this.live;
  }

  private apply(config: ProxyConfig): void {
    this.applying = this.applying.then(async () => {
      if (this.state === 'TERMINATED') return;
      this.clusters.update(config);
      await this.listeners.update(config);
      if (!this.configured) {
        const bound = [...this.listeners.listeners()].map((l) => `${l.config.name} ${l.config.address}:${l.port}`);
        if (this.kind === 'gateway' && bound.length === 0) {
          const labels = this.options.identity.labels ?? {};
          const errors = Object.fromEntries(this.listeners.errors);
          this.options.logger.warn(
            { labels, errors },
            'not ready: no Gateway listener bound (none selects the labels?)',
          );
          return;
        }
        this.configured = true;
        if (this.state === 'INITIALIZING') this.state = 'LIVE';
        if (this.state === 'LIVE' && this.appHealth !== undefined) {
          this.xds.reportHealth(this.appHealth.ready, this.appHealth.message);
        }
        this.options.logger.info({ listeners: bound }, `${this.kind} ready`);
        this.resolveLive();
      }
    });
  }

  /** The graceful shutdown sequence (idempotent). */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { logger } = this.options;
    const drainMs = this.options.drainMs ?? 3000;
    this.state = 'DRAINING';
    logger.info({ drainMs }, 'draining: endpoint withdrawn, still serving');
    this.prober?.stop();
    this.listeners.announceDrain();
    if (this.configured && this.kind === 'sidecar') this.xds.reportHealth(false, 'shutting down');
    await this.xds.close({ graceful: true, timeoutMs: 2000 }).catch(() => undefined);
    if (this.configured) await sleep(drainMs);
    this.listeners.drain();
    await this.listeners.close(this.options.terminationDrainMs ?? 10_000);
    this.state = 'TERMINATED';
    this.clusters.close();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
    for (const s of this.servers) s.closeAllConnections();
    logger.info(`${this.kind} stopped`);
  }

  private listen(server: Server, host: string, port: number): Promise<string> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : `${host}:${port}`);
      });
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
