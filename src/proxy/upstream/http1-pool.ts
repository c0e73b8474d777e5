/**
 * The sidecar's HTTP/1.1 connection pool for one upstream endpoint, written for the proxy's hot path (issue 4):
 * raw `node:net` sockets and the project's own parser, driven through the same `dispatch(options, handler)` surface
 * as undici's Pool (new-style handler callbacks; the request is its own controller), without undici's per-request
 * machinery.
 *
 * - One request per connection at a time (no pipelining); up to `connections` connections, requests beyond them wait
 *   in a FIFO queue. A free connection takes the queue's oldest request; with an empty queue it goes idle.
 * - The most recently used idle connection is reused first (LIFO), so a steady load keeps few connections warm and the
 *   rest time out. Idle connections close after `idleTimeoutMs` (at most 60 s), or a second before the upstream's
 *   own `Keep-Alive: timeout=N`, whichever is sooner; a response with `Connection: close` (or an HTTP/1.0 one without
 *   keep-alive, or one delimited by the connection's end) closes it; so does `maxRequestsPerConnection` (the last
 *   request says `Connection: close`).
 * - The keep-alive race: an upstream may close an idle connection just as a request is sent on it. When a reused
 *   connection closes before any byte of the response and the request has no body, the request is sent once more on
 *   a new connection (transparently: the handler sees only the second attempt). A request with a body is never
 *   replayed (it is streamed, not kept).
 * - Errors (http1-pool-errors.ts): connect failures keep their errno code, a connect timeout is UND_ERR_CONNECT_TIMEOUT, a
 *   connection lost before the response ended is UPSTREAM_RESET, a malformed response UPSTREAM_PROTOCOL_ERROR, an
 *   abort reports the abort's reason. A connect failure fails the oldest queued request, and every queued one that no
 *   other connection (connecting or busy) is left to serve.
 */
import { isIPv6 } from 'node:net';
import { PoolConnection, type ConnectionOwner, type ConnectionSettings } from './http1-pool-connection.js';
import { Http1PoolError } from './http1-pool-errors.js';
import { PoolRequest, type Http1DispatchOptions, type Http1Handler, type RequestQueue } from './http1-pool-request.js';

export type { Http1Controller, Http1DispatchOptions, Http1Handler } from './http1-pool-request.js';
export { Http1PoolError } from './http1-pool-errors.js';

export interface Http1PoolOptions {
  readonly host: string;
  readonly port: number;
  /** Most connections at a time; 0 or absent: no limit. */
  readonly connections?: number | undefined;
  /** Default 10 s; 0: no connect timeout. */
  readonly connectTimeoutMs?: number | undefined;
  /** Idle keep-alive connections close after this long; default and cap 60 s. */
  readonly idleTimeoutMs?: number | undefined;
  /** Requests per connection before it closes; 0 or absent: no limit. */
  readonly maxRequestsPerConnection?: number | undefined;
  /** The source address of connections (the pod's address). */
  readonly localAddress?: string | undefined;
  /** TCP_NODELAY; default true. */
  readonly noDelay?: boolean | undefined;
  /** A response's status line and header section (and its trailer section) up to this many bytes; default 96 KiB. */
  readonly maxHeadBytes?: number | undefined;
}

export interface Http1PoolStats {
  /** Open connections (connecting ones not included). */
  readonly connected: number;
  /** Requests being served. */
  readonly running: number;
  /** Requests waiting for a connection. */
  readonly pending: number;
}

const MAX_IDLE_MS = 60_000;
const NO_CONTEXT = Object.freeze({});

