/**
 * `decodeRouteConfiguration`: an Envoy RouteConfiguration as the sidecar's compiled RouteTable (route-types.ts).
 *
 * Per route: its match compiled, its action decoded, the fault from typed_per_filter_config (route, else virtual
 * host, else route configuration), the virtual host's retry policy when the route has none, and the header
 * mutations of route, virtual host and route configuration concatenated in that order (Envoy applies the most
 * specific first). Domains are lowercased and indexed; a domain listed twice is NACKed, as Envoy does.
 */
import type { Result } from '../../core/result.js';

import { headerMatcher, queryParameterMatcher, regexMatcher } from './matchers.js';
import {
  anyType,
  at,
  bool,
  decodeResource,
  deepFreeze,
  enumOf,
  fail,
  filterMetadata,
  list,
  messageName,
  messages,
  obj,
  perMillion,
  required,
  str,
  unsupported,
  wrapped,
  wrappedBool,
  type Json,
} from './read.js';
import { directResponseAction, forwardAction, redirectAction } from './route-action.js';
import { decodeFault, FAULT_TYPE, headerMutations, mergeMutations, retryPolicy } from './route-policies.js';
import type {
  DomainIndex,
  FaultConfig,
  HeaderMutations,
  PathMatch,
  RetryPolicy,
  Route,
  RouteAction,
  RouteMatch,
  RouteTable,
  VirtualHost,
} from './route-types.js';

/** Envoy's default max_direct_response_body_size_bytes. */
const DEFAULT_MAX_DIRECT_RESPONSE_BODY = 4096;
const FILTER_CONFIG_TYPE = 'envoy.config.route.v3.FilterConfig';

/** What a virtual host and its route configuration pass down to each route. */
interface Inherited {
  fault?: FaultConfig;
  retry?: RetryPolicy;
  request: readonly HeaderMutations[];
  response: readonly HeaderMutations[];
  maxBodyBytes: number;
}

/** The fault in a typed_per_filter_config map; any other per-filter config is NACKed unless marked optional. */
function perFilterFault(value: unknown, path: string): FaultConfig | undefined {
  let fault: FaultConfig | undefined;
  for (const [key, raw] of Object.entries(obj(value, path) ?? {})) {
    const p = `${path}[${JSON.stringify(key)}]`;
    let config = obj(raw, p) ?? {};
    let optional = false;
    if (messageName(anyType(config)) === FILTER_CONFIG_TYPE) {
      optional = bool(config.is_optional, at(p, 'is_optional'));
      if (bool(config.disabled, at(p, 'disabled')))
        fail(at(p, 'disabled'), 'disabling a filter per route is not supported');
      config = obj(config.config, at(p, 'config')) ?? {};
    }
    const type = messageName(anyType(config));
    if (type === FAULT_TYPE) fault = decodeFault(config, p);
    else if (!optional) fail(p, `per-route config ${type || '(none)'} is not supported (only ${FAULT_TYPE})`);
  }
  return fault;
}

