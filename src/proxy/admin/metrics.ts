/**
 * The sidecar's Prometheus metrics (prom-client), read at scrape time from the counters the data path keeps
 * (src/proxy/stats.ts, ClusterStats): nothing on the request path touches prom-client.
 *
 * - `istio_requests_total{reporter, response_code_class, response_flags, listener}` and
 *   `istio_request_duration_milliseconds{reporter, listener}` (reporter `source` for the outbound listener,
 *   `destination` for inbound, as Istio's; the full Istio label set is the observability issue's);
 * - `envoy_cluster_upstream_rq_total`, `_active`, `_retry`, `_timeout`, `envoy_cluster_upstream_cx_connect_fail`,
 *   `envoy_cluster_upstream_rq_pending_overflow`, `envoy_cluster_upstream_rq_xx{envoy_response_code_class}`,
 *   `envoy_cluster_membership_healthy`, `envoy_cluster_membership_total` per `cluster_name`;
 * - `envoy_http_downstream_cx_total`, `envoy_http_downstream_rq_active`, `envoy_http_downstream_cx_protocol_error`
 *   per listener (`http_conn_manager_prefix`);
 * - `envoy_server_live`, and the process's own: `process_cpu_seconds_total` (and its user/system parts),
 *   `process_resident_memory_bytes`, `process_start_time_seconds`, `nodejs_heap_size_used_bytes` and
 *   `nodejs_heap_size_total_bytes`, all read at scrape time. Not prom-client's `collectDefaultMetrics()`: its
 *   event-loop-delay monitor wakes the process 100 times a second and its GC observer runs on every scavenge, which
 *   cost an idle sidecar about 0.3% of a core and a busy one a share of every request.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS_MS, type ListenerStats } from '../stats.js';
import type { ListenerManager } from '../listener/listener-manager.js';
import type { ClusterManager, ClusterStats } from '../upstream/cluster-manager.js';

export interface MetricsSources {
  readonly listeners: ListenerManager;
  readonly clusters: ClusterManager;
  live(): boolean;
}

export function createMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  processMetrics(registry);
  const reporter = (listener: string): string => (listener === 'inbound' ? 'destination' : 'source');

  new Counter({
    name: 'istio_requests_total',
    help: 'Requests through the sidecar, by status class and response flags',
    labelNames: ['reporter', 'listener', 'response_code_class', 'response_flags'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of sources.listeners.listeners()) {
        const s = l.stats;
        for (let c = 1; c <= 5; c++) {
          const n = s.byClass[c]!;
          if (n > 0) {
            this.inc(
              { reporter: reporter(s.name), listener: s.name, response_code_class: `${c}xx`, response_flags: '-' },
              n,
            );
          }
        }
        for (const [flags, n] of s.byFlags) {
          this.inc(
            { reporter: reporter(s.name), listener: s.name, response_code_class: 'mesh', response_flags: flags },
            n,
          );
        }
      }
    },
  });

  const durationName = 'istio_request_duration_milliseconds';
  const duration = new Histogram({
    name: durationName,
    help: 'Request duration through the sidecar',
    labelNames: ['reporter', 'listener'],
    buckets: [...DURATION_BUCKETS_MS],
    registers: [registry],
  });
  // prom-client's Histogram has no "set": expose the data path's histogram through its own get().
  duration.get = () => {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const l of sources.listeners.listeners()) {
      const h = l.stats.duration;
      const labels = { reporter: reporter(l.stats.name), listener: l.stats.name };
      const cumulative = h.cumulative();
      DURATION_BUCKETS_MS.forEach((le, i) =>
        values.push({ labels: { ...labels, le }, value: cumulative[i]!, metricName: `${durationName}_bucket` }),
      );
      values.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: `${durationName}_bucket` });
      values.push({ labels, value: h.sum, metricName: `${durationName}_sum` });
      values.push({ labels, value: h.count, metricName: `${durationName}_count` });
    }
    return Promise.resolve({
      name: durationName,
      help: 'Request duration through the sidecar',
      type: 'histogram',
      values,
      aggregator: 'sum',
    } as unknown as Awaited<ReturnType<typeof duration.get>>);
  };

  const clusterCounter = (name: string, help: string, read: (s: ClusterStats) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['cluster_name'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [cluster, s] of sources.clusters.allStats()) this.inc({ cluster_name: cluster }, read(s));
      },
    });
  };
  clusterCounter('envoy_cluster_upstream_rq_total', 'Upstream requests', (s) => s.rqTotal);
  clusterCounter('envoy_cluster_upstream_rq_retry', 'Upstream request retries', (s) => s.rqRetry);
  clusterCounter('envoy_cluster_upstream_rq_timeout', 'Upstream requests that timed out', (s) => s.rqTimeout);
  clusterCounter('envoy_cluster_upstream_cx_connect_fail', 'Upstream connection failures', (s) => s.cxConnectFail);
  clusterCounter('envoy_cluster_upstream_rq_rx_reset', 'Upstream requests reset', (s) => s.rqReset);
  clusterCounter(
    'envoy_cluster_upstream_rq_pending_overflow',
    'Requests refused by the circuit breaker',
    (s) => s.rqPendingOverflow,
  );
  clusterCounter('envoy_cluster_upstream_cx_none_healthy', 'Requests with no healthy upstream', (s) => s.noHealthy);

  new Counter({
    name: 'envoy_cluster_upstream_rq_xx',
    help: 'Upstream responses by status class',
    labelNames: ['cluster_name', 'envoy_response_code_class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cluster, s] of sources.clusters.allStats()) {
        const classes = [s.rq1xx, s.rq2xx, s.rq3xx, s.rq4xx, s.rq5xx];
        classes.forEach((n, i) => {
          if (n > 0) this.inc({ cluster_name: cluster, envoy_response_code_class: String(i + 1) }, n);
        });
      }
    },
  });
  new Gauge({
    name: 'envoy_cluster_upstream_rq_active',
    help: 'Upstream requests in flight',
    labelNames: ['cluster_name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cluster, s] of sources.clusters.allStats()) this.set({ cluster_name: cluster }, s.rqActive);
    },
  });
  new Gauge({
    name: 'envoy_cluster_membership_healthy',
    help: 'Healthy endpoints per cluster',
    labelNames: ['cluster_name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of sources.clusters.all()) {
        const healthy = (c.endpoints?.endpoints ?? []).filter((e) => e.health === 'HEALTHY' || e.health === 'UNKNOWN');
        this.set({ cluster_name: c.name }, healthy.length);
      }
    },
  });
  new Gauge({
    name: 'envoy_cluster_membership_total',
    help: 'Endpoints per cluster',
    labelNames: ['cluster_name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of sources.clusters.all()) this.set({ cluster_name: c.name }, c.endpoints?.endpoints.length ?? 0);
    },
  });
  const listenerMetric = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    read: (l: ListenerStats) => number,
  ): void => {
    const Metric = kind === 'counter' ? Counter : Gauge;
    new Metric({
      name,
      help,
      labelNames: ['http_conn_manager_prefix'],
      registers: [registry],
      collect(this: Counter | Gauge) {
        this.reset();
        for (const l of sources.listeners.listeners()) {
          const v = read(l.stats);
          if (this instanceof Counter) this.inc({ http_conn_manager_prefix: l.stats.name }, v);
          else this.set({ http_conn_manager_prefix: l.stats.name }, v);
        }
      },
    });
  };
  listenerMetric('counter', 'envoy_http_downstream_cx_total', 'Downstream connections', (s) => s.cxTotal);
  listenerMetric('counter', 'envoy_http_downstream_rq_total', 'Downstream requests', (s) => s.rqTotal);
  listenerMetric('gauge', 'envoy_http_downstream_rq_active', 'Downstream requests in flight', (s) => s.rqActive);
  listenerMetric(
    'counter',
    'envoy_http_downstream_cx_protocol_error',
    'Malformed or over-limit downstream requests',
    (s) => s.cxProtocolError,
  );
  new Gauge({
    name: 'envoy_server_live',
    help: '1 while the sidecar is serving',
    registers: [registry],
    collect() {
      this.set(sources.live() ? 1 : 0);
    },
  });
  return registry;
}

/** The process metrics a scrape reads (CPU, memory, start time), computed only when scraped. */
function processMetrics(registry: Registry): void {
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const cpu = (name: string, help: string, pick: (u: NodeJS.CpuUsage) => number): void => {
    let last = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = pick(process.cpuUsage()) / 1e6;
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  };
  cpu('process_cpu_user_seconds_total', 'User CPU time spent in seconds', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'System CPU time spent in seconds', (u) => u.system);
  cpu('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds', (u) => u.user + u.system);
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since unix epoch in seconds',
    registers: [registry],
    collect() {
      this.set(startSeconds);
    },
  });
  const heap = (name: string, help: string, pick: (m: NodeJS.MemoryUsage) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(process.memoryUsage()));
      },
    });
  };
  heap('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes', (m) => m.heapUsed);
  heap('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes', (m) => m.heapTotal);
}
