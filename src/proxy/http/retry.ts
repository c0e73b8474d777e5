/**
 * Envoy's retry conditions (x-envoy-retry-on / x-envoy-retry-grpc-on values) over what an attempt produced: a
 * response status (and gRPC status header), or a failure before any response (connect failure, reset, refused
 * stream). And the jittered exponential back-off between attempts (Envoy: a random time in
 * [0, (2^attempt - 1) * base], capped at the maximum).
 */
import type { RetryPolicy } from '../config/index.js';

export type AttemptFailure = 'connect-failure' | 'reset' | 'refused-stream' | 'timeout';

const GRPC_CONDITIONS: Readonly<Record<string, string>> = {
  '1': 'cancelled',
  '4': 'deadline-exceeded',
  '8': 'resource-exhausted',
  '13': 'internal',
  '14': 'unavailable',
};

/** Should a response with this status (and grpc-status header, if any) be retried? */
export function retriableResponse(policy: RetryPolicy, status: number, grpcStatus: string | undefined): boolean {
  const on = policy.retryOn;
  if (status >= 500) {
    if (on.has('5xx')) return true;
    if (on.has('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
  }
  if (status === 409 && on.has('retriable-4xx')) return true;
  // The list first: most responses are not in it, and a Set lookup costs more than a short array scan.
  if (policy.retriableStatusCodes.includes(status) && on.has('retriable-status-codes')) return true;
  if (grpcStatus !== undefined) {
    const condition = GRPC_CONDITIONS[grpcStatus];
    if (condition !== undefined && on.has(condition)) return true;
  }
  return false;
}

/** Should a failure before any response be retried? */
export function retriableFailure(policy: RetryPolicy, failure: AttemptFailure): boolean {
  const on = policy.retryOn;
  // Envoy: `reset` covers "no response at all (disconnect/reset/read timeout)".
  if (failure === 'timeout') return on.has('5xx') || on.has('gateway-error') || on.has('reset');
  if (on.has('5xx') || on.has('gateway-error')) return true;
  if (failure === 'connect-failure') return on.has('connect-failure') || on.has('reset');
  if (failure === 'refused-stream') return on.has('refused-stream') || on.has('reset');
  return on.has('reset');
}

/** Milliseconds to wait before retry number `retry` (1-based). */
export function backOffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = policy.backOff.baseIntervalMs;
  const max = policy.backOff.maxIntervalMs;
  const ceiling = Math.min(max, (2 ** Math.min(retry, 30) - 1) * base);
  return Math.floor(random() * ceiling);
}

/** What kind of failure before any response an upstream error is (Node, undici and HTTP/2 error codes). */
export function classifyFailure(error: Error): AttemptFailure {
  let code = (error as { code?: string }).code;
  // An HTTP/2 stream still pending when its session failed to connect is cancelled with the connect error as cause.
  if (code === 'ERR_HTTP2_STREAM_CANCEL') code = ((error as { cause?: { code?: string } }).cause ?? {}).code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ETIMEDOUT':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect-failure';
    case 'REFUSED_STREAM':
      return 'refused-stream';
    default:
      return 'reset';
  }
}
