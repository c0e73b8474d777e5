/**
 * The sidecar end to end beyond plain HTTP/1.1, with real processes: client -> client sidecar (outbound 15001) ->
 * server sidecar (inbound 15006) -> server app. Cleartext HTTP/2 (prior knowledge), gRPC unary and bidirectional
 * streaming with grpc-js (status, metadata and trailers pass through), a WebSocket upgrade, 100 MB streamed each way
 * with the sidecars' memory staying flat, chunked bodies and HTTP/1.1 response trailers, an app that drops the
 * connection mid-body (the client sees a reset, never a hang), and an app that is not listening (503 UF).
 */
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server as GrpcServer,
  ServerCredentials,
  status as GrpcStatus,
  type Client as GrpcClient,
  type ClientUnaryCall,
  type ClientDuplexStream,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  type ServiceError,
} from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttp1Server, request, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  connect as http2Connect,
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Agent, WebSocket } from 'undici';
import { startControl, runCli, type RunningControl } from '../helpers/processes.js';
import { podIp, send, startSidecar, type SidecarProcess } from '../helpers/sidecars.js';
import { waitUntil } from '../helpers/grpc-xds.js';

const SERVICES = `
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports:
    - { name: http, port: 80 }
    - { name: http2, port: 81 }
---
apiVersion: v1
kind: Service
metadata: { name: greeter }
spec:
  selector: { app: greeter }
  ports: [{ name: grpc, port: 50051 }]
---
apiVersion: v1
kind: Service
metadata: { name: dead }
spec:
  selector: { app: dead }
  ports:
    - { name: http, port: 80 }
    - { name: grpc, port: 50051 }
`;

const WEB = 'web.default.svc.cluster.local';
const GREETER = 'greeter.default.svc.cluster.local:50051';
const DEAD = 'dead.default.svc.cluster.local';

/** 64 KiB of a fixed pattern, sent CHUNKS times: 100 MiB. */
const PATTERN = Buffer.alloc(64 * 1024);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % 251;
const CHUNKS = 1600;
const BIG = PATTERN.length * CHUNKS;
const BIG_SHA256 = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < CHUNKS; i++) h.update(PATTERN);
  return h.digest('hex');
})();

/** CHUNKS copies of PATTERN; `progress.bytes` counts what the consumer has pulled so far. */
function patternStream(progress: { bytes: number } = { bytes: 0 }): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent++ < CHUNKS) {
        progress.bytes += PATTERN.length;
        this.push(PATTERN);
      } else this.push(null);
    },
  });
}

/** Bytes the web app has handed to its /download responses. */
const produced = { bytes: 0 };
/** How long `/upload?hold` leaves the request body unread, and the client a /download response (ms). */
const HOLD_MS = 1500;

// ---------------------------------------------------------------------------------------------------------------
// The web app: HTTP/1.1 and h2c (prior knowledge) on one port, one handler for both, plus WebSocket upgrades.

type AnyReq = IncomingMessage | Http2ServerRequest;
type AnyRes = ServerResponse | Http2ServerResponse;

