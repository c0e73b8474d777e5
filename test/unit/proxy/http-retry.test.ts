import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RetryPolicy } from '../../../src/proxy/config/index.js';
import { backOffMs, classifyFailure, retriableFailure, retriableResponse } from '../../../src/proxy/http/retry.js';

function policy(retryOn: string[], extra: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    retryOn: new Set(retryOn),
    ignoredRetryOn: [],
    numRetries: 2,
    perTryTimeoutMs: 0,
    perTryIdleTimeoutMs: 0,
    retriableStatusCodes: [],
    backOff: { baseIntervalMs: 25, maxIntervalMs: 250 },
    previousHosts: false,
    hostSelectionRetryMaxAttempts: 1,
    retriableHeaders: [],
    ...extra,
  };
}

test('5xx retries every status from 500 up, and nothing below', () => {
  const p = policy(['5xx']);
  for (const s of [500, 501, 502, 503, 504, 599]) assert.equal(retriableResponse(p, s, undefined), true, String(s));
  for (const s of [200, 404, 409, 429, 499]) assert.equal(retriableResponse(p, s, undefined), false, String(s));
});

test('gateway-error retries 502, 503 and 504 only', () => {
  const p = policy(['gateway-error']);
  assert.deepEqual(
    [500, 501, 502, 503, 504, 505].map((s) => retriableResponse(p, s, undefined)),
    [false, false, true, true, true, false],
  );
});

test('retriable-status-codes retries the listed codes, only when the condition is on', () => {
  assert.equal(
    retriableResponse(policy(['retriable-status-codes'], { retriableStatusCodes: [418] }), 418, undefined),
    true,
  );
  assert.equal(
    retriableResponse(policy(['retriable-status-codes'], { retriableStatusCodes: [418] }), 500, undefined),
    false,
  );
  assert.equal(retriableResponse(policy([], { retriableStatusCodes: [418] }), 418, undefined), false);
});

test('retriable-4xx retries 409 only', () => {
  const p = policy(['retriable-4xx']);
  assert.equal(retriableResponse(p, 409, undefined), true);
  assert.equal(retriableResponse(p, 400, undefined), false);
  assert.equal(retriableResponse(p, 429, undefined), false);
});

test('gRPC conditions retry on the grpc-status they name', () => {
  const cases: [string, string][] = [
    ['cancelled', '1'],
    ['deadline-exceeded', '4'],
    ['resource-exhausted', '8'],
    ['internal', '13'],
    ['unavailable', '14'],
  ];
  for (const [condition, code] of cases) {
    assert.equal(retriableResponse(policy([condition]), 200, code), true, condition);
    assert.equal(retriableResponse(policy([condition]), 200, '0'), false, condition);
    assert.equal(retriableResponse(policy([condition]), 200, undefined), false, condition);
  }
  assert.equal(retriableResponse(policy(['unavailable']), 200, '4'), false);
  assert.equal(retriableResponse(policy(['5xx']), 200, '14'), false);
});

test('no conditions: nothing is retried', () => {
  const p = policy([]);
  assert.equal(retriableResponse(p, 503, '14'), false);
  for (const f of ['connect-failure', 'reset', 'refused-stream', 'timeout'] as const) {
    assert.equal(retriableFailure(p, f), false, f);
  }
});

test('failures before a response: each condition and what it covers', () => {
  const table: [string, Record<'connect-failure' | 'reset' | 'refused-stream' | 'timeout', boolean>][] = [
    ['5xx', { 'connect-failure': true, reset: true, 'refused-stream': true, timeout: true }],
    ['gateway-error', { 'connect-failure': true, reset: true, 'refused-stream': true, timeout: true }],
    // Envoy: reset is "no response at all (disconnect/reset/read timeout)", connect failures included.
    ['reset', { 'connect-failure': true, reset: true, 'refused-stream': true, timeout: true }],
    ['connect-failure', { 'connect-failure': true, reset: false, 'refused-stream': false, timeout: false }],
    ['refused-stream', { 'connect-failure': false, reset: false, 'refused-stream': true, timeout: false }],
    ['retriable-4xx', { 'connect-failure': false, reset: false, 'refused-stream': false, timeout: false }],
  ];
  for (const [condition, expected] of table) {
    const p = policy([condition]);
    for (const [failure, want] of Object.entries(expected)) {
      assert.equal(retriableFailure(p, failure as keyof typeof expected), want, `${condition} / ${failure}`);
    }
  }
});

test('backOffMs: a random time in [0, (2^n - 1) * base), capped at the maximum', () => {
  const p = policy(['5xx'], { backOff: { baseIntervalMs: 25, maxIntervalMs: 250 } });
  const top = (): number => 0.999999;
  assert.equal(
    backOffMs(p, 1, () => 0),
    0,
  );
  assert.equal(backOffMs(p, 1, top), 24);
  assert.equal(backOffMs(p, 2, top), 74);
  assert.equal(backOffMs(p, 3, top), 174);
  assert.equal(backOffMs(p, 4, top), 249);
  assert.equal(backOffMs(p, 1000, top), 249);
  assert.equal(
    backOffMs(p, 2, () => 0.5),
    37,
  );
  for (let i = 0; i < 200; i++) {
    const ms = backOffMs(p, 1 + (i % 10));
    assert.ok(Number.isInteger(ms) && ms >= 0 && ms < 250, String(ms));
  }
});

describe('classifyFailure', () => {
  const error = (code: string, cause?: string): Error =>
    Object.assign(new Error(code), { code }, cause !== undefined ? { cause: { code: cause } } : {});

  it('reads connect errors from Node and undici as connect failures', () => {
    for (const code of ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND']) {
      assert.equal(classifyFailure(error(code)), 'connect-failure', code);
    }
  });

  it('looks through an HTTP/2 stream cancelled by its session failing to connect', () => {
    assert.equal(classifyFailure(error('ERR_HTTP2_STREAM_CANCEL', 'ECONNREFUSED')), 'connect-failure');
    assert.equal(classifyFailure(error('ERR_HTTP2_STREAM_CANCEL')), 'reset');
  });

  it('tells a refused stream from a reset', () => {
    assert.equal(classifyFailure(error('REFUSED_STREAM')), 'refused-stream');
    assert.equal(classifyFailure(error('UND_ERR_SOCKET')), 'reset');
    assert.equal(classifyFailure(new Error('no code')), 'reset');
  });
});
