import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyFailure, rescueFor, syntheticResponse } from '../../../src/proxy/http/rescue.js';

test('each failure maps to its status and flag', () => {
  const table = (['NR', 'UH', 'UF', 'UR', 'UT', 'URX', 'UO', 'RL', 'UAEX'] as const).map((f) => [
    f,
    rescueFor(f).status,
  ]);
  assert.deepEqual(table, [
    ['NR', 404],
    ['UH', 503],
    ['UF', 503],
    ['UR', 503],
    ['UT', 504],
    ['URX', 503],
    ['UO', 503],
    ['RL', 429],
    ['UAEX', 403],
  ]);
});

test('an HTTP request gets a short text body and the flags header', () => {
  assert.deepEqual(syntheticResponse(new ProxyFailure('UF', 'connect ECONNREFUSED', ['URX']), false), {
    status: 503,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': '23',
      'x-shoal-response-flags': 'UF,URX',
    },
    body: 'upstream connect error\n',
  });
});

test('a fault abort answers its configured status', () => {
  const r = syntheticResponse(new ProxyFailure('FI', '', [], 418), false);
  assert.equal(r.status, 418);
  assert.equal(r.headers['x-shoal-response-flags'], 'FI');
});

test('a gRPC request gets grpc-status in a 200 answer', () => {
  assert.deepEqual(syntheticResponse(new ProxyFailure('UT'), true), {
    status: 200,
    headers: {
      'content-type': 'application/grpc',
      'grpc-status': '4',
      'grpc-message': 'upstream%20request%20timeout',
      'x-shoal-response-flags': 'UT',
    },
    body: '',
  });
});
