/**
 * Header handling on the proxy's path, in Envoy's terms: hop-by-hop headers are removed in both directions (RFC 9110
 * 7.6.1, plus the names a `Connection` header lists), `x-forwarded-for` / `x-forwarded-proto` are set, an
 * `x-request-id` is added when absent, and a route's header mutations are applied in Envoy's order. Names are the
 * lowercase keys Node gives (`IncomingHttpHeaders`), and an outgoing header set is a plain object built once per
 * request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { HeaderMutations } from '../config/index.js';

/** Never forwarded: connection-level headers, and those HTTP/2 forbids. `te: trailers` is kept for gRPC. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
  'host',
]);

export const REQUEST_ID = 'x-request-id';

/** Request header names a client may not send through the mesh (it sets them itself). */
const MESH_ONLY_REQUEST = 'x-shoal-response-flags';

export interface ForwardedInfo {
  /** The downstream peer's address ('' when unknown). */
  readonly remoteAddress: string;
  /** `http` (or `https` once TLS lands). */
  readonly scheme: string;
  /** Append the peer to x-forwarded-for (use_remote_address, Envoy's edge behaviour). */
  readonly appendForwardedFor: boolean;
}

/**
 * The request headers to send upstream: the downstream ones minus hop-by-hop headers (pseudo-headers too), with
 * `authority` as the Host / :authority, x-forwarded-* and x-request-id set. Returns a new object.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  authority: string,
  info: ForwardedInfo,
): OutgoingHttpHeaders {
  const connection = incoming.connection;
  const listed = connection !== undefined && connection !== 'keep-alive' && connection !== 'close';
  const out: OutgoingHttpHeaders = { host: authority };
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || name.charCodeAt(0) === 58 /* ':' */ || name === MESH_ONLY_REQUEST) continue;
    if (name === 'te') {
      if (incoming.te === 'trailers') out.te = 'trailers';
      continue;
    }
    out[name] = incoming[name];
  }
  if (listed) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      // Connection may not take away what the proxy sets (host), nor `te: trailers` (kept, as Envoy keeps it).
      if (name === 'host' || (name === 'te' && out.te === 'trailers')) continue;
      delete out[name];
    }
  }
  if (info.appendForwardedFor && info.remoteAddress !== '') {
    const xff = incoming['x-forwarded-for'];
    out['x-forwarded-for'] = xff === undefined ? info.remoteAddress : `${headerString(xff)}, ${info.remoteAddress}`;
  }
  if (incoming['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = info.scheme;
  if (incoming[REQUEST_ID] === undefined) out[REQUEST_ID] = randomUUID();
  return out;
}

/** Connection-level framing headers an HTTP/1.1 downstream's serializer leaves out by itself (http1/server.ts). */
const FRAMING: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding']);

/**
 * Response headers to send downstream: hop-by-hop headers removed, in place (the object is the proxy's own: the
 * upstream client parsed it for this response). Returns the same object. `framingDropped`: the downstream writer
 * leaves Connection, Keep-Alive and Transfer-Encoding out itself (the HTTP/1.1 server), so they are not deleted here:
 * a `delete` turns the object into a slow dictionary for the rest of its short life.
 */
export function stripResponseHopByHop(headers: IncomingHttpHeaders, framingDropped = false): IncomingHttpHeaders {
  const connection = headers.connection;
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (!framingDropped || !FRAMING.has(name)) delete headers[name];
    }
  }
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */) delete headers[name];
    else if (HOP_BY_HOP.has(name) && name !== 'host' && !(framingDropped && FRAMING.has(name))) delete headers[name];
  }
  return headers;
}

/**
 * Applies a route's header operations in place, in Envoy's order (HeaderParser::evaluateHeaders): every `remove`
 * first, then every `add`, so a route can replace a header by removing and adding it.
 */
export function applyMutations(headers: OutgoingHttpHeaders, mutations: HeaderMutations): void {
  for (const name of mutations.remove) delete headers[name];
  for (const h of mutations.add) {
    if (h.value === '' && !h.keepEmptyValue) continue;
    const existing = headers[h.name];
    switch (h.action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        headers[h.name] =
          existing === undefined
            ? h.value
            : Array.isArray(existing)
              ? [...existing, h.value]
              : [String(existing), h.value];
        break;
      case 'ADD_IF_ABSENT':
        if (existing === undefined) headers[h.name] = h.value;
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        headers[h.name] = h.value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (existing !== undefined) headers[h.name] = h.value;
        break;
    }
  }
}

export function hasMutations(m: HeaderMutations): boolean {
  return m.add.length > 0 || m.remove.length > 0;
}

/** A header value as one string (several values joined with ', '). */
export function headerString(value: string | string[] | undefined): string | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : value;
}
