import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HeaderToAdd } from '../../../src/proxy/config/index.js';
import {
  allowedTrailers,
  applyMutations,
  findHeader,
  headerList,
  headersObject,
  headerValue,
  outgoingObject,
  removeHeader,
  setHeader,
  stripResponseHopByHop,
  upstreamRequestHeaders as upstreamList,
  type HeaderList,
} from '../../../src/proxy/http/headers.js';
import { newRequestId } from '../../../src/proxy/http/request-id.js';

const info = { remoteAddress: '10.0.0.7', scheme: 'http', appendForwardedFor: false };

/** The list function, read through an object (what the tests below compare). */
function upstreamRequestHeaders(
  incoming: Record<string, string>,
  authority: string,
  forwarded: typeof info,
): Record<string, string | string[] | undefined> {
  const list = upstreamList(
    headerList(incoming),
    authority,
    forwarded.scheme,
    forwarded.appendForwardedFor ? forwarded.remoteAddress : undefined,
  );
  return outgoingObject(list) as Record<string, string>;
}

test('hop-by-hop headers, pseudo-headers and the mesh-only flag header are not forwarded; host is the authority', () => {
  const out = upstreamRequestHeaders(
    {
      host: 'client-sent',
      ':authority': 'a',
      ':path': '/x',
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic x',
      'transfer-encoding': 'chunked',
      upgrade: 'websocket',
      'http2-settings': 'AAA',
      expect: '100-continue',
      'x-shoal-response-flags': 'NR',
      accept: 'text/plain',
    },
    'backend:80',
    info,
  );
  assert.deepEqual(Object.keys(out).sort(), ['accept', 'host', 'x-forwarded-proto', 'x-request-id']);
  assert.equal(out.host, 'backend:80');
  assert.equal(out.accept, 'text/plain');
});

test('headers named in Connection are removed, but never host, and te: trailers stays', () => {
  const out = upstreamRequestHeaders(
    { connection: 'keep-alive, X-Secret , te, host', 'x-secret': '1', te: 'trailers', 'x-kept': '2' },
    'backend',
    info,
  );
  assert.equal(out['x-secret'], undefined);
  assert.equal(out.te, 'trailers');
  assert.equal(out.host, 'backend');
  assert.equal(out['x-kept'], '2');
});

test('te is forwarded only as te: trailers', () => {
  assert.equal(upstreamRequestHeaders({ te: 'trailers' }, 'b', info).te, 'trailers');
  assert.equal(upstreamRequestHeaders({ te: 'gzip' }, 'b', info).te, undefined);
  assert.equal(upstreamRequestHeaders({ te: 'trailers, deflate' }, 'b', info).te, undefined);
});

test('x-forwarded-for is appended to only with appendForwardedFor, and passes through otherwise', () => {
  assert.equal(upstreamRequestHeaders({}, 'b', info)['x-forwarded-for'], undefined);
  assert.equal(upstreamRequestHeaders({ 'x-forwarded-for': '1.2.3.4' }, 'b', info)['x-forwarded-for'], '1.2.3.4');
  const edge = { ...info, appendForwardedFor: true };
  assert.equal(upstreamRequestHeaders({}, 'b', edge)['x-forwarded-for'], '10.0.0.7');
  assert.equal(
    upstreamRequestHeaders({ 'x-forwarded-for': '1.2.3.4' }, 'b', edge)['x-forwarded-for'],
    '1.2.3.4, 10.0.0.7',
  );
  assert.equal(upstreamRequestHeaders({}, 'b', { ...edge, remoteAddress: '' })['x-forwarded-for'], undefined);
});

test('x-forwarded-proto is set from the scheme unless the client sent one', () => {
  assert.equal(upstreamRequestHeaders({}, 'b', info)['x-forwarded-proto'], 'http');
  assert.equal(upstreamRequestHeaders({}, 'b', { ...info, scheme: 'https' })['x-forwarded-proto'], 'https');
  assert.equal(upstreamRequestHeaders({ 'x-forwarded-proto': 'https' }, 'b', info)['x-forwarded-proto'], 'https');
});

