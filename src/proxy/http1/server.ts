/**
 * The sidecar's own HTTP/1.1 server side: one `Http1Connection` per downstream connection, reading requests with the
 * project's parser (parser.ts) and writing responses straight to the socket. It replaces node:http's server on the
 * hot path: no IncomingMessage/ServerResponse streams per request, a request body stream only when there is a body,
 * and a response head that leaves in the same write as its first body bytes (one writev per response).
 *
 * Requests on a connection are answered one at a time, in order: after a request's last byte the parser pauses until
 * its response has ended (pipelined requests wait, unread, in the socket). Upgrades and CONNECT hand the socket over
 * with the bytes read past the head. Malformed input gets 400 (431 for an oversized head, 501 for an unknown
 * transfer coding) with the DPE flag and the connection closes; a head that takes longer
 * than the headers timeout gets 408 (slowloris); an idle keep-alive connection closes after the idle timeout. The
 * timeouts are deadlines checked by one sweep per server each second, so a request arms no timer.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { headersObject, isFraming, type HeaderList } from '../http/headers.js';
import { fieldSize, putField, putLatin1 } from './latin1.js';
import { Http1Parser, HttpParseError, type MessageHead } from './parser.js';

const EMPTY = Buffer.alloc(0);
/** Body chunks up to this size are copied behind the head (or chunk header) into one buffer: one write, no writev. */
const COALESCE_BYTES = 16 * 1024;

export interface Http1Handlers {
  onRequest(req: Http1Request, res: Http1Response): void;
  /** An upgrade request (Connection: upgrade + Upgrade): the socket is the handler's now, `head` the bytes after. */
  onUpgrade(req: Http1Request, socket: Socket, head: Buffer): void;
  onConnect(req: Http1Request, socket: Socket, head: Buffer): void;
  /** A connection answered 400/408/431/501 and closed (for the listener's statistics). */
  onProtocolError(status: number): void;
  /**
   * A handler threw while taking a request (a bug, not bad input): the connection was reset instead of the process
   * ending; this reports it.
   */
  onHandlerError?(error: unknown): void;
}

export interface Http1ServerOptions {
  /** Start line and headers, in bytes (431 beyond). */
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** The value of the response-flags header on the server's own error answers. */
  readonly flagsHeader: string;
}

const enum Phase {
  /** Between requests (keep-alive): the idle deadline runs. */
  Idle,
  /** Reading a request head: the headers deadline runs. */
  Head,
  /** A request is being served. */
  Active,
  Closed,
}

/** The connections of one listener, and the sweep that enforces their deadlines. */
export class Http1Server {
  private readonly connections = new Set<Http1Connection>();
  private sweep: NodeJS.Timeout | undefined;
  /** Set when the listener drains: responses ask for `Connection: close`. */
  closing = false;

  constructor(
    readonly handlers: Http1Handlers,
    readonly options: Http1ServerOptions,
  ) {}

  /** Serves a connection whose first bytes were already read (they are put back on the socket by the caller). */
  accept(socket: Socket): void {
    this.track(new Http1Connection(socket, this));
  }

  track(connection: Http1Connection): void {
    this.connections.add(connection);
    if (this.sweep === undefined) {
      this.sweep = setInterval(() => this.checkDeadlines(), Math.min(1000, this.options.headersTimeoutMs));
      this.sweep.unref();
    }
  }

  forget(connection: Http1Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.sweep !== undefined) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
  }

  get size(): number {
    return this.connections.size;
  }

  /** Closes the connections that are between requests. */
  closeIdle(): void {
    for (const c of this.connections) if (c.idle) c.close();
  }

  closeAll(): void {
    for (const c of this.connections) c.destroy();
  }

  private checkDeadlines(): void {
    const now = Date.now();
    for (const c of this.connections) c.checkDeadline(now);
  }
}