function pathMatch(o: Json, path: string): PathMatch {
  const caseSensitive = wrappedBool(o.case_sensitive, at(path, 'case_sensitive')) ?? true;
  if (o.connect_matcher !== undefined) return { kind: 'connect' };
  if (o.safe_regex !== undefined) {
    const regex = regexMatcher(o.safe_regex, at(path, 'safe_regex'));
    return { kind: 'regex', regex, source: str(obj(o.safe_regex, path)?.regex, path) ?? '' };
  }
  for (const kind of ['prefix', 'path', 'path_separated_prefix'] as const) {
    const value = str(o[kind], at(path, kind));
    if (value === undefined) continue;
    if (kind === 'path_separated_prefix' && (!value.startsWith('/') || value.endsWith('/') || /[?#]/.test(value))) {
      fail(at(path, kind), 'must start with /, must not end with / and must not contain ? or #');
    }
    const v = caseSensitive ? value : value.toLowerCase();
    return { kind: kind === 'path' ? 'exact' : kind, value: v, caseSensitive };
  }
  fail(path, 'no path specifier (prefix, path, safe_regex, path_separated_prefix or connect_matcher)');
}

function routeMatch(o: Json, path: string): RouteMatch {
  unsupported(o, path, ['path_match_policy', 'tls_context', 'dynamic_metadata', 'filter_state', 'cel_matcher']);
  const fraction = obj(o.runtime_fraction, at(path, 'runtime_fraction'));
  return {
    path: pathMatch(o, path),
    headers: messages(o.headers, at(path, 'headers')).map((m) => headerMatcher(m.item, m.path)),
    queryParameters: messages(o.query_parameters, at(path, 'query_parameters')).map((m) =>
      queryParameterMatcher(m.item, m.path),
    ),
    grpc: obj(o.grpc, at(path, 'grpc')) !== undefined,
    fractionPerMillion:
      fraction === undefined
        ? 1_000_000
        : perMillion(fraction.default_value, at(path, 'runtime_fraction.default_value')),
  };
}

function route(o: Json, path: string, inherited: Inherited): Route {
  unsupported(
    o,
    path,
    ['filter_action', 'non_forwarding_action'],
    'only route, redirect and direct_response actions are supported',
  );
  const matchObj = obj(o.match, at(path, 'match'));
  if (matchObj === undefined) fail(at(path, 'match'), 'required');
  let action: RouteAction;
  const forward = obj(o.route, at(path, 'route'));
  const redirect = obj(o.redirect, at(path, 'redirect'));
  const direct = obj(o.direct_response, at(path, 'direct_response'));
  if (forward !== undefined) {
    action = forwardAction(forward, at(path, 'route'));
    if (action.retry === undefined && inherited.retry !== undefined) action = { ...action, retry: inherited.retry };
  } else if (redirect !== undefined) action = redirectAction(redirect, at(path, 'redirect'));
  else if (direct !== undefined)
    action = directResponseAction(direct, at(path, 'direct_response'), inherited.maxBodyBytes);
  else fail(path, 'no action (route, redirect or direct_response)');
  const metadata = filterMetadata(o.metadata, at(path, 'metadata'));
  const istioConfig = metadata.istio?.config;
  const fault = perFilterFault(o.typed_per_filter_config, at(path, 'typed_per_filter_config')) ?? inherited.fault;
  const statPrefix = str(o.stat_prefix, at(path, 'stat_prefix'));
  return {
    name: str(o.name, at(path, 'name')) ?? '',
    match: routeMatch(matchObj, at(path, 'match')),
    action,
    ...(fault !== undefined ? { fault } : {}),
    requestHeaders: mergeMutations(headerMutations(o, path, 'request'), ...inherited.request),
    responseHeaders: mergeMutations(headerMutations(o, path, 'response'), ...inherited.response),
    ...(statPrefix !== undefined && statPrefix !== '' ? { statPrefix } : {}),
    ...(typeof istioConfig === 'string' ? { istioConfig } : {}),
    metadata,
  };
}

function virtualHost(o: Json, path: string, parent: Inherited): VirtualHost {
  unsupported(o, path, [
    'matcher',
    'rate_limits',
    'cors',
    'hedge_policy',
    'retry_policy_typed_config',
    'request_mirror_policies',
  ]);
  const domains = list(o.domains, at(path, 'domains')).map((d, i) =>
    required(d, `${at(path, 'domains')}[${i}]`).toLowerCase(),
  );
  if (domains.length === 0) fail(at(path, 'domains'), 'at least one domain is required');
  const retry = obj(o.retry_policy, at(path, 'retry_policy'));
  const fault = perFilterFault(o.typed_per_filter_config, at(path, 'typed_per_filter_config')) ?? parent.fault;
  const inherited: Inherited = {
    ...(fault !== undefined ? { fault } : {}),
    ...(retry !== undefined ? { retry: retryPolicy(retry, at(path, 'retry_policy')) } : {}),
    request: [headerMutations(o, path, 'request'), ...parent.request],
    response: [headerMutations(o, path, 'response'), ...parent.response],
    maxBodyBytes: parent.maxBodyBytes,
  };
  return {
    name: required(o.name, at(path, 'name')),
    domains,
    routes: messages(o.routes, at(path, 'routes')).map((m) => route(m.item, m.path, inherited)),
    requireTls: enumOf(o.require_tls, at(path, 'require_tls'), ['NONE', 'EXTERNAL_ONLY', 'ALL'] as const),
  };
}

/** Envoy's virtual host lookup structures; a domain used twice is an error. */
function domainIndex(hosts: readonly VirtualHost[]): DomainIndex {
  const exact = new Map<string, VirtualHost>();
  const suffixes: { suffix: string; host: VirtualHost }[] = [];
  const prefixes: { prefix: string; host: VirtualHost }[] = [];
  let any: VirtualHost | undefined;
  const seen = new Map<string, string>();
  hosts.forEach((host, i) => {
    for (const domain of host.domains) {
      const owner = seen.get(domain);
      if (owner !== undefined) {
        fail(
          `virtual_hosts[${i}].domains`,
          `domain ${domain} is also in virtual host ${owner}; domains must be unique`,
        );
      }
      seen.set(domain, host.name);
      if (domain === '*') any = host;
      else if (domain.startsWith('*')) suffixes.push({ suffix: domain.slice(1), host });
      else if (domain.endsWith('*')) prefixes.push({ prefix: domain.slice(0, -1), host });
      else exact.set(domain, host);
    }
  });
  suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  return { exact, suffixes, prefixes, ...(any !== undefined ? { any } : {}) };
}

function routeTable(o: Json): RouteTable {
  unsupported(o, '', ['vhds', 'cluster_specifier_plugins']);
  const top: Inherited = {
    request: [headerMutations(o, '', 'request')],
    response: [headerMutations(o, '', 'response')],
    maxBodyBytes:
      wrapped(o.max_direct_response_body_size_bytes, 'max_direct_response_body_size_bytes') ??
      DEFAULT_MAX_DIRECT_RESPONSE_BODY,
  };
  const fault = perFilterFault(o.typed_per_filter_config, 'typed_per_filter_config');
  if (fault !== undefined) top.fault = fault;
  const virtualHosts = messages(o.virtual_hosts, 'virtual_hosts').map((m) => virtualHost(m.item, m.path, top));
  return {
    name: required(o.name, 'name'),
    virtualHosts,
    domains: domainIndex(virtualHosts),
    internalOnlyHeaders: list(o.internal_only_headers, 'internal_only_headers').map((h, i) =>
      required(h, `internal_only_headers[${i}]`).toLowerCase(),
    ),
  };
}

/** An envoy.config.route.v3.RouteConfiguration, decoded (`fromAny` output), as a frozen RouteTable. */
export function decodeRouteConfiguration(resource: unknown): Result<RouteTable, string> {
  return decodeResource('RouteConfiguration', resource, (o) => deepFreeze(routeTable(o)));
}
