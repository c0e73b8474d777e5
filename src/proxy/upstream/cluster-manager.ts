/**
 * The cluster manager (Envoy's word): for every cluster of the configuration in force, its load balancer's picker
 * over the current endpoints and one connection pool per endpoint (the sidecar's own Http1Pool for HTTP/1.1, an
 * HTTP/2 session for HTTP/2). `update()` runs on every configuration change, off the request path: a cluster whose endpoints or policy
 * changed gets a new host set and picker; a pool survives as long as its endpoint stays in the cluster; the pool of
 * an endpoint that left is closed gracefully (requests in flight finish, idle connections close); a removed
 * cluster's pools likewise. Requests in flight keep the UpstreamCluster and the endpoint state they started with.
 */
import type { ClusterConfig, EndpointSet, ProxyConfig } from '../config/index.js';
import { buildHostSet, type HostSet } from '../lb/host-set.js';
import { configureLoadBalancer, type ConfiguredLoadBalancer } from '../lb/registry.js';
import { EndpointStates, FAIL_PICKER, type LbEndpoint, type Picker } from '../lb/types.js';
import { Http1Pool } from './http1-pool.js';
import { Http2Upstream } from './http2-session.js';
import { sourceAddressFor } from './source-address.js';

/** Counters per cluster, kept across configuration versions (by name) for /clusters and /stats. */
export class ClusterStats {
  rqTotal = 0;
  rqActive = 0;
  rq1xx = 0;
  rq2xx = 0;
  rq3xx = 0;
  rq4xx = 0;
  rq5xx = 0;
  rqRetry = 0;
  rqRetryActive = 0;
  rqTimeout = 0;
  cxConnectFail = 0;
  rqReset = 0;
  rqPendingOverflow = 0;
  noHealthy = 0;

  countStatus(status: number): void {
    if (status < 200) this.rq1xx++;
    else if (status < 300) this.rq2xx++;
    else if (status < 400) this.rq3xx++;
    else if (status < 500) this.rq4xx++;
    else this.rq5xx++;
  }
}

export class UpstreamCluster {
  config: ClusterConfig;
  endpoints: EndpointSet | undefined;
  lb: ConfiguredLoadBalancer;
  hostSet: HostSet | undefined;
  picker: Picker = FAIL_PICKER;
  readonly states = new EndpointStates();
  private readonly pools = new Map<string, Http1Pool>();
  private readonly sessions = new Map<string, Http2Upstream>();

  constructor(
    config: ClusterConfig,
    lb: ConfiguredLoadBalancer,
    readonly stats: ClusterStats,
    /** The pod address upstream connections leave from (see source-address.ts). */
    readonly sourceIp?: string,
  ) {
    this.config = config;
    this.lb = lb;
  }

  get name(): string {
    return this.config.name;
  }

  /** Rebuilds the picker for new endpoints (or a new policy), and closes the pools of endpoints that left. */
  setEndpoints(endpoints: EndpointSet | undefined): void {
    this.endpoints = endpoints;
    if (endpoints === undefined || endpoints.endpoints.length === 0) {
      this.hostSet = undefined;
      this.picker = FAIL_PICKER;
    } else {
      const hostSet = buildHostSet(
        {
          endpoints: endpoints.endpoints,
          priorities: endpoints.priorities,
          overprovisioningFactor: endpoints.overprovisioningFactor,
        },
        {
          panicThresholdPercent: this.config.lb.panicThresholdPercent,
          localityWeighted: this.config.lb.localityWeighted,
          states: this.states,
        },
      );
      this.hostSet = hostSet;
      this.picker = this.lb.build(hostSet);
    }
    const keep = new Set((endpoints?.endpoints ?? []).map((e) => e.key));
    for (const [key, pool] of this.pools) {
      if (!keep.has(key)) {
        this.pools.delete(key);
        void pool.close().catch(() => undefined);
      }
    }
    for (const [key, session] of this.sessions) {
      if (!keep.has(key)) {
        this.sessions.delete(key);
        session.close();
      }
    }
  }

  /** The local address to connect to `endpoint` from, if the pod address can reach it. */
  source(endpoint: LbEndpoint): string | undefined {
    return sourceAddressFor(this.sourceIp, endpoint.address);
  }

