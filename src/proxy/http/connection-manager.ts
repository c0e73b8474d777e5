/**
 * The HTTP connection manager and router of one listener, in Envoy's words: for every downstream request it reads
 * the route table in force once (a configuration change never splits a request), selects the virtual host and the
 * route, applies the fault filter, picks the cluster (weighted), the endpoint (the cluster's picker, with the
 * route's hash policy) and forwards through the endpoint's pool (exchange.ts), streaming both bodies. Whatever the
 * mesh itself fails is answered from the rescue table with its response flag, counted, and logged.
 *
 * HTTP/1.1 upgrades (WebSocket) are forwarded as upgrades; `CONNECT host:port` opens a TCP tunnel when a route
 * with a connect matcher sends it to a cluster.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../core/logger.js';
import {
  pickWeightedCluster,
  selectRoute,
  selectVirtualHost,
  type FaultConfig,
  type ForwardAction,
  type HeaderMutations,
  type LbEndpoint as ConfigLbEndpoint,
  type ListenerConfig,
  type Route,
  type RouteTable,
  type WeightedClusterEntry,
} from '../config/index.js';
import { matchHeader } from '../config/matchers.js';
import { computeRequestHash, parseHashPolicies, type HashMethod } from '../lb/hash-policy.js';
import type { Http1Request, Http1Response } from '../http1/server.js';
import type { H2Request } from '../http2/downstream.js';
import { ProxyFailure, syntheticResponse, type ResponseFlag } from './rescue.js';
import { classifyFailure } from './retry.js';
import type { ClusterManager, UpstreamCluster } from '../upstream/cluster-manager.js';
import type { ListenerStats } from '../stats.js';
import { endResponse, Exchange, respondWithoutBody, type DownstreamRes, type ExchangeOwner } from './exchange.js';
import { findHeader, removeHeader, upstreamRequestHeaders, type HeaderList } from './headers.js';
import { DownstreamRequest, splitTarget } from './request-view.js';
import { openTunnel, splitAuthority } from './tunnel.js';

export type DownstreamReq = Http1Request | H2Request;

/** What a listener's connection manager reads at request time (swapped whole on a configuration change). */
export interface ListenerState {
  readonly listener: ListenerConfig;
  readonly routes: RouteTable | undefined;
}

export interface ConnectionManagerContext {
  readonly clusters: ClusterManager;
  readonly stats: ListenerStats;
  readonly logger: Logger;
  /** Whether the sidecar is draining: responses then ask HTTP/1.1 clients to close their connection. */
  draining(): boolean;
  /** An access log line for every request, when enabled. */
  readonly accessLog?: (entry: AccessLogEntry) => void;
  /**
   * An HTTP/1.1 upgrade no route enables: hand the request back to be answered as a plain request (the listener
   * replays it without its Upgrade headers). Without it such an upgrade is answered 404 NR.
   */
  readonly ignoreUpgrade?: (req: Http1Request, socket: Socket, head: Buffer) => void;
}

export interface AccessLogEntry {
  readonly listener: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly status: number;
  readonly flags: string;
  readonly route: string;
  readonly cluster: string;
  readonly upstream: string;
  readonly durationMs: number;
  readonly requestId: string;
}

const hashPolicies = new WeakMap<Route, readonly HashMethod[]>();

function hashPolicyOf(route: Route, action: ForwardAction): readonly HashMethod[] {
  let parsed = hashPolicies.get(route);
  if (parsed === undefined) {
    const result = parseHashPolicies(action.hashPolicy);
    parsed = result.ok ? result.value : [];
    hashPolicies.set(route, parsed);
  }
  return parsed;
}

let activeFaults = 0;

/** The cluster a forwarding action sends this request to (a weighted pick for weighted clusters). */
function clusterNameOf(action: ForwardAction): string {
  return action.type === 'cluster' ? action.cluster : pickWeightedCluster(action.weightedClusters).name;
}

interface EntryMutations {
  readonly requestMutations: HeaderMutations;
  readonly responseMutations: HeaderMutations;
}

