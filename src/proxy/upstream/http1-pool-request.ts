/**
 * One request through the HTTP/1.1 pool (http1-pool.ts): the dispatch options and handler (undici's new-style
 * handler callbacks, so the router drives this pool exactly as it drove undici's), its place in the pool's queue,
 * and its controller. The request object *is* the controller: `abort()`, `pause()` and `resume()` reach the
 * connection serving it only while it serves it, so a late call (a `drain` after the response ended) can never
 * touch the connection's next request.
 *
 * The request head is serialized once, as one latin1 string (header values travel as the bytes Node decoded them
 * from), without the hop-by-hop headers a caller may have left in. Headers go in as a flat list (or an object) and
 * come back as flat lists (`[name, value, ...]`, names lowercase: the parser's own output, no object per response).
 */
import type { Duplex, Readable } from 'node:stream';
import { isHopByHop, type HeaderList } from '../http/headers.js';
import { fieldSize, putField, putLatin1 } from '../http1/latin1.js';
import { Http1PoolError } from './http1-pool-errors.js';

export interface Http1DispatchOptions {
  path: string;
  method: string;
  /** A flat list (`[name, value, ...]`, names lowercase) or an object (names lowercase). */
  headers: HeaderList | Record<string, string | string[] | number | undefined>;
  /** The request body, streamed (Content-Length as given, else chunked); null for none. */
  body: Readable | null;
  /**
   * Trailer fields to send after a chunked body, read when the body has ended (a proxied request's trailers arrive
   * after its body). Ignored for a body sent with Content-Length.
   */
  readonly requestTrailers?: HeaderList | undefined;
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

/** undici's DispatchHandler callbacks (the new style), with headers as flat lists, as the router uses them. */
export interface Http1Handler {
  onRequestStart?(controller: Http1Controller, context: unknown): void;
  onResponseStart?(controller: Http1Controller, statusCode: number, headers: HeaderList, reason: string): void;
  /** A view of bytes the connection reads into again after the call: copy it to keep it (or to write it later). */
  onResponseData?(controller: Http1Controller, chunk: Buffer): void;
  /** `trailers`: undefined when the response had none. */
  onResponseEnd?(controller: Http1Controller, trailers: HeaderList | undefined): void;
  onResponseError?(controller: Http1Controller, error: Error): void;
  onRequestUpgrade?(controller: Http1Controller, statusCode: number, headers: HeaderList, socket: Duplex): void;
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

/**
 * Request fields never sent upstream as given: the hop-by-hop set (http/headers.ts: Connection and what it may list,
 * Keep-Alive, Transfer-Encoding, Upgrade, Expect, the proxy-* fields; Host, which the pool sets) and TE (sent only
 * as `te: trailers`).
 */
function notForwarded(name: string): boolean {
  return isHopByHop(name) || (name.length === 2 && name === 'te');
}

const UNSAFE = /[\r\n\0]/;
const UNSAFE_PATH = /[\s\0]/;

/** How the body of a serialized request is framed (filled in by serializeHead). */
export interface BodyFraming {
  chunked: boolean;
  /** The Content-Length, -1 without one. */
  bodyLength: number;
}

/**
 * The request head: request line, headers, and the ones the pool adds (Host when missing, `Transfer-Encoding:
 * chunked` for a body without Content-Length, the upgrade pair, `Connection: close` on a connection's last request),
 * as the bytes to write. Fills in the body's framing; throws Http1PoolError('INVALID_REQUEST') on CR/LF/NUL.
 * A header list is measured, then written into one buffer (latin1.ts); an object goes through a string.
 */
export function serializeHead(
  options: Http1DispatchOptions,
  defaultHost: string,
  lastOnConnection: boolean,
  framing: BodyFraming,
): Buffer {
  const { method, path, headers, body, upgrade } = options;
  const check = options.trusted !== true;
  if (UNSAFE_PATH.test(path) || (check && UNSAFE.test(method))) throw invalid('the request path or method');
  if (upgrade !== undefined && UNSAFE.test(upgrade)) throw invalid('the upgrade protocol');
  if (!Array.isArray(headers))
    return Buffer.from(serializeObjectHead(options, defaultHost, lastOnConnection, framing), 'latin1');
  let host = defaultHost;
  let length: string | undefined;
  let te = false;
  // Pass 1: what is sent, checked and measured.
  let size = method.length + path.length + 12; // `${method} ${path} HTTP/1.1\r\n`
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (notForwarded(name)) {
      if (name === 'host') host = value;
      else if (name === 'te' && value === 'trailers') te = true;
      continue;
    }
    if (check && (UNSAFE.test(name) || UNSAFE.test(value))) throw invalid(`header ${JSON.stringify(name)}`);
    if (name.length === 14 && name === 'content-length') length = value;
    size += fieldSize(name, value);
  }
  if (UNSAFE.test(host)) throw invalid('header host');
  const chunked = body !== null && length === undefined;
  const extra =
    (te ? TE_TRAILERS : '') +
    (chunked ? CHUNKED : '') +
    (upgrade !== undefined ? `connection: upgrade\r\nupgrade: ${upgrade}\r\n` : lastOnConnection ? CLOSE : '');
  size += fieldSize('host', host) + extra.length + 2;
  // Pass 2: the bytes.
  const out = Buffer.allocUnsafe(size);
  let at = putLatin1(out, 0, method);
  out[at++] = 32;
  at = putLatin1(out, at, path);
  at = putLatin1(out, at, ' HTTP/1.1\r\n');
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!notForwarded(name)) at = putField(out, at, name, headers[i + 1]!);
  }
  at = putField(out, at, 'host', host);
  at = putLatin1(out, at, extra);
  out[at++] = 13;
  out[at] = 10;
  framing.chunked = chunked;
  framing.bodyLength = length === undefined ? -1 : Number(length);
  return out;
}

