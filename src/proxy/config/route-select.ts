/**
 * The hot path over a RouteTable: Envoy's virtual host selection (exact domain, then the longest `*suffix`, then
 * the longest `prefix*`, then `*`; a wildcard matches at least one character), first-match route selection, and the
 * weighted-cluster pick. Nothing here allocates beyond a lowercased path and a parsed query string, and only when a
 * route asks for them.
 */
import { matchHeader, matchQueryParameter } from './matchers.js';
import type {
  Route,
  RouteMatch,
  RouteTable,
  VirtualHost,
  WeightedClusterEntry,
  WeightedClusters,
} from './route-types.js';

/** What route matching reads of a request. */
export interface RequestView {
  /** Uppercase method (`GET`, `CONNECT`). */
  readonly method: string;
  /** `:path` with its query string; empty for an HTTP/1 CONNECT. */
  readonly path: string;
  /** A header by lowercase name, multiple values joined with ','; pseudo-headers (`:authority`, `:scheme`) too. */
  header(name: string): string | undefined;
}

/** The virtual host for a Host / :authority value (compared lowercase, port included as sent). */
export function selectVirtualHost(table: RouteTable, authority: string): VirtualHost | undefined {
  const host = authority.toLowerCase();
  const { exact, suffixes, prefixes, any } = table.domains;
  const found = exact.get(host);
  if (found !== undefined) return found;
  for (let i = 0; i < suffixes.length; i++) {
    const s = suffixes[i]!;
    if (host.length > s.suffix.length && host.endsWith(s.suffix)) return s.host;
  }
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (host.length > p.prefix.length && host.startsWith(p.prefix)) return p.host;
  }
  return any;
}

/** Per-request memo of what several routes may need. */
class RequestState {
  private pathOnly?: string;
  private lowerPath?: string;
  private query?: Map<string, string>;

  constructor(readonly request: RequestView) {}

  path(): string {
    if (this.pathOnly === undefined) {
      const p = this.request.path;
      let end = 0;
      while (end < p.length) {
        const c = p.charCodeAt(end);
        if (c === 63 /* ? */ || c === 35 /* # */) break;
        end++;
      }
      this.pathOnly = end === p.length ? p : p.slice(0, end);
    }
    return this.pathOnly;
  }

  lower(): string {
    return (this.lowerPath ??= this.path().toLowerCase());
  }

  /** First value of each query parameter, not percent-decoded (as Envoy matches them). */
  queryParam(name: string): string | undefined {
    if (this.query === undefined) {
      this.query = new Map();
      const p = this.request.path;
      const q = p.indexOf('?');
      if (q >= 0) {
        const end = p.indexOf('#', q);
        for (const pair of p.slice(q + 1, end < 0 ? undefined : end).split('&')) {
          if (pair === '') continue;
          const eq = pair.indexOf('=');
          const key = eq < 0 ? pair : pair.slice(0, eq);
          if (!this.query.has(key)) this.query.set(key, eq < 0 ? '' : pair.slice(eq + 1));
        }
      }
    }
    return this.query.get(name);
  }
}

function pathMatches(match: RouteMatch, state: RequestState): boolean {
  const m = match.path;
  const connect = state.request.method === 'CONNECT';
  if (m.kind === 'connect') return connect;
  if (connect && state.request.path === '') return false;
  if (m.kind === 'regex') return m.regex.test(state.path());
  const path = m.caseSensitive ? state.path() : state.lower();
  if (m.kind === 'prefix') return path.startsWith(m.value);
  if (m.kind === 'exact') return path === m.value;
  return path === m.value || (path.startsWith(m.value) && path.charCodeAt(m.value.length) === 47); // '/'
}

/** Does the route's match accept the request? `random` decides runtime fractions. */
export function routeMatches(match: RouteMatch, request: RequestView, random: () => number = Math.random): boolean {
  return matches(match, new RequestState(request), random);
}

function matches(match: RouteMatch, state: RequestState, random: () => number): boolean {
  if (!pathMatches(match, state)) return false;
  if (match.grpc && !(state.request.header('content-type') ?? '').startsWith('application/grpc')) return false;
  const headers = match.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (!matchHeader(h, state.request.header(h.name))) return false;
  }
  const query = match.queryParameters;
  for (let i = 0; i < query.length; i++) {
    const q = query[i]!;
    if (!matchQueryParameter(q, state.queryParam(q.name))) return false;
  }
  return match.fractionPerMillion >= 1_000_000 || random() * 1_000_000 < match.fractionPerMillion;
}

/** The first route of the virtual host whose match accepts the request. */
export function selectRoute(
  host: VirtualHost,
  request: RequestView,
  random: () => number = Math.random,
): Route | undefined {
  const state = new RequestState(request);
  const routes = host.routes;
  for (let i = 0; i < routes.length; i++) if (matches(routes[i]!.match, state, random)) return routes[i];
  return undefined;
}

/** A weighted cluster, chosen in proportion to the weights (`random` in [0, 1)). */
export function pickWeightedCluster(wc: WeightedClusters, random: () => number = Math.random): WeightedClusterEntry {
  const r = Math.floor(random() * wc.totalWeight);
  const { cumulative } = wc;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  return wc.clusters[lo]!;
}
