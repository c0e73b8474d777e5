/**
 * The sidecar's HTTP/1.1 server side (src/proxy/http1/server.ts) on real sockets, with raw clients: response framing
 * per version and method, pipelining order, a body the handler answers before reading, Expect, trailers, upgrades
 * handed over, half-close, the headers and idle deadlines, and draining.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Http1Server, type Http1Request, type Http1Response } from '../../src/proxy/http1/server.js';

interface Exchange {
  req: Http1Request;
  res: Http1Response;
}

let server: Server;
let http1: Http1Server;
let port = 0;
const protocolErrors: number[] = [];
const handlerErrors: unknown[] = [];
/** Requests whose path starts with /hold/ wait here until the test answers them. */
const held: Exchange[] = [];

function handle(req: Http1Request, res: Http1Response): void {
  const path = req.url;
  if (path.startsWith('/hold/')) return void held.push({ req, res });
  if (path === '/echo') {
    const chunks: Buffer[] = [];
    req.body?.on('data', (c: Buffer) => chunks.push(c));
    req.body?.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-length': String(body.length), 'x-trailers': JSON.stringify(req.trailers ?? []) });
      res.end(body);
    });
    if (req.body === null) {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    }
    return;
  }
  if (path === '/header-echo') {
    // As the proxy answers with an upstream's headers: names and values from a parser, written as trusted.
    res.writeHead(200, { 'x-echo': req.headers['x-in'], 'content-length': '2' }, true);
    return res.end('ok');
  }
  if (path === '/early') {
    // Answered without reading the body.
    res.writeHead(413, { 'content-length': '4' });
    return res.end('big\n');
  }
  if (path === '/throw') throw new Error('a handler bug');
  if (path === '/list-chunked') {
    // A header list, as the proxy passes an upstream's: framing fields in it are the server's to decide (dropped).
    res.writeHead(200, ['content-type', 'text/plain', 'connection', 'keep-alive', 'x-two', 'a', 'x-two', 'b'], true);
    res.write('one,');
    res.write(Buffer.from('two'));
    res.addTrailers(['x-sum', '2', 'x-sum', '3']);
    return res.end();
  }
  if (path === '/list-length') {
    res.writeHead(
      200,
      ['transfer-encoding', 'chunked', 'content-length', '2', 'x-echo', req.rawHeaders[1] ?? ''],
      true,
    );
    return res.end('ok');
  }
  if (path === '/list-unsafe') {
    try {
      res.writeHead(200, ['x-bad', 'a\r\nx-injected: 1', 'content-length', '0']);
    } catch (error) {
      res.writeHead(500, { 'content-length': String((error as Error).message.length) });
      return res.end((error as Error).message);
    }
    return res.end();
  }
  if (path === '/chunked') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('one,');
    res.write(Buffer.from('two'));
    res.addTrailers({ 'x-sum': '2' });
    return res.end();
  }
  res.writeHead(200, { 'content-length': String(path.length) });
  res.end(path);
}

