/**
 * One HTTP/1.1 connection of the upstream pool (http1-pool.ts): a `node:net` socket, the project's incremental
 * parser (src/proxy/http1/parser.ts) for its responses, and at most one request at a time (no pipelining). The
 * connection holds the current request's state itself, so a request costs no closures: the socket and body
 * listeners are made once per connection.
 *
 * A request: the head goes out in one write (a body follows as it arrives: as-is with Content-Length, else chunked,
 * pausing the body while the socket's buffer is full); the response is parsed as it arrives and handed to the
 * request's handler (a pause() by the handler pauses the socket, and the parser stops at once); when it ends, the
 * connection goes back to the pool, or closes when the response or the request said so, the upstream's keep-alive
 * timeout is too short to use, bytes followed the response, the request body was still being sent, or it served
 * its maximum number of requests. A 101 answer to an upgrade request hands the socket to the handler.
 */
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Http1Parser, HttpParseError, type MessageHead, type ParserHandler } from '../http1/parser.js';
import { connectError, Http1PoolError, resetError } from './http1-pool-errors.js';
import { fieldSize, putField, putLatin1 } from '../http1/latin1.js';
import { forbiddenInTrailers } from '../http/headers.js';
import { serializeHead, type BodyFraming, type PoolRequest, type RequestCarrier } from './http1-pool-request.js';

/** What a connection needs of its pool. */
export interface ConnectionOwner {
  readonly settings: ConnectionSettings;
  /** Requests being served (the pool's `running`), kept by the connections. */
  running: number;
  /** The connection is established (it is free: onFree follows). */
  onConnect(conn: PoolConnection): void;
  /** Connected, or free again after a response that allows reuse: give it the next request or keep it idle. */
  onFree(conn: PoolConnection): void;
  /** The connection is gone (closed, failed to connect, or handed over by an upgrade). */
  onClosed(conn: PoolConnection, wasConnecting: boolean, connectFailure: Error | undefined): void;
  /** A reused connection closed before any byte of a bodyless request's response: send it again, once. */
  retry(request: PoolRequest): void;
}

export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  /** `host:port` for messages, and the Host header when a request has none. */
  readonly authority: string;
  readonly localAddress: string | undefined;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** 0: unlimited. */
  readonly maxRequestsPerConnection: number;
  readonly noDelay: boolean;
  readonly maxHeadBytes: number;
}

const enum State {
  Connecting,
  Idle,
  Busy,
  Closed,
}

const enum Body {
  None,
  Sending,
  Done,
}

/** What every non-streaming connection reads into (one read is handled, synchronously, before the next). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Close a connection this long before the upstream's announced keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1000;
const KEEP_ALIVE_TIMEOUT = /timeout\s*=\s*(\d+)/i;
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/**
 * The last chunk with a request's trailer fields (RFC 9112 7.1.2). Fields a trailer may not carry
 * (forbiddenInTrailers) and any with CR, LF or NUL are left out.
 */
function lastChunkWithTrailers(trailers: readonly string[]): Buffer {
  let size = 5;
  for (let i = 0; i < trailers.length; i += 2) {
    if (trailerAllowed(trailers[i]!, trailers[i + 1]!)) size += fieldSize(trailers[i]!, trailers[i + 1]!);
  }
  const out = Buffer.allocUnsafe(size);
  let at = putLatin1(out, 0, '0\r\n');
  for (let i = 0; i < trailers.length; i += 2) {
    if (trailerAllowed(trailers[i]!, trailers[i + 1]!)) at = putField(out, at, trailers[i]!, trailers[i + 1]!);
  }
  out[at++] = 13;
  out[at] = 10;
  return out;
}

function trailerAllowed(name: string, value: string): boolean {
  return !forbiddenInTrailers(name) && !UNSAFE.test(name) && !UNSAFE.test(value);
}

const UNSAFE = /[\r\n\0]/;

export class PoolConnection implements ParserHandler, RequestCarrier, BodyFraming {
  private state = State.Connecting;
  private readonly socket: Socket;
  private readonly parser: Http1Parser;
  private connectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleTimerMs = 0;
  /** When the connection last became idle (Date.now()). */
  private idleSince = 0;
  /** The socket's error, if any: reported when it closes. */
  private error: Error | undefined;

