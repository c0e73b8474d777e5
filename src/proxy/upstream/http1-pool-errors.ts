/**
 * The errors of the sidecar's HTTP/1.1 upstream pool (http1-pool.ts), one class with a stable `code` (undici's
 * model). Connect failures keep the operating system's errno code (ECONNREFUSED, EHOSTUNREACH, ...) and a connect
 * timeout is `UND_ERR_CONNECT_TIMEOUT`, so src/proxy/http/retry.ts classifies them as connect failures; everything
 * after the connection was established is a reset or a protocol error.
 */

export type Http1PoolErrorCode =
  /** The connection was not established within the cluster's connect timeout. */
  | 'UND_ERR_CONNECT_TIMEOUT'
  /** The connection closed (or failed: the errno is in `cause`) before the response was complete. */
  | 'UPSTREAM_RESET'
  /** The upstream's answer is not HTTP/1.1 (the parser's HttpParseError is in `cause`). */
  | 'UPSTREAM_PROTOCOL_ERROR'
  /** The request body stream failed or ended before its Content-Length. */
  | 'REQUEST_BODY_ERROR'
  /** A request header or the path holds CR, LF or NUL. */
  | 'INVALID_REQUEST'
  /** The pool was closed or destroyed. */
  | 'POOL_CLOSED'
  /** A connect failure: the errno code of the socket error. */
  | (string & {});

export class Http1PoolError extends Error {
  constructor(
    readonly code: Http1PoolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Http1PoolError';
  }
}

/** A failed connect attempt, keeping the socket error's errno code. */
export function connectError(error: Error, authority: string): Http1PoolError {
  const code = (error as { code?: string }).code ?? 'ECONNREFUSED';
  return new Http1PoolError(code, `connect ${code} ${authority}`, { cause: error });
}

export function resetError(cause?: Error): Http1PoolError {
  return new Http1PoolError(
    'UPSTREAM_RESET',
    cause === undefined ? 'upstream connection closed' : `upstream connection failed: ${cause.message}`,
    cause === undefined ? undefined : { cause },
  );
}
