import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { serializeHead, type BodyFraming } from '../../../src/proxy/upstream/http1-pool-request.js';

function head(options: Parameters<typeof serializeHead>[0], last = false): { text: string; framing: BodyFraming } {
  const framing: BodyFraming = { chunked: false, bodyLength: -2 };
  const text = serializeHead(options, '10.0.0.1:8080', last, framing).toString('latin1');
  return { text, framing };
}

test('a header list: request line, the fields in order (repeats kept), Host last, hop-by-hop fields dropped', () => {
  const { text, framing } = head({
    method: 'GET',
    path: '/a?b=c',
    headers: [
      ...['accept', '*/*', 'connection', 'keep-alive', 'x-v', '1', 'host', 'svc', 'x-v', '2', 'te', 'gzip'],
      ...['expect', '100-continue', 'proxy-authorization', 'Basic x', 'http2-settings', 'AAA'],
    ],
    body: null,
    trusted: true,
  });
  assert.equal(text, 'GET /a?b=c HTTP/1.1\r\naccept: */*\r\nx-v: 1\r\nx-v: 2\r\nhost: svc\r\n\r\n');
  assert.deepEqual(framing, { chunked: false, bodyLength: -1 });
});

test('a list and the same headers as an object give the same bytes', () => {
  const body = (): Readable => Readable.from([]);
  for (const [list, object, last, upgrade] of [
    [['content-length', '5', 'x-a', 'b'], { 'content-length': '5', 'x-a': 'b' }, false, undefined],
    [['x-a', 'b', 'te', 'trailers'], { 'x-a': 'b', te: 'trailers' }, true, undefined],
    [['x-a', 'b'], { 'x-a': 'b' }, false, 'websocket'],
  ] as const) {
    const a = head({ method: 'POST', path: '/', headers: [...list], body: body(), trusted: true, upgrade }, last);
    const b = head({ method: 'POST', path: '/', headers: { ...object }, body: body(), upgrade }, last);
    assert.equal(a.text, b.text);
    assert.deepEqual(a.framing, b.framing);
  }
  const chunked = head({ method: 'POST', path: '/', headers: ['x-a', 'b'], body: body(), trusted: true });
  assert.equal(chunked.text, 'POST / HTTP/1.1\r\nx-a: b\r\nhost: 10.0.0.1:8080\r\ntransfer-encoding: chunked\r\n\r\n');
  assert.deepEqual(chunked.framing, { chunked: true, bodyLength: -1 });
  const closing = head({ method: 'GET', path: '/', headers: [], body: null, trusted: true }, true);
  assert.equal(closing.text, 'GET / HTTP/1.1\r\nhost: 10.0.0.1:8080\r\nconnection: close\r\n\r\n');
});

test('CR, LF or NUL in a list is refused unless trusted; the path and Host always', () => {
  assert.throws(
    () => head({ method: 'GET', path: '/', headers: ['x-a', 'b\r\nx-c: d'], body: null }),
    /invalid request: header "x-a"/,
  );
  assert.throws(() => head({ method: 'GET', path: '/ x', headers: [], body: null, trusted: true }), /path or method/);
  assert.throws(
    () => head({ method: 'GET', path: '/', headers: ['host', 'a\r\nb'], body: null, trusted: true }),
    /header host/,
  );
  assert.equal(
    head({ method: 'GET', path: '/', headers: ['x-a', 'caf\xe9'], body: null, trusted: true }).text,
    'GET / HTTP/1.1\r\nx-a: caf\xe9\r\nhost: 10.0.0.1:8080\r\n\r\n',
  );
});