function webHandler(req: AnyReq, res: AnyRes): void {
  const url = req.url ?? '/';
  const hash = createHash('sha256');
  let bytes = 0;
  if (url === '/download') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG) });
    patternStream(produced).pipe(res as NodeJS.WritableStream);
    return;
  }
  if (url === '/odd-trailers') {
    // Trailer fields a trailer may not carry, beside a normal one.
    res.writeHead(200, { 'content-type': 'text/plain' });
    (res as ServerResponse).write('body');
    res.addTrailers({ 'x-ok': '1', 'content-length': '4', 'keep-alive': 'timeout=5' });
    res.end();
    return;
  }
  if (url === '/echo-chunked') {
    // Echoes the request body as a chunked response, with a trailer carrying its digest.
    res.writeHead(200, { 'content-type': 'application/octet-stream', trailer: 'x-body-sha256' });
    req.on('data', (c: Buffer) => {
      hash.update(c);
      (res as ServerResponse).write(c);
    });
    req.on('end', () => {
      // The request's trailers (forwarded by both sidecars) come back as a response trailer.
      res.addTrailers({
        'x-body-sha256': hash.digest('hex'),
        'x-request-trailers': JSON.stringify(req.trailers),
      });
      res.end();
    });
    return;
  }
  if (url === '/truncate') {
    // Promises a megabyte, sends 64 KiB, then drops the connection.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1024 * 1024) });
    (res as ServerResponse).write(PATTERN);
    setTimeout(() => req.socket.destroy(), 50);
    return;
  }
  const read = (): void => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
  };
  // /upload?hold: leave the body unread for a while (the request stream stays paused until then).
  if (url === '/upload?hold') setTimeout(read, HOLD_MS);
  else read();
  req.on('end', () => {
    const body = JSON.stringify({
      httpVersion: req.httpVersion,
      url,
      authority: req.headers[':authority'] ?? req.headers.host,
      bytes,
      sha256: hash.digest('hex'),
      headers: req.headers,
      trailers: req.trailers,
    });
    if (req.httpVersionMajor === 2) {
      res.writeHead(200, { 'content-type': 'application/json', trailer: 'x-app-trailer' });
      res.addTrailers({ 'x-app-trailer': 'h2' });
      res.end(body);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    }
  });
}

/** Answers a WebSocket handshake and echoes text frames back as `echo:<text>` (RFC 6455, by hand). */
function webSocketUpgrade(req: IncomingMessage, socket: Duplex): void {
  const key = req.headers['sec-websocket-key'] ?? '';
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n' +
      `sec-websocket-accept: ${accept}\r\n\r\n`,
  );
  let buffered = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (buffered.length < 2) return;
      const opcode = buffered[0]! & 0x0f;
      let len = buffered[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffered.length < 4) return;
        len = buffered.readUInt16BE(2);
        offset = 4;
      }
      const masked = (buffered[1]! & 0x80) !== 0;
      const mask = masked ? buffered.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (buffered.length < offset + len) return;
      const payload = Buffer.from(buffered.subarray(offset, offset + len));
      if (mask !== undefined) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      buffered = buffered.subarray(offset + len);
      if (opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
        return;
      }
      if (opcode === 0x1) {
        const reply = Buffer.from(`echo:${payload.toString()}`);
        assert.ok(reply.length < 126);
        socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
      }
    }
  });
}

