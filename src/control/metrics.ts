/**
 * The control plane's Prometheus metrics on `/metrics` (port 15014), read at scrape time from the counters the
 * components keep (nothing on a hot path touches prom-client):
 * - `shoal_dns_queries_total{rcode}`: answered DNS queries by response code (NOERROR, NXDOMAIN, REFUSED, ...);
 * - `shoal_dns_malformed_packets_total`: packets that did not decode as a DNS query (dropped, never answered);
 * - `shoal_dns_truncated_total`, `shoal_dns_forwarded_total`, `shoal_dns_forward_failures_total`,
 *   `shoal_dns_zone_builds_total`;
 * - prom-client's process metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { DnsStats } from './dns/server.js';

const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  16: 'BADVERS',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export interface ControlMetricsSources {
  dns?: () => DnsStats | undefined;
}

export function createControlMetrics(sources: ControlMetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const dns = (): DnsStats | undefined => sources.dns?.();

  new Counter({
    name: 'shoal_dns_queries_total',
    help: 'DNS queries answered, by response code',
    labelNames: ['rcode'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = dns();
      if (!stats) return;
      stats.responses.forEach((n, rcode) => {
        if (n > 0) this.inc({ rcode: rcodeName(rcode) }, n);
      });
    },
  });
  const counter = (name: string, help: string, read: (s: DnsStats) => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const stats = dns();
        if (stats) this.inc(read(stats));
      },
    });
  };
  counter('shoal_dns_malformed_packets_total', 'DNS packets dropped because they did not decode', (s) => s.malformed);
  counter('shoal_dns_truncated_total', 'DNS answers truncated (TC) to fit the UDP limit', (s) => s.truncated);
  counter('shoal_dns_forwarded_total', 'DNS queries answered by the upstream resolver', (s) => s.forwarded);
  counter(
    'shoal_dns_forward_failures_total',
    'DNS queries the upstream resolver did not answer in time (SERVFAIL)',
    (s) => s.forwardFailures,
  );
  counter('shoal_dns_zone_builds_total', 'DNS answer tables built from the registry', (s) => s.zoneBuilds);
  return registry;
}

/** The `/metrics` handler. */
export function metricsRoute(registry: Registry): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (_req, res) => {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  };
}