const entryMutationCache = new WeakMap<WeightedClusterEntry, EntryMutations>();

/**
 * A weighted cluster's header operations followed by its route's, merged once per (immutable) entry: an entry
 * belongs to one route, so the cache never mixes routes, and the request path only looks the result up.
 */
function entryMutations(entry: WeightedClusterEntry, route: Route): EntryMutations {
  let merged = entryMutationCache.get(entry);
  if (merged === undefined) {
    const merge = (first: HeaderMutations, then: HeaderMutations): HeaderMutations =>
      first.add.length === 0 && first.remove.length === 0
        ? then
        : { add: [...first.add, ...then.add], remove: [...first.remove, ...then.remove] };
    merged = {
      requestMutations: merge(entry.requestHeaders, route.requestHeaders),
      responseMutations: merge(entry.responseHeaders, route.responseHeaders),
    };
    entryMutationCache.set(entry, merged);
  }
  return merged;
}

export class HttpConnectionManager implements ExchangeOwner {
  state: ListenerState;

  constructor(
    state: ListenerState,
    private readonly ctx: ConnectionManagerContext,
  ) {
    this.state = state;
  }

  /** Every request, from the HTTP/1.1 server and from HTTP/2 streams (http2/downstream.ts). */
  readonly onRequest = (req: DownstreamReq, res: DownstreamRes): void => {
    const started = performance.now();
    const stats = this.ctx.stats;
    stats.begin();
    const { listener, routes } = this.state;
    const http2 = req.httpVersionMajor === 2;
    let authority: string;
    let path: string;
    if (http2) {
      const h = req.headers;
      authority = h[':authority'] ?? h.host ?? '';
      path = h[':path'] ?? '/';
    } else {
      const url = req.url;
      if (url.charCodeAt(0) === 47 /* '/' */) {
        // Origin form, by far the most common: no target to split.
        authority = req.host ?? '';
        path = url;
      } else {
        const target = splitTarget(url, req.host);
        if (target === undefined) return this.malformed(req, res as Http1Response, 'malformed request target', started);
        ({ authority, path } = target);
      }
      const malformed = req.httpVersionMajor !== 1 ? 'HTTP/0.9 request' : hostHeaderProblem(req, authority);
      if (malformed !== undefined) return this.malformed(req, res as Http1Response, malformed, started);
    }
    const list = req.rawHeaders;
    const request = new DownstreamRequest(req.method ?? 'GET', authority, path, list, req.socket, http2);
    if (!http2 && this.ctx.draining()) (res as Http1Response).shouldKeepAlive = false;
    const host = routes === undefined ? undefined : selectVirtualHost(routes, stripPort(authority, listener));
    const route = host === undefined ? undefined : selectRoute(host, request);
    if (route === undefined) return this.fail(req, res, new ProxyFailure('NR', authority), started, request);
    const action = route.action;
    if (action.type === 'direct_response') return this.direct(res, route, request, action.status, action.body, started);
    if (action.type === 'redirect') return this.redirect(res, route, request, started);
    const fault = listener.httpFilters.includes('fault') ? (route.fault ?? listener.fault) : undefined;
    let clusterName: string;
    let hostRewrite = action.hostRewrite;
    let requestMutations = route.requestHeaders;
    let responseMutations = route.responseHeaders;
    if (action.type === 'cluster') {
      clusterName = action.cluster;
    } else {
      const picked = pickWeightedCluster(action.weightedClusters);
      clusterName = picked.name;
      if (picked.hostRewrite !== undefined) hostRewrite = picked.hostRewrite;
      ({ requestMutations, responseMutations } = entryMutations(picked, route));
    }
    const cluster = this.ctx.clusters.get(clusterName);
    if (cluster === undefined) return this.fail(req, res, new ProxyFailure('NC', clusterName), started, request);
    const headers = upstreamRequestHeaders(
      list,
      hostRewrite ?? authority,
      'http',
      listener.useRemoteAddress ? request.sourceIp : undefined,
    );
    const exchange = new Exchange(
      this,
      req,
      res,
      request,
      route,
      action,
      cluster,
      rewritePath(path, route, action),
      headers,
      requestMutations,
      responseMutations,
      cluster.lb.usesHash ? computeRequestHash(hashPolicyOf(route, action), request) : undefined,
      http2 ? req.stream.endAfterHeaders : req.body === null,
      started,
    );
    if (fault !== undefined && this.applyFault(fault, request, cluster, exchange)) return;
    exchange.start();
  };

