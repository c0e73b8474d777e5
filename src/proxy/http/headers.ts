/**
 * Header handling on the proxy's path, in Envoy's terms: hop-by-hop headers are removed in both directions (RFC 9110
 * 7.6.1, plus the names a `Connection` header lists), `x-forwarded-for` / `x-forwarded-proto` are set, an
 * `x-request-id` is added when absent, and a route's header mutations are applied in Envoy's order.
 *
 * Headers travel as a flat list, `[name, value, name, value, ...]` with lowercase names: the shape the HTTP/1.1
 * parser produces and the serializers read. A field received twice stays two entries. No object is built per
 * request: an object keyed by header names costs a string-table lookup per name and megamorphic property access,
 * where a list costs a few string comparisons. Objects are made only at the edges that need them (node:http2's
 * request and respond, rarely used paths).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { HeaderMutations } from '../config/index.js';
import { newRequestId } from './request-id.js';

/** `[name, value, name, value, ...]`, names lowercase. */
export type HeaderList = string[];

/**
 * Never forwarded: connection-level headers, and those HTTP/2 forbids (`te: trailers` is kept for gRPC): connection,
 * keep-alive, proxy-connection, proxy-authenticate, proxy-authorization, transfer-encoding, upgrade, http2-settings,
 * expect, and host (the proxy sets it). A switch on the length, not a Set: a Set hashes every new name string.
 */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 4:
      return name === 'host';
    case 6:
      return name === 'expect';
    case 7:
      return name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 14:
      return name === 'http2-settings';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    case 18:
      return name === 'proxy-authenticate';
    case 19:
      return name === 'proxy-authorization';
    default:
      return false;
  }
}

const REQUEST_ID = 'x-request-id';

/** Request header names a client may not send through the mesh (it sets them itself). */
const MESH_ONLY_REQUEST = 'x-shoal-response-flags';

/** The first value of a header, or undefined. */
export function findHeader(list: readonly string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

/**
 * A header's value as one string, or undefined: a field received more than once is joined with `separator` (`, ` as
 * Node's IncomingHttpHeaders does; Envoy's matchers use `,`), cookie always with `; `.
 */
export function headerValue(list: readonly string[], name: string, separator = ', '): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== name) continue;
    value = value === undefined ? list[i + 1] : `${value}${name === 'cookie' ? '; ' : separator}${list[i + 1]!}`;
  }
  return value;
}

/** Sets a header to one value: the first entry is replaced and any other removed, or the pair is appended. */
export function setHeader(list: HeaderList, name: string, value: string): void {
  let found = -1;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== name) continue;
    if (found < 0) {
      found = i;
      list[i + 1] = value;
    } else {
      removeHeader(list, name, i);
      break;
    }
  }
  if (found < 0) list.push(name, value);
}

/** Removes every entry of `name` at or after index `from`, in place. */
export function removeHeader(list: HeaderList, name: string, from = 0): void {
  let j = from;
  for (let i = from; i < list.length; i += 2) {
    if (list[i] === name) continue;
    if (j !== i) {
      list[j] = list[i]!;
      list[j + 1] = list[i + 1]!;
    }
    j += 2;
  }
  // A length store is a runtime call: only when something was removed.
  if (j !== list.length) list.length = j;
}

/**
 * The request headers to send upstream: the downstream ones minus hop-by-hop headers (pseudo-headers too), with
 * `authority` as the Host, x-forwarded-proto (`scheme`, unless the client sent one) and x-request-id (when absent)
 * set. `appendForwardedFor`: the downstream peer's address to append to x-forwarded-for (use_remote_address,
 * Envoy's edge behaviour), or undefined to pass x-forwarded-for through. Returns a new list; `host` comes first.
 */
export function upstreamRequestHeaders(
  incoming: readonly string[],
  authority: string,
  scheme: string,
  appendForwardedFor: string | undefined,
): HeaderList {
  const out: HeaderList = ['host', authority];
  let connection: string | undefined;
  let xff: string | undefined;
  let proto = false;
  let requestId = false;
  for (let i = 0; i < incoming.length; i += 2) {
    const name = incoming[i]!;
    const value = incoming[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (isHopByHop(name)) {
      if (name === 'connection') connection = connection === undefined ? value : `${connection},${value}`;
      continue;
    }
    switch (name) {
      case 'te':
        if (value !== 'trailers') continue;
        break;
      case MESH_ONLY_REQUEST:
        continue;
      case 'x-forwarded-for':
        if (appendForwardedFor !== undefined) {
          xff = xff === undefined ? value : `${xff}, ${value}`;
          continue;
        }
        break;
      case 'x-forwarded-proto':
        proto = true;
        break;
      case REQUEST_ID:
        requestId = true;
        break;
    }
    out.push(name, value);
  }
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      // Connection may not take away what the proxy sets (host), nor `te: trailers` (kept, as Envoy keeps it).
      if (name === '' || name === 'host' || name === 'te') continue;
      removeHeader(out, name, 2);
    }
  }
  if (appendForwardedFor !== undefined) {
    if (appendForwardedFor !== '') {
      out.push('x-forwarded-for', xff === undefined ? appendForwardedFor : `${xff}, ${appendForwardedFor}`);
    } else if (xff !== undefined) out.push('x-forwarded-for', xff);
  }
  if (!proto) out.push('x-forwarded-proto', scheme);
  if (!requestId) out.push(REQUEST_ID, newRequestId());
  return out;
}