  /** The request being served. */
  private request: PoolRequest | undefined;
  /** Requests started on this connection, the current one included. */
  private served = 0;
  /** A byte of the current request's response arrived. */
  private received = false;
  /** The current response is a 1xx (not 101): skipped. */
  private informational = false;
  private upgradeHead: MessageHead | undefined;
  private responseEnded = false;
  private trailers: string[] | undefined;
  /** The current response allows the connection to be reused. */
  private keepAlive = true;
  /** Idle timeout for this connection: the pool's, or shorter if the upstream announced a shorter one. */
  private keepAliveMs: number;
  private lastKeepAliveHeader: string | undefined;
  /** The handler paused the response. */
  private paused = false;
  /** Inside parser.execute(). */
  private parsing = false;
  /** Input the parser did not take because the handler paused. */
  private leftover: Buffer | undefined;

  private body: Readable | undefined;
  private bodyState = Body.None;
  /** The current request body's framing (serializeHead fills these in). */
  chunked = false;
  bodyLength = -1;
  private bodySent = 0;

  constructor(
    private readonly owner: ConnectionOwner,
    /** A request this connection was opened for (an upgrade, or the stale keep-alive retry), else the pool's next. */
    public bound?: PoolRequest,
    /**
     * Read as a stream ('data' events), so that a 101 can hand the socket over: for upgrade requests. Other
     * connections read with `onread` into one buffer shared by all of them (no Readable machinery and no new
     * buffer per read): every byte kept past the read's callback is copied (see onRead).
     */
    private readonly streaming = false,
  ) {
    const s = owner.settings;
    this.keepAliveMs = s.idleTimeoutMs;
    this.parser = new Http1Parser('response', this, { maxHeadBytes: s.maxHeadBytes });
    this.socket = connect({
      host: s.host,
      port: s.port,
      noDelay: s.noDelay,
      keepAlive: true,
      keepAliveInitialDelay: 60_000,
      ...(s.localAddress !== undefined ? { localAddress: s.localAddress } : {}),
      ...(streaming ? {} : { onread: { buffer: READ_BUFFER, callback: this.onRead } }),
    });
    if (s.connectTimeoutMs > 0) this.connectTimer = setTimeout(this.onConnectTimeout, s.connectTimeoutMs);
    this.socket.once('connect', this.onSocketConnect);
    if (streaming) this.socket.on('data', this.onSocketData);
    this.socket.on('end', this.onSocketEnd);
    this.socket.on('error', this.onSocketError);
    this.socket.on('close', this.onSocketClose);
    this.socket.on('drain', this.onSocketDrain);
  }

  get connecting(): boolean {
    return this.state === State.Connecting;
  }

  /** Sends a request (the connection is connected and free). */
  start(request: PoolRequest): void {
    this.state = State.Busy;
    this.request = request;
    request.carrier = this;
    this.owner.running++;
    this.served++;
    this.received = false;
    this.informational = false;
    this.upgradeHead = undefined;
    this.responseEnded = false;
    this.trailers = undefined;
    this.keepAlive = true;
    const options = request.options;
    const max = this.owner.settings.maxRequestsPerConnection;
    let head: Buffer;
    try {
      head = serializeHead(options, this.owner.settings.authority, max > 0 && this.served >= max, this);
    } catch (error) {
      // Nothing was written: the connection stays usable.
      this.served--;
      this.detach();
      request.fail(error as Error);
      this.state = State.Idle;
      this.owner.onFree(this);
      return;
    }
    this.socket.ref();
    this.parser.setRequestMethod(options.method);
    this.parser.resume();
    this.socket.write(head);
    const body = options.body;
    if (body === null) this.bodyState = Body.Done;
    else this.sendBody(body);
  }

  /**
   * Keeps the connection idle in the pool: it does not hold the process open, and it closes after keepAliveMs idle.
   * The timer is lazy: a connection that goes idle again only notes the time, and the timer, when it fires, re-arms
   * itself for what is left (so a request costs no timer-list insertion).
   */
  idle(): void {
    this.state = State.Idle;
    this.socket.unref();
    this.idleSince = Date.now();
    const ms = this.keepAliveMs;
    if (this.idleTimer === undefined || this.idleTimerMs !== ms) this.armIdleTimer(ms, ms);
  }