  /** The HTTP/1.1 pool for an endpoint, created on first use. */
  pool(endpoint: LbEndpoint): Http1Pool {
    let pool = this.pools.get(endpoint.key);
    if (pool === undefined) {
      const { connectTimeoutMs, http, circuitBreakers } = this.config;
      const max = circuitBreakers.maxConnections;
      pool = new Http1Pool({
        host: endpoint.address,
        port: endpoint.port,
        connections: max > 0 && max < 1_000_000 ? max : 0,
        connectTimeoutMs,
        idleTimeoutMs: Math.min(http.idleTimeoutMs, 60_000),
        maxRequestsPerConnection: http.maxRequestsPerConnection,
        maxHeadBytes: 96 * 1024,
        localAddress: this.source(endpoint),
      });
      this.pools.set(endpoint.key, pool);
    }
    return pool;
  }

  /** The HTTP/2 session holder for an endpoint, created on first use. */
  session(endpoint: LbEndpoint): Http2Upstream {
    let session = this.sessions.get(endpoint.key);
    if (session === undefined) {
      session = new Http2Upstream(`http://${endpoint.key}`, {
        connectTimeoutMs: this.config.connectTimeoutMs,
        idleTimeoutMs: this.config.http.idleTimeoutMs,
        localAddress: this.source(endpoint),
      });
      this.sessions.set(endpoint.key, session);
    }
    return session;
  }

  /** Connections per endpoint, for /clusters. */
  poolStats(key: string): { connected: number; running: number; pending: number } | undefined {
    return this.pools.get(key)?.stats;
  }

  close(): void {
    for (const pool of this.pools.values()) void pool.close().catch(() => undefined);
    for (const session of this.sessions.values()) session.close();
    this.pools.clear();
    this.sessions.clear();
  }

  destroy(): void {
    for (const pool of this.pools.values()) pool.destroy();
    for (const session of this.sessions.values()) session.destroy();
    this.pools.clear();
    this.sessions.clear();
  }
}

export class ClusterManager {
  /** `sourceIp`: the pod address; upstream connections leave from it so peers see the calling pod. */
  constructor(private readonly sourceIp?: string) {}

  private clusters = new Map<string, UpstreamCluster>();
  private readonly stats = new Map<string, ClusterStats>();

  /** The cluster by name in the configuration in force. */
  get(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
  }

  all(): IterableIterator<UpstreamCluster> {
    return this.clusters.values();
  }

  statsOf(name: string): ClusterStats {
    let s = this.stats.get(name);
    if (s === undefined) {
      s = new ClusterStats();
      this.stats.set(name, s);
    }
    return s;
  }

  allStats(): ReadonlyMap<string, ClusterStats> {
    return this.stats;
  }

  /** Applies a new configuration: only what changed is rebuilt. */
  update(config: ProxyConfig): void {
    const next = new Map<string, UpstreamCluster>();
    for (const [name, cc] of config.clusters) {
      const endpoints = config.endpoints.get(name) ?? cc.endpoints;
      let cluster = this.clusters.get(name);
      if (cluster !== undefined && cluster.config === cc) {
        if (cluster.endpoints !== endpoints) cluster.setEndpoints(endpoints);
      } else {
        const lb = configureLoadBalancer(cc.lb.policy.name, cc.lb.policy.config);
        // The decoder already checked the policy; a failure here would be a bug, so fall back to round robin.
        const configured = lb.ok
          ? lb.value
          : (configureLoadBalancer('round_robin') as { value: ConfiguredLoadBalancer }).value;
        if (cluster !== undefined && sameConnectionSettings(cluster.config, cc)) {
          cluster.config = cc;
          cluster.lb = configured;
        } else {
          cluster?.close();
          cluster = new UpstreamCluster(cc, configured, this.statsOf(name), this.sourceIp);
        }
        cluster.setEndpoints(endpoints);
      }
      next.set(name, cluster);
    }
    for (const [name, cluster] of this.clusters) if (!next.has(name)) cluster.close();
    this.clusters = next;
  }

  close(): void {
    for (const cluster of this.clusters.values()) cluster.close();
    this.clusters = new Map();
  }

  destroy(): void {
    for (const cluster of this.clusters.values()) cluster.destroy();
    this.clusters = new Map();
  }
}

/** Pools can be kept when nothing about connecting changed. */
function sameConnectionSettings(a: ClusterConfig, b: ClusterConfig): boolean {
  return (
    a.connectTimeoutMs === b.connectTimeoutMs &&
    a.circuitBreakers.maxConnections === b.circuitBreakers.maxConnections &&
    a.http.http2 === b.http.http2 &&
    a.http.idleTimeoutMs === b.http.idleTimeoutMs &&
    a.http.maxRequestsPerConnection === b.http.maxRequestsPerConnection &&
    a.tls === b.tls
  );
}
