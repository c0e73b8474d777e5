/** Each probe handler against a real server: HTTP statuses and timeouts, TCP, gRPC health, exec. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Server, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import { probeCheck } from '../../src/proxy/agent/probe-checks.js';

let http: HttpServer;
let httpPort = 0;
let grpc: Server;
let grpcPort = 0;
let serving = 1; // grpc.health.v1 SERVING

before(async () => {
  http = createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    const code = Number(req.url?.slice(1)) || 200;
    res.writeHead(code).end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;

  grpc = new Server();
  const id = (b: Buffer): Buffer => b;
  grpc.addService(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: id,
        requestDeserialize: id,
        responseSerialize: id,
        responseDeserialize: id,
      },
    },
    {
      Check: (call: { request: Buffer }, cb: (err: { code: number; details: string } | null, res?: Buffer) => void) => {
        const service = call.request.length > 2 ? call.request.subarray(2).toString() : '';
        if (service === 'unknown') return cb({ code: GrpcStatus.NOT_FOUND, details: 'unknown service' });
        cb(null, Buffer.from([0x08, serving]));
      },
    },
  );
  grpcPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
});

after(() => {
  http.closeAllConnections();
  http.close();
  grpc.forceShutdown();
});

const target = { host: '127.0.0.1', ports: { http: 0 } };

test('httpGet: 2xx and 3xx are ready, 4xx/5xx and timeouts are not', async () => {
  const check = (path: string) => probeCheck({ httpGet: { path, port: httpPort } }, target)(300);
  assert.deepEqual(await check('/200'), { ok: true, message: 'HTTP probe answered 200' });
  assert.equal((await check('/302')).ok, true);
  assert.deepEqual(await check('/503'), { ok: false, message: 'HTTP probe answered 503' });
  assert.deepEqual(await check('/hang'), { ok: false, message: 'HTTP probe failed: timed out after 300 ms' });
  const named = await probeCheck(
    { httpGet: { path: '/204', port: 'http' } },
    { host: '127.0.0.1', ports: { http: httpPort } },
  )(300);
  assert.equal(named.ok, true, 'a named port resolves through the container ports');
});

test('tcpSocket: an accepting port is ready, a closed one is not', async () => {
  assert.equal((await probeCheck({ tcpSocket: { port: httpPort } }, target)(300)).ok, true);
  const closed = createTcpServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const res = await probeCheck({ tcpSocket: { port } }, target)(300);
  assert.equal(res.ok, false);
  assert.match(res.message, /ECONNREFUSED/);
});

test('grpc: SERVING is ready; NOT_SERVING and errors are not', async () => {
  const check = (service?: string) =>
    probeCheck({ grpc: { port: grpcPort, ...(service ? { service } : {}) } }, target)(1000);
  serving = 1;
  assert.deepEqual(await check(), { ok: true, message: 'gRPC health: SERVING' });
  serving = 2;
  assert.deepEqual(await check('reviews'), { ok: false, message: 'gRPC health: NOT_SERVING' });
  const unknown = await check('unknown');
  assert.deepEqual(unknown, { ok: false, message: 'gRPC probe failed: unknown service' });
});

test('exec: exit 0 is ready', async () => {
  assert.deepEqual(await probeCheck({ exec: { command: ['true'] } }, target)(1000), {
    ok: true,
    message: 'exec probe exited 0',
  });
  assert.deepEqual(await probeCheck({ exec: { command: ['false'] } }, target)(1000), {
    ok: false,
    message: 'exec probe exited 1',
  });
  const slow = await probeCheck({ exec: { command: ['sleep', '5'] } }, target)(200);
  assert.deepEqual(slow, { ok: false, message: 'exec probe killed (SIGKILL)' });
});