async function startWebApp(host: string): Promise<{ port: number; close(): Promise<void> }> {
  const http1 = createHttp1Server(webHandler);
  http1.on('upgrade', webSocketUpgrade);
  const http2 = createHttp2Server(webHandler);
  const preface = 'PRI * HTTP/2.0';
  const server: NetServer = createNetServer((socket) => {
    socket.once('readable', () => {
      const head = socket.read(preface.length) as Buffer | null;
      if (head === null) {
        socket.once('readable', () => socket.destroy());
        return;
      }
      socket.unshift(head);
      if (head.toString('latin1') === preface) http2.emit('connection', socket);
      else http1.emit('connection', socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        http1.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The gRPC app (grpc-js, Buffer messages).

const identity = (b: Buffer): Buffer => b;
const ECHO: ServiceDefinition = {
  Unary: {
    path: '/shoal.test.Protocols/Unary',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  Bidi: {
    path: '/shoal.test.Protocols/Bidi',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

interface EchoClient extends GrpcClient {
  Unary(
    message: Buffer,
    metadata: Metadata,
    options: { deadline?: number },
    callback: (error: ServiceError | null, reply?: Buffer) => void,
  ): ClientUnaryCall;
  Bidi(metadata: Metadata): ClientDuplexStream<Buffer, Buffer>;
}

/** Called when a Bidi call is cancelled at the app (the client's cancellation crossed both sidecars). */
let onBidiCancelled: () => void = () => undefined;

async function startGrpcApp(host: string): Promise<{ server: GrpcServer; port: number }> {
  const server = new GrpcServer();
  server.addService(ECHO, {
    Unary: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const text = call.request.toString();
      // 'fail-fast...' fails before any metadata: a trailers-only response (one HEADERS frame with END_STREAM).
      if (!text.startsWith('fail-fast')) {
        const initial = new Metadata();
        initial.set('x-initial', 'hello');
        call.sendMetadata(initial);
      }
      if (text.startsWith('fail')) {
        const trailing = new Metadata();
        trailing.set('x-why', 'asked-to-fail');
        callback({ code: GrpcStatus.NOT_FOUND, details: `no such thing: ${text}`, metadata: trailing });
        return;
      }
      const trailing = new Metadata();
      trailing.set('x-trailer', 'bye');
      trailing.set('x-seen-authority', String(call.getPath()));
      callback(null, Buffer.from(`hello ${text}`), trailing);
    },
    Bidi: (call: ServerDuplexStream<Buffer, Buffer>) => {
      call.on('cancelled', () => onBidiCancelled());
      call.on('data', (m: Buffer) => call.write(Buffer.from(`re:${m.toString()}`)));
      call.on('end', () => {
        const trailing = new Metadata();
        trailing.set('x-stream-trailer', 'done');
        call.end(trailing);
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
  });
  return { server, port };
}

// ---------------------------------------------------------------------------------------------------------------
// Clients.

/** Resident set size of a process in bytes (VmRSS). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** Samples the RSS of some processes every 20 ms while `work` runs; resolves its result and the growth of each. */
async function measureRss<T>(pids: number[], work: () => Promise<T>): Promise<{ result: T; growth: number[] }> {
  const base = pids.map(rss);
  const peak = [...base];
  const sample = (): void => {
    pids.forEach((pid, i) => (peak[i] = Math.max(peak[i]!, rss(pid))));
  };
  const timer = setInterval(sample, 20);
  try {
    const result = await work();
    sample();
    return { result, growth: peak.map((p, i) => p - base[i]!) };
  } finally {
    clearInterval(timer);
  }
}

const MB = 1024 * 1024;

describe('sidecar protocols: h2c, gRPC, WebSocket, big streams, trailers, resets (real processes)', () => {
  let control: RunningControl;
  let web: Awaited<ReturnType<typeof startWebApp>>;
  let grpcApp: Awaited<ReturnType<typeof startGrpcApp>>;
  let client: SidecarProcess;
  const servers: SidecarProcess[] = [];
  let webSidecar: SidecarProcess;
  const grpcClients: GrpcClient[] = [];
  const EchoClient = makeGenericClientConstructor(ECHO, 'Protocols') as unknown as new (
    address: string,
    creds: ReturnType<typeof credentials.createInsecure>,
    options: Record<string, string | number>,
  ) => EchoClient;

  function echoClient(authority = GREETER): EchoClient {
    const c = new EchoClient(`${client.podIp}:15001`, credentials.createInsecure(), {
      'grpc.default_authority': authority,
      'grpc.enable_http_proxy': 0,
      'grpc.enable_retries': 0,
    });
    grpcClients.push(c);
    return c;
  }

  function unary(
    c: EchoClient,
    text: string,
  ): Promise<{ error: ServiceError | null; reply?: Buffer; initial?: Metadata; trailing?: Metadata }> {
    return new Promise((resolve) => {
      let initial: Metadata | undefined;
      let trailing: Metadata | undefined;
      const call = c.Unary(Buffer.from(text), new Metadata(), { deadline: Date.now() + 5000 }, (error, reply) => {
        // grpc-js reports 'status' after the callback on success; wait a tick for it.
        setImmediate(() => resolve({ error, reply, initial, trailing: trailing ?? error?.metadata }));
      });
      call.on('metadata', (m: Metadata) => (initial = m));
      call.on('status', (s: { metadata: Metadata }) => (trailing = s.metadata));
    });
  }

  before(async () => {
    control = await startControl();
    const applied = await runCli(['apply', '-f', '-'], control.env, SERVICES);
    assert.equal(applied.code, 0, applied.stderr);

    const webIp = podIp();
    web = await startWebApp(webIp);
    webSidecar = startSidecar({
      xds: control.xds,
      workload: 'web-1',
      appPort: web.port,
      podIp: webIp,
      labels: { app: 'web' },
      args: ['--readiness-probe', `{"tcpSocket":{"port":${web.port}},"periodSeconds":1}`],
    });
    const grpcIp = podIp();
    grpcApp = await startGrpcApp(grpcIp);
    const grpcSidecar = startSidecar({
      xds: control.xds,
      workload: 'greeter-1',
      appPort: grpcApp.port,
      podIp: grpcIp,
      labels: { app: 'greeter' },
      args: ['--readiness-probe', `{"tcpSocket":{"port":${grpcApp.port}},"periodSeconds":1}`],
    });
    // An app port where nothing listens: a port just released on the pod's address.
    const deadIp = podIp();
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, deadIp, resolve));
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const deadSidecar = startSidecar({
      xds: control.xds,
      workload: 'dead-1',
      appPort: deadPort,
      podIp: deadIp,
      labels: { app: 'dead' },
      // Always ready, so its endpoint is healthy while its app is down. (`--readiness-probe none` would be the
      // natural flag, but commander turns its null into '' and the entry then waits for a report forever.)
      args: ['--readiness-probe', '{"exec":{"command":["true"]},"periodSeconds":1}'],
    });
    client = startSidecar({
      xds: control.xds,
      workload: 'client-1',
      appPort: 9,
      labels: { app: 'client' },
      args: ['--readiness-probe', 'none'],
    });
    servers.push(webSidecar, grpcSidecar, deadSidecar);
    await Promise.all([client.ready, ...servers.map((s) => s.ready)]);
    const attempt = async (f: () => Promise<boolean>): Promise<boolean> => {
      try {
        return await f();
      } catch {
        return false;
      }
    };
    await Promise.all([
      waitUntil(
        () => attempt(async () => (await send(client.outbound, { headers: { host: WEB } })).status === 200),
        15_000,
        'a route to web:80',
      ),
      waitUntil(
        () => attempt(async () => (await send(client.outbound, { headers: { host: `${WEB}:81` } })).status === 200),
        15_000,
        'a route to web:81',
      ),
      waitUntil(
        () =>
          attempt(async () => {
            const r = await send(client.outbound, { headers: { host: DEAD } });
            return String(r.headers['x-shoal-response-flags']).startsWith('UF');
          }),
        15_000,
        'an endpoint for dead',
      ),
      waitUntil(
        () => attempt(async () => (await unary(echoClient(), 'ping')).error === null),
        15_000,
        'a route to greeter',
      ),
    ]);
  });

  after(async () => {
    for (const c of grpcClients) c.close();
    await Promise.all([client?.kill(), ...servers.map((s) => s.kill())]);
    await web?.close();
    grpcApp?.server.forceShutdown();
    await control?.kill();
  });

  it('carries cleartext HTTP/2 (prior knowledge) by :authority, HTTP/2 to the app on an http2 port', async () => {
    const session = http2Connect(`http://${client.podIp}:15001`);
    session.on('error', () => undefined);
    try {
      const call = (authority: string, body: string) =>
        new Promise<{ status: number; json: Record<string, unknown>; trailers: Record<string, unknown> }>(
          (resolve, reject) => {
            const stream = session.request({
              ':method': 'POST',
              ':path': '/h2?x=1',
              ':authority': authority,
              'content-type': 'text/plain',
            });
            let status = 0;
            let trailers: Record<string, unknown> = {};
            const chunks: Buffer[] = [];
            stream.on('response', (h) => (status = Number(h[':status'])));
            stream.on('trailers', (t) => (trailers = t));
            stream.on('data', (c: Buffer) => chunks.push(c));
            stream.on('end', () =>
              resolve({
                status,
                json: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
                trailers,
              }),
            );
            stream.on('error', reject);
            stream.end(body);
          },
        );
      const h2 = await call(`${WEB}:81`, 'over h2');
      assert.equal(h2.status, 200);
      assert.equal(h2.json.httpVersion, '2.0', 'the app answered over HTTP/2');
      assert.equal(h2.json.url, '/h2?x=1');
      assert.equal(h2.json.authority, `${WEB}:81`);
      assert.equal(h2.json.bytes, 7);
      assert.equal(h2.trailers['x-app-trailer'], 'h2', 'HTTP/2 response trailers pass through');
      // An h2 client to an HTTP/1.1 port: the sidecars translate.
      const h1 = await call(WEB, 'to h1');
      assert.equal(h1.status, 200);
      assert.equal(h1.json.httpVersion, '1.1');
      assert.equal(h1.json.bytes, 5);
    } finally {
      session.close();
    }
  });

  it('carries gRPC unary calls: reply, metadata, trailers, and error statuses (after headers and trailers-only)', async () => {
    const c = echoClient();
    const ok = await unary(c, 'world');
    assert.equal(ok.error, null);
    assert.equal(ok.reply?.toString(), 'hello world');
    assert.deepEqual(ok.initial?.get('x-initial'), ['hello']);
    assert.deepEqual(ok.trailing?.get('x-trailer'), ['bye']);
    const failed = await unary(c, 'fail-please');
    assert.ok(failed.error !== null);
    assert.equal(failed.error.code, GrpcStatus.NOT_FOUND);
    assert.equal(failed.error.details, 'no such thing: fail-please');
    assert.deepEqual(failed.error.metadata.get('x-why'), ['asked-to-fail']);
    const fast = await unary(c, 'fail-fast');
    assert.equal(fast.error?.code, GrpcStatus.NOT_FOUND, fast.error?.details);
    assert.equal(fast.error.details, 'no such thing: fail-fast');
    assert.deepEqual(fast.error.metadata.get('x-why'), ['asked-to-fail']);
  });

  it('carries a gRPC bidirectional stream message by message, with its trailers', async () => {
    const c = echoClient();
    const call = c.Bidi(new Metadata());
    const received: string[] = [];
    const finished = new Promise<{ code: number; metadata: Metadata }>((resolve, reject) => {
      call.on('status', resolve);
      call.on('error', reject);
    });
    // Interleaved: each message is answered before the next is sent (no buffering of the request stream).
    for (const m of ['one', 'two', 'three']) {
      const next = new Promise<string>((resolve) => call.once('data', (d: Buffer) => resolve(d.toString())));
      call.write(Buffer.from(m));
      received.push(await next);
    }
    call.end();
    const status = await finished;
    assert.deepEqual(received, ['re:one', 're:two', 're:three']);
    assert.equal(status.code, GrpcStatus.OK);
    assert.deepEqual(status.metadata.get('x-stream-trailer'), ['done']);

    // A client's cancellation reaches the app as a cancellation.
    const cancelledAtApp = new Promise<void>((resolve) => (onBidiCancelled = resolve));
    const doomed = c.Bidi(new Metadata());
    doomed.on('error', () => undefined);
    const first = new Promise<string>((resolve) => doomed.once('data', (d: Buffer) => resolve(d.toString())));
    doomed.write(Buffer.from('soon cancelled'));
    assert.equal(await first, 're:soon cancelled');
    doomed.cancel();
    await Promise.race([
      cancelledAtApp,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the app never saw the cancellation')), 5000)),
    ]);
  });

  it('carries a WebSocket upgrade and frames both ways', async () => {
    // The WebSocket client names the service in its URL (Host header); its connections go to the client sidecar.
    const dispatcher = new Agent({
      connect: (_opts, callback) => {
        const socket = netConnect({ host: client.podIp, port: 15001 });
        socket.once('connect', () => callback(null, socket));
        socket.once('error', (e) => callback(e, null));
      },
    });
    try {
      const ws = new WebSocket(`ws://${WEB}/chat`, { dispatcher });
      const messages: string[] = [];
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => ws.send('hi'));
        ws.addEventListener('message', (e) => {
          messages.push(String(e.data));
          if (messages.length === 1) ws.send('again');
          else ws.close(1000);
        });
        ws.addEventListener('close', () => resolve());
        ws.addEventListener('error', () => reject(new Error('websocket error')));
      });
      assert.deepEqual(messages, ['echo:hi', 'echo:again']);
    } finally {
      await dispatcher.close();
    }
  });

  it('streams a 100 MB upload and a 100 MB download with backpressure and flat sidecar memory', async (t) => {
    const pids = [client.proc.pid!, webSidecar.proc.pid!];
    // Warm both paths once so connection pools exist before the baseline.
    await send(client.outbound, { method: 'POST', headers: { host: WEB }, body: PATTERN });
    await send(client.outbound, { path: '/n', headers: { host: WEB } });
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

    // Upload: the app leaves the body unread for HOLD_MS; the client can push only what the three TCP connections'
    // kernel buffers and the sidecars' stream buffers hold (12-29 MB measured on loopback), then nothing more
    // until the app reads.
    const pulled = { bytes: 0 };
    let pulledWhileHeld = 0;
    const up = await measureRss(pids, async () => {
      const reply = send(client.outbound, {
        method: 'POST',
        path: '/upload?hold',
        headers: { host: WEB, 'content-length': String(BIG) },
        body: patternStream(pulled),
      });
      await sleep(HOLD_MS - 300);
      pulledWhileHeld = pulled.bytes;
      return reply;
    });
    assert.equal(up.result.status, 200);
    const seen = JSON.parse(up.result.body.toString()) as { bytes: number; sha256: string };
    assert.equal(seen.bytes, BIG);
    assert.equal(seen.sha256, BIG_SHA256);

    // Download: the client leaves the response unread for HOLD_MS; the app can hand over only as much.
    produced.bytes = 0;
    let producedWhileHeld = 0;
    const down = await measureRss(
      pids,
      () =>
        new Promise<{ status: number; bytes: number; sha256: string }>((resolve, reject) => {
          const req = request(
            { host: client.podIp, port: 15001, path: '/download', headers: { host: WEB }, agent: false },
            (res) => {
              const h = createHash('sha256');
              let bytes = 0;
              setTimeout(() => {
                producedWhileHeld = produced.bytes;
                res.on('data', (c: Buffer) => {
                  bytes += c.length;
                  h.update(c);
                });
              }, HOLD_MS);
              res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: h.digest('hex') }));
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end();
        }),
    );
    assert.equal(down.result.status, 200);
    assert.equal(down.result.bytes, BIG);
    assert.equal(down.result.sha256, BIG_SHA256);

    const mb = (n: number): string => (n / MB).toFixed(1);
    assert.ok(pulledWhileHeld < 48 * MB, `the mesh took ${mb(pulledWhileHeld)} MB of an upload nobody read`);
    assert.ok(producedWhileHeld < 48 * MB, `the mesh took ${mb(producedWhileHeld)} MB of a download nobody read`);
    t.diagnostic(
      `held while unread: upload ${mb(pulledWhileHeld)} MB, download ${mb(producedWhileHeld)} MB; RSS growth ` +
        `(client / server sidecar): upload ${up.growth.map(mb).join(' / ')} MB, download ${down.growth.map(mb).join(' / ')} MB`,
    );
    // Each 64 KiB socket read is a new off-heap buffer that V8 frees only at its next GC, which it triggers after
    // about 64 MB of such external allocations; so a streaming sidecar's RSS saw-tooths by up to ~60 MB whatever
    // the body size (measured: the same with 400 MB). A sidecar holding a 100 MB body would grow by at least 100 MB.
    for (const [what, growth] of [
      ['upload', up.growth],
      ['download', down.growth],
    ] as const) {
      assert.ok(
        growth.every((g) => g < 80 * MB),
        `${what}: sidecar RSS grew by ${growth.map(mb).join(' / ')} MB (client / server)`,
      );
    }
  });

  it('forwards HTTP/2 request trailers, announced or not, to an HTTP/2 and an HTTP/1.1 app', async () => {
    const session = http2Connect(`http://${client.podIp}:15001`);
    session.on('error', () => undefined);
    try {
      // trailers: sent after the body, with or without a Trailer field announcing them, or none at all.
      const call = (authority: string, trailers: 'announced' | 'unannounced' | 'none') =>
        new Promise<{ status: number; json: { trailers: Record<string, string>; bytes: number } }>(
          (resolve, reject) => {
            const stream = session.request(
              {
                ':method': 'POST',
                ':path': '/h2',
                ':authority': authority,
                'content-type': 'text/plain',
                ...(trailers === 'announced' ? { trailer: 'x-client-trailer' } : {}),
              },
              { waitForTrailers: trailers !== 'none' },
            );
            stream.on('wantTrailers', () => stream.sendTrailers({ 'x-client-trailer': 'v' }));
            let status = 0;
            const chunks: Buffer[] = [];
            stream.on('response', (h) => (status = Number(h[':status'])));
            stream.on('data', (c: Buffer) => chunks.push(c));
            stream.on('end', () => resolve({ status, json: JSON.parse(Buffer.concat(chunks).toString()) as never }));
            stream.on('error', reject);
            stream.end('with trailers');
          },
        );
      // Trailers need not be announced (RFC 9110 6.5): with or without a Trailer field they reach both apps.
      for (const trailers of ['announced', 'unannounced'] as const) {
        for (const authority of [`${WEB}:81`, WEB]) {
          const r = await call(authority, trailers);
          assert.equal(r.status, 200, `${authority}, ${trailers}`);
          assert.equal(r.json.bytes, 13, `${authority}, ${trailers}`);
          assert.equal(r.json.trailers['x-client-trailer'], 'v', `the app at ${authority} got the ${trailers} trailer`);
        }
      }
      // A body that ends without trailers, on a stream that waited for them, still ends the request.
      const plain = await call(`${WEB}:81`, 'none');
      assert.equal(plain.status, 200);
      assert.equal(plain.json.bytes, 13);
      assert.deepEqual(plain.json.trailers, {});
    } finally {
      session.close();
    }
  });

  it('drops response trailer fields a trailer may not carry, for HTTP/2 and HTTP/1.1 clients alike', async () => {
    const session = http2Connect(`http://${client.podIp}:15001`);
    session.on('error', () => undefined);
    try {
      const h2 = await new Promise<{ status: number; trailers: Record<string, unknown> }>((resolve, reject) => {
        const stream = session.request({ ':path': '/odd-trailers', ':authority': WEB });
        let status = 0;
        let trailers: Record<string, unknown> = {};
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('trailers', (t) => (trailers = t));
        stream.resume();
        stream.on('end', () => resolve({ status, trailers }));
        stream.on('error', reject);
      });
      assert.equal(h2.status, 200);
      assert.equal(h2.trailers['x-ok'], '1');
      assert.equal(h2.trailers['content-length'], undefined);
      assert.equal(h2.trailers['keep-alive'], undefined);
    } finally {
      session.close();
    }
    const h1 = await send(client.outbound, { path: '/odd-trailers', headers: { host: WEB } });
    assert.equal(h1.text, 'body');
    assert.deepEqual(h1.trailers, { 'x-ok': '1' });
  });

  it('streams chunked request and response bodies and delivers HTTP/1.1 response trailers', async () => {
    const parts = ['first chunk,', 'second chunk,', 'third and last'];
    const r = await send(client.outbound, {
      method: 'POST',
      path: '/echo-chunked',
      headers: { host: WEB, 'transfer-encoding': 'chunked' },
      body: Readable.from(parts.map((p) => Buffer.from(p))),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.body.toString(), parts.join(''));
    assert.equal(r.trailers['x-body-sha256'], createHash('sha256').update(parts.join('')).digest('hex'));
  });

  it('forwards HTTP/1.1 request trailers of a chunked body, without fields a trailer may not carry', async () => {
    const reply = await new Promise<{ status: number; trailers: Record<string, string | undefined> }>(
      (resolve, reject) => {
        const req = request(
          {
            host: client.podIp,
            port: 15001,
            method: 'POST',
            path: '/echo-chunked',
            headers: { host: WEB, 'transfer-encoding': 'chunked', trailer: 'x-client-sum' },
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, trailers: res.trailers }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.write('one,');
        req.write('two');
        req.addTrailers({ 'X-Client-Sum': 'abc', 'content-length': '7', host: 'elsewhere' });
        req.end();
      },
    );
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.trailers['x-request-trailers'] ?? '{}'), { 'x-client-sum': 'abc' });
  });

  it('forwards HTTP/1.1 request trailers, announced or not, to an HTTP/2 app', async () => {
    const post = (announced: boolean) =>
      new Promise<{ status: number; json: { trailers: Record<string, string>; bytes: number } }>((resolve, reject) => {
        const req = request(
          {
            host: client.podIp,
            port: 15001,
            method: 'POST',
            path: '/h2',
            headers: {
              host: `${WEB}:81`,
              'transfer-encoding': 'chunked',
              ...(announced ? { trailer: 'x-client-sum' } : {}),
            },
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as never }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.write('one,');
        req.write('two');
        req.addTrailers({ 'X-Client-Sum': 'abc', 'content-length': '7' });
        req.end();
      });
    for (const announced of [true, false]) {
      const r = await post(announced);
      assert.equal(r.status, 200, `announced: ${announced}`);
      assert.equal(r.json.bytes, 7, `announced: ${announced}`);
      assert.deepEqual(r.json.trailers, { 'x-client-sum': 'abc' }, `announced: ${announced}`);
    }
  });

  it('resets the client when the app drops the connection mid-body, without hanging', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('hang'), 5000);
      const done = (what: string): void => {
        clearTimeout(timer);
        resolve(what);
      };
      const req = request(
        { host: client.podIp, port: 15001, path: '/truncate', headers: { host: WEB }, agent: false },
        (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('aborted', () => done(`aborted after ${bytes}`));
          res.on('error', () => done(`aborted after ${bytes}`));
          res.on('end', () => done(`complete ${bytes}`));
        },
      );
      req.on('error', (e) => done(`error ${e.message}`));
      req.end();
    });
    assert.match(outcome, /^(aborted|error)/, outcome);
    // The same over HTTP/2 end to end: the app's session drops mid-body; the client's stream is reset.
    const session = http2Connect(`http://${client.podIp}:15001`);
    session.on('error', () => undefined);
    try {
      const h2outcome = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('hang'), 5000);
        const stream = session.request({ ':path': '/truncate', ':authority': `${WEB}:81` });
        let bytes = 0;
        stream.on('data', (c: Buffer) => (bytes += c.length));
        stream.on('end', () => {
          clearTimeout(timer);
          resolve(`complete ${bytes}`);
        });
        stream.on('close', () => {
          clearTimeout(timer);
          resolve(`closed with code ${stream.rstCode} after ${bytes}`);
        });
        stream.on('error', () => undefined);
      });
      assert.match(h2outcome, /^closed with code [1-9]/, h2outcome);
    } finally {
      session.close();
    }
    // The mesh stays usable.
    assert.equal((await send(client.outbound, { headers: { host: WEB } })).status, 200);
  });

  it('answers 503 UF when the app is not listening, and gRPC UNAVAILABLE with the same flag', async () => {
    const r = await send(client.outbound, { headers: { host: DEAD } });
    assert.equal(r.status, 503);
    assert.match(String(r.headers['x-shoal-response-flags']), /^UF/);
    const g = await unary(echoClient(`${DEAD}:50051`), 'anyone?');
    assert.equal(g.error?.code, GrpcStatus.UNAVAILABLE);
    assert.match(String(g.error.metadata.get('x-shoal-response-flags')[0]), /^UF/);
  });

  it('answers a gRPC call to an unknown service UNIMPLEMENTED with flag NR', async () => {
    const g = await unary(echoClient('nothere.default.svc.cluster.local:50051'), 'hello?');
    assert.equal(g.error?.code, GrpcStatus.UNIMPLEMENTED, g.error?.details);
    assert.deepEqual(g.error.metadata.get('x-shoal-response-flags'), ['NR']);
  });
});
