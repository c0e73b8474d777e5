/**
 * One listening port for HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as gRPC clients use it): each new
 * connection's first bytes are inspected; the HTTP/2 connection preface sends it to the HTTP/2 server, anything
 * else to the HTTP/1.1 server. The bytes read are put back before the chosen server sees the socket, so nothing is
 * lost or copied. A connection that sends nothing within `sniffTimeoutMs` is closed (slowloris at the door).
 *
 * The HTTP/1.1 server never listens itself, and Node only starts tracking its connections (headersTimeout,
 * requestTimeout, closeIdleConnections, closeAllConnections) on its 'listening' event: the event is forwarded from
 * the port's server, or none of those would ever act.
 */
import type { Http2Server } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface SniffingServerOptions {
  /** Takes an HTTP/1 connection (its first bytes are back on the socket, which is paused). */
  http1: (socket: Socket) => void;
  http2: Http2Server;
  /** Close connections that send no byte within this time (default 10 s). */
  sniffTimeoutMs?: number;
  /** Refuse connections beyond this many open ones (default unlimited). */
  maxConnections?: number;
}

export type Protocol = 'http1' | 'http2';

/** Which protocol the bytes seen so far announce; undefined while they are a prefix of the preface. */
export function sniff(head: Buffer): Protocol | undefined {
  const n = Math.min(head.length, PREFACE.length);
  if (head.compare(PREFACE, 0, n, 0, n) !== 0) return 'http1';
  return head.length >= PREFACE.length ? 'http2' : undefined;
}

export function createSniffingServer(opts: SniffingServerOptions): Server {
  const timeout = opts.sniffTimeoutMs ?? 10_000;
  const server = createServer({ noDelay: true, pauseOnConnect: false }, (socket) => route(socket, opts, timeout));
  if (opts.maxConnections !== undefined) server.maxConnections = opts.maxConnections;
  return server;
}

function route(socket: Socket, opts: SniffingServerOptions, timeoutMs: number): void {
  let head: Buffer | undefined;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onData = (chunk: Buffer): void => {
    head = head === undefined ? chunk : Buffer.concat([head, chunk]);
    const protocol = sniff(head);
    if (protocol === undefined) return;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.pause();
    socket.unshift(head);
    if (protocol === 'http2') {
      // The HTTP/2 session reads what is buffered on the socket, then consumes the handle itself: do not resume.
      opts.http2.emit('connection', socket);
    } else {
      opts.http1(socket);
      socket.resume();
    }
  };
  const onError = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.once('close', () => clearTimeout(timer));
}
