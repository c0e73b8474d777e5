/**
 * What the four bookstore services share: reading their environment, one node:http server with a readiness
 * endpoint and a graceful SIGTERM, the trace headers every service copies from the request it serves to the requests
 * it makes, and the outbound client (undici's EnvHttpProxyAgent: with HTTP_PROXY set, as `shoal up` sets it, every
 * call goes through the pod's sidecar as an absolute-form request to a mesh name).
 *
 * The services read only their environment: PORT, HOST, POD_NAME, POD_NAMESPACE, HTTP_PROXY/NO_PROXY (what
 * `shoal up` gives every pod), and, from the Deployment's `env`, VERSION, <DEPENDENCY>_URL and
 * SHUTDOWN_DELAY_SECONDS.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { EnvHttpProxyAgent, request } from 'undici';
import type { z } from 'zod';

/** A bad environment variable: the process prints the message (which names the variable) and exits 2. */
export class ConfigError extends Error {}

/**
 * The headers a service copies from the request it serves to every request it makes for it, so that one trace
 * (and Envoy-style request id) spans all the hops: W3C trace context and baggage, Zipkin B3 (multi and single
 * header), OpenTracing's span context.
 */
export const TRACE_HEADERS = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
] as const;

export type TraceHeaders = Record<string, string>;