before(async () => {
  http1 = new Http1Server(
    {
      onRequest: handle,
      onUpgrade: (req, socket, head) => {
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: upgrade\r\n\r\n`,
        );
        socket.write(head);
        socket.pipe(socket);
      },
      onConnect: (req, socket) => socket.end(`HTTP/1.1 200 OK\r\n\r\ntunnel to ${req.url}`),
      onProtocolError: (status) => protocolErrors.push(status),
      onHandlerError: (error) => handlerErrors.push(error),
    },
    { maxHeaderBytes: 1024, headersTimeoutMs: 400, idleTimeoutMs: 600, flagsHeader: 'x-shoal-response-flags' },
  );
  server = createServer((socket) => http1.accept(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  http1.closeAll();
  server.close();
});

/** Sends `data`, collects what comes back until the connection closes or `until` holds; returns text and closed. */
async function exchange(
  data: string | string[],
  until: (text: string) => boolean = () => false,
  timeoutMs = 3000,
): Promise<{ text: string; closed: boolean; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const ended = new Promise<void>((r) => socket.once('close', () => ((closed = true), r())));
  for (const piece of Array.isArray(data) ? data : [data]) {
    socket.write(piece);
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + timeoutMs;
  while (!closed && !until(text) && Date.now() < deadline) await Promise.race([ended, sleep(10)]);
  return { text, closed, socket };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

describe('Http1Server', () => {
  test('framing: Content-Length kept; chunked when absent (HTTP/1.1) with trailers; HEAD gets no body', async () => {
    const r = await exchange(
      'GET /abc HTTP/1.1\r\nHost: a\r\n\r\nGET /chunked HTTP/1.1\r\nHost: a\r\n\r\nHEAD /chunked HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    assert.equal(
      r.text,
      'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n/abc' +
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n4\r\none,\r\n3\r\ntwo\r\n0\r\nx-sum: 2\r\n\r\n' +
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n',
    );
    assert.ok(r.closed);
  });

  test('a header list: written as given (repeats kept), framing fields dropped, chunked with trailers, HEAD and 1.0', async () => {
    const r = await exchange(
      'GET /list-chunked HTTP/1.1\r\nHost: a\r\n\r\nGET /list-length HTTP/1.1\r\nX-In: v\r\n\r\n' +
        'HEAD /list-chunked HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    assert.equal(
      r.text,
      'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-two: a\r\nx-two: b\r\ntransfer-encoding: chunked\r\n\r\n' +
        '4\r\none,\r\n3\r\ntwo\r\n0\r\nx-sum: 2\r\nx-sum: 3\r\n\r\n' +
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-echo: v\r\n\r\nok' +
        'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-two: a\r\nx-two: b\r\nconnection: close\r\n\r\n',
    );
    assert.ok(r.closed);
    const old = await exchange('GET /list-chunked HTTP/1.0\r\n\r\n');
    assert.equal(
      old.text,
      'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-two: a\r\nx-two: b\r\nconnection: close\r\n\r\none,two',
    );
    const unsafe = await exchange('GET /list-unsafe HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(unsafe.text, /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*invalid header value for x-bad$/);
    assert.doesNotMatch(unsafe.text, /x-injected/);
  });

  test('a handler that throws resets its connection only: reported, and the server goes on', async () => {
    const r = await exchange('GET /throw HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(r.text, '');
    assert.ok(r.closed);
    assert.equal(handlerErrors.length, 1);
    assert.match(String(handlerErrors[0]), /a handler bug/);
    const next = await exchange('GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(next.text, /^HTTP\/1\.1 200 OK/);
  });

  test('header values are bytes: a value with octets above 0x7f comes back unchanged, head and body in one write', async () => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      Buffer.from('GET /header-echo HTTP/1.1\r\nHost: a\r\nX-In: caf\xe9 \xff\r\nConnection: close\r\n\r\n', 'latin1'),
    );
    await new Promise((r) => socket.once('close', r));
    const answer = Buffer.concat(chunks);
    assert.equal(chunks.length, 1, 'the head and the body arrive together');
    assert.deepEqual(
      answer,
      Buffer.from(
        'HTTP/1.1 200 OK\r\nx-echo: caf\xe9 \xff\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok',
        'latin1',
      ),
    );
  });

  test('HTTP/1.0: close-delimited without a length; keep-alive only when asked', async () => {
    const plain = await exchange('GET /chunked HTTP/1.0\r\n\r\n');
    assert.equal(plain.text, 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\none,two');
    assert.ok(plain.closed);
    const kept = await exchange('GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', (t) => t.endsWith('/x'));
    assert.equal(kept.text, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n/x');
    assert.equal(kept.closed, false);
    kept.socket.destroy();
  });

  test('pipelined requests are answered in order, one at a time', async () => {
    const r = await exchange(
      'GET /hold/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n',
      (t) => t.includes('/second'),
      500,
    );
    // The second request is not even read while the first is unanswered.
    assert.equal(r.text, '');
    assert.equal(held.length, 1);
    const first = held.shift()!;
    first.res.writeHead(200, { 'content-length': '5' });
    first.res.end('first');
    const deadline = Date.now() + 2000;
    let text = '';
    r.socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    while (!text.includes('/second') && Date.now() < deadline) await sleep(10);
    assert.equal(
      text,
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n/second',
    );
    r.socket.destroy();
  });

  test('bodies: Content-Length and chunked with trailers reach the handler; the connection is reused', async () => {
    const r = await exchange(
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
        'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n',
      (t) => statuses(t).length === 2 && t.endsWith('abc'),
    );
    assert.equal(
      r.text,
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-trailers: []\r\n\r\nhello' +
        'HTTP/1.1 200 OK\r\ncontent-length: 3\r\nx-trailers: ["x-t","1"]\r\n\r\nabc',
    );
    r.socket.destroy();
  });

  test('a body the handler answers before reading is read and dropped; the next request is served', async () => {
    const r = await exchange(
      [
        'POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234',
        '56789GET /after HTTP/1.1\r\nHost: a\r\n\r\n',
      ],
      (t) => t.endsWith('/after'),
    );
    assert.deepEqual(statuses(r.text), [413, 200]);
    assert.ok(r.text.endsWith('/after'));
    r.socket.destroy();
  });

  test('Expect: 100-continue is answered by the server; another expectation gets 417 and the connection goes on', async () => {
    const r = await exchange(
      [
        'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n',
        'okGET /x HTTP/1.1\r\nHost: a\r\nExpect: fancy\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n',
      ],
      (t) => t.endsWith('/y'),
    );
    assert.deepEqual(statuses(r.text), [100, 200, 417, 200]);
    r.socket.destroy();
  });

  test('an upgrade and a CONNECT hand the socket over with the bytes read past the head', async () => {
    const up = await exchange(
      'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly bytes',
      (t) => t.endsWith('early bytes'),
    );
    assert.equal(
      up.text,
      'HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\nearly bytes',
    );
    up.socket.destroy();
    const tunnel = await exchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.equal(tunnel.text, 'HTTP/1.1 200 OK\r\n\r\ntunnel to example.com:443');
  });

  test('a client that half-closes after its request still gets the answer', async () => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.end('GET /half HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => socket.once('close', r));
    assert.equal(text, 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n/half');
  });

  test('a client that pipelines two requests and half-closes gets both answers, in order', async () => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.end('GET /hold/3 HTTP/1.1\r\nHost: a\r\n\r\nGET /then HTTP/1.1\r\nHost: a\r\n\r\n');
    while (held.length === 0) await sleep(10);
    await sleep(50);
    const h = held.shift()!;
    h.res.writeHead(200, { 'content-length': '4' });
    h.res.end('held');
    await new Promise((r) => socket.once('close', r));
    assert.equal(
      text,
      'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nheldHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n/then',
    );
  });

  test('a client that half-closes in the middle of a head is closed without an answer', async () => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.end('GET /cut HTTP/1.1\r\nHo');
    await new Promise((r) => socket.once('close', r));
    assert.equal(text, '');
  });

  test('malformed input: 400 with DPE and close; an oversized head 431; counted', async () => {
    const before = protocolErrors.length;
    const bad = await exchange('GET / HTTP/1.1\r\nBad Header\r\n\r\n');
    assert.match(bad.text, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*x-shoal-response-flags: DPE\r\n/);
    assert.ok(bad.closed);
    const big = await exchange(`GET / HTTP/1.1\r\nX: ${'a'.repeat(2000)}\r\n\r\n`);
    assert.match(big.text, /^HTTP\/1\.1 431 /);
    assert.deepEqual(protocolErrors.slice(before), [400, 431]);
  });

  test('deadlines: an incomplete head gets 408; an idle keep-alive connection is closed', async () => {
    const slow = await exchange('GET / HTTP/1.1\r\nHost: a\r\n', () => false, 2500);
    assert.match(slow.text, /^HTTP\/1\.1 408 /);
    assert.ok(slow.closed);
    const idle = await exchange('GET /i HTTP/1.1\r\nHost: a\r\n\r\n', () => false, 2500);
    assert.equal(idle.text, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n/i');
    assert.ok(idle.closed, 'closed by the idle deadline');
  });

  test('draining: responses ask to close, and idle connections are closed', async () => {
    const busy = await exchange('GET /hold/2 HTTP/1.1\r\nHost: a\r\n\r\n', () => held.length === 1, 1000);
    const idle = await exchange('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n', (t) => t.endsWith('/idle'));
    http1.closing = true;
    http1.closeIdle();
    await new Promise((r) => idle.socket.once('close', r));
    const h = held.shift()!;
    h.res.writeHead(200, { 'content-length': '2' });
    h.res.end('ok');
    let text = '';
    busy.socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    await new Promise((r) => busy.socket.once('close', r));
    assert.equal(text, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    http1.closing = false;
  });
});