  /** An exchange is over: count it and log it. */
  exchangeDone(exchange: Exchange, status: number, flags: string, upstream: string): void {
    this.finish(
      exchange.request,
      exchange.route,
      exchange.cluster,
      status,
      flags,
      upstream,
      exchange.started,
      exchange.headers,
    );
  }

  /** A request too malformed to route (400 DPE, and the connection closes). */
  private malformed(req: Http1Request, res: Http1Response, why: string, started: number): void {
    res.shouldKeepAlive = false;
    this.fail(req, res, new ProxyFailure('DPE', why), started);
  }

  /** The 'upgrade' handler of the HTTP/1.1 server (WebSocket and other upgrades). */
  readonly onUpgrade = (req: Http1Request, socket: Socket, head: Buffer): void => {
    const started = performance.now();
    const { listener, routes } = this.state;
    const target = splitTarget(req.url, req.host);
    const upgrade = (findHeader(req.rawHeaders, 'upgrade') ?? '').toLowerCase();
    const rejectWith = (flag: ResponseFlag): void => {
      const r = syntheticResponse(new ProxyFailure(flag), false);
      socket.end(rawResponse(r.status, r.headers, r.body));
      this.ctx.stats.end(r.status, flag, performance.now() - started);
    };
    if (target === undefined || req.httpVersionMajor !== 1 || hostHeaderProblem(req, target.authority) !== undefined) {
      this.ctx.stats.begin();
      return rejectWith('DPE');
    }
    const request = new DownstreamRequest(
      'GET',
      target.authority,
      target.path,
      req.rawHeaders,
      req.socket.remoteAddress ?? '',
      false,
    );
    const host = routes === undefined ? undefined : selectVirtualHost(routes, stripPort(target.authority, listener));
    const route = host === undefined ? undefined : selectRoute(host, request);
    const action = route?.action;
    if (
      route === undefined ||
      action === undefined ||
      (action.type !== 'cluster' && action.type !== 'weighted_clusters') ||
      (!listener.upgrades.includes(upgrade) && !action.upgrades.includes(upgrade))
    ) {
      // Not an upgrade the mesh proxies here: answer it as a plain request when the listener can replay it.
      if (this.ctx.ignoreUpgrade !== undefined) return this.ctx.ignoreUpgrade(req, socket, head);
      this.ctx.stats.begin();
      return rejectWith('NR');
    }
    this.ctx.stats.begin();
    const cluster = this.ctx.clusters.get(clusterNameOf(action));
    if (cluster === undefined) return rejectWith('NC');
    const headers = upstreamRequestHeaders(
      req.rawHeaders,
      action.hostRewrite ?? target.authority,
      'http',
      listener.useRemoteAddress ? request.sourceIp : undefined,
    );
    const hash = cluster.lb.usesHash ? computeRequestHash(hashPolicyOf(route, action), request) : undefined;
    const picked = cluster.picker.pick(hash === undefined ? undefined : { hash });
    if (picked.type !== 'complete') return rejectWith('UH');
    const endpoint = picked.endpoint;
    picked.state.activeRequests++;
    let released = false;
    const release = (status: number, flags: string): void => {
      if (released) return;
      released = true;
      picked.state.activeRequests--;
      this.ctx.stats.end(status, flags, performance.now() - started);
    };
    socket.on('error', () => undefined);
    cluster.pool(endpoint).dispatch(
      {
        path: rewritePath(target.path, route, action),
        method: 'GET',
        headers,
        upgrade,
        body: null,
        trusted: true,
      },
      {
        onRequestStart: () => undefined,
        onRequestUpgrade: (_controller, statusCode, upstreamHeaders, upstream) => {
          socket.write(rawHead(statusCode, upstreamHeaders));
          if (head.length > 0) upstream.write(head);
          upstream.on('error', () => socket.destroy());
          socket.on('error', () => upstream.destroy());
          upstream.pipe(socket);
          socket.pipe(upstream);
          socket.once('close', () => {
            upstream.destroy();
            release(statusCode, '');
          });
          upstream.once('close', () => socket.destroy());
        },
        onResponseStart: (_controller, statusCode, upstreamHeaders) => {
          // The upstream refused the upgrade: relay its answer as a plain response.
          removeHeader(upstreamHeaders, 'transfer-encoding');
          removeHeader(upstreamHeaders, 'connection');
          upstreamHeaders.push('connection', 'close');
          socket.write(rawHead(statusCode, upstreamHeaders));
          release(statusCode, '');
        },
        onResponseData: (_controller, chunk) => void socket.write(Buffer.from(chunk)),
        onResponseEnd: () => void socket.end(),
        onResponseError: (_controller, error) => {
          const flag: ResponseFlag = classifyFailure(error) === 'connect-failure' ? 'UF' : 'UR';
          if (!released) {
            rejectWith(flag);
            released = true;
            picked.state.activeRequests--;
          } else socket.destroy();
        },
      },
    );
  };