const TE_TRAILERS = 'te: trailers\r\n';
const CHUNKED = 'transfer-encoding: chunked\r\n';
const CLOSE = 'connection: close\r\n';

/** serializeHead for headers given as an object (tests, benchmarks, rare callers): the head as a string. */
function serializeObjectHead(
  options: Http1DispatchOptions,
  defaultHost: string,
  lastOnConnection: boolean,
  framing: BodyFraming,
): string {
  const { method, path, body, upgrade } = options;
  const headers = options.headers as Record<string, string | string[] | number | undefined>;
  const check = options.trusted !== true;
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let host = defaultHost;
  let length: string | undefined;
  let te = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (notForwarded(name)) {
      if (name === 'host') host = String(value);
      else if (name === 'te' && value === 'trailers') te = true;
      continue;
    }
    if (check && UNSAFE.test(name)) throw invalid(`header ${JSON.stringify(name)}`);
    if (typeof value === 'object') {
      for (const v of value) {
        if (check && UNSAFE.test(v)) throw invalid(`header ${name}`);
        head += `${name}: ${v}\r\n`;
      }
      continue;
    }
    const text = String(value);
    if (check && UNSAFE.test(text)) throw invalid(`header ${JSON.stringify(name)}`);
    if (name === 'content-length') length = text;
    head += `${name}: ${text}\r\n`;
  }
  if (UNSAFE.test(host)) throw invalid('header host');
  head += `host: ${host}\r\n`;
  if (te) head += TE_TRAILERS;
  const chunked = body !== null && length === undefined;
  if (chunked) head += CHUNKED;
  if (upgrade !== undefined) head += `connection: upgrade\r\nupgrade: ${upgrade}\r\n`;
  else if (lastOnConnection) head += CLOSE;
  framing.chunked = chunked;
  framing.bodyLength = length === undefined ? -1 : Number(length);
  return `${head}\r\n`;
}

function invalid(what: string): Http1PoolError {
  return new Http1PoolError('INVALID_REQUEST', `invalid request: ${what} holds CR, LF or NUL`);
}
