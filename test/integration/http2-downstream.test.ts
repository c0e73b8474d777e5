/**
 * The sidecar's HTTP/2 downstream wrappers (src/proxy/http2/downstream.ts) on a real node:http2 server and client:
 * a response from a header list keeps repeated fields and leaves out connection-specific ones (which node:http2
 * refuses with a throw), trailers follow the body, and a trailer node:http2 refuses resets the stream only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { H2Request, H2Response } from '../../src/proxy/http2/downstream.js';

let server: Http2Server;
let origin = '';

before(async () => {
  server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    const req = new H2Request(stream, headers, raw);
    const res = new H2Response(stream);
    if (req.url === '/list') {
      res.writeHead(200, [
        'connection',
        'close',
        'x-a',
        '1',
        'transfer-encoding',
        'chunked',
        'x-a',
        '2',
        'keep-alive',
        't',
      ]);
      res.addTrailers({ 'x-sum': 'ok' });
      res.write('hello ');
      return res.end('world');
    }
    if (req.url === '/bad-trailer') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.addTrailers({ connection: 'close' });
      return res.end('body');
    }
    res.writeHead(404, {});
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server.close());

function get(
  path: string,
): Promise<{ headers: Record<string, unknown>; body: string; trailers: Record<string, unknown>; error?: string }> {
  return new Promise((resolve) => {
    const session = connect(origin);
    session.on('error', () => undefined);
    const stream = session.request({ ':path': path });
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    let body = '';
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => {
      session.close();
      resolve({ headers, body, trailers });
    });
    stream.on('error', (e: Error) => {
      session.close();
      resolve({ headers, body, trailers, error: e.message });
    });
  });
}

describe('HTTP/2 downstream wrappers', () => {
  test('a response from a list: repeated fields kept, connection-specific ones left out, trailers after the body', async () => {
    const r = await get('/list');
    assert.equal(r.headers[':status'], 200);
    assert.equal(r.headers['x-a'], '1, 2');
    assert.equal(r.headers.connection, undefined);
    assert.equal(r.headers['transfer-encoding'], undefined);
    assert.equal(r.body, 'hello world');
    assert.equal(r.trailers['x-sum'], 'ok');
  });

  test('a trailer node:http2 refuses resets that stream only; the server goes on', async () => {
    const bad = await get('/bad-trailer');
    assert.equal(bad.trailers.connection, undefined);
    assert.match(bad.error ?? '', /NGHTTP2_INTERNAL_ERROR/, 'the stream was reset');
    const next = await get('/list');
    assert.equal(next.body, 'hello world');
  });
});
