/**
 * A bounded load generator for the bookstore: sends GET requests to one URL at a fixed rate for a fixed time
 * (open loop: request i leaves at i/rate seconds, whether or not earlier ones have answered, up to
 * --max-in-flight), then prints how many it sent and, per status and per reviews version (the storefront's
 * `x-reviews-version` header), how many answered.
 *
 *   node dist/examples/bookstore/load.js [--url http://127.0.0.1:8080/] [--rate 10] [--duration 10]
 *        [--max-in-flight 64] [--timeout 10] [--proxy http://<pod-ip>:15001] [--json]
 *
 * --proxy sends every request through an HTTP proxy in absolute form, as an app in the mesh does through its
 * sidecar (so --url can be a mesh name such as http://storefront.default.svc.cluster.local/).
 */
import { parseArgs } from 'node:util';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';

const USAGE = `usage: load [--url URL] [--rate N/s (1-1000)] [--duration SECONDS (0-600)] [--max-in-flight N (1-1000)]
            [--timeout SECONDS (1-60)] [--proxy URL] [--json]`;

interface Options {
  url: URL;
  rate: number;
  duration: number;
  maxInFlight: number;
  timeoutMs: number;
  proxy: URL | undefined;
  json: boolean;
}

class UsageError extends Error {}

function num(raw: string | undefined, flag: string, fallback: number, min: number, max: number, int: boolean): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
    throw new UsageError(`--${flag}: must be ${int ? 'an integer' : 'a number'} from ${min} to ${max} (got "${raw}")`);
  }
  return n;
}

function httpUrl(flag: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${flag}: not a URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`--${flag}: must be an http:// URL (got "${raw}")`);
  return url;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        'max-in-flight': { type: 'string' },
        timeout: { type: 'string' },
        proxy: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    url: httpUrl('url', values.url ?? 'http://127.0.0.1:8080/'),
    rate: num(values.rate, 'rate', 10, 1, 1000, false),
    duration: num(values.duration, 'duration', 10, 0, 600, false),
    maxInFlight: num(values['max-in-flight'], 'max-in-flight', 64, 1, 1000, true),
    timeoutMs: num(values.timeout, 'timeout', 10, 1, 60, false) * 1000,
    proxy: values.proxy === undefined ? undefined : httpUrl('proxy', values.proxy),
    json: values.json === true,
  };
}

interface Report {
  url: string;
  rate: number;
  duration: number;
  /** Requests the schedule called for: rate x duration. */
  planned: number;
  sent: number;
  /** Not sent because --max-in-flight requests were already waiting. */
  skipped: number;
  /** Requests that got a response, by status code. */
  statuses: Record<string, number>;
  /** Responses by `x-reviews-version` (`none` when the header is absent). */
  reviewsVersions: Record<string, number>;
  /** Requests that got no response, by error code. */
  errors: Record<string, number>;
  /** Over the responses, in milliseconds. */
  latencyMs: { p50: number; p90: number; p99: number; max: number } | null;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)]! * 100) / 100;
}

async function run(opts: Options): Promise<Report> {
  const planned = Math.round(opts.rate * opts.duration);
  const limits = { connections: opts.maxInFlight, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs };
  const agent: Dispatcher =
    opts.proxy === undefined
      ? new Agent(limits)
      : new ProxyAgent({ ...limits, uri: opts.proxy.href, proxyTunnel: false });
  const report: Report = {
    url: opts.url.href,
    rate: opts.rate,
    duration: opts.duration,
    planned,
    sent: 0,
    skipped: 0,
    statuses: {},
    reviewsVersions: {},
    errors: {},
    latencyMs: null,
  };
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();

  const one = async (): Promise<void> => {
    const start = performance.now();
    try {
      const res = await request(opts.url, { dispatcher: agent, signal: AbortSignal.timeout(opts.timeoutMs) });
      await res.body.arrayBuffer();
      latencies.push(performance.now() - start);
      bump(report.statuses, String(res.statusCode));
      const version = res.headers['x-reviews-version'];
      bump(report.reviewsVersions, typeof version === 'string' ? version : 'none');
    } catch (err) {
      const e = err as Error & { code?: string };
      bump(report.errors, e.code ?? e.name);
    }
  };

  const begin = performance.now();
  for (let i = 0; i < planned; i++) {
    const due = begin + (i * 1000) / opts.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (pending.size >= opts.maxInFlight) {
      report.skipped++;
      continue;
    }
    report.sent++;
    const p = one().finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  await agent.close();
  latencies.sort((a, b) => a - b);
  if (latencies.length > 0) {
    report.latencyMs = {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: percentile(latencies, 100),
    };
  }
  return report;
}

function sortedEntries(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
}

function formatReport(r: Report): string {
  const answered = Object.values(r.statuses).reduce((a, b) => a + b, 0);
  const failed = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const lines = [
    `load: ${r.planned} requests planned to ${r.url} at ${r.rate}/s for ${r.duration} s`,
    `sent ${r.sent}, answered ${answered}, no answer ${failed}, skipped ${r.skipped} (max in flight)`,
    ...sortedEntries(r.statuses).map(([s, n]) => `status ${s}: ${n}`),
    ...sortedEntries(r.reviewsVersions).map(([v, n]) => `reviews ${v}: ${n}`),
    ...sortedEntries(r.errors).map(([c, n]) => `error ${c}: ${n}`),
  ];
  if (r.latencyMs !== null) {
    const l = r.latencyMs;
    lines.push(`latency ms: p50 ${l.p50} p90 ${l.p90} p99 ${l.p99} max ${l.max}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`load: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  const report = await run(opts);
  console.log(opts.json ? JSON.stringify(report) : formatReport(report));
}

await main();