  private armIdleTimer(ms: number, after: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(this.onIdleTimeout, after);
    this.idleTimer.unref();
    this.idleTimerMs = ms;
  }

  /** Closes the connection now; a request in flight fails with `error`. */
  destroy(error: Error): void {
    const request = this.detach() ?? this.bound;
    this.bound = undefined;
    this.close();
    request?.fail(error);
  }

  // --- the request's controller (RequestCarrier) ---

  abortRequest(request: PoolRequest, reason: Error): void {
    if (this.request !== request) return;
    this.detach();
    this.parser.pause();
    this.close();
    request.fail(reason);
  }

  pauseResponse(): void {
    if (this.paused || this.state !== State.Busy) return;
    this.paused = true;
    this.parser.pause();
    this.socket.pause();
  }

  resumeResponse(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.responseEnded || this.upgradeHead !== undefined) return;
    this.parser.resume();
    if (!this.parsing) {
      const rest = this.leftover;
      this.leftover = undefined;
      if (rest !== undefined) this.feed(rest);
    }
    if (!this.paused && this.state === State.Busy) this.socket.resume();
  }

  // --- the parser's callbacks (ParserHandler) ---

  onHead(head: MessageHead): void {
    const request = this.request;
    if (request === undefined) return;
    const status = head.status;
    if (status < 200 && status !== 101) {
      this.informational = true;
      return;
    }
    if (status === 101) {
      if (request.options.upgrade === undefined) {
        return this.fail(
          new Http1PoolError('UPSTREAM_PROTOCOL_ERROR', '101 Switching Protocols without an upgrade request'),
        );
      }
      this.upgradeHead = head;
      return;
    }
    // An upgrade request answered without upgrading: the connection said `upgrade`, so it is not reused.
    this.keepAlive = head.keepAlive && request.options.upgrade === undefined;
    const keepAliveHeader = head.keepAliveHeader;
    if (keepAliveHeader !== undefined && keepAliveHeader !== this.lastKeepAliveHeader) {
      this.lastKeepAliveHeader = keepAliveHeader;
      const m = KEEP_ALIVE_TIMEOUT.exec(keepAliveHeader);
      if (m !== null) {
        this.keepAliveMs = Math.min(this.owner.settings.idleTimeoutMs, Number(m[1]) * 1000 - KEEP_ALIVE_MARGIN_MS);
      }
    }
    request.handler.onResponseStart?.(request, status, head.headers, head.reason);
  }

  onBody(chunk: Buffer): void {
    const request = this.request;
    if (request !== undefined) request.handler.onResponseData?.(request, chunk);
  }

  onEnd(trailers: string[] | undefined): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    if (this.upgradeHead !== undefined) return; // the parser stops by itself: feed() hands the socket over
    this.responseEnded = true;
    this.trailers = trailers;
    this.parser.pause();
  }

  // --- socket events (made once per connection) ---

  private readonly onSocketConnect = (): void => {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.state = State.Idle;
    this.owner.onConnect(this);
    this.owner.onFree(this);
  };

  private readonly onConnectTimeout = (): void => {
    this.connectTimer = undefined;
    const ms = this.owner.settings.connectTimeoutMs;
    this.error = new Http1PoolError(
      'UND_ERR_CONNECT_TIMEOUT',
      `connect timeout: ${this.owner.settings.authority} not connected within ${ms} ms`,
    );
    this.socket.destroy();
  };

  /**
   * Bytes read into READ_BUFFER, which the next read of any connection overwrites. What outlives this call is
   * copied: a partial head or chunk line (the parser copies), input the parser did not take (leftover), bytes after
   * a 101 (not reached: upgrades stream). Body chunks are views the handler must copy to keep (Http1Handler).
   */
  private readonly onRead = (n: number, buffer: Buffer): boolean => {
    this.onSocketData(buffer.subarray(0, n));
    return true;
  };

  private readonly onSocketData = (data: Buffer): void => {
    if (this.state !== State.Busy) {
      // Bytes on an idle connection (a 408 before the upstream closes it, or garbage): it is not reused.
      if (this.state === State.Idle) this.close();
      return;
    }
    this.received = true;
    if (this.leftover !== undefined) {
      this.leftover = Buffer.concat([this.leftover, data]);
      return;
    }
    this.feed(data);
  };

  private readonly onSocketEnd = (): void => {
    if (this.state !== State.Busy) return this.close();
    if (this.upgradeHead === undefined) {
      try {
        this.parser.finish(); // ends a close-delimited body
      } catch {
        // Cut short: reported as a reset below.
      }
      if (this.responseEnded) return this.finishResponse(false);
    }
    this.failInFlight(resetError());
  };

  private readonly onSocketError = (error: Error): void => {
    this.error ??= error;
    // An idle connection leaves the pool at once (not at 'close', a turn later, when a request may have taken it).
    if (this.state === State.Idle) this.close();
  };

  private readonly onSocketClose = (): void => {
    if (this.state === State.Closed) return;
    if (this.state === State.Connecting) {
      const error = this.error;
      const failure =
        error instanceof Http1PoolError
          ? error
          : connectError(error ?? new Error('socket closed'), this.owner.settings.authority);
      return this.close(failure);
    }
    if (this.state === State.Busy) return this.failInFlight(resetError(this.error));
    this.close();
  };

  private readonly onSocketDrain = (): void => {
    if (this.bodyState === Body.Sending) this.body!.resume();
  };

  private readonly onIdleTimeout = (): void => {
    this.idleTimer = undefined;
    // Busy now: the next idle() arms the timer again.
    if (this.state !== State.Idle) return;
    const left = this.idleSince + this.idleTimerMs - Date.now();
    if (left > 0) this.armIdleTimer(this.idleTimerMs, left);
    else this.close();
  };

  // --- request body ---

  private sendBody(body: Readable): void {
    this.body = body;
    this.bodyState = Body.Sending;
    this.bodySent = 0;
    if (body.readableEnded) return this.onBodyEnd();
    if (body.destroyed || body.errored !== null) return this.onBodyClose();
    body.on('data', this.onBodyData);
    body.on('end', this.onBodyEnd);
    body.on('error', this.onBodyError);
    body.on('close', this.onBodyClose);
    body.resume();
  }

  private readonly onBodyData = (chunk: Buffer | string): void => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const n = data.length;
    if (n === 0) return;
    let ok: boolean;
    if (this.chunked) {
      const socket = this.socket;
      socket.cork();
      socket.write(n.toString(16) + CRLF, 'latin1');
      socket.write(data);
      ok = socket.write(CRLF, 'latin1');
      socket.uncork();
    } else {
      this.bodySent += n;
      if (this.bodySent > this.bodyLength) return this.failBody('longer than its Content-Length');
      ok = this.socket.write(data);
    }
    if (!ok) this.body!.pause();
  };

  private readonly onBodyEnd = (): void => {
    if (this.bodyState !== Body.Sending) return;
    if (!this.chunked && this.bodySent !== this.bodyLength) return this.failBody('shorter than its Content-Length');
    const trailers = this.chunked ? this.request?.options.requestTrailers : undefined;
    this.detachBody();
    if (!this.chunked) return;
    if (trailers === undefined || trailers.length === 0) this.socket.write(LAST_CHUNK, 'latin1');
    else this.socket.write(lastChunkWithTrailers(trailers));
  };

  private readonly onBodyError = (error: Error): void => {
    if (this.bodyState === Body.Sending) this.failBody(error.message, error);
  };

  private readonly onBodyClose = (): void => {
    if (this.bodyState === Body.Sending) this.failBody('closed before its end');
  };

  private failBody(why: string, cause?: Error): void {
    this.detachBody();
    this.fail(new Http1PoolError('REQUEST_BODY_ERROR', `request body ${why}`, cause === undefined ? {} : { cause }));
  }

  private detachBody(): void {
    const body = this.body;
    this.bodyState = Body.Done;
    if (body === undefined) return;
    this.body = undefined;
    body.off('data', this.onBodyData);
    body.off('end', this.onBodyEnd);
    body.off('error', this.onBodyError);
    body.off('close', this.onBodyClose);
  }

  // --- response ---

  private feed(data: Buffer): void {
    let consumed: number;
    this.parsing = true;
    try {
      consumed = this.parser.execute(data);
    } catch (error) {
      this.parsing = false;
      if (error instanceof HttpParseError) {
        return this.fail(
          new Http1PoolError('UPSTREAM_PROTOCOL_ERROR', `malformed upstream response: ${error.message}`, {
            cause: error,
          }),
        );
      }
      // A handler threw: the request cannot go on, and the connection is in an unknown state.
      return this.fail(error as Error);
    }
    this.parsing = false;
    if (this.state !== State.Busy) return;
    if (this.upgradeHead !== undefined && this.parser.upgraded) {
      return this.handOver(consumed < data.length ? Buffer.from(data.subarray(consumed)) : undefined);
    }
    if (this.responseEnded) return this.finishResponse(consumed < data.length);
    // A copy: `data` may be the shared read buffer.
    if (consumed < data.length) this.leftover = Buffer.from(data.subarray(consumed));
  }

  private finishResponse(bytesAfter: boolean): void {
    const request = this.detach()!;
    request.done = true;
    const trailers = this.trailers;
    this.trailers = undefined;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    const bodyUnsent = this.bodyState === Body.Sending;
    if (bodyUnsent) this.detachBody();
    const max = this.owner.settings.maxRequestsPerConnection;
    const reuse =
      this.keepAlive && !bytesAfter && !bodyUnsent && this.keepAliveMs > 0 && (max === 0 || this.served < max);
    if (reuse) {
      this.state = State.Idle;
      this.owner.onFree(this);
    } else this.close();
    request.handler.onResponseEnd?.(request, trailers);
  }

  /** 101 to an upgrade request: the socket leaves the pool and goes to the handler, with any bytes after the head. */
  private handOver(rest: Buffer | undefined): void {
    if (!this.streaming) {
      // Only streaming connections carry upgrades (the pool opens one per upgrade request).
      return this.fail(new Http1PoolError('UPSTREAM_PROTOCOL_ERROR', 'an upgrade on a pooled connection'));
    }
    const request = this.detach()!;
    request.done = true;
    const head = this.upgradeHead!;
    const socket = this.socket;
    socket.off('data', this.onSocketData);
    socket.off('end', this.onSocketEnd);
    socket.off('error', this.onSocketError);
    socket.off('close', this.onSocketClose);
    socket.off('drain', this.onSocketDrain);
    this.state = State.Closed;
    clearTimeout(this.idleTimer);
    this.owner.onClosed(this, false, undefined);
    socket.pause();
    if (rest !== undefined) socket.unshift(rest);
    if (request.handler.onRequestUpgrade === undefined) {
      socket.destroy();
      return;
    }
    request.handler.onRequestUpgrade(request, 101, head.headers, socket);
  }

  // --- failures ---

  /**
   * The connection failed under a request. A reused connection that closes before any byte of the response is the
   * keep-alive race (the upstream closed it as idle while the request was on its way): a request without a body is
   * sent once more, on a new connection, as every HTTP client does.
   */
  private failInFlight(error: Http1PoolError): void {
    const request = this.request;
    if (
      request !== undefined &&
      !this.received &&
      this.served > 1 &&
      request.options.body === null &&
      !request.retried
    ) {
      this.detach();
      this.close();
      request.retried = true;
      this.owner.retry(request);
      return;
    }
    this.fail(error);
  }

  /** Fails the request in flight (if any) and closes the connection. */
  private fail(error: Error): void {
    this.parser.pause();
    const request = this.detach();
    if (this.bodyState === Body.Sending) this.detachBody();
    this.close();
    request?.fail(error);
  }

  /** Ends the current request's tie to the connection; returns it. */
  private detach(): PoolRequest | undefined {
    const request = this.request;
    if (request === undefined) return undefined;
    this.request = undefined;
    request.carrier = undefined;
    this.owner.running--;
    this.leftover = undefined;
    return request;
  }

  private close(connectFailure?: Error): void {
    if (this.state === State.Closed) return;
    const wasConnecting = this.state === State.Connecting;
    this.state = State.Closed;
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    if (this.bodyState === Body.Sending) this.detachBody();
    this.socket.destroy();
    this.owner.onClosed(this, wasConnecting, connectFailure);
  }
}