/** A downstream HTTP/1.x request: what the connection manager reads, and its body as a stream when it has one. */
export class Http1Request {
  readonly httpVersionMajor = 1;
  readonly method: string;
  readonly url: string;
  readonly httpVersionMinor: number;
  /** Flat [name, value, ...] as received, names lowercased (by the parser): what the proxy's path reads. */
  readonly rawHeaders: HeaderList;
  readonly keepAlive: boolean;
  /** The body is chunked (so trailer fields may follow it, announced or not). */
  readonly chunked: boolean;
  /** The first Host value, and how many Host fields the request had. */
  readonly host: string | undefined;
  readonly hostCount: number;
  /** The request body (null when it has none: no Content-Length above 0, not chunked). */
  body: Readable | null = null;
  complete = false;
  trailers: string[] | undefined;
  private headersObject: IncomingHttpHeaders | undefined;

  constructor(
    head: MessageHead,
    readonly socket: Socket,
    readonly connection: Http1Connection,
  ) {
    this.method = head.method;
    this.url = head.target;
    this.httpVersionMinor = head.versionMinor;
    this.rawHeaders = head.headers;
    this.keepAlive = head.keepAlive;
    this.chunked = head.chunked;
    this.host = head.host;
    this.hostCount = head.hostCount;
  }

  /** The headers as Node's object, built on first use (the proxy's own path reads `rawHeaders`). */
  get headers(): IncomingHttpHeaders {
    return (this.headersObject ??= headersObject(this.rawHeaders));
  }

  /** The header list changed (an upgrade served without upgrading): the object is built again when asked for. */
  headersChanged(): void {
    this.headersObject = undefined;
  }
}

type Listener = () => void;

/** Who hears about a response's connection without registering closures (the router's exchange). */
export interface ResponseObserver {
  /** The connection closed before the response ended. */
  onDownstreamClose(): void;
  /** The socket drained after waitForDrain(). */
  onDownstreamDrain(): void;
}

/** The response to one Http1Request, written straight to the socket (the surface of node's ServerResponse in use). */
export class Http1Response {
  statusCode = 200;
  headersSent = false;
  writableFinished = false;
  shouldKeepAlive: boolean;
  private chunked = false;
  private noBody = false;
  /** The head not written yet: its size in bytes (0 once written or before writeHead), and its parts. */
  private headSize = 0;
  private statusLine = '';
  private headList: HeaderList | undefined;
  private headString: string | undefined;
  private framing = '';
  private trailers: HeaderList | OutgoingHttpHeaders | undefined;
  private closeListeners: Listener[] | undefined;
  private drainListeners: Listener[] | undefined;
  /** Hears close and drain like the listeners do, without a closure per request. */
  observer: ResponseObserver | undefined;

  constructor(
    private readonly connection: Http1Connection,
    readonly req: Http1Request,
  ) {
    this.shouldKeepAlive = req.keepAlive;
  }

  get socket(): Socket {
    return this.req.socket;
  }