/** The trace headers present on a request (a repeated one is joined, as node:http joins unknown headers). */
export function traceHeaders(req: IncomingMessage): TraceHeaders {
  const out: TraceHeaders = {};
  for (const name of TRACE_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

export interface AppEnv {
  host: string;
  port: number;
  /** POD_NAME, else this machine's host name (run by hand). */
  pod: string;
  namespace: string;
  shutdownDelayMs: number;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) {
    throw new ConfigError(`${name}: must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return n;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): AppEnv {
  return {
    host: env.HOST !== undefined && env.HOST !== '' ? env.HOST : '127.0.0.1',
    port: intFrom(env, 'PORT', 8080, 0, 65535),
    pod: env.POD_NAME !== undefined && env.POD_NAME !== '' ? env.POD_NAME : hostname(),
    namespace: env.POD_NAMESPACE !== undefined && env.POD_NAMESPACE !== '' ? env.POD_NAMESPACE : 'default',
    shutdownDelayMs: intFrom(env, 'SHUTDOWN_DELAY_SECONDS', 0, 0, 300) * 1000,
  };
}

/**
 * The base URL of a service this one calls: `<NAME>_URL` from the environment (to run without a mesh), else its
 * mesh name, `http://<service>.<namespace>.svc.cluster.local` (port 80, the Service's port).
 */
export function dependencyUrl(service: string, env: AppEnv, vars: NodeJS.ProcessEnv = process.env): string {
  const name = `${service.toUpperCase()}_URL`;
  const raw = vars[name];
  if (raw === undefined || raw === '') return `http://${service}.${env.namespace}.svc.cluster.local`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: must be an http:// URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(`${name}: must be an http:// URL without query or fragment (got "${raw}")`);
  }
  return url.href.replace(/\/$/, '');
}

/**
 * One dispatcher per process: it reads HTTP_PROXY/NO_PROXY once and keeps its connections alive. `proxyTunnel:
 * false` matters: undici's proxy agents otherwise open a CONNECT tunnel even to an http:// URL, and the sidecar would
 * see only a TCP stream to `catalog...:80` (no route to pick, no HTTP traffic split, no HTTP metrics); without the
 * tunnel each request goes to the sidecar in absolute form (`GET http://catalog.default.svc.cluster.local/books`),
 * which it routes by host like any HTTP proxy.
 */
let dispatcher: EnvHttpProxyAgent | undefined;
function outbound(): EnvHttpProxyAgent {
  dispatcher ??= new EnvHttpProxyAgent({ proxyTunnel: false });
  return dispatcher;
}

export type Call<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A service this one calls, at a base URL. `get` answers the decoded JSON body, or why there is none: the
 * status (with the mesh's response flags, when the sidecar failed the request), a connection error, a timeout, or
 * a body that does not match the schema. It never throws for a failure of the other service.
 */
export class Upstream {
  constructor(
    readonly service: string,
    readonly baseUrl: string,
    private readonly timeoutMs = 3000,
  ) {}

  async get<S extends z.ZodType>(path: string, schema: S, trace: TraceHeaders): Promise<Call<z.infer<S>>> {
    try {
      const res = await request(`${this.baseUrl}${path}`, {
        dispatcher: outbound(),
        headers: { ...trace, accept: 'application/json' },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      if (res.statusCode !== 200) {
        const text = (await res.body.text()).trim().slice(0, 200);
        const flags = res.headers['x-shoal-response-flags'];
        const flagText = typeof flags === 'string' ? ` ${flags}` : '';
        return { ok: false, error: `${this.service} answered ${res.statusCode}${flagText}${text ? `: ${text}` : ''}` };
      }
      let body: unknown;
      try {
        body = await res.body.json();
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        return { ok: false, error: `${this.service} sent a body that is not JSON` };
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return {
          ok: false,
          error: `${this.service} sent an unexpected body (${issue?.path.join('.')}: ${issue?.message})`,
        };
      }
      return { ok: true, value: parsed.data };
    } catch (err) {
      const e = err as Error & { code?: string };
      return { ok: false, error: `${this.service} is unreachable (${e.code ?? e.name}: ${e.message})` };
    }
  }
}

export interface RequestContext {
  url: URL;
  trace: TraceHeaders;
}

/** Handles one request; returns false for a path it does not serve (404). */
export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<boolean> | boolean;

export interface AppOptions {
  /** The service name, as in the mesh: storefront, catalog, reviews, ratings. */
  service: string;
  version: string;
  env: AppEnv;
  handle: Handler;
}

export interface RunningApp {
  /** `http://host:port` where it listens. */
  url: string;
  /** Readiness off, stop accepting connections, finish the requests in flight. */
  shutdown(): Promise<void>;
}

export const READY_PATH = '/healthz/ready';

/** Sends a JSON body with the headers every response of this service carries. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Starts the service's HTTP server on HOST:PORT. Every response names the pod and version that answered
 * (`x-bookstore-pod`, `x-bookstore-version`). `GET /healthz/ready` answers 200 `ready` until shutdown starts, then
 * 503 `draining`; other paths go to the handler (GET and HEAD only).
 */
export async function startApp(opts: AppOptions): Promise<RunningApp> {
  let ready = true;
  const identity: [string, string][] = [
    ['x-bookstore-pod', opts.env.pod],
    ['x-bookstore-version', opts.version],
  ];
  const server = createServer((req, res) => {
    for (const [k, v] of identity) res.setHeader(k, v);
    const url = new URL(req.url ?? '/', 'http://app');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: `method ${req.method} not allowed` });
      return;
    }
    if (url.pathname === READY_PATH) {
      sendText(res, ready ? 200 : 503, 'text/plain', ready ? 'ready\n' : 'draining\n');
      return;
    }
    Promise.resolve(opts.handle(req, res, { url, trace: traceHeaders(req) })).then(
      (handled) => {
        if (!handled) sendJson(res, 404, { error: `no such path: ${url.pathname}` });
      },
      (err: unknown) => {
        console.error(`${opts.service}: ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.env.port, opts.env.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.env.port;
  const host = opts.env.host.includes(':') ? `[${opts.env.host}]` : opts.env.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    shutdown() {
      closing ??= (async () => {
        ready = false;
        if (opts.env.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, opts.env.shutdownDelayMs));
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests in flight get 5 s to finish; then their connections are cut.
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        await closed;
        clearTimeout(force);
        await dispatcher?.close();
      })();
      return closing;
    },
  };
}

/**
 * The process around a service: starts it, prints `<service> <version> (pod <pod>) listening on <url>` on stdout,
 * and on SIGTERM or SIGINT shuts down and exits 0. A bad environment exits 2 with one line naming the variable.
 */
export function main(service: string, build: (env: AppEnv) => Omit<AppOptions, 'env' | 'service'>): void {
  let app: Promise<RunningApp> | undefined;
  // The handlers go in first: whoever started this process may signal it as soon as it prints that it listens.
  const stop = (): void => {
    if (app === undefined) process.exit(0);
    app
      .then((a) => a.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(`${service}: shutdown failed: ${String(err)}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const env = readEnv();
    const opts = build(env);
    app = startApp({ ...opts, env, service });
    app.then(
      (a) => console.log(`${service} ${opts.version} (pod ${env.pod}) listening on ${a.url}`),
      (err: unknown) => {
        console.error(`${service}: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${service}: ${err.message}`);
    process.exit(2);
  }
}

/** Escapes text for HTML element content and double-quoted attributes. */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** `?books=a,b,c`: the book ids asked for, each a slug; else a message naming the parameter. */
export function bookIds(url: URL): { ok: true; ids: string[] } | { ok: false; error: string } {
  const raw = url.searchParams.get('books');
  if (raw === null || raw === '') return { ok: false, error: 'books: required (comma-separated book ids)' };
  const ids = raw.split(',');
  const bad = ids.find((id) => !/^[a-z0-9-]{1,64}$/.test(id));
  if (bad !== undefined) return { ok: false, error: `books: "${bad}" is not a book id (a-z, 0-9 and -)` };
  if (ids.length > 100) return { ok: false, error: 'books: at most 100 ids' };
  return { ok: true, ids };
}