export class Http1Pool implements ConnectionOwner, RequestQueue {
  readonly settings: ConnectionSettings;
  running = 0;
  private readonly max: number;
  private readonly connections = new Set<PoolConnection>();
  /** Idle connections, the most recently used last. */
  private readonly idle: PoolConnection[] = [];
  private connectingCount = 0;
  /** FIFO: `queue[queueHead]` is the oldest; entries that were aborted while queued are skipped. */
  private queue: (PoolRequest | undefined)[] = [];
  private queueHead = 0;
  private pending = 0;
  private closing = false;
  private destroyed = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  /**
   * Upgrade requests waiting for room under the connection limit: each needs a streaming connection of its own
   * (pooled connections read into a shared buffer and cannot hand their socket over). FIFO; cancelled ones skipped.
   */
  private readonly upgrades: PoolRequest[] = [];
  private upgradesWaiting = 0;
  private readonly upgradeQueue: RequestQueue = {
    cancel: (request) => {
      request.queue = undefined;
      this.upgradesWaiting--;
      this.checkClosed();
    },
  };

  constructor(options: Http1PoolOptions) {
    const { host, port } = options;
    const connections = options.connections ?? 0;
    this.max = connections > 0 ? connections : Infinity;
    const idle = options.idleTimeoutMs ?? MAX_IDLE_MS;
    this.settings = {
      host,
      port,
      authority: `${isIPv6(host) ? `[${host}]` : host}:${port}`,
      localAddress: options.localAddress,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: idle > 0 ? Math.min(idle, MAX_IDLE_MS) : MAX_IDLE_MS,
      maxRequestsPerConnection: options.maxRequestsPerConnection ?? 0,
      noDelay: options.noDelay ?? true,
      maxHeadBytes: options.maxHeadBytes ?? 96 * 1024,
    };
  }

  get stats(): Http1PoolStats {
    return {
      connected: this.connections.size - this.connectingCount,
      running: this.running,
      pending: this.pending + this.upgradesWaiting,
    };
  }

  /**
   * Sends a request: on the most recently used idle connection, else on a new one (up to the limit), else when a
   * connection is free. `handler.onRequestStart` is called at once with the request's controller.
   */
  dispatch(options: Http1DispatchOptions, handler: Http1Handler): void {
    const request = new PoolRequest(options, handler);
    handler.onRequestStart?.(request, NO_CONTEXT);
    if (request.done) return;
    if (this.closing) {
      process.nextTick(failClosed, request, this.destroyed);
      return;
    }
    // An upgrade leaves the pool with its socket after a 101: it gets a streaming connection of its own.
    if (options.upgrade !== undefined) return this.openUpgrade(request);
    const conn = this.idle.pop();
    if (conn !== undefined) return conn.start(request);
    this.enqueue(request);
    this.grow();
  }