  /**
   * Sets the status and headers (sent with the first body bytes). `trusted`: every name and value was already
   * checked for CR, LF and NUL where it came from (the proxy's parsers, nghttp2, the configuration's validation), so
   * the per-value check that prevents header injection is skipped. A header list is only measured here; its bytes
   * are written into the buffer of the first write (latin1.ts).
   */
  writeHead(
    status: number,
    headers?: HeaderList | OutgoingHttpHeaders | IncomingHttpHeaders | Record<string, string>,
    trusted = false,
  ): this {
    if (this.headersSent) throw new Error('response headers already sent');
    let hasLength = false;
    let size = 0;
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]!;
        const value = headers[i + 1]!;
        // The connection's framing is this server's to decide.
        if (isFraming(name)) continue;
        if (name.length === 14 && name === 'content-length') hasLength = true;
        if (!trusted) checkField(name, value);
        size += fieldSize(name, value);
      }
      this.headList = headers;
    } else {
      let head = '';
      if (headers !== undefined) {
        for (const name in headers) {
          const value = (headers as OutgoingHttpHeaders)[name];
          if (value === undefined) continue;
          if (isFraming(name)) continue;
          if (name === 'content-length') hasLength = true;
          if (typeof value === 'string') head += trusted ? `${name}: ${value}\r\n` : headerLine(name, value);
          else if (Array.isArray(value)) for (const v of value) head += headerLine(name, v);
          else head += headerLine(name, String(value));
        }
      }
      this.headString = head;
      size = head.length;
    }
    this.noBody = status < 200 || status === 204 || status === 304 || this.req.method === 'HEAD';
    if (!hasLength && !this.noBody) {
      if (this.req.httpVersionMinor >= 1) this.chunked = true;
      else this.shouldKeepAlive = false;
    }
    if (this.connection.server.closing) this.shouldKeepAlive = false;
    this.statusLine = statusLine(status);
    this.framing = framingLines(this.chunked, this.shouldKeepAlive, this.req.httpVersionMinor === 0);
    this.headSize = this.statusLine.length + size + this.framing.length;
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  /** Writes the pending head at the start of `out` (headSize bytes); returns where it ends. */
  private putHead(out: Buffer): number {
    let at = putLatin1(out, 0, this.statusLine);
    const list = this.headList;
    if (list !== undefined) {
      for (let i = 0; i < list.length; i += 2) {
        const name = list[i]!;
        if (!isFraming(name)) at = putField(out, at, name, list[i + 1]!);
      }
      this.headList = undefined;
    } else {
      at = putLatin1(out, at, this.headString!);
      this.headString = undefined;
    }
    at = putLatin1(out, at, this.framing);
    this.headSize = 0;
    return at;
  }

  /**
   * Writes body bytes; false when the socket's buffer is full. The head, when not sent yet, and a chunk's framing
   * leave in the same write as the bytes: one buffer for a chunk of up to COALESCE_BYTES, else one writev.
   * `transient`: the chunk is a view of memory its owner reuses after this call (the upstream pool's read buffer),
   * so bytes the socket may keep are copied.
   */
  write(chunk: Uint8Array | string, transient = false): boolean {
    if (this.writableFinished) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const socket = this.req.socket;
    const headSize = this.headSize;
    if (this.noBody || chunk.length === 0) {
      if (headSize > 0) {
        const out = Buffer.allocUnsafe(headSize);
        this.putHead(out);
        return socket.write(out);
      }
      return true;
    }
    if (headSize === 0 && !this.chunked) {
      return socket.write(transient && typeof chunk !== 'string' ? Buffer.from(chunk) : chunk);
    }
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const sizeLine = this.chunked ? `${bytes.length.toString(16)}\r\n` : '';
    if (bytes.length <= COALESCE_BYTES) {
      const out = Buffer.allocUnsafe(headSize + sizeLine.length + bytes.length + (this.chunked ? 2 : 0));
      let at = headSize > 0 ? this.putHead(out) : 0;
      at = putLatin1(out, at, sizeLine);
      out.set(bytes, at);
      if (this.chunked) {
        at += bytes.length;
        out[at] = 13;
        out[at + 1] = 10;
      }
      return socket.write(out);
    }
    socket.cork();
    if (headSize > 0) {
      const head = Buffer.allocUnsafe(headSize);
      this.putHead(head);
      socket.write(head);
    }
    if (sizeLine !== '') socket.write(sizeLine, 'latin1');
    let ok = socket.write(transient ? Buffer.from(bytes) : bytes);
    if (this.chunked) ok = socket.write('\r\n', 'latin1');
    socket.uncork();
    return ok;
  }

  addTrailers(trailers: HeaderList | OutgoingHttpHeaders | IncomingHttpHeaders): void {
    this.trailers = trailers;
  }

  end(chunk?: Uint8Array | string): void {
    if (this.writableFinished) return;
    if (chunk !== undefined && chunk.length > 0) this.write(chunk);
    if (!this.headersSent) this.writeHead(this.statusCode, { 'content-length': '0' });
    let tail = '';
    if (this.chunked) {
      tail = '0\r\n';
      const trailers = this.trailers;
      if (Array.isArray(trailers)) {
        for (let i = 0; i < trailers.length; i += 2) tail += headerLine(trailers[i]!, trailers[i + 1]!);
      } else if (trailers !== undefined) {
        for (const name in trailers) {
          const value = trailers[name];
          if (value === undefined) continue;
          if (Array.isArray(value)) for (const v of value) tail += headerLine(name, v);
          else tail += headerLine(name, String(value));
        }
      }
      tail += '\r\n';
    }
    const headSize = this.headSize;
    if (headSize > 0) {
      const out = Buffer.allocUnsafe(headSize + tail.length);
      putLatin1(out, this.putHead(out), tail);
      this.req.socket.write(out);
    } else if (tail !== '') this.req.socket.write(tail, 'latin1');
    this.writableFinished = true;
    this.closeListeners = undefined;
    this.drainListeners = undefined;
    this.connection.responseDone(this);
  }

  once(event: 'close' | 'drain', listener: Listener): this {
    if (event === 'close') (this.closeListeners ??= []).push(listener);
    else {
      (this.drainListeners ??= []).push(listener);
      this.connection.wantDrain(this);
    }
    return this;
  }

  off(event: 'close' | 'drain', listener: Listener): this {
    const list = event === 'close' ? this.closeListeners : this.drainListeners;
    const i = list === undefined ? -1 : list.indexOf(listener);
    if (i >= 0) list!.splice(i, 1);
    return this;
  }

  /** The observer's onDownstreamDrain() is called once, when the socket drains. */
  waitForDrain(): void {
    this.connection.wantDrain(this);
  }

  /** The socket drained: the listeners waiting for it run once, and the observer hears it. */
  emitDrain(): void {
    const list = this.drainListeners;
    this.drainListeners = undefined;
    if (list !== undefined) for (const l of list) l();
    this.observer?.onDownstreamDrain();
  }

  /** The connection closed before the response ended. */
  emitClose(): void {
    const list = this.closeListeners;
    this.closeListeners = undefined;
    if (list !== undefined) for (const l of list) l();
    const observer = this.observer;
    this.observer = undefined;
    observer?.onDownstreamClose();
  }
}

