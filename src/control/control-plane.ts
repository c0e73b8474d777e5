/**
 * The control-plane process: the store, the registry, the push engine and xDS server, workload auto-registration, the
 * DNS server and the HTTP API (with /metrics), wired together (the CA joins when it lands). `shoal control` is a thin CLI over this class; tests
 * start it in-process too. Start order follows the data flow (store -> registry -> xDS -> API); stop is the reverse,
 * so nothing is served from a closed store.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Registry } from '../registry/registry.js';
import { VipAllocator } from '../registry/vip-allocator.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { ServiceEntryVipAdmission, ServiceVipAdmission, type AdmissionPlugin } from './api/admission.js';
import { ApiServer } from './api/server.js';
import { ResourceService } from './api/resources.js';
import { TokenSet, ensureAdminToken } from './auth.js';
import { AutoRegistration, HEALTH_TYPE_URL } from './auto-registration.js';
import { debugRoutes } from './debug.js';
import type { Upstream } from './dns/forwarder.js';
import { DnsServer } from './dns/server.js';
import { createControlMetrics, metricsRoute } from './metrics.js';
import { MeshSnapshotProvider } from './xds/mesh-provider.js';
import { XdsServer } from './xds/server.js';
import { proxyContextOf } from './xds/translate/proxy.js';

export interface ControlPlaneOptions {
  dataDir: string;
  /** `sqlite` (default) or `etcd://host:port,host:port`. */
  store?: string;
  /** Address the servers bind; loopback by default. */
  host?: string;
  httpPort?: number;
  xdsPort?: number;
  /** DNS over UDP and TCP (0 = a free port); no DNS server when undefined. */
  dnsPort?: number;
  /** TTL of DNS answers and the negative TTL, in seconds (default 5). */
  dnsTtl?: number;
  /** Where DNS queries for names outside the mesh go; REFUSED when undefined. */
  dnsUpstream?: Upstream;
  /** Where Service VIPs come from (default 127.2.0.0/16: loopback, so a stray connection never leaves the machine). */
  serviceCidr?: string;
  /** Cluster DNS domain (default cluster.local). */
  domain?: string;
  /** How long a disconnected sidecar's WorkloadEntry outlives its connection (default 10 s). */
  workloadEntryGraceMs?: number;
  debounceQuietMs?: number;
  debounceMaxMs?: number;
  logger: Logger;
}

export interface ControlPlaneAddresses {
  http: { host: string; port: number; url: string };
  xds: { host: string; port: number; address: string };
  dns?: { host: string; port: number; address: string };
}

export class ControlPlane {
  private store?: Store;
  private registry?: Registry;
  private provider?: MeshSnapshotProvider;
  private xds?: XdsServer;
  private autoRegistration?: AutoRegistration;
  private api?: ApiServer;
  private dns?: DnsServer;
  adminToken = '';

  constructor(private readonly opts: ControlPlaneOptions) {}

  async start(): Promise<ControlPlaneAddresses> {
    const { dataDir, logger } = this.opts;
    const host = this.opts.host ?? '127.0.0.1';
    mkdirSync(dataDir, { recursive: true });
    const store = (this.store = openStore(this.opts.store ?? 'sqlite', dataDir));
    this.adminToken = ensureAdminToken(dataDir);

    this.registry = new Registry(store, {
      domain: this.opts.domain ?? 'cluster.local',
      logger: logger.child({ component: 'registry' }),
    });
    await this.registry.start();

    const autoRegistration = (this.autoRegistration = new AutoRegistration({
      store,
      logger: logger.child({ component: 'auto-registration' }),
      gracePeriodMs: this.opts.workloadEntryGraceMs,
    }));
    await autoRegistration.start();

    const xdsLogger = logger.child({ component: 'xds' });
    const provider = (this.provider = new MeshSnapshotProvider({
      registry: this.registry,
      logger: xdsLogger,
      debounceQuietMs: this.opts.debounceQuietMs,
      debounceMaxMs: this.opts.debounceMaxMs,
      onConnect: (node, proxy) => autoRegistration.connected(node, proxy),
      onDisconnect: (node, proxy, end) => autoRegistration.disconnected(node, proxy, end.graceful),
    }));
    this.xds = new XdsServer({
      provider,
      logger: xdsLogger,
      controlPlaneId: `shoal-control@${host}`,
      onOtherRequest: (node, request) => {
        if (request.type_url !== HEALTH_TYPE_URL) return;
        const message = request.error_detail ? request.error_detail.message || 'unhealthy' : undefined;
        autoRegistration.health(node, proxyContextOf(node), message);
      },
    });
    const xdsPort = await this.xds.start({ port: this.opts.xdsPort ?? 15010, host });

    const serviceCidr = this.opts.serviceCidr ?? '127.2.0.0/16';
    let dnsAddress: ControlPlaneAddresses['dns'];
    if (this.opts.dnsPort !== undefined) {
      this.dns = new DnsServer({
        registry: this.registry,
        logger: logger.child({ component: 'dns' }),
        host,
        port: this.opts.dnsPort,
        ttl: this.opts.dnsTtl,
        serviceCidr,
        upstream: this.opts.dnsUpstream,
      });
      const { port } = await this.dns.start();
      dnsAddress = { host, port, address: `${host.includes(':') ? `[${host}]` : host}:${port}` };
    }

    const allocator = new VipAllocator(serviceCidr);
    const resources = new ResourceService(
      store,
      new Map<string, AdmissionPlugin>([
        ['Service', await ServiceVipAdmission.seeded(allocator, store)],
        ['ServiceEntry', await ServiceEntryVipAdmission.seeded(allocator, store)],
      ]),
    );
    this.api = new ApiServer({
      resources,
      tokens: new TokenSet([this.adminToken]),
      logger: logger.child({ component: 'api' }),
      extraRoutes: new Map([
        ...debugRoutes(this.xds, provider),
        ['/metrics', metricsRoute(createControlMetrics({ dns: () => this.dns?.stats }))],
      ]),
    });
    const addr = await this.api.listen(this.opts.httpPort ?? 15014, host);
    const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return {
      http: { host: addr.address, port: addr.port, url: `http://${urlHost}:${addr.port}` },
      xds: { host, port: xdsPort, address: `${host}:${xdsPort}` },
      ...(dnsAddress ? { dns: dnsAddress } : {}),
    };
  }

  /** Drains the API, ends xDS streams, then checkpoints and closes the store. */
  async stop(): Promise<void> {
    await this.api?.stop();
    await this.xds?.stop(2_000);
    await this.dns?.stop();
    this.provider?.stop();
    this.autoRegistration?.stop();
    await this.autoRegistration?.idle();
    this.registry?.stop();
    await this.store?.close();
  }

  get storeInstance(): Store {
    if (!this.store) throw new Error('control plane not started');
    return this.store;
  }

  /** The DNS server, when it runs. */
  get dnsServer(): DnsServer | undefined {
    return this.dns;
  }

  /** The push engine (tests flush it instead of waiting for the debounce). */
  get pushEngine(): MeshSnapshotProvider {
    if (!this.provider) throw new Error('control plane not started');
    return this.provider;
  }
}

function openStore(spec: string, dataDir: string): Store {
  if (spec === 'sqlite') return SqliteStore.open({ path: join(dataDir, 'shoal.db') });
  if (spec.startsWith('etcd://')) {
    throw new ShoalError(
      'BadRequest',
      `--store ${spec}: the etcd store is not available in this version yet; use --store sqlite`,
    );
  }
  throw new ShoalError('BadRequest', `--store ${spec}: expected "sqlite" or "etcd://host:port[,host:port...]"`);
}