  /** Stops taking requests; queued ones still run, requests in flight finish, then every connection closes. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.closing = true;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    for (const conn of this.idle.splice(0)) conn.destroy(closedError(false));
    this.checkClosed();
    return this.closed;
  }

  /** Closes every connection now; requests in flight and queued fail with POOL_CLOSED. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    void this.close();
    const error = closedError(true);
    for (let r = this.dequeue(); r !== undefined; r = this.dequeue()) r.fail(error);
    for (const r of this.upgrades.splice(0)) {
      if (r.queue !== this.upgradeQueue) continue;
      r.queue = undefined;
      this.upgradesWaiting--;
      r.fail(error);
    }
    for (const conn of [...this.connections]) conn.destroy(error);
    this.checkClosed();
  }

  // --- ConnectionOwner ---

  onConnect(): void {
    this.connectingCount--;
  }

  onFree(conn: PoolConnection): void {
    const bound = conn.bound;
    if (bound !== undefined) {
      conn.bound = undefined;
      if (!bound.done) return conn.start(bound);
    }
    const next = this.dequeue();
    if (next !== undefined) return conn.start(next);
    // An upgrade waits for room under the limit: this free connection makes way for its streaming connection.
    if (this.closing || this.upgradesWaiting > 0) return conn.destroy(closedError(false));
    this.idle.push(conn);
    conn.idle();
  }

  onClosed(conn: PoolConnection, wasConnecting: boolean, connectFailure: Error | undefined): void {
    this.connections.delete(conn);
    if (wasConnecting) this.connectingCount--;
    else {
      const i = this.idle.lastIndexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
    }
    if (connectFailure !== undefined) {
      const bound = conn.bound;
      if (bound !== undefined) bound.fail(connectFailure);
      else {
        // The requests no other connection is left to serve fail with this one (at least the oldest).
        const n = Math.max(1, this.pending - this.connectingCount - this.running);
        for (let i = 0; i < n; i++) {
          const r = this.dequeue();
          if (r === undefined) break;
          r.fail(connectFailure);
        }
      }
    }
    if (!this.destroyed) {
      this.startUpgrades();
      this.grow();
    }
    this.checkClosed();
  }

  retry(request: PoolRequest): void {
    if (this.destroyed) return request.fail(closedError(true));
    if (request.options.upgrade !== undefined) return this.openUpgrade(request);
    if (this.connections.size < this.max) {
      this.open(request);
      return;
    }
    // No room for a new connection: first in line for the next free one.
    if (this.queueHead > 0) this.queue[--this.queueHead] = request;
    else this.queue.unshift(request);
    request.queue = this;
    this.pending++;
  }

  // --- RequestQueue ---

  cancel(request: PoolRequest): void {
    request.queue = undefined;
    this.pending--;
    this.checkClosed();
  }

  // --- internals ---

  private enqueue(request: PoolRequest): void {
    request.queue = this;
    this.queue.push(request);
    this.pending++;
  }

  private dequeue(): PoolRequest | undefined {
    const queue = this.queue;
    while (this.queueHead < queue.length) {
      const request = queue[this.queueHead]!;
      queue[this.queueHead++] = undefined;
      if (request.queue === this) {
        request.queue = undefined;
        this.pending--;
        if (this.queueHead === queue.length) this.resetQueue();
        return request;
      }
    }
    this.resetQueue();
    return undefined;
  }

  private resetQueue(): void {
    // A length store is a runtime call: skipped when the queue is already empty (every dequeue ends here).
    if (this.queue.length !== 0) this.queue.length = 0;
    this.queueHead = 0;
  }

  /** Opens connections for queued requests that no connection being opened will take, up to the limit. */
  private grow(): void {
    while (this.pending > this.connectingCount && this.connections.size < this.max) this.open(undefined);
  }

  /**
   * An upgrade request's own streaming connection, within the limit: at the limit, the least recently used idle
   * connection is closed to make room, or the request waits until a connection closes or frees.
   */
  private openUpgrade(request: PoolRequest): void {
    if (this.connections.size >= this.max) {
      const spare = this.idle.shift();
      if (spare === undefined) {
        request.queue = this.upgradeQueue;
        this.upgrades.push(request);
        this.upgradesWaiting++;
        return;
      }
      // With a connection idle, no request is queued: closing it opens no other connection in its place.
      spare.destroy(closedError(false));
    }
    this.open(request);
  }

  /** Opens connections for waiting upgrades while there is room. */
  private startUpgrades(): void {
    while (this.upgradesWaiting > 0 && this.connections.size < this.max) {
      const request = this.upgrades.shift();
      if (request === undefined) break;
      if (request.queue !== this.upgradeQueue) continue;
      request.queue = undefined;
      this.upgradesWaiting--;
      this.open(request);
    }
  }

  private open(bound: PoolRequest | undefined): void {
    const conn = new PoolConnection(this, bound, bound?.options.upgrade !== undefined);
    this.connections.add(conn);
    this.connectingCount++;
  }

  private checkClosed(): void {
    if (this.closing && this.connections.size === 0 && this.pending === 0 && this.upgradesWaiting === 0) {
      this.resolveClosed?.();
      this.resolveClosed = undefined;
    }
  }
}

function closedError(destroyed: boolean): Http1PoolError {
  return new Http1PoolError('POOL_CLOSED', destroyed ? 'upstream pool destroyed' : 'upstream pool closed');
}

function failClosed(request: PoolRequest, destroyed: boolean): void {
  request.fail(closedError(destroyed));
}