  /**
   * The 'connect' handler of the HTTP/1.1 server: `CONNECT host:port` becomes a TCP tunnel (tunnel.ts). On the
   * inbound listener, a CONNECT to this pod's own address goes straight to that port (a peer sidecar tunnelling to
   * the app); anything else follows the routes, like on the outbound listener.
   */
  readonly onConnect = (req: Http1Request, socket: Socket, head: Buffer): void => {
    const started = performance.now();
    this.ctx.stats.begin();
    const { listener, routes } = this.state;
    const authority = req.url ?? '';
    let finished = false;
    let established = false;
    const end = (status: number, flags: string): void => {
      if (finished) return;
      finished = true;
      this.ctx.stats.end(status, flags, performance.now() - started);
    };
    const reply = (flag: ResponseFlag): void => {
      const r = syntheticResponse(new ProxyFailure(flag), false);
      socket.end(rawResponse(r.status, r.headers, r.body));
      end(r.status, flag);
    };
    socket.on('error', () => undefined);
    const splice = (upstream: Socket, rest: Buffer): void => {
      established = true;
      socket.write('HTTP/1.1 200 OK\r\n\r\n');
      if (rest.length > 0) socket.write(rest);
      if (head.length > 0) upstream.write(head);
      upstream.on('error', () => socket.destroy());
      upstream.pipe(socket);
      socket.pipe(upstream);
      upstream.resume();
      socket.once('close', () => upstream.destroy());
      upstream.once('close', () => {
        socket.destroy();
        end(200, '');
      });
    };
    const target = splitAuthority(authority);
    if (target === undefined) return reply('DPE');
    if (listener.kind === 'inbound' && target.host === listener.address) {
      const own: ConfigLbEndpoint = {
        key: authority,
        address: target.host,
        port: target.port,
        weight: 1,
        health: 'HEALTHY',
        locality: { region: '', zone: '', subZone: '' },
        priority: 0,
      };
      openTunnel(own, 10_000).then(
        ({ socket: upstream, rest }) => splice(upstream, rest),
        () => reply('UF'),
      );
      return;
    }
    const request = new DownstreamRequest(
      'CONNECT',
      authority,
      '',
      req.rawHeaders,
      req.socket.remoteAddress ?? '',
      false,
    );
    const host = routes === undefined ? undefined : selectVirtualHost(routes, authority);
    const route = host === undefined ? undefined : selectRoute(host, request);
    const action = route?.action;
    if (action === undefined || (action.type !== 'cluster' && action.type !== 'weighted_clusters')) {
      return reply('NR');
    }
    const cluster = this.ctx.clusters.get(clusterNameOf(action));
    if (cluster === undefined) return reply('NC');
    const picked = cluster.picker.pick();
    if (picked.type !== 'complete') return reply('UH');
    picked.state.activeRequests++;
    socket.once('close', () => {
      picked.state.activeRequests--;
      if (established) end(200, '');
      else end(499, 'DC');
    });
    openTunnel(picked.endpoint, cluster.config.connectTimeoutMs, cluster.source(picked.endpoint)).then(
      ({ socket: upstream, rest }) => {
        if (socket.destroyed) return void upstream.destroy();
        splice(upstream, rest);
      },
      () => {
        cluster.stats.cxConnectFail++;
        reply('UF');
      },
    );
  };

