/**
 * The downstream request as route matching and hash policies read it: method, authority and path (from the
 * absolute-form request line of an HTTP proxy request, the Host header, or HTTP/2's pseudo-headers), and headers by
 * lowercase name (looked up in the request's header list). One object per request; nothing is parsed until a route
 * asks for it.
 */
import type { RequestView } from '../config/index.js';
import type { HashRequestView } from '../lb/hash-policy.js';
import { findHeader, headerValue, type HeaderList } from './headers.js';

export class DownstreamRequest implements RequestView, HashRequestView {
  private queryMap?: Map<string, string>;

  constructor(
    readonly method: string,
    /** Host / :authority, as sent (port included). */
    public authority: string,
    /** Path with query string. */
    public path: string,
    /** The request's headers as received (an HTTP/2 request's pseudo-headers included). */
    readonly headers: HeaderList,
    /** The downstream peer's address, or the socket to read it from when asked (most requests never ask). */
    private readonly source: string | { readonly remoteAddress?: string | undefined } | undefined,
    readonly http2: boolean,
  ) {}

  /** The downstream peer's address ('' when unknown). */
  get sourceIp(): string {
    const source = this.source;
    return typeof source === 'string' ? source : (source?.remoteAddress ?? '');
  }

  header(name: string): string | undefined {
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority') return this.authority;
      if (name === ':path') return this.path;
      if (name === ':method') return this.method;
      if (name === ':scheme') return 'http';
      return undefined;
    }
    if (name === 'host') return this.authority;
    // A field received more than once is matched as its values joined with ',' (Envoy's header matchers).
    return headerValue(this.headers, name, ',');
  }

  query(name: string): string | undefined {
    if (this.queryMap === undefined) {
      this.queryMap = new Map();
      const q = this.path.indexOf('?');
      if (q >= 0) {
        for (const [k, v] of new URLSearchParams(this.path.slice(q + 1))) {
          if (!this.queryMap.has(k)) this.queryMap.set(k, v);
        }
      }
    }
    return this.queryMap.get(name);
  }

  get grpc(): boolean {
    const ct = findHeader(this.headers, 'content-type');
    return ct !== undefined && ct.startsWith('application/grpc');
  }
}

/**
 * Splits an HTTP/1 request target: origin-form (`/path`) keeps the Host header as authority; absolute-form
 * (`http://host:port/path`, what an app sends to its HTTP_PROXY) gives both. Undefined for a target that is neither.
 */
export function splitTarget(url: string, host: string | undefined): { authority: string; path: string } | undefined {
  if (url.charCodeAt(0) === 47 /* '/' */) return { authority: host ?? '', path: url };
  if (url === '*') return { authority: host ?? '', path: '*' };
  const scheme = url.indexOf('://');
  if (scheme <= 0) return undefined;
  const s = url.slice(0, scheme).toLowerCase();
  if (s !== 'http' && s !== 'https') return undefined;
  const start = scheme + 3;
  let end = start;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  const authority = url.slice(start, end);
  if (authority === '' || authority.includes('@')) return undefined;
  const rest = url.slice(end);
  return { authority, path: rest === '' ? '/' : rest.charCodeAt(0) === 47 ? rest : `/${rest}` };
}
