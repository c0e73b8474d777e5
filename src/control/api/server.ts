/**
 * The control plane's HTTP API on 15014: Kubernetes REST conventions over the store, plus /healthz, /readyz,
 * /version and API discovery. Writes need a bearer token. stop() drains: the listener closes, watches end,
 * in-flight requests finish (or are cut at the deadline).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ShoalError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { VERSION } from '../../core/version.js';
import { parseLabelSelector } from '../../store/label-selector.js';
import type { Watch } from '../../store/store.js';
import type { TokenChecker } from '../auth.js';
import { DEFAULT_BODY_LIMIT, parseBody, readBody } from './body.js';
import { discovery } from './discovery.js';
import { parseApiPath } from './paths.js';
import type { ResourceService } from './resources.js';
import { statusFromError } from './status.js';

export interface ApiServerOptions {
  resources: ResourceService;
  tokens: TokenChecker;
  logger: Logger;
  bodyLimit?: number;
  /** Extra GET handlers (e.g. /debug/syncz, /metrics) contributed by other parts of the control plane. */
  extraRoutes?: Map<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>>;
  /** Answered by /readyz; the API is ready once this returns true. */
  ready?: () => boolean;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiServer {
  private readonly server: Server;
  private readonly watches = new Set<{ watch?: Watch; res: ServerResponse }>();
  private draining = false;

  constructor(private readonly opts: ApiServerOptions) {
    this.server = createServer({ requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 5_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting, ends watches, waits for in-flight requests up to `deadlineMs`, then cuts what remains. */
  async stop(deadlineMs = 5_000): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const w of this.watches) {
      w.watch?.close();
      w.res.end();
    }
    this.watches.clear();
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), deadlineMs);
    await closed;
    clearTimeout(timer);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      const extra = this.opts.extraRoutes?.get(url.pathname);
      if (extra) return extra(req, res);
      if (url.pathname === '/healthz') return text(res, 200, 'ok');
      if (url.pathname === '/readyz') {
        const ready = !this.draining && (this.opts.ready?.() ?? true);
        return text(res, ready ? 200 : 503, ready ? 'ok' : 'not ready');
      }
      if (url.pathname === '/version') return json(res, 200, { shoalVersion: VERSION, gitVersion: `v${VERSION}` });
    }
    const path = parseApiPath(url.pathname);
    if (path.type === 'none')
      throw new ShoalError('NotFound', `the server could not find the requested resource: ${url.pathname}`);
    if (path.type === 'unknown-kind') {
      throw new ShoalError(
        'NotFound',
        `the server could not find the requested resource: ${path.plural} in ${path.group || 'core'}/${path.version}`,
      );
    }
    if (path.type === 'discovery') {
      if (method !== 'GET') throw new ShoalError('MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
      const doc = discovery(path);
      if (!doc) throw new ShoalError('NotFound', `the server could not find the requested resource: ${url.pathname}`);
      return json(res, 200, doc);
    }
    if (WRITE_METHODS.has(method)) this.authenticate(req);

    const { def, version, name } = path;
    const namespace = path.namespace;
    const svc = this.opts.resources;
    const selectorText = url.searchParams.get('labelSelector');
    const labelSelector = selectorText ? parseLabelSelector(selectorText) : undefined;

    if (name === undefined) {
      if (method === 'GET') {
        if (isTrue(url.searchParams.get('watch'))) {
          return this.watch(req, res, path.def, version, {
            namespace,
            labelSelector,
            resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
            timeoutSeconds: Number(url.searchParams.get('timeoutSeconds') ?? 0),
          });
        }
        return json(res, 200, await svc.list(def, version, namespace, labelSelector));
      }
      if (method === 'POST') {
        const body = parseBody(
          await readBody(req, this.opts.bodyLimit ?? DEFAULT_BODY_LIMIT),
          req.headers['content-type'],
        );
        return json(res, 201, await svc.create(def, version, namespace, body));
      }
      throw new ShoalError('MethodNotAllowed', `${method} is not allowed on a collection`);
    }

    if (namespace === undefined)
      throw new ShoalError(
        'NotFound',
        `${def.plural} are namespaced: use /namespaces/{namespace}/${def.plural}/${name}`,
      );
    switch (method) {
      case 'GET':
        return json(res, 200, await svc.get(def, version, namespace, name));
      case 'PUT': {
        const body = parseBody(
          await readBody(req, this.opts.bodyLimit ?? DEFAULT_BODY_LIMIT),
          req.headers['content-type'],
        );
        return json(res, 200, await svc.replace(def, version, namespace, name, body));
      }
      case 'PATCH': {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (type !== 'application/merge-patch+json') {
          throw new ShoalError(
            'UnsupportedMediaType',
            `PATCH supports application/merge-patch+json only, not "${type}"`,
          );
        }
        const body = parseBody(await readBody(req, this.opts.bodyLimit ?? DEFAULT_BODY_LIMIT), 'application/json');
        return json(res, 200, await svc.patch(def, version, namespace, name, body));
      }
      case 'DELETE': {
        const rv = await deletePrecondition(req, this.opts.bodyLimit ?? DEFAULT_BODY_LIMIT);
        return json(res, 200, await svc.delete(def, version, namespace, name, rv));
      }
      default:
        throw new ShoalError('MethodNotAllowed', `${method} is not allowed on ${def.plural}`);
    }
  }

  private authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new ShoalError('Unauthorized', 'writes need "Authorization: Bearer <token>"');
    if (!this.opts.tokens.check(m[1]!)) throw new ShoalError('Unauthorized', 'the bearer token is not valid');
  }

  private async watch(
    req: IncomingMessage,
    res: ServerResponse,
    def: Parameters<ResourceService['watch']>[0],
    version: string,
    options: {
      namespace?: string;
      labelSelector?: ReturnType<typeof parseLabelSelector>;
      resourceVersion?: string;
      timeoutSeconds: number;
    },
  ): Promise<void> {
    if (this.draining) throw new ShoalError('ServiceUnavailable', 'the server is shutting down');
    const entry: { watch?: Watch; res: ServerResponse } = { res };
    let started = false;
    const end = (): void => {
      entry.watch?.close();
      this.watches.delete(entry);
      if (!res.writableEnded) res.end();
    };
    const { timeoutSeconds, ...watchOptions } = options;
    // Events may arrive synchronously while the store replays history: buffer the head until the status is sent.
    entry.watch = await this.opts.resources.watch(
      def,
      version,
      watchOptions,
      (event) => {
        if (!started) {
          res.writeHead(200, {
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
            'cache-control': 'no-cache',
          });
          started = true;
        }
        res.write(JSON.stringify(event) + '\n');
      },
      (err) => {
        this.opts.logger.warn({ err: errorMessage(err) }, 'watch ended by the store');
        end();
      },
    );
    this.watches.add(entry);
    if (!started) {
      res.writeHead(200, {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        'cache-control': 'no-cache',
      });
      res.flushHeaders();
      started = true;
    }
    req.on('close', end);
    res.on('close', end);
    if (timeoutSeconds > 0) setTimeout(end, timeoutSeconds * 1000).unref();
  }

  private fail(res: ServerResponse, err: unknown): void {
    const status = statusFromError(err);
    if (status.code >= 500)
      this.opts.logger.error({ err: errorMessage(err), stack: (err as Error)?.stack }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    json(res, status.code, status);
  }
}

async function deletePrecondition(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const body = await readBody(req, limit);
  if (body.length === 0) return undefined;
  const opts = parseBody(body, req.headers['content-type']) as { preconditions?: { resourceVersion?: unknown } };
  const rv = opts?.preconditions?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}

export function json(res: ServerResponse, code: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