  private applyFault(
    fault: FaultConfig,
    request: DownstreamRequest,
    cluster: UpstreamCluster,
    exchange: Exchange,
  ): boolean {
    if (fault.upstreamCluster !== undefined && fault.upstreamCluster !== cluster.name) return false;
    for (const h of fault.headers) if (!matchHeader(h, request.header(h.name))) return false;
    if (fault.maxActiveFaults !== undefined && activeFaults >= fault.maxActiveFaults) return false;
    const abort = fault.abort !== undefined && Math.random() * 1_000_000 < fault.abort.perMillion;
    const delay = fault.delay !== undefined && Math.random() * 1_000_000 < fault.delay.perMillion;
    if (!abort && !delay) return false;
    activeFaults++;
    const act = (): void => {
      activeFaults--;
      if (abort) {
        const a = fault.abort;
        const grpcStatus = a.grpcStatus;
        exchange.failWith(new ProxyFailure('FI', 'fault injected', delay ? ['DI'] : [], a.httpStatus), grpcStatus);
      } else {
        exchange.flagDelayed();
        exchange.start();
      }
    };
    if (delay) setTimeout(act, fault.delay.fixedDelayMs);
    else act();
    return true;
  }

  private finish(
    request: DownstreamRequest,
    route: Route | undefined,
    cluster: UpstreamCluster | undefined,
    status: number,
    flags: string,
    upstream: string,
    started: number,
    headers?: HeaderList,
  ): void {
    const ms = performance.now() - started;
    this.ctx.stats.end(status, flags, ms);
    const failed = flags !== '' && flags !== 'DI';
    if (!failed && this.ctx.accessLog === undefined) return;
    const entry: AccessLogEntry = {
      listener: this.state.listener.name,
      method: request.method,
      authority: request.authority,
      path: request.path,
      status,
      flags,
      route: route?.name ?? '',
      cluster: cluster?.name ?? '',
      upstream,
      durationMs: Math.round(ms * 1000) / 1000,
      requestId: findHeader(headers ?? request.headers, 'x-request-id') ?? '',
    };
    if (failed) this.ctx.logger.warn(entry, 'request failed in the mesh');
    this.ctx.accessLog?.(entry);
  }

  /** A rescue-table answer; `request` is undefined when the request could not even be read as one. */
  private fail(
    req: DownstreamReq,
    res: DownstreamRes,
    failure: ProxyFailure,
    started: number,
    request?: DownstreamRequest,
  ): void {
    const list = req.rawHeaders;
    const grpc = (findHeader(list, 'content-type') ?? '').startsWith('application/grpc');
    const r = syntheticResponse(failure, grpc);
    if (!res.headersSent) {
      if (r.body === '') respondWithoutBody(res, r.status, r.headers);
      else {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      }
    }
    const view =
      request ??
      new DownstreamRequest(req.method ?? '', findHeader(list, 'host') ?? '', req.url ?? '', list, '', false);
    this.finish(view, undefined, undefined, r.status, failure.flags, '', started);
  }

