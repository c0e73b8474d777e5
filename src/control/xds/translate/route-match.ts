/**
 * An Istio HTTPMatchRequest as an Envoy RouteMatch (Istio's translateRouteMatch):
 *
 * | Istio | Envoy |
 * | --- | --- |
 * | uri exact / prefix / regex | path / prefix / safe_regex (no uri: prefix `/`) |
 * | ignoreUriCase | case_sensitive false (a regex gets a leading `(?i)`: Envoy does not apply case_sensitive to it) |
 * | headers (sorted by name) | headers[]: string_match exact/prefix/safe_regex; `prefix: ""` or `regex: ".*"` is present_match |
 * | withoutHeaders | the same with invert_match |
 * | method, authority, scheme | headers `:method`, `:authority`, `:scheme` |
 * | queryParams (sorted) | query_parameters[]: string_match exact/safe_regex, or present_match |
 *
 * Conditions that depend on the proxy rather than the request are decided here, and a match that cannot apply
 * returns undefined: `port` (the virtual host's port), `sourceLabels` (the proxy's labels), `sourceNamespace`,
 * `gateways` (mesh or the gateway being built). Proxyless gRPC cannot match `:authority`, `:scheme` or query
 * parameters (its requests have no query string); `method` is decided statically (gRPC always POSTs).
 */
import type { HTTPMatchRequest } from '../../../api/kinds/http-route.js';
import type { StringMatch } from '../../../api/kinds/istio-common.js';
import type { ProtoObject } from '../proto-object.js';
import { labelsMatch, sortedEntries } from './common.js';
import type { ProxyType } from './proxy.js';
import { compileRegex } from '../../../api/regex.js';

/** The proxy and virtual host a route is translated for. */
export interface MatchContext {
  type: ProxyType;
  /** The proxy's namespace. */
  namespace: string;
  /** The proxy's labels; only read when a match has sourceLabels (callers build those per proxy). */
  labels?: Readonly<Record<string, string>>;
  /** The port of the virtual host being built. */
  port: number;
  /** Gateway names this build is for (`<ns>/<name>`), or `mesh` for sidecars and gRPC. */
  gateways: readonly string[];
}

/** Reports a field that could not be translated: path relative to the match. */
export type MatchWarn = (path: string, message: string) => void;

function isCatchAll(sm: StringMatch): boolean {
  return sm.prefix === '' || sm.regex === '.*' || sm.regex === '*';
}

/** An Istio StringMatch as an Envoy StringMatcher. */
export function stringMatcher(sm: StringMatch): ProtoObject {
  if (sm.exact !== undefined) return { exact: sm.exact };
  if (sm.prefix !== undefined) return { prefix: sm.prefix };
  return { safe_regex: { regex: sm.regex ?? '' } };
}

export function headerMatcher(name: string, sm: StringMatch, invert = false): ProtoObject {
  const out: ProtoObject = { name };
  if (isCatchAll(sm)) out.present_match = true;
  else out.string_match = stringMatcher(sm);
  if (invert) out.invert_match = true;
  return out;
}

function matchesStatically(sm: StringMatch, value: string): boolean {
  if (sm.exact !== undefined) return sm.exact === value;
  if (sm.prefix !== undefined) return value.startsWith(sm.prefix);
  const re = compileRegex(sm.regex ?? '', true);
  return typeof re !== 'string' && re.test(value);
}

/** Gateway references in a VirtualService resolve `<name>` in the VirtualService's namespace. */
export function gatewayRefs(refs: readonly string[], vsNamespace: string): string[] {
  return refs.map((g) => (g === 'mesh' || g.includes('/') ? g : `${vsNamespace}/${g}`));
}

function pathMatch(m: HTTPMatchRequest | undefined): ProtoObject {
  const uri = m?.uri;
  const out: ProtoObject = {};
  if (uri === undefined) out.prefix = '/';
  else if (uri.exact !== undefined) out.path = uri.exact;
  else if (uri.prefix !== undefined) out.prefix = uri.prefix;
  else out.safe_regex = { regex: m?.ignoreUriCase === true ? `(?i)${uri.regex ?? ''}` : (uri.regex ?? '') };
  if (m?.ignoreUriCase === true && uri?.regex === undefined) out.case_sensitive = { value: false };
  return out;
}

/**
 * The RouteMatch for one HTTPMatchRequest (undefined: no match, i.e. everything), or undefined when the match
 * cannot apply to this proxy and virtual host. `vsGateways` are the VirtualService's own (resolved) gateways.
 */
export function translateMatch(
  m: HTTPMatchRequest | undefined,
  ctx: MatchContext,
  vsGateways: readonly string[],
  vsNamespace: string,
  warn: MatchWarn,
): ProtoObject | undefined {
  if (m?.port !== undefined && m.port !== ctx.port) return undefined;
  if (m?.sourceNamespace !== undefined && m.sourceNamespace !== ctx.namespace) return undefined;
  if (m?.sourceLabels !== undefined && (ctx.labels === undefined || !labelsMatch(m.sourceLabels, ctx.labels))) {
    return undefined;
  }
  const gateways = m?.gateways !== undefined ? gatewayRefs(m.gateways, vsNamespace) : vsGateways;
  if (!gateways.some((g) => ctx.gateways.includes(g))) return undefined;
  const out = pathMatch(m);
  if (m === undefined) return out;
  const grpc = ctx.type === 'grpc';
  const headers: ProtoObject[] = [];
  for (const [name, sm] of sortedEntries(m.headers)) headers.push(headerMatcher(name, sm));
  for (const [name, sm] of sortedEntries(m.withoutHeaders)) headers.push(headerMatcher(name, sm, true));
  headers.sort((a, b) => (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0));
  if (m.method !== undefined) {
    if (!grpc) headers.push(headerMatcher(':method', m.method));
    else if (!matchesStatically(m.method, 'POST')) return undefined;
  }
  for (const [field, header] of [
    ['authority', ':authority'],
    ['scheme', ':scheme'],
  ] as const) {
    const sm = m[field];
    if (sm === undefined) continue;
    if (grpc) {
      warn(field, `proxyless gRPC cannot match ${header}; this match is left out`);
      return undefined;
    }
    headers.push(headerMatcher(header, sm));
  }
  if (headers.length > 0) out.headers = headers;
  const params = sortedEntries(m.queryParams);
  if (params.length > 0) {
    if (grpc) {
      warn('queryParams', 'gRPC requests have no query string; this match is left out');
      return undefined;
    }
    out.query_parameters = params.map(([name, sm]) =>
      isCatchAll(sm) ? { name, present_match: true } : { name, string_match: stringMatcher(sm) },
    );
  }
  return out;
}
