/**
 * The listener manager: binds the sidecar's listeners (outbound 15001, inbound 15006) as the configuration names
 * them. Each listener is one port for HTTP/1.1 and h2c (sniffing-server.ts) with one HTTP connection manager. A
 * configuration change that keeps a listener's address swaps its route table in place (new requests use it, those
 * in flight keep theirs); a listener that moved or left is drained: it stops accepting, HTTP/1.1 responses ask for
 * `Connection: close`, HTTP/2 sessions get GOAWAY, and requests in flight finish.
 *
 * Downstream limits: request headers up to 60 KiB (431 beyond), a headers timeout against slowloris, keep-alive
 * idle timeout, a connection cap; malformed HTTP gets 400 and the connection closes (Node's parser, llhttp, is
 * strict; the handler below answers and counts). A request line or header block over the limit is answered 431, as
 * Envoy does (the request line counts toward the header limit; 414 is not used).
 *
 * An HTTP/1.1 upgrade the route does not enable (an unknown protocol, or `h2c` from a client trying its luck) is
 * ignored, as RFC 9110 7.8 allows and as Envoy does with h2c: the request is replayed to the HTTP/1.1 server without
 * its Upgrade headers and answered as a plain request.
 *
 * HTTP/2 connection errors that nghttp2 reports to Node (a bad first frame, an even stream id, a HEADERS frame over
 * the concurrent-stream limit, a flood of frames the peer does not read the answers to) end the session with a
 * GOAWAY carrying the RFC 9113 code (PROTOCOL_ERROR, ENHANCE_YOUR_CALM, ...), not Node's blanket INTERNAL_ERROR.
 */
