/** Shared by the Http1Pool integration tests: one request driven to its end, and real servers on port 0. */
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { headersObject } from '../../src/proxy/http/headers.js';
import {
  Http1Pool,
  type Http1Controller,
  type Http1DispatchOptions,
  type Http1Handler,
  type Http1PoolOptions,
} from '../../src/proxy/upstream/http1-pool.js';

export interface Outcome {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  error: (Error & { code?: string }) | undefined;
  /** Callback names in order: start, response, data, end, error, upgrade. */
  events: string[];
  upgraded: Duplex | undefined;
}

/** Extra behaviour for a request's handler: called after the outcome is recorded. */
export interface Hooks {
  onStart?(c: Http1Controller): void;
  onResponse?(c: Http1Controller, status: number): void;
  onData?(c: Http1Controller, chunk: Buffer, outcome: Outcome): void;
}

/** Dispatches one request; resolves when it ended, failed or upgraded. */
export function send(
  pool: Http1Pool,
  options: Partial<Http1DispatchOptions> = {},
  hooks: Hooks = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const outcome: Outcome = {
      status: 0,
      headers: {},
      body: Buffer.alloc(0),
      trailers: undefined,
      error: undefined,
      events: [],
      upgraded: undefined,
    };
    const handler: Http1Handler = {
      onRequestStart(c) {
        outcome.events.push('start');
        hooks.onStart?.(c);
      },
      onResponseStart(c, status, headers) {
        outcome.events.push('response');
        outcome.status = status;
        outcome.headers = headersObject(headers);
        hooks.onResponse?.(c, status);
      },
      onResponseData(c, chunk) {
        if (outcome.events[outcome.events.length - 1] !== 'data') outcome.events.push('data');
        chunks.push(Buffer.from(chunk));
        hooks.onData?.(c, chunk, outcome);
      },
      onResponseEnd(_c, trailers) {
        outcome.events.push('end');
        outcome.trailers = headersObject(trailers ?? []);
        outcome.body = Buffer.concat(chunks);
        resolve(outcome);
      },
      onResponseError(_c, error) {
        outcome.events.push('error');
        outcome.error = error;
        outcome.body = Buffer.concat(chunks);
        resolve(outcome);
      },
      onRequestUpgrade(_c, status, headers, socket) {
        outcome.events.push('upgrade');
        outcome.status = status;
        outcome.headers = headersObject(headers);
        outcome.upgraded = socket;
        resolve(outcome);
      },
    };
    pool.dispatch({ method: 'GET', path: '/', headers: {}, body: null, ...options }, handler);
  });
}

export interface TestServer<S> {
  server: S;
  port: number;
  /** Connections accepted so far. */
  connections: Socket[];
  close(): Promise<void>;
}

async function listen<S extends Server | HttpServer>(server: S): Promise<TestServer<S>> {
  const connections: Socket[] = [];
  server.on('connection', (s: Socket) => connections.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of connections) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function httpServer(listener: RequestListener): Promise<TestServer<HttpServer>> {
  return listen(createHttpServer(listener));
}

/** A raw TCP server: `onRequest` gets the socket and each request head as it arrives (text up to CRLFCRLF). */
export function rawServer(
  onRequest: (socket: Socket, head: string, index: number) => void,
): Promise<TestServer<Server>> {
  return listen(
    createNetServer((socket) => {
      let buffered = '';
      let index = 0;
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          const head = buffered.slice(0, end + 4);
          buffered = buffered.slice(end + 4);
          onRequest(socket, head, index++);
        }
      });
    }),
  );
}

/** A raw TCP server. */
export function netServer(onConnection: (socket: Socket) => void): Promise<TestServer<Server>> {
  return listen(createNetServer(onConnection));
}

export function poolFor(port: number, options: Partial<Http1PoolOptions> = {}): Http1Pool {
  return new Http1Pool({ host: '127.0.0.1', port, ...options });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `check()` holds (polling every 5 ms), or rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** Writes `data` on an upgraded socket and resolves what came back once `length` characters arrived. */
export async function echoed(socket: Duplex, data: string, length: number): Promise<string> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.resume();
  socket.write(data);
  await until(() => text.length >= length, 5000, 'the echo');
  return text;
}
