import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HeaderToAdd } from '../../../src/proxy/config/index.js';
import {
  applyMutations,
  headerString,
  stripResponseHopByHop,
  upstreamRequestHeaders,
} from '../../../src/proxy/http/headers.js';

const info = { remoteAddress: '10.0.0.7', scheme: 'http', appendForwardedFor: false };

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

test('the incoming object is not modified', () => {
  const incoming = { connection: 'x-a', 'x-a': '1', host: 'h' };
  upstreamRequestHeaders(incoming, 'b', info);
  assert.deepEqual(incoming, { connection: 'x-a', 'x-a': '1', host: 'h' });
});

const add = (name: string, value: string, action: HeaderToAdd['action'], keepEmptyValue = false): HeaderToAdd => ({
  name,
  value,
  action,
  keepEmptyValue,
});

test('APPEND_IF_EXISTS_OR_ADD adds, or appends to one value or to several', () => {
  const h: Record<string, string | string[]> = { one: 'a', many: ['a', 'b'] };
  applyMutations(h, {
    add: [
      add('new', 'x', 'APPEND_IF_EXISTS_OR_ADD'),
      add('one', 'x', 'APPEND_IF_EXISTS_OR_ADD'),
      add('many', 'x', 'APPEND_IF_EXISTS_OR_ADD'),
    ],
    remove: [],
  });
  assert.deepEqual(h, { one: ['a', 'x'], many: ['a', 'b', 'x'], new: 'x' });
});

test('ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD and OVERWRITE_IF_EXISTS', () => {
  const h: Record<string, string> = { present: 'old', other: 'old' };
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
  assert.deepEqual(h, { present: 'old', other: 'y', absent: 'x', fresh: 'y' });
  const h2: Record<string, string> = { k: 'old' };
  applyMutations(h2, { add: [add('k', 'new', 'OVERWRITE_IF_EXISTS')], remove: [] });
  assert.deepEqual(h2, { k: 'new' });
});

test('an empty value is added only with keepEmptyValue', () => {
  const h: Record<string, string> = {};
  applyMutations(h, {
    add: [add('dropped', '', 'OVERWRITE_IF_EXISTS_OR_ADD'), add('kept', '', 'OVERWRITE_IF_EXISTS_OR_ADD', true)],
    remove: [],
  });
  assert.deepEqual(h, { kept: '' });
});

test('removals happen before additions (Envoy), so remove + add replaces a header', () => {
  const h: Record<string, string | string[]> = { 'x-a': 'client', 'x-b': 'client' };
  applyMutations(h, { add: [add('x-a', 'route', 'APPEND_IF_EXISTS_OR_ADD')], remove: ['x-a', 'x-b'] });
  assert.deepEqual(h, { 'x-a': 'route' });
});

test('stripResponseHopByHop removes hop-by-hop, Connection-listed and pseudo headers, in place', () => {
  const h = {
    connection: 'close, x-internal',
    'x-internal': '1',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    upgrade: 'h2c',
    ':status': '200',
    'content-type': 'text/plain',
    'content-length': '3',
  };
  const out = stripResponseHopByHop(h);
  assert.equal(out, h);
  assert.deepEqual(h, { 'content-type': 'text/plain', 'content-length': '3' });
});

test('stripResponseHopByHop for an HTTP/1.1 downstream leaves the framing headers to its writer', () => {
  const h = {
    connection: 'keep-alive, x-internal',
    'x-internal': '1',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'proxy-connection': 'x',
    'content-type': 'text/plain',
  };
  stripResponseHopByHop(h, true);
  assert.deepEqual(h, {
    connection: 'keep-alive, x-internal',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'content-type': 'text/plain',
  });
});

test('headerString joins several values', () => {
  assert.equal(headerString(undefined), undefined);
  assert.equal(headerString('a'), 'a');
  assert.equal(headerString(['a', 'b']), 'a, b');
});
