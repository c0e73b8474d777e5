/**
 * One downstream request on its way upstream (Envoy's router filter and upstream request): picks an endpoint,
 * sends the request through the endpoint's HTTP/1.1 pool (upstream/http1-pool.ts, undici's dispatch handler API:
 * headers, body chunks and trailers arrive as callbacks, and pause/resume gives backpressure both ways) or its HTTP/2 session, and streams
 * the response back. Retries follow the route's retry policy, for requests without a body only (the sidecar never
 * buffers one), avoiding hosts already tried; per-try and route timeouts; the cluster's max_requests and
 * max_retries circuit breakers. A failure before the response started is answered from the rescue table; after,
 * the downstream is reset, never left hanging.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { constants as h2, type ClientHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import type { ForwardAction, HeaderMutations, LbEndpoint as ConfigLbEndpoint, Route } from '../config/index.js';
import type { PickComplete } from '../lb/types.js';
import type { UpstreamCluster } from '../upstream/cluster-manager.js';
import type { Http1Controller, Http1DispatchOptions, Http1Handler } from '../upstream/http1-pool.js';
import { Http1Response, type Http1Request, type ResponseObserver } from '../http1/server.js';
import type { H2Request, H2Response } from '../http2/downstream.js';
import type { DownstreamReq } from './connection-manager.js';
import {
  allowedTrailers,
  applyMutations,
  findHeader,
  headerList,
  outgoingObject,
  setHeader,
  stripResponseHopByHop,
  type HeaderList,
} from './headers.js';
import type { DownstreamRequest } from './request-view.js';
import { ProxyFailure, syntheticResponse, type ResponseFlag } from './rescue.js';
import { backOffMs, classifyFailure, retriableFailure, retriableResponse, type AttemptFailure } from './retry.js';

export type DownstreamRes = Http1Response | H2Response;

/** Who hears that an exchange is over (the connection manager: statistics and the access log). */
export interface ExchangeOwner {
  exchangeDone(exchange: Exchange, status: number, flags: string, upstream: string): void;
}

type Controller = Http1Controller;

const NO_PREVIOUS: readonly string[] = [];

/**
 * One request through the router. It is also the HTTP/1.1 pool's dispatch options (method, path, headers, body) and
 * handler, so a request allocates no separate options object or closures on its way.
 */
export class Exchange implements Http1Handler, Http1DispatchOptions, ResponseObserver {
  // --- the dispatch options (Http1DispatchOptions) ---
  readonly method: string;
  /** The upstream path (the route's rewrite applied). */
  readonly path: string;
  /** The upstream request headers (the proxy's own list: mutations and retries change it in place). */
  readonly headers: HeaderList;
  body: Readable | null = null;
  readonly trusted = true;
  readonly upgrade = undefined;

  /** The downstream request's trailers, once its body has ended (Http1DispatchOptions.requestTrailers). */
  get requestTrailers(): HeaderList | undefined {
    const req = this.req;
    if (req.httpVersionMajor !== 2) return req.trailers;
    const trailers = req.trailers;
    return trailers === undefined ? undefined : headerList(trailers);
  }

  private attempts = 0;
  private tried: string[] | readonly string[] = NO_PREVIOUS;
  private picked: PickComplete | undefined;
  private controller: Controller | undefined;
  private h2stream: ClientHttp2Stream | undefined;
  private finished = false;
  private responding = false;
  /** The current attempt's response is being discarded for a retry. */
  private discarding = false;
  private routeTimer: NodeJS.Timeout | undefined;
  private tryTimer: NodeJS.Timeout | undefined;
  private extraFlags: ResponseFlag[] | undefined;
  private counted = false;
  /** The response status sent downstream (0 before the response started). */
  private status = 0;
  /** The endpoint of the latest attempt, for the access log. */
  private lastUpstream = '';
  /** Listeners on an HTTP/2 response (H2Response), made when first needed; an HTTP/1.1 response calls methods. */
  private drainListener: (() => void) | undefined;
  private closeListener: (() => void) | undefined;