/** A value with CR, LF or NUL would split the response (header injection): refused like node's ServerResponse. */
function checkField(name: string, value: string): void {
  if (/[\r\n\0]/.test(value)) {
    throw Object.assign(new TypeError(`invalid header value for ${name}`), { code: 'ERR_INVALID_CHAR' });
  }
}

const STATUS_LINES: string[] = [];

/** `HTTP/1.1 <status> <reason>\r\n`, made once per status. */
function statusLine(status: number): string {
  return (STATUS_LINES[status] ??= `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`);
}

/** The framing fields the server adds and the head's final CRLF: one of six constants. */
function framingLines(chunked: boolean, keepAlive: boolean, http10: boolean): string {
  if (chunked) return keepAlive ? CHUNKED_END : CHUNKED_CLOSE_END;
  if (!keepAlive) return CLOSE_END;
  return http10 ? KEEP_ALIVE_END : '\r\n';
}

const CHUNKED_END = 'transfer-encoding: chunked\r\n\r\n';
const CHUNKED_CLOSE_END = 'transfer-encoding: chunked\r\nconnection: close\r\n\r\n';
const CLOSE_END = 'connection: close\r\n\r\n';
const KEEP_ALIVE_END = 'connection: keep-alive\r\n\r\n';

function headerLine(name: string, value: string): string {
  checkField(name, value);
  return `${name}: ${value}\r\n`;
}

export class Http1Connection {
  private readonly parser: Http1Parser;
  private phase = Phase.Head;
  private deadline: number;
  private req: Http1Request | undefined;
  private res: Http1Response | undefined;
  /** Bytes read while the parser waits for a response (pipelined requests). */
  private buffered: Buffer | undefined;
  private handover: ((rest: Buffer) => void) | undefined;
  private drainWaiter: Http1Response | undefined;
  /** The rest of the current request's body is read and dropped (its response ended first). */
  private discarding = false;
  /** The client half-closed its side. */
  private ended = false;
  /** Inside parser.execute(): a response ended synchronously must not end the socket under the parser. */
  private executing = false;

  constructor(
    readonly socket: Socket,
    readonly server: Http1Server,
  ) {
    this.deadline = Date.now() + server.options.headersTimeoutMs;
    this.parser = new Http1Parser('request', this, { maxHeadBytes: server.options.maxHeaderBytes });
    this.attach();
  }

