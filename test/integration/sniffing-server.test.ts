/** One port, two protocols: HTTP/1.1 and cleartext HTTP/2 by the connection preface, with real clients. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttp1, request } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2 } from 'node:http2';
import { connect, type AddressInfo, type Server } from 'node:net';
import { createSniffingServer, sniff } from '../../src/proxy/listener/sniffing-server.js';

let server: Server;
let port = 0;
const http1 = createHttp1((req, res) => res.end(`h1 ${req.method} ${req.url}`));
const http2 = createHttp2();
http2.on('stream', (stream, headers) => {
  stream.respond({ ':status': 200 });
  stream.end(`h2 ${String(headers[':method'])} ${String(headers[':path'])}`);
});

before(async () => {
  server = createSniffingServer({ http1: (socket) => http1.emit('connection', socket), http2, sniffTimeoutMs: 300 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  http1.closeAllConnections();
  server.close();
});

test('sniff() decides on the preface, waiting while the bytes are a prefix of it', () => {
  assert.equal(sniff(Buffer.from('GET / HTTP/1.1\r\n')), 'http1');
  assert.equal(sniff(Buffer.from('PRI * HTT')), undefined);
  assert.equal(sniff(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'http2');
  assert.equal(sniff(Buffer.from('POST')), 'http1');
});

test('an HTTP/1.1 request reaches the HTTP/1.1 server', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/one', method: 'PUT', agent: false }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end('x');
  });
  assert.equal(body, 'h1 PUT /one');
});

test('an HTTP/2 prior-knowledge client reaches the HTTP/2 server', async () => {
  const session = connectHttp2(`http://127.0.0.1:${port}`);
  const body = await new Promise<string>((resolve, reject) => {
    const stream = session.request({ ':path': '/two', ':method': 'GET' });
    let b = '';
    stream.on('data', (d: Buffer) => (b += d.toString()));
    stream.on('end', () => resolve(b));
    stream.on('error', reject);
  });
  session.close();
  assert.equal(body, 'h2 GET /two');
});

test('a preface split across writes still selects HTTP/2', async () => {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write('PRI * HTT');
  await new Promise((r) => setTimeout(r, 50));
  socket.write('P/2.0\r\n\r\nSM\r\n\r\n');
  // An HTTP/2 server answers the preface with its SETTINGS frame: type 0x04 at byte 3.
  const frame = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  assert.equal(frame[3], 0x04);
  socket.destroy();
});

test('a connection that sends nothing is closed; garbage gets 400', async () => {
  const silent = connect(port, '127.0.0.1');
  const t0 = Date.now();
  await new Promise((r) => silent.once('close', r));
  assert.ok(Date.now() - t0 >= 250, `closed after ${Date.now() - t0} ms`);

  const garbage = connect(port, '127.0.0.1');
  garbage.write('\x16\x03\x01 not http at all\r\n\r\n');
  const answer = await new Promise<string>((resolve) => {
    let b = '';
    garbage.on('data', (d: Buffer) => (b += d.toString()));
    garbage.on('close', () => resolve(b));
  });
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request/);
});