test('x-request-id is added (a UUID) only when absent', () => {
  const fresh = upstreamRequestHeaders({}, 'b', info)['x-request-id'];
  assert.match(String(fresh), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(upstreamRequestHeaders({}, 'b', info)['x-request-id'], fresh);
  assert.equal(upstreamRequestHeaders({ 'x-request-id': 'abc' }, 'b', info)['x-request-id'], 'abc');
});

test('a header Connection lists is removed even when the proxy would add it, and added when absent', () => {
  const out = upstreamList(['connection', 'x-request-id', 'x-request-id', 'client'], 'b', 'http', undefined);
  assert.equal(findHeader(out, 'x-request-id'), undefined);
  const fresh = upstreamList(['connection', 'x-request-id'], 'b', 'http', undefined);
  assert.match(findHeader(fresh, 'x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('the incoming list is not modified', () => {
  const incoming = ['connection', 'x-a', 'x-a', '1', 'host', 'h'];
  upstreamList(incoming, 'b', 'http', undefined);
  assert.deepEqual(incoming, ['connection', 'x-a', 'x-a', '1', 'host', 'h']);
});

test('a field received twice is forwarded as two fields, in order, with host first', () => {
  const out = upstreamList(['accept', 'a', 'x-request-id', 'r', 'accept', 'b'], 'backend', 'http', undefined);
  assert.deepEqual(out, [
    'host',
    'backend',
    'accept',
    'a',
    'x-request-id',
    'r',
    'accept',
    'b',
    'x-forwarded-proto',
    'http',
  ]);
});

test('x-forwarded-for received twice is joined before the peer is appended', () => {
  const out = upstreamList(['x-forwarded-for', '1.1.1.1', 'x-forwarded-for', '2.2.2.2'], 'b', 'http', '10.0.0.7');
  assert.equal(headerValue(out, 'x-forwarded-for'), '1.1.1.1, 2.2.2.2, 10.0.0.7');
  assert.equal(out.filter((x) => x === 'x-forwarded-for').length, 1);
});

test('findHeader, headerValue, setHeader and removeHeader on a list', () => {
  const list: HeaderList = ['a', '1', 'cookie', 'x=1', 'b', '2', 'a', '3', 'cookie', 'y=2'];
  assert.equal(findHeader(list, 'a'), '1');
  assert.equal(findHeader(list, 'z'), undefined);
  assert.equal(headerValue(list, 'a'), '1, 3');
  assert.equal(headerValue(list, 'cookie'), 'x=1; y=2');
  setHeader(list, 'a', 'new');
  assert.deepEqual(list, ['a', 'new', 'cookie', 'x=1', 'b', '2', 'cookie', 'y=2']);
  setHeader(list, 'c', '4');
  assert.deepEqual(list.slice(-2), ['c', '4']);
  removeHeader(list, 'cookie');
  assert.deepEqual(list, ['a', 'new', 'b', '2', 'c', '4']);
});

test('headersObject follows Node: set-cookie is a list, cookie joined with "; ", others with ", "', () => {
  assert.deepEqual(
    headersObject(['set-cookie', 'a=1', 'set-cookie', 'b=2', 'cookie', 'x=1', 'cookie', 'y=2', 'v', '1', 'v', '2']),
    { 'set-cookie': ['a=1', 'b=2'], cookie: 'x=1; y=2', v: '1, 2' },
  );
  assert.deepEqual(outgoingObject(['v', '1', 'v', '2', 'w', '3']), { v: ['1', '2'], w: '3' });
  assert.deepEqual(headerList({ A: '1', b: ['2', '3'], c: 4, d: undefined }), ['a', '1', 'b', '2', 'b', '3', 'c', '4']);
});

const add = (name: string, value: string, action: HeaderToAdd['action'], keepEmptyValue = false): HeaderToAdd => ({
  name,
  value,
  action,
  keepEmptyValue,
});

test('APPEND_IF_EXISTS_OR_ADD adds, or appends to one value or to several', () => {
  const h = headerList({ one: 'a', many: ['a', 'b'] });
  applyMutations(h, {
    add: [
      add('new', 'x', 'APPEND_IF_EXISTS_OR_ADD'),
      add('one', 'x', 'APPEND_IF_EXISTS_OR_ADD'),
      add('many', 'x', 'APPEND_IF_EXISTS_OR_ADD'),
    ],
    remove: [],
  });
  assert.deepEqual(outgoingObject(h), { one: ['a', 'x'], many: ['a', 'b', 'x'], new: 'x' });
});

test('ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD and OVERWRITE_IF_EXISTS', () => {
  const h = headerList({ present: 'old', other: 'old' });
  applyMutations(h, {
    add: [
      add('present', 'x', 'ADD_IF_ABSENT'),
      add('absent', 'x', 'ADD_IF_ABSENT'),
      add('other', 'y', 'OVERWRITE_IF_EXISTS_OR_ADD'),
      add('fresh', 'y', 'OVERWRITE_IF_EXISTS_OR_ADD'),
      add('present2', 'z', 'OVERWRITE_IF_EXISTS'),
    ],
    remove: [],
  });
  assert.deepEqual(outgoingObject(h), { present: 'old', other: 'y', absent: 'x', fresh: 'y' });
  const h2 = ['k', 'old', 'k', 'older'];
  applyMutations(h2, { add: [add('k', 'new', 'OVERWRITE_IF_EXISTS')], remove: [] });
  assert.deepEqual(h2, ['k', 'new']);
});

test('an empty value is added only with keepEmptyValue', () => {
  const h: HeaderList = [];
  applyMutations(h, {
    add: [add('dropped', '', 'OVERWRITE_IF_EXISTS_OR_ADD'), add('kept', '', 'OVERWRITE_IF_EXISTS_OR_ADD', true)],
    remove: [],
  });
  assert.deepEqual(h, ['kept', '']);
});

test('removals happen before additions (Envoy), so remove + add replaces a header', () => {
  const h = ['x-a', 'client', 'x-b', 'client', 'x-a', 'client2'];
  applyMutations(h, { add: [add('x-a', 'route', 'APPEND_IF_EXISTS_OR_ADD')], remove: ['x-a', 'x-b'] });
  assert.deepEqual(h, ['x-a', 'route']);
});

test('stripResponseHopByHop removes hop-by-hop, Connection-listed and pseudo headers, in place', () => {
  const h = headerList({
    connection: 'close, X-Internal',
    'x-internal': '1',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    upgrade: 'h2c',
    ':status': '200',
    'content-type': 'text/plain',
    'content-length': '3',
  });
  const out = stripResponseHopByHop(h);
  assert.equal(out, h);
  assert.deepEqual(h, ['content-type', 'text/plain', 'content-length', '3']);
});

test('stripResponseHopByHop for an HTTP/1.1 downstream leaves the framing fields to its writer', () => {
  const typical = ['content-type', 'text/plain', 'connection', 'keep-alive', 'content-length', '3'];
  const before = [...typical];
  assert.deepEqual(stripResponseHopByHop(typical, true), before, 'nothing to change');
  const h = [
    'connection',
    'keep-alive, x-internal, transfer-encoding',
    'x-internal',
    '1',
    'keep-alive',
    'timeout=5',
    'transfer-encoding',
    'chunked',
    'proxy-connection',
    'x',
    'content-type',
    'text/plain',
  ];
  stripResponseHopByHop(h, true);
  assert.deepEqual(h, [
    'connection',
    'keep-alive, x-internal, transfer-encoding',
    'keep-alive',
    'timeout=5',
    'transfer-encoding',
    'chunked',
    'content-type',
    'text/plain',
  ]);
});

test('stripResponseHopByHop keeps a response field received twice (set-cookie)', () => {
  const h = ['set-cookie', 'a=1', 'connection', 'keep-alive', 'set-cookie', 'b=2'];
  assert.deepEqual(stripResponseHopByHop(h), ['set-cookie', 'a=1', 'set-cookie', 'b=2']);
});

test('request ids are version 4 UUIDs with the RFC 9562 variant, all different, across batches', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = newRequestId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});

test('allowedTrailers leaves out what a trailer may not carry: pseudo-headers, hop-by-hop, framing', () => {
  const trailers = ['grpc-status', '0', ':status', '200', 'connection', 'close', 'content-length', '4', 'te', 'x'];
  assert.deepEqual(allowedTrailers([...trailers, 'host', 'h', 'x-sum', 'abc']), ['grpc-status', '0', 'x-sum', 'abc']);
});