/**
 * Response headers to send downstream: hop-by-hop headers, the names `Connection` lists, and pseudo-headers removed,
 * in place (the list is the proxy's own: the upstream client parsed it for this response). Returns the same list.
 * `framingKept`: the downstream writer leaves Connection, Keep-Alive and Transfer-Encoding out itself (the HTTP/1.1
 * server), so they stay: a typical response (`connection: keep-alive`) then needs no change at all.
 */
export function stripResponseHopByHop(list: HeaderList, framingKept = false): HeaderList {
  let listed: string | undefined;
  let j = 0;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (isHopByHop(name) && name !== 'host') {
      if (name === 'connection') listed = listed === undefined ? list[i + 1] : `${listed},${list[i + 1]!}`;
      if (!framingKept || !isFraming(name)) continue;
    }
    if (j !== i) {
      list[j] = name;
      list[j + 1] = list[i + 1]!;
    }
    j += 2;
  }
  if (j !== list.length) list.length = j;
  if (listed !== undefined && listed !== 'keep-alive' && listed !== 'close') {
    for (const token of listed.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && !(framingKept && isFraming(name))) removeHeader(list, name);
    }
  }
  return list;
}

/** Connection, Keep-Alive, Transfer-Encoding: what an HTTP/1.1 writer decides itself. */
export function isFraming(name: string): boolean {
  const n = name.length;
  return (n === 10 && (name === 'connection' || name === 'keep-alive')) || (n === 17 && name === 'transfer-encoding');
}

/**
 * Applies a route's header operations in place, in Envoy's order (HeaderParser::evaluateHeaders): every `remove`
 * first, then every `add`, so a route can replace a header by removing and adding it.
 */
export function applyMutations(list: HeaderList, mutations: HeaderMutations): void {
  if (mutations.add.length === 0 && mutations.remove.length === 0) return;
  for (const name of mutations.remove) removeHeader(list, name);
  for (const h of mutations.add) {
    if (h.value === '' && !h.keepEmptyValue) continue;
    switch (h.action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        list.push(h.name, h.value);
        break;
      case 'ADD_IF_ABSENT':
        if (findHeader(list, h.name) === undefined) list.push(h.name, h.value);
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        setHeader(list, h.name, h.value);
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (findHeader(list, h.name) !== undefined) setHeader(list, h.name, h.value);
        break;
    }
  }
}

/**
 * A field a trailer section may not carry (RFC 9110 6.5.1): pseudo-headers, the hop-by-hop set, and what frames the
 * message (Content-Length, TE).
 */
export function forbiddenInTrailers(name: string): boolean {
  return name.charCodeAt(0) === 58 /* ':' */ || isHopByHop(name) || name === 'content-length' || name === 'te';
}

/** The trailer fields that may be forwarded (a new list). */
export function allowedTrailers(list: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < list.length; i += 2) if (!forbiddenInTrailers(list[i]!)) out.push(list[i]!, list[i + 1]!);
  return out;
}

/**
 * A header list as Node's header object (IncomingHttpHeaders rules: set-cookie always a list; a field received more
 * than once joined with `; ` for cookie and `, ` for the others), for the APIs that take objects.
 */
export function headersObject(list: readonly string[]): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    const value = list[i + 1]!;
    const existing = out[name];
    if (existing === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = `${existing}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}

/** A header list as an outgoing header object: a field listed more than once becomes an array of its values. */
export function outgoingObject(list: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    const value = list[i + 1]!;
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [String(existing), value];
  }
  return out;
}

/** A header object (node:http2's, or a caller's) as a list, names lowercased; arrays become several entries. */
export function headerList(headers: Readonly<Record<string, string | string[] | number | undefined>>): HeaderList {
  const out: HeaderList = [];
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    const name = key.toLowerCase();
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, typeof value === 'string' ? value : String(value));
  }
  return out;
}
