/**
 * The sidecar's small HTTP servers:
 * - admin (15000, loopback only): `/ready`, `/config_dump` (the configuration in force with its xDS versions, what
 *   is warming, listeners that could not bind, the xDS client's status), `/clusters` (Envoy's text format, or
 *   `?format=json`: every endpoint with health, weight, priority, locality, requests and connections in flight),
 *   `/listeners`, `/memory` (the process's memory, as Envoy's), `/stats/prometheus`, `POST /quitquitquit`
 *   (graceful shutdown);
 * - health (15021): `/healthz/ready`, 200 once configured and serving, 503 before and while draining;
 * - stats (15090): `/stats/prometheus`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { ProxyConfig } from '../config/index.js';
import type { ListenerManager } from '../listener/listener-manager.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { XdsClientStatus } from '../xds-client/client.js';

export interface AdminSources {
  readonly listeners: ListenerManager;
  readonly clusters: ClusterManager;
  readonly metrics: Registry;
  config(): ProxyConfig | undefined;
  xdsStatus(): XdsClientStatus;
  /** 'LIVE' when serving, else why not ('PRE_INITIALIZING', 'DRAINING', ...). */
  state(): string;
  appReady(): boolean | undefined;
  quit(): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** JSON for the runtime config: Maps become objects, Sets arrays, RegExps their source. */
export function configJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (v instanceof Map) return Object.fromEntries(v as Map<string, unknown>) as unknown;
      if (v instanceof Set) return [...(v as Set<unknown>)];
      if (v instanceof RegExp) return v.source;
      if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    2,
  );
}

function serve(routes: Record<string, Handler>): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const handler = routes[url.pathname];
    if (handler === undefined)
      return send(res, 404, `unknown path ${url.pathname}; try ${Object.keys(routes).join(' ')}\n`);
    Promise.resolve(handler(req, res, url)).catch((error: Error) => {
      if (!res.headersSent) send(res, 500, `${error.message}\n`);
      else res.destroy();
    });
  });
}

function clustersText(clusters: ClusterManager): string {
  const lines: string[] = [];
  for (const c of clusters.all()) {
    const s = c.stats;
    lines.push(`${c.name}::default_priority::max_requests::${c.config.circuitBreakers.maxRequests}`);
    lines.push(`${c.name}::added_via_api::true`);
    lines.push(`${c.name}::lb_policy::${c.config.lb.policy.name}`);
    lines.push(`${c.name}::rq_active::${s.rqActive}`);
    for (const e of c.endpoints?.endpoints ?? []) {
      const p = `${c.name}::${e.key}`;
      const pool = c.poolStats(e.key);
      lines.push(`${p}::cx_active::${pool?.connected ?? 0}`);
      lines.push(`${p}::rq_active::${c.states.get(e.key)?.activeRequests ?? 0}`);
      lines.push(
        `${p}::health_flags::${e.health === 'HEALTHY' || e.health === 'UNKNOWN' ? 'healthy' : `/failed_eds_health (${e.health})`}`,
      );
      lines.push(`${p}::weight::${e.weight}`);
      lines.push(`${p}::priority::${e.priority}`);
      lines.push(`${p}::region::${e.locality.region}`);
      lines.push(`${p}::zone::${e.locality.zone}`);
      lines.push(`${p}::sub_zone::${e.locality.subZone}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function clustersJson(clusters: ClusterManager): unknown {
  return {
    cluster_statuses: [...clusters.all()].map((c) => ({
      name: c.name,
      type: c.config.type,
      lb_policy: c.config.lb.policy.name,
      rq_active: c.stats.rqActive,
      host_statuses: (c.endpoints?.endpoints ?? []).map((e) => ({
        address: e.key,
        health_status: e.health,
        weight: e.weight,
        priority: e.priority,
        locality: e.locality,
        rq_active: c.states.get(e.key)?.activeRequests ?? 0,
        cx_active: c.poolStats(e.key)?.connected ?? 0,
      })),
    })),
  };
}

export function createAdminServer(sources: AdminSources): Server {
  const prometheus: Handler = async (_req, res) => {
    send(res, 200, await sources.metrics.metrics(), sources.metrics.contentType);
  };
  return serve({
    '/': (_req, res) =>
      send(
        res,
        200,
        'shoal sidecar admin: /ready /config_dump /clusters /listeners /memory /stats/prometheus /quitquitquit\n',
      ),
    '/ready': (_req, res) => {
      const state = sources.state();
      send(res, state === 'LIVE' ? 200 : 503, `${state}\n`);
    },
    '/config_dump': (_req, res) => {
      const config = sources.config();
      send(
        res,
        200,
        configJson({
          state: sources.state(),
          appReady: sources.appReady() ?? null,
          xds: sources.xdsStatus(),
          listenerErrors: Object.fromEntries(sources.listeners.errors),
          ...(config ?? { versions: null }),
        }),
        'application/json',
      );
    },
    '/clusters': (_req, res, url) => {
      if (url.searchParams.get('format') === 'json') {
        return send(res, 200, JSON.stringify(clustersJson(sources.clusters), null, 2), 'application/json');
      }
      send(res, 200, clustersText(sources.clusters));
    },
    '/listeners': (_req, res) => {
      const list = [...sources.listeners.listeners()].map((l) => ({
        name: l.config.name,
        address: `${l.config.address}:${l.port}`,
        in_flight: l.inFlight,
      }));
      send(res, 200, JSON.stringify(list, null, 2), 'application/json');
    },
    '/stats/prometheus': prometheus,
    '/memory': (_req, res) => {
      const m = process.memoryUsage();
      const body = {
        rss: m.rss,
        heap_total: m.heapTotal,
        heap_used: m.heapUsed,
        external: m.external,
        array_buffers: m.arrayBuffers,
      };
      send(res, 200, `${JSON.stringify(body, null, 2)}\n`, 'application/json');
    },
    '/quitquitquit': (req, res) => {
      if (req.method !== 'POST') return send(res, 405, 'POST only\n');
      send(res, 200, 'OK\n');
      sources.quit();
    },
  });
}

export function createHealthServer(sources: Pick<AdminSources, 'state'>): Server {
  return serve({
    '/healthz/ready': (_req, res) => {
      const state = sources.state();
      send(res, state === 'LIVE' ? 200 : 503, `${state}\n`);
    },
  });
}

export function createStatsServer(metrics: Registry): Server {
  return serve({
    '/stats/prometheus': async (_req, res) => send(res, 200, await metrics.metrics(), metrics.contentType),
  });
}
