/**
 * HTTP/2 (h2c) to one upstream endpoint: one client session, opened on first use and again after it closes or
 * receives GOAWAY; streams are multiplexed on it up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS (Node queues the
 * rest). Used for clusters that speak HTTP/2 (gRPC ports, `h2UpgradePolicy: UPGRADE`) and, with
 * use_downstream_protocol, for HTTP/2 requests.
 */
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2';

const { HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_SCHEME } = constants;

export interface Http2UpstreamOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly localAddress?: string | undefined;
}

export class Http2Upstream {
  private session: ClientHttp2Session | undefined;
  private closed = false;
  active = 0;

  constructor(
    private readonly origin: string,
    private readonly options: Http2UpstreamOptions,
  ) {}

  /**
   * Opens a stream; connection failures arrive as the stream's 'error' (code ECONNREFUSED, ...). `waitForTrailers`:
   * after the body the stream waits for sendTrailers() ('wantTrailers').
   */
  request(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    endStream: boolean,
    waitForTrailers = false,
  ): ClientHttp2Stream {
    const session = this.sessionFor();
    const h: OutgoingHttpHeaders = {};
    for (const name in headers) if (name !== 'host') h[name] = headers[name];
    h[HTTP2_HEADER_METHOD] = method;
    h[HTTP2_HEADER_PATH] = path;
    h[HTTP2_HEADER_SCHEME] = 'http';
    h[HTTP2_HEADER_AUTHORITY] = headers.host;
    const stream = session.request(h, { endStream, waitForTrailers });
    this.active++;
    stream.once('close', () => {
      this.active--;
      if (this.active === 0 && this.closed) this.session?.close();
    });
    return stream;
  }

  private sessionFor(): ClientHttp2Session {
    const current = this.session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    const localAddress = this.options.localAddress;
    const session = connect(this.origin, {
      peerMaxConcurrentStreams: 1000,
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
    const timer = setTimeout(
      () => session.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
      this.options.connectTimeoutMs,
    );
    session.once('connect', () => clearTimeout(timer));
    session.once('close', () => {
      clearTimeout(timer);
      if (this.session === session) this.session = undefined;
    });
    session.once('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    session.on('error', () => {
      if (this.session === session) this.session = undefined;
    });
    if (this.options.idleTimeoutMs > 0) session.setTimeout(this.options.idleTimeoutMs, () => session.close());
    session.unref();
    this.session = session;
    return session;
  }

  /** Closes once the streams in flight have finished. */
  close(): void {
    this.closed = true;
    if (this.active === 0) this.session?.close();
  }

  destroy(): void {
    this.closed = true;
    this.session?.destroy();
  }
}