import {
  createServer as createHttp2Server,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Session,
  constants,
  type ServerHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import { H2Request, H2Response } from '../http2/downstream.js';
import type { Server, Socket } from 'node:net';
import type { Logger } from '../../core/logger.js';
import { routeTableOf, type ListenerConfig, type ProxyConfig } from '../config/index.js';
import { HttpConnectionManager, type AccessLogEntry } from '../http/connection-manager.js';
import { RESPONSE_FLAGS_HEADER } from '../http/rescue.js';
import { Http1Server } from '../http1/server.js';
import { ListenerStats } from '../stats.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { createSniffingServer } from './sniffing-server.js';

export interface ListenerLimits {
  /** Request header bytes (request line included); default 60 KiB. */
  readonly maxHeaderBytes: number;
  /** Time to receive a request's headers; default 10 s. */
  readonly headersTimeoutMs: number;
  /** Keep-alive idle time between requests; default 60 s. */
  readonly idleTimeoutMs: number;
  /** Open downstream connections per listener; default 16384. */
  readonly maxConnections: number;
}

export const DEFAULT_LIMITS: ListenerLimits = {
  maxHeaderBytes: 60 * 1024,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxConnections: 16_384,
};

export interface ListenerManagerOptions {
  readonly clusters: ClusterManager;
  readonly logger: Logger;
  readonly limits?: Partial<ListenerLimits>;
  readonly accessLog?: (entry: AccessLogEntry) => void;
}

export class BoundListener {
  readonly hcm: HttpConnectionManager;
  readonly stats: ListenerStats;
  private readonly http1: Http1Server;
  private readonly http2: Http2Server;
  private readonly logger: Logger;
  private readonly server: Server;
  private readonly sessions = new Set<Http2Session>();
  private draining = false;
  /** Set when the drain period starts: HTTP/1.1 responses ask for `Connection: close` while still serving. */
  private closing = false;
  port = 0;

  constructor(
    readonly config: ListenerConfig,
    config0: ProxyConfig,
    options: ListenerManagerOptions,
    limits: ListenerLimits,
  ) {
    this.stats = new ListenerStats(config.name);
    this.logger = options.logger;
    this.hcm = new HttpConnectionManager(
      { listener: config, routes: routeTableOf(config0, config) },
      {
        clusters: options.clusters,
        stats: this.stats,
        logger: options.logger,
        draining: () => this.closing,
        ignoreUpgrade: (req, _socket, head) => req.connection.serveWithoutUpgrade(req, head),
        ...(options.accessLog !== undefined ? { accessLog: options.accessLog } : {}),
      },
    );
    this.http1 = new Http1Server(
      {
        onRequest: this.hcm.onRequest,
        onUpgrade: this.hcm.onUpgrade,
        onConnect: this.hcm.onConnect,
        onProtocolError: () => this.stats.cxProtocolError++,
        onHandlerError: (error) => this.handlerError(error),
      },
      {
        maxHeaderBytes: limits.maxHeaderBytes,
        headersTimeoutMs: limits.headersTimeoutMs,
        idleTimeoutMs: limits.idleTimeoutMs,
        flagsHeader: RESPONSE_FLAGS_HEADER,
      },
    );
    this.http2 = createHttp2Server({
      maxSessionMemory: 64,
      settings: { maxConcurrentStreams: 1000, maxHeaderListSize: limits.maxHeaderBytes },
    });
    // Streams on the core API, not the compat layer's 'request' (see http2/downstream.ts).
    this.http2.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
        try {
          this.hcm.onRequest(new H2Request(stream, headers, raw), new H2Response(stream));
        } catch (error) {
          // A bug while taking one request resets its stream; it must not end the process.
          this.handlerError(error);
          if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        }
      },
    );
    this.http2.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      goawayWithProtocolCodes(session);
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
    this.http2.on('sessionError', () => this.stats.cxProtocolError++);
    this.http2.setTimeout(limits.idleTimeoutMs);
    this.server = createSniffingServer({
      http1: (socket) => this.http1.accept(socket),
      http2: this.http2,
      sniffTimeoutMs: limits.headersTimeoutMs,
      maxConnections: limits.maxConnections,
    });
    this.server.on('connection', (socket: Socket) => {
      this.stats.cxTotal++;
      socket.on('error', () => undefined);
    });
  }

  /** A handler threw while taking a request: logged; the request's connection or stream was reset. */
  private handlerError(error: unknown): void {
    this.logger.error({ listener: this.config.name, err: error }, 'request handling failed; the connection was reset');
  }

  /** Binds; rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.config.address, port: this.config.port, backlog: 1024 }, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        this.port = typeof address === 'object' && address !== null ? address.port : 0;
        resolve(this.port);
      });
    });
  }

  /** Uses a new route table for new requests. */
  update(config: ProxyConfig): void {
    this.hcm.state = { listener: this.config, routes: routeTableOf(config, this.config) };
  }

  get inFlight(): number {
    return this.stats.rqActive;
  }

  /** Starts the drain period: keep serving, but ask HTTP/1.1 clients to close their connections. */
  announceDrain(): void {
    this.closing = true;
    this.http1.closing = true;
  }

  /** Stops accepting; idle keep-alive connections close; responses ask clients to close; GOAWAY to HTTP/2 peers. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.closing = true;
    this.http1.closing = true;
    this.server.close();
    this.http1.closeIdle();
    for (const session of this.sessions) session.close();
  }

  /** Drains, waits up to `timeoutMs` for requests in flight, then closes every connection. */
  async close(timeoutMs: number): Promise<void> {
    this.drain();
    const deadline = Date.now() + timeoutMs;
    while (this.stats.rqActive > 0 && Date.now() < deadline) {
      this.http1.closeIdle();
      await new Promise((r) => setTimeout(r, 50));
    }
    this.http1.closeAll();
    for (const session of this.sessions) session.destroy();
  }
}