  private direct(
    res: DownstreamRes,
    route: Route,
    request: DownstreamRequest,
    status: number,
    body: string | Uint8Array | undefined,
    started: number,
  ): void {
    const headers: Record<string, string> = {};
    for (const h of route.responseHeaders.add) headers[h.name] = h.value;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, headers);
    endResponse(res, body);
    this.finish(request, route, undefined, status, '', '', started);
  }

  private redirect(res: DownstreamRes, route: Route, request: DownstreamRequest, started: number): void {
    const a = route.action;
    if (a.type !== 'redirect') return;
    const [authHost, authPort] = splitHostPort(request.authority);
    const host = a.host ?? authHost;
    const port = a.port !== undefined ? String(a.port) : a.host !== undefined ? '' : authPort;
    const scheme = a.scheme ?? 'http';
    let path = request.path;
    const q = path.indexOf('?');
    const query = q >= 0 && !a.stripQuery ? path.slice(q) : '';
    if (q >= 0) path = path.slice(0, q);
    if (a.path !== undefined) path = a.path;
    else if (
      a.prefixRewrite !== undefined &&
      route.match.path.kind !== 'regex' &&
      route.match.path.kind !== 'connect'
    ) {
      path = a.prefixRewrite + path.slice(route.match.path.value.length);
    } else if (a.regexRewrite !== undefined) path = path.replace(a.regexRewrite.regex, a.regexRewrite.substitution);
    const location = `${scheme}://${host}${port !== '' ? `:${port}` : ''}${path}${query}`;
    res.writeHead(a.responseCode, { location, 'content-length': '0' });
    endResponse(res);
    this.finish(request, route, undefined, a.responseCode, '', '', started);
  }
}

/**
 * Why an HTTP/1.x request's Host header makes it malformed (RFC 9112 3.2: an HTTP/1.1 request needs exactly one
 * Host, unless its absolute-form target names the authority; more than one is never allowed), or undefined.
 */
function hostHeaderProblem(req: Http1Request, authority: string): string | undefined {
  if (req.hostCount > 1) return 'more than one Host header';
  if (authority === '') return req.hostCount === 0 && req.httpVersionMinor >= 1 ? 'no Host header' : undefined;
  if (authority === lastValidAuthority) return undefined;
  if (!AUTHORITY.test(authority)) return 'malformed Host';
  lastValidAuthority = authority;
  return undefined;
}

/** The authority last found well-formed: a keep-alive client sends the same one again and again. */
let lastValidAuthority = '';

/** RFC 3986 authority without userinfo: reg-name or IP literal, optional port. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::\d{0,5})?$/;

function splitHostPort(authority: string): [string, string] {
  const i = authority.lastIndexOf(':');
  if (i < 0 || authority.endsWith(']')) return [authority, ''];
  return [authority.slice(0, i), authority.slice(i + 1)];
}

function stripPort(authority: string, listener: ListenerConfig): string {
  if (listener.stripPort === 'none') return authority;
  const [host] = splitHostPort(authority);
  return host;
}

function rewritePath(path: string, route: Route, action: ForwardAction): string {
  if (action.prefixRewrite !== undefined) {
    const m = route.match.path;
    if (m.kind === 'prefix' || m.kind === 'path_separated_prefix' || m.kind === 'exact') {
      return action.prefixRewrite + path.slice(m.value.length);
    }
  }
  if (action.regexRewrite !== undefined) {
    const q = path.search(/[?#]/);
    const only = q < 0 ? path : path.slice(0, q);
    const rest = q < 0 ? '' : path.slice(q);
    return only.replace(action.regexRewrite.regex, action.regexRewrite.substitution) + rest;
  }
  return path;
}

function rawHead(status: number, headers: HeaderList | Record<string, string | string[] | undefined>): string {
  let head = `HTTP/1.1 ${status} ${status === 101 ? 'Switching Protocols' : statusText(status)}\r\n`;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
    return `${head}\r\n`;
  }
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) head += `${name}: ${one}\r\n`;
    else head += `${name}: ${v}\r\n`;
  }
  return `${head}\r\n`;
}

function rawResponse(status: number, headers: Record<string, string>, body: string): string {
  return rawHead(status, { ...headers, connection: 'close' }) + body;
}

function statusText(status: number): string {
  switch (status) {
    case 200:
      return 'OK';
    case 400:
      return 'Bad Request';
    case 404:
      return 'Not Found';
    case 503:
      return 'Service Unavailable';
    case 504:
      return 'Gateway Timeout';
    default:
      return 'Status';
  }
}