  constructor(
    private readonly owner: ExchangeOwner,
    readonly req: DownstreamReq,
    readonly res: DownstreamRes,
    readonly request: DownstreamRequest,
    readonly route: Route,
    private readonly action: ForwardAction,
    readonly cluster: UpstreamCluster,
    path: string,
    headers: HeaderList,
    private readonly requestMutations: HeaderMutations,
    private readonly responseMutations: HeaderMutations,
    private readonly hash: number | undefined,
    /** No request body (so a retry can send the request again). */
    private readonly bodyless: boolean,
    /** performance.now() when the request arrived. */
    readonly started: number,
  ) {
    this.method = request.method;
    this.path = path;
    this.headers = headers;
  }

  /** Starts the first attempt (and the route timeout). */
  start(): void {
    const { res, action, cluster } = this;
    const breakers = cluster.config.circuitBreakers;
    if (cluster.stats.rqActive >= breakers.maxRequests) {
      cluster.stats.rqPendingOverflow++;
      return this.failWith(new ProxyFailure('UO', cluster.name));
    }
    cluster.stats.rqTotal++;
    cluster.stats.rqActive++;
    this.counted = true;
    if (res instanceof Http1Response) res.observer = this;
    else res.once('close', (this.closeListener ??= () => this.onDownstreamClose()));
    if (action.timeoutMs > 0) {
      this.routeTimer = setTimeout(() => this.onTimeout(false), action.timeoutMs);
    }
    this.attempt();
  }

  /** Marks that a fault delay was injected (response flag DI). */
  flagDelayed(): void {
    (this.extraFlags ??= []).push('DI');
  }

  private attempt(): void {
    const { cluster, hash, action, request } = this;
    this.attempts++;
    this.discarding = false;
    this.responding = false;
    let picked = cluster.picker.pick(hash === undefined ? undefined : { hash });
    const retry = action.retry;
    if (picked.type === 'complete' && this.tried.length > 0 && retry?.previousHosts === true) {
      for (let i = 0; i < retry.hostSelectionRetryMaxAttempts && this.tried.includes(picked.endpoint.key); i++) {
        const again = cluster.picker.pick(hash === undefined ? undefined : { hash });
        if (again.type !== 'complete') break;
        picked = again;
      }
    }
    if (picked.type !== 'complete') {
      cluster.stats.noHealthy++;
      return this.failWith(new ProxyFailure('UH', cluster.name));
    }
    this.picked = picked;
    this.lastUpstream = picked.endpoint.key;
    picked.state.activeRequests++;
    if (retry !== undefined && retry.perTryTimeoutMs > 0) {
      this.tryTimer = setTimeout(() => this.onTimeout(true), retry.perTryTimeoutMs);
    }
    const headers = this.headers;
    if (this.attempts === 1) {
      applyMutations(headers, this.requestMutations);
    } else {
      setHeader(headers, 'x-envoy-attempt-count', String(this.attempts));
    }
    const http = cluster.config.http;
    if (http.http2 || (http.useDownstreamProtocol && request.http2)) this.sendHttp2(picked);
    else this.sendHttp1(picked);
  }

  private sendHttp1(picked: PickComplete): void {
    const endpoint = picked.endpoint;
    const hostname = (endpoint as ConfigLbEndpoint).hostname;
    if (this.action.autoHostRewrite && hostname !== undefined) setHeader(this.headers, 'host', hostname);
    this.body = this.bodyless ? null : bodyOf(this.req, this.request.http2);
    this.cluster.pool(endpoint).dispatch(this, this);
  }