  private attach(): void {
    // A client may half-close after its request and still read the answer.
    this.socket.allowHalfOpen = true;
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onSocketEnd);
    this.socket.on('close', this.onClose);
    this.socket.on('drain', this.onDrain);
  }

  get idle(): boolean {
    return this.phase === Phase.Idle;
  }

  close(): void {
    if (this.phase === Phase.Closed) return;
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  checkDeadline(now: number): void {
    if (this.phase === Phase.Active || this.phase === Phase.Closed || now < this.deadline) return;
    if (this.phase === Phase.Head && !this.parser.idle) this.answerError(408, 'Request Timeout');
    else this.socket.destroy();
  }

  // --- socket events ---

  private readonly onData = (chunk: Buffer): void => {
    if (this.buffered !== undefined || this.phase === Phase.Active) {
      if (this.req === undefined || this.req.complete) {
        // A pipelined request: it waits until the current response has ended.
        this.buffered = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
        this.socket.pause();
        return;
      }
    } else if (this.phase === Phase.Idle) {
      this.phase = Phase.Head;
      this.deadline = Date.now() + this.server.options.headersTimeoutMs;
    }
    this.feed(chunk);
  };

  private feed(data: Buffer): void {
    let consumed: number;
    this.executing = true;
    try {
      consumed = this.parser.execute(data);
    } catch (error) {
      if (error instanceof HttpParseError) return this.parseError(error);
      throw error;
    } finally {
      this.executing = false;
    }
    const handover = this.handover;
    if (handover !== undefined) {
      this.handover = undefined;
      this.detach();
      handover(consumed === data.length ? EMPTY : data.subarray(consumed));
      return;
    }
    if (consumed === data.length) return this.endIfDone();
    const rest = data.subarray(consumed);
    this.buffered = this.buffered === undefined ? rest : Buffer.concat([rest, this.buffered]);
    this.socket.pause();
  }

  /** The client half-closed: its requests already read (or buffered) are still answered, then the socket ends. */
  private readonly onSocketEnd = (): void => {
    this.ended = true;
    this.endIfDone();
  };

  private endIfDone(): void {
    if (!this.ended || this.executing || this.phase === Phase.Closed) return;
    // Requests read in full are answered first; a request cut short ends the connection now.
    const cutShort = this.req !== undefined && !this.req.complete;
    if (!cutShort && (this.res !== undefined || this.buffered !== undefined)) return;
    try {
      this.parser.finish();
    } catch {
      // Cut short in the middle of a request: nothing to answer it with.
      this.req?.body?.destroy(new Error('the client closed the connection mid-request'));
      this.socket.destroy();
      return;
    }
    this.phase = Phase.Closed;
    this.socket.end();
  }

  private readonly onClose = (): void => {
    this.phase = Phase.Closed;
    this.server.forget(this);
    const req = this.req;
    if (req !== undefined && !req.complete) req.body?.destroy(new Error('the client closed the connection'));
    const res = this.res;
    this.res = undefined;
    if (res !== undefined && !res.writableFinished) res.emitClose();
  };

  private readonly onDrain = (): void => {
    const res = this.drainWaiter;
    this.drainWaiter = undefined;
    res?.emitDrain();
  };

  wantDrain(res: Http1Response): void {
    this.drainWaiter = res;
  }

  // --- parser events (ParserHandler) ---

  onHead(head: MessageHead): void {
    const req = new Http1Request(head, this.socket, this);
    this.req = req;
    this.phase = Phase.Active;
    this.discarding = false;
    if (head.method === 'CONNECT') {
      req.complete = true;
      this.parser.pause();
      this.handover = (rest) => this.server.handlers.onConnect(req, this.socket, rest);
      return;
    }
    if (head.upgrade !== undefined && !head.chunked && head.contentLength <= 0) {
      this.parser.pause();
      this.handover = (rest) => this.server.handlers.onUpgrade(req, this.socket, rest);
      return;
    }
    const hasBody = head.chunked || head.contentLength > 0;
    if (hasBody) req.body = new Readable({ read: () => this.socket.resume() });
    else req.complete = true;
    const res = new Http1Response(this, req);
    this.res = res;
    const expect = head.expect;
    if (expect !== undefined && head.versionMinor === 1) {
      // RFC 9110 10.1.1: the proxy answers `Expect: 100-continue` itself, as Envoy does (the header is hop-by-hop
      // here), and refuses an expectation it cannot meet with 417.
      if (expect.toLowerCase() !== '100-continue') {
        res.writeHead(417, { 'content-length': '0' });
        return res.end();
      }
      if (hasBody) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    this.dispatch(req, res);
  }

  /** Hands a request to the handler; a throw resets this connection only. */
  private dispatch(req: Http1Request, res: Http1Response): void {
    try {
      this.server.handlers.onRequest(req, res);
    } catch (error) {
      this.server.handlers.onHandlerError?.(error);
      this.socket.destroy();
    }
  }

  onBody(chunk: Buffer): void {
    if (this.discarding) return;
    const body = this.req?.body;
    if (body !== null && body !== undefined && !body.push(chunk)) this.socket.pause();
  }

  onEnd(trailers: string[] | undefined): void {
    const req = this.req;
    if (req === undefined) return;
    req.complete = true;
    req.trailers = trailers;
    if (this.handover !== undefined) return;
    if (!this.discarding) req.body?.push(null);
    this.discarding = false;
    // The next request is read once this one's response has ended.
    if (this.res !== undefined) this.parser.pause();
    else this.becomeIdle();
  }

  // --- responses ---

  responseDone(res: Http1Response): void {
    if (this.res !== res) return;
    this.res = undefined;
    if (!res.shouldKeepAlive) {
      this.phase = Phase.Closed;
      this.socket.end();
      return;
    }
    const req = this.req!;
    if (!req.complete) {
      // Answered before its body was read: read the rest and drop it, then go on with the next request.
      this.discarding = true;
      req.body?.destroy();
      this.socket.resume();
      return;
    }
    this.becomeIdle();
  }

  private becomeIdle(): void {
    this.req = undefined;
    this.phase = Phase.Idle;
    const now = Date.now();
    this.deadline = now + this.server.options.idleTimeoutMs;
    this.parser.resume();
    const buffered = this.buffered;
    if (buffered !== undefined) {
      this.buffered = undefined;
      this.phase = Phase.Head;
      this.deadline = now + this.server.options.headersTimeoutMs;
      this.feed(buffered);
    }
    if ((this.phase as Phase) !== Phase.Closed && this.buffered === undefined && this.handover === undefined) {
      this.socket.resume();
    }
    this.endIfDone();
  }

  /** Gives the socket up (upgrade, CONNECT): this connection no longer reads or tracks it. */
  private detach(): void {
    this.phase = Phase.Closed;
    this.server.forget(this);
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onSocketEnd);
    this.socket.off('close', this.onClose);
    this.socket.off('drain', this.onDrain);
    this.socket.allowHalfOpen = false;
  }

  /**
   * An upgrade the routes do not enable is served as a plain request (RFC 9110 7.8 lets a server ignore Upgrade):
   * the request loses its Upgrade headers and the connection carries on.
   */
  serveWithoutUpgrade(req: Http1Request, rest: Buffer): void {
    // Take the socket back; the bytes read past the head are the next request's.
    this.phase = Phase.Active;
    this.attach();
    this.server.track(this);
    if (rest.length > 0) this.buffered = rest;
    const raw = req.rawHeaders;
    let j = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      let value = raw[i + 1]!;
      if (name === 'upgrade' || name === 'http2-settings') continue;
      if (name === 'connection') {
        value = value
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== '' && !/^(upgrade|http2-settings)$/i.test(t))
          .join(', ');
        if (value === '') continue;
      }
      raw[j++] = name;
      raw[j++] = value;
    }
    raw.length = j;
    req.headersChanged();
    const res = new Http1Response(this, req);
    this.res = res;
    this.dispatch(req, res);
  }

  private parseError(error: HttpParseError): void {
    const res = this.res;
    if (res !== undefined && this.req !== undefined && !this.req.complete) {
      // The body of a request being forwarded is malformed: answer it unless its response has started.
      this.req.body?.destroy(error);
      if (res.headersSent) return void this.socket.destroy();
      this.res = undefined;
      res.emitClose();
    }
    this.answerError(error.status, STATUS_CODES[error.status] ?? 'Bad Request');
  }

  private answerError(status: number, text: string): void {
    this.server.handlers.onProtocolError(status);
    const body = `${text.toLowerCase()}\n`;
    this.phase = Phase.Closed;
    this.socket.end(
      `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\n` +
        `content-length: ${body.length}\r\n${this.server.options.flagsHeader}: DPE\r\n\r\n${body}`,
    );
  }
}
