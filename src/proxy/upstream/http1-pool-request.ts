/**
 * One request through the HTTP/1.1 pool (http1-pool.ts): the dispatch options and handler (undici's new-style
 * handler callbacks, so the router drives this pool exactly as it drove undici's), its place in the pool's queue,
 * and its controller. The request object *is* the controller: `abort()`, `pause()` and `resume()` reach the
 * connection serving it only while it serves it, so a late call (a `drain` after the response ended) can never
 * touch the connection's next request.
 *
 * The request head is serialized once, as one latin1 string (header values travel as the bytes Node decoded them
 * from), without the hop-by-hop headers a caller may have left in.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { Http1PoolError } from './http1-pool-errors.js';

export interface Http1DispatchOptions {
  path: string;
  method: string;
  headers: Record<string, string | string[] | number | undefined>;
  /** The request body, streamed (Content-Length as given, else chunked); null for none. */
  body: Readable | null;
  /** Ask for a protocol upgrade (`Connection: upgrade`, `Upgrade: <value>`); a 101 hands the socket over. */
  upgrade?: string | undefined;
  /**
   * The method and every header name and value were already checked for CR, LF and NUL where they came from (the
   * proxy's parsers, nghttp2, the configuration's validation): the per-header injection check is skipped. The path
   * and the Host are checked either way (routes rewrite them).
   */
  trusted?: boolean | undefined;
}

export interface Http1Controller {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
}

/** undici's DispatchHandler callbacks (the new style), as the router uses them. */
export interface Http1Handler {
  onRequestStart?(controller: Http1Controller, context: unknown): void;
  onResponseStart?(controller: Http1Controller, statusCode: number, headers: IncomingHttpHeaders, reason: string): void;
  onResponseData?(controller: Http1Controller, chunk: Buffer): void;
  onResponseEnd?(controller: Http1Controller, trailers: IncomingHttpHeaders): void;
  onResponseError?(controller: Http1Controller, error: Error): void;
  onRequestUpgrade?(
    controller: Http1Controller,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void;
}

/** What a request needs of the connection serving it. */
export interface RequestCarrier {
  abortRequest(request: PoolRequest, reason: Error): void;
  pauseResponse(): void;
  resumeResponse(): void;
}

/** What a queued request needs of the pool. */
export interface RequestQueue {
  cancel(request: PoolRequest): void;
}

export class PoolRequest implements Http1Controller {
  /** The connection serving the request; undefined while queued and once it is over. */
  carrier: RequestCarrier | undefined;
  /** Set while the request waits in the pool's queue. */
  queue: RequestQueue | undefined;
  aborted = false;
  /** Over: completed, failed or aborted. No callback follows. */
  done = false;
  /** Already retried once on a new connection after a stale keep-alive connection closed under it. */
  retried = false;

  constructor(
    readonly options: Http1DispatchOptions,
    readonly handler: Http1Handler,
  ) {
    // The body may fail before a connection takes the request (and after the request is over): its error must
    // always have a listener. While the request waits in the queue, the error fails it; later the connection's
    // own listeners handle it.
    options.body?.on('error', (error: Error) => {
      if (this.done || this.carrier !== undefined) return;
      this.queue?.cancel(this);
      this.fail(new Http1PoolError('REQUEST_BODY_ERROR', `request body ${error.message}`, { cause: error }));
    });
  }

  abort(reason: Error): void {
    if (this.done) return;
    this.aborted = true;
    if (this.carrier !== undefined) this.carrier.abortRequest(this, reason);
    else {
      this.queue?.cancel(this);
      this.fail(reason);
    }
  }

  pause(): void {
    this.carrier?.pauseResponse();
  }

  resume(): void {
    this.carrier?.resumeResponse();
  }

  /** Reports a failure to the handler, once. */
  fail(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.carrier = undefined;
    this.queue = undefined;
    this.handler.onResponseError?.(this, error);
  }
}

/** Request headers never sent upstream as given (RFC 9110 7.6.1); `te` only as `trailers`. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
]);
const UNSAFE = /[\r\n\0]/;
const UNSAFE_PATH = /[\s\0]/;

/**
 * The request head: request line, headers, and the ones the pool adds (Host when missing, `Transfer-Encoding:
 * chunked` for a body without Content-Length, the upgrade pair, `Connection: close` on a connection's last request).
 * Returns the head and whether the body goes chunked; throws Http1PoolError('INVALID_REQUEST') on CR/LF/NUL.
 */
export function serializeHead(
  options: Http1DispatchOptions,
  defaultHost: string,
  lastOnConnection: boolean,
): { head: string; chunked: boolean } {
  const { method, path, headers, body, upgrade } = options;
  const check = options.trusted !== true;
  if (UNSAFE_PATH.test(path) || (check && UNSAFE.test(method))) throw invalid('the request path or method');
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let host = defaultHost;
  let hasLength = false;
  let te = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name)) {
      if (name === 'host') host = String(value);
      else if (name === 'te' && value === 'trailers') te = true;
      continue;
    }
    if (typeof value === 'string') {
      if (check && (UNSAFE.test(name) || UNSAFE.test(value))) throw invalid(`header ${JSON.stringify(name)}`);
      head += `${name}: ${value}\r\n`;
    } else if (typeof value === 'number') {
      if (check && UNSAFE.test(name)) throw invalid(`header ${JSON.stringify(name)}`);
      head += `${name}: ${value}\r\n`;
    } else {
      if (check && UNSAFE.test(name)) throw invalid(`header ${JSON.stringify(name)}`);
      for (const v of value) {
        if (check && UNSAFE.test(v)) throw invalid(`header ${name}`);
        head += `${name}: ${v}\r\n`;
      }
    }
    if (name === 'content-length') hasLength = true;
  }
  if (UNSAFE.test(host)) throw invalid('header host');
  head += `host: ${host}\r\n`;
  if (te) head += 'te: trailers\r\n';
  const chunked = body !== null && !hasLength;
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  if (upgrade !== undefined) {
    if (UNSAFE.test(upgrade)) throw invalid('the upgrade protocol');
    head += `connection: upgrade\r\nupgrade: ${upgrade}\r\n`;
  } else if (lastOnConnection) head += 'connection: close\r\n';
  return { head: `${head}\r\n`, chunked };
}

function invalid(what: string): Http1PoolError {
  return new Http1PoolError('INVALID_REQUEST', `invalid request: ${what} holds CR, LF or NUL`);
}

/** Response (or trailer) fields, flat as the parser gives them (names lowercase), as Node's IncomingHttpHeaders. */
export function headersObject(flat: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    const existing = out[name];
    if (existing === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (typeof existing === 'string') out[name] = `${existing}, ${value}`;
    else existing.push(value);
  }
  return out;
}