/** RFC 9113 error codes for the nghttp2 errors Node ends a session with (NghttpError.errno). */
const GOAWAY_CODES: ReadonlyMap<number, number> = new Map([
  [-505, 0x1], // NGHTTP2_ERR_PROTO: PROTOCOL_ERROR
  [-903, 0x1], // NGHTTP2_ERR_BAD_CLIENT_MAGIC: PROTOCOL_ERROR
  [-531, 0x1], // NGHTTP2_ERR_HTTP_HEADER: PROTOCOL_ERROR
  [-532, 0x1], // NGHTTP2_ERR_HTTP_MESSAGING: PROTOCOL_ERROR
  [-524, 0x3], // NGHTTP2_ERR_FLOW_CONTROL: FLOW_CONTROL_ERROR
  [-522, 0x6], // NGHTTP2_ERR_FRAME_SIZE_ERROR: FRAME_SIZE_ERROR
  [-523, 0x9], // NGHTTP2_ERR_HEADER_COMP: COMPRESSION_ERROR
  [-904, 0xb], // NGHTTP2_ERR_FLOODED: ENHANCE_YOUR_CALM
]);

/**
 * Node ends a session on an nghttp2 error with `destroy(error)`, which sends GOAWAY INTERNAL_ERROR whatever the
 * error; this gives the GOAWAY the code the error calls for.
 */
function goawayWithProtocolCodes(session: ServerHttp2Session): void {
  const destroy = session.destroy.bind(session);
  session.destroy = (error?: Error, code?: number): void => {
    const errno = (error as { errno?: unknown } | undefined)?.errno;
    const mapped =
      code === undefined && (error as { code?: string } | undefined)?.code === 'ERR_HTTP2_ERROR'
        ? GOAWAY_CODES.get(typeof errno === 'number' ? errno : 0)
        : undefined;
    destroy(error, code ?? mapped);
  };
}

export class ListenerManager {
  private readonly bound = new Map<string, BoundListener>();
  private readonly limits: ListenerLimits;
  /** Listeners that could not be bound, with the reason (for /config_dump and logs). */
  readonly errors = new Map<string, string>();

  constructor(private readonly options: ListenerManagerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  listeners(): IterableIterator<BoundListener> {
    return this.bound.values();
  }

  get(name: string): BoundListener | undefined {
    return this.bound.get(name);
  }

  /** Binds new listeners, updates kept ones, drains removed ones. Resolves when binding is done. */
  async update(config: ProxyConfig): Promise<void> {
    const wanted = new Set<string>();
    const binds: Promise<void>[] = [];
    for (const [name, lc] of config.listeners) {
      if (lc.kind === 'grpc-api' || !lc.bindToPort || lc.address === undefined) continue;
      wanted.add(name);
      const existing = this.bound.get(name);
      if (existing !== undefined && existing.config.address === lc.address && existing.config.port === lc.port) {
        if (existing.config !== lc) {
          // Same address, new settings: rebuild the manager state but keep the socket.
          existing.hcm.state = { listener: lc, routes: routeTableOf(config, lc) };
        } else existing.update(config);
        continue;
      }
      if (existing !== undefined) {
        this.bound.delete(name);
        void existing.close(lc.drainTimeoutMs);
      }
      const listener = new BoundListener(lc, config, this.options, this.limits);
      this.bound.set(name, listener);
      binds.push(
        listener.listen().then(
          (port) => {
            this.errors.delete(name);
            this.options.logger.info({ listener: name, address: lc.address, port }, 'listener bound');
          },
          (error: Error) => {
            this.bound.delete(name);
            this.errors.set(name, error.message);
            this.options.logger.error(
              { listener: name, address: lc.address, port: lc.port, err: error.message },
              'cannot bind listener',
            );
          },
        ),
      );
    }
    for (const [name, listener] of this.bound) {
      if (!wanted.has(name)) {
        this.bound.delete(name);
        void listener.close(listener.config.drainTimeoutMs);
      }
    }
    await Promise.all(binds);
  }

  announceDrain(): void {
    for (const listener of this.bound.values()) listener.announceDrain();
  }

  drain(): void {
    for (const listener of this.bound.values()) listener.drain();
  }

  inFlight(): number {
    let n = 0;
    for (const listener of this.bound.values()) n += listener.inFlight;
    return n;
  }

  async close(timeoutMs: number): Promise<void> {
    await Promise.all([...this.bound.values()].map((l) => l.close(timeoutMs)));
    this.bound.clear();
  }
}