  private sendHttp2(picked: PickComplete): void {
    const { req, path, headers, bodyless, request } = this;
    // node:http2 sends trailers only on a stream opened to wait for them, and trailers need not be announced (RFC
    // 9110 6.5): so a stream waits whenever they may follow the body, which is for every HTTP/2 request with a body
    // and every chunked HTTP/1.1 one (or one with a Trailer field). One that ends without trailers is closed by an
    // empty DATA frame with END_STREAM.
    const expectTrailers =
      !bodyless && (req.httpVersionMajor === 2 || req.chunked || findHeader(request.headers, 'trailer') !== undefined);
    let stream: ClientHttp2Stream;
    try {
      stream = this.cluster
        .session(picked.endpoint)
        .request(request.method, path, outgoingObject(headers), bodyless, expectTrailers);
    } catch (error) {
      return this.onAttemptError(error as Error);
    }
    this.h2stream = stream;
    stream.once('response', (object, flags, raw?: string[]) => {
      const status = Number(object[h2.HTTP2_HEADER_STATUS]);
      // Node passes the fields as received (a list) after the object; the pseudo-headers in it are dropped later.
      const list = Array.isArray(raw) ? raw.slice() : headerList(object);
      // HEADERS with END_STREAM: a response without body or trailers (gRPC's trailers-only responses).
      this.onUpstreamHeaders(status, list, (flags & h2.NGHTTP2_FLAG_END_STREAM) !== 0);
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.discarding || this.finished) return;
      if (!(this.res as Http1Response).write(chunk)) {
        stream.pause();
        this.res.once('drain', () => stream.resume());
      }
    });
    let trailers: HeaderList | undefined;
    stream.once('trailers', (t) => (trailers = headerList(t as IncomingHttpHeaders)));
    stream.once('end', () => this.onUpstreamEnd(trailers));
    stream.once('close', () => {
      if (
        stream.rstCode !== undefined &&
        stream.rstCode !== h2.NGHTTP2_NO_ERROR &&
        !this.finished &&
        !this.discarding
      ) {
        const e = Object.assign(new Error(`upstream reset stream (code ${stream.rstCode})`), {
          code: stream.rstCode === h2.NGHTTP2_REFUSED_STREAM ? 'REFUSED_STREAM' : 'RESET',
        });
        this.onAttemptError(e);
      }
    });
    stream.on('error', (error: Error) => this.onAttemptError(error));
    if (!bodyless) {
      if (expectTrailers) {
        // The stream waits after the body for the request's trailers (known by then: they precede the body's end).
        stream.once('wantTrailers', () => {
          const trailers = this.requestTrailers;
          try {
            stream.sendTrailers(trailers === undefined ? {} : outgoingObject(allowedTrailers(trailers)));
          } catch {
            // Fields HTTP/2 refuses: the attempt fails as a reset, the process goes on.
            stream.close(h2.NGHTTP2_INTERNAL_ERROR);
          }
        });
      }
      bodyOf(req, request.http2)?.pipe(stream);
    }
  }

  // --- Http1Handler (HTTP/1.1 upstreams) ---

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.finished || this.discarding) controller.abort(new Error('exchange over'));
  }

  onResponseStart(controller: Controller, statusCode: number, headers: HeaderList): void {
    this.controller = controller;
    if (statusCode < 200) return; // 1xx: Node's server sends 100 Continue itself.
    this.onUpstreamHeaders(statusCode, headers);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.discarding || this.finished) return;
    const res = this.res;
    // The chunk is a view of the pool's read buffer: a writer that keeps it gets a copy.
    if (res instanceof Http1Response) {
      if (!res.write(chunk, true)) {
        controller.pause();
        res.waitForDrain();
      }
    } else if (!res.write(Buffer.from(chunk))) {
      controller.pause();
      res.once('drain', (this.drainListener ??= () => this.controller?.resume()));
    }
  }

  onResponseEnd(_controller: Controller, trailers: HeaderList | undefined): void {
    this.onUpstreamEnd(trailers);
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.onAttemptError(error);
  }

  // --- shared ---

  private onUpstreamHeaders(status: number, headers: HeaderList, endStream = false): void {
    if (this.finished || this.discarding) return;
    const { res, action, responseMutations, cluster } = this;
    const retry = action.retry;
    if (
      retry !== undefined &&
      this.mayRetry() &&
      retriableResponse(retry, status, findHeader(headers, 'grpc-status'))
    ) {
      this.discard();
      return this.scheduleRetry();
    }
    this.clearTryTimer();
    this.responding = true;
    cluster.stats.countStatus(status);
    stripResponseHopByHop(headers, res instanceof Http1Response);
    applyMutations(headers, responseMutations);
    if (this.extraFlags !== undefined) setHeader(headers, 'x-shoal-response-flags', this.extraFlags.join(','));
    try {
      if (endStream) respondWithoutBody(res, status, headers);
      else if (res instanceof Http1Response) res.writeHead(status, headers, true);
      else res.writeHead(status, outgoingObject(headers));
    } catch {
      // Invalid headers from the upstream (for this downstream protocol): answer as a protocol failure.
      this.responding = false;
      return this.failWith(new ProxyFailure('UR', 'invalid upstream response headers'));
    }
    this.status = status;
    if (endStream) this.complete(status, '');
  }

  private onUpstreamEnd(trailers: HeaderList | undefined): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    if (this.finished) return;
    const res = this.res;
    if (!this.responding) return; // a retried attempt's end
    if (trailers !== undefined && trailers.length > 0) {
      const allowed = allowedTrailers(trailers);
      if (res instanceof Http1Response) res.addTrailers(allowed);
      else res.addTrailers(outgoingObject(allowed));
    }
    endResponse(res);
    this.complete(this.status, '');
  }

  private onAttemptError(error: Error): void {
    if (this.finished) return;
    if (this.discarding) {
      // The aborted attempt of a retry reporting its abort.
      return;
    }
    this.clearTryTimer();
    this.releasePick();
    const { cluster, action } = this;
    if (this.responding) {
      // Mid-response: the only honest thing left is to reset the downstream.
      cluster.stats.rqReset++;
      this.resetDownstream();
      return this.complete(this.status || 502, 'UR');
    }
    const failure: AttemptFailure = classifyFailure(error);
    if (failure === 'connect-failure') cluster.stats.cxConnectFail++;
    else cluster.stats.rqReset++;
    const retry = action.retry;
    if (retry !== undefined && this.mayRetry() && retriableFailure(retry, failure)) {
      this.rememberTried();
      return this.scheduleRetry();
    }
    const flag: ResponseFlag = failure === 'connect-failure' ? 'UF' : failure === 'timeout' ? 'UT' : 'UR';
    const extra: ResponseFlag[] = this.attempts > 1 ? ['URX'] : [];
    this.failWith(new ProxyFailure(flag, error.message, extra));
  }

  /**
   * Whether another attempt is allowed at all (the retry condition is the caller's): a retry policy, no request body
   * (never buffered, so never replayed), retries left, and the cluster's max_retries breaker not open.
   */
  private mayRetry(): boolean {
    const { cluster, action, bodyless } = this;
    const retry = action.retry;
    return (
      retry !== undefined &&
      bodyless &&
      !this.finished &&
      this.attempts <= retry.numRetries &&
      cluster.config.circuitBreakers.maxRetries > cluster.stats.rqRetryActive
    );
  }

  private discard(): void {
    this.discarding = true;
    this.clearTryTimer();
    this.rememberTried();
    this.releasePick();
    this.controller?.abort(new Error('retrying'));
    this.h2stream?.close(h2.NGHTTP2_CANCEL);
  }

  private rememberTried(): void {
    if (this.picked === undefined) return;
    if (this.tried === NO_PREVIOUS) this.tried = [];
    (this.tried as string[]).push(this.picked.endpoint.key);
  }

  private scheduleRetry(): void {
    const { action, cluster } = this;
    cluster.stats.rqRetry++;
    cluster.stats.rqRetryActive++;
    const wait = backOffMs(action.retry!, this.attempts);
    setTimeout(() => {
      cluster.stats.rqRetryActive--;
      if (!this.finished) {
        this.controller = undefined;
        this.h2stream = undefined;
        this.attempt();
      }
    }, wait);
  }

  private onTimeout(perTry: boolean): void {
    if (this.finished) return;
    const { cluster, action } = this;
    cluster.stats.rqTimeout++;
    if (perTry && !this.responding && this.mayRetry() && retriableFailure(action.retry!, 'timeout')) {
      this.discard();
      return this.scheduleRetry();
    }
    if (this.responding) {
      // Completed first: the abort reports back as an attempt error, which must not turn the flag into UR.
      this.resetDownstream();
      this.complete(this.status, 'UT');
      return this.abortUpstream();
    }
    this.discarding = true;
    this.abortUpstream();
    this.failWith(new ProxyFailure('UT', 'upstream request timeout', this.attempts > 1 ? ['URX'] : []));
  }

  /** The downstream socket drained (ResponseObserver of an HTTP/1.1 response). */
  onDownstreamDrain(): void {
    this.controller?.resume();
  }

  /** The downstream went away before the response ended (ResponseObserver of an HTTP/1.1 response). */
  onDownstreamClose(): void {
    if (this.finished) return;
    // The client went away before the response was complete.
    this.discarding = true;
    this.abortUpstream();
    this.complete(this.responding ? this.status : 499, 'DC');
  }

  /** Ends the exchange with a synthetic response (rescue table), or a reset if the response already started. */
  failWith(failure: ProxyFailure, grpcStatus?: number): void {
    if (this.finished) return;
    const { res, request } = this;
    if (res.headersSent) {
      this.resetDownstream();
      return this.complete(this.status, failure.flags);
    }
    const r = syntheticResponse(failure, request.grpc);
    if (grpcStatus !== undefined && request.grpc) r.headers['grpc-status'] = String(grpcStatus);
    if (r.body === '') respondWithoutBody(res, r.status, r.headers);
    else {
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    }
    this.complete(r.status, failure.flags);
  }

  private abortUpstream(): void {
    this.controller?.abort(new Error('aborted by the proxy'));
    this.h2stream?.close(h2.NGHTTP2_CANCEL);
  }

  private resetDownstream(): void {
    const res = this.res;
    if ('stream' in res && res.stream !== undefined) {
      res.stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    } else {
      (res as Http1Response).socket.destroy();
    }
  }

  private releasePick(): void {
    if (this.picked !== undefined) {
      this.picked.state.activeRequests--;
      this.picked = undefined;
    }
  }

  private clearTryTimer(): void {
    if (this.tryTimer !== undefined) {
      clearTimeout(this.tryTimer);
      this.tryTimer = undefined;
    }
  }

  private complete(status: number, flags: string): void {
    if (this.finished) return;
    this.finished = true;
    const upstream = this.lastUpstream;
    this.releasePick();
    this.clearTryTimer();
    if (this.routeTimer !== undefined) clearTimeout(this.routeTimer);
    const { cluster, res } = this;
    if (this.counted) cluster.stats.rqActive--;
    if (res instanceof Http1Response) res.observer = undefined;
    else if (this.closeListener !== undefined) res.off('close', this.closeListener);
    const all = this.extraFlags !== undefined && flags !== '' ? `${flags},${this.extraFlags.join(',')}` : flags;
    this.owner.exchangeDone(this, status, all, upstream);
  }
}

/**
 * A complete response without body or trailers. Over HTTP/2 it is one HEADERS frame with END_STREAM, which gRPC
 * clients require of a trailers-only response (writeHead + end would send HEADERS, then an empty DATA frame ending
 * the stream, and the client would see the grpc-status in initial metadata, not as the status).
 */
export function respondWithoutBody(
  res: DownstreamRes,
  status: number,
  headers: OutgoingHttpHeaders | HeaderList,
): void {
  if ('stream' in res && res.stream !== undefined) {
    const object = Array.isArray(headers) ? outgoingObject(headers) : headers;
    res.stream.respond({ ...object, [h2.HTTP2_HEADER_STATUS]: status }, { endStream: true });
  } else {
    (res as Http1Response).writeHead(status, headers);
    endResponse(res);
  }
}

/** Ends either kind of response (their `end` overloads do not unify for a call through the union). */
export function endResponse(res: DownstreamRes, body?: string | Uint8Array): void {
  (res as Http1Response).end(body);
}

/** The downstream request's body as a stream: an HTTP/2 request is one; an HTTP/1 request has one when it has a body. */
function bodyOf(req: DownstreamReq, http2: boolean): Readable | null {
  return http2 ? (req as H2Request).stream : (req as Http1Request).body;
}
