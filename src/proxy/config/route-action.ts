/**
 * What a route does: forward (one cluster, or weighted clusters with cumulative weights), redirect, or answer
 * directly. Envoy's defaults: a 15 s timeout when `timeout` is unset (`0s` disables it), redirect code 301.
 * RouteAction features the sidecar cannot honour are NACKed by name rather than ignored.
 */
import { regexRewrite } from './matchers.js';
import {
  at,
  bool,
  durationMs,
  enumOf,
  fail,
  messages,
  num,
  obj,
  required,
  str,
  unsupported,
  wrapped,
  wrappedBool,
  type Json,
} from './read.js';
import { hashPolicy, headerMutations, requestMirror, retryPolicy } from './route-policies.js';
import type {
  DirectResponseAction,
  ForwardAction,
  ForwardOptions,
  RedirectAction,
  RedirectCode,
  WeightedClusterEntry,
  WeightedClusters,
} from './route-types.js';

/** Envoy's route timeout when none is configured. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

const UNSUPPORTED_ACTION_FIELDS = [
  'cluster_header',
  'cluster_specifier_plugin',
  'inline_cluster_specifier_plugin',
  'metadata_match',
  'path_rewrite_policy',
  'host_rewrite_header',
  'host_rewrite_path_regex',
  'retry_policy_typed_config',
  'rate_limits',
  'hedge_policy',
  'internal_redirect_policy',
  'cors',
];

function weightedClusters(o: Json, path: string): WeightedClusters {
  unsupported(o, path, ['header_name']);
  const clusters: WeightedClusterEntry[] = messages(o.clusters, at(path, 'clusters')).map(({ item, path: p }) => {
    unsupported(item, p, ['cluster_header', 'metadata_match', 'typed_per_filter_config']);
    const hostRewrite = str(item.host_rewrite_literal, at(p, 'host_rewrite_literal'));
    return {
      name: required(item.name, at(p, 'name')),
      weight: wrapped(item.weight, at(p, 'weight')) ?? 0,
      requestHeaders: headerMutations(item, p, 'request'),
      responseHeaders: headerMutations(item, p, 'response'),
      ...(hostRewrite !== undefined && hostRewrite !== '' ? { hostRewrite } : {}),
    };
  });
  if (clusters.length === 0) fail(at(path, 'clusters'), 'at least one cluster is required');
  const cumulative: number[] = [];
  let total = 0;
  for (const c of clusters) cumulative.push((total += c.weight));
  if (total <= 0) fail(at(path, 'clusters'), 'the total weight must be greater than 0');
  const declared = wrapped(o.total_weight, at(path, 'total_weight'));
  if (declared !== undefined && declared !== 0 && declared !== total) {
    fail(at(path, 'total_weight'), `is ${declared} but the weights add up to ${total}`);
  }
  return { clusters, cumulative, totalWeight: total };
}

/** envoy.config.route.v3.RouteAction */
export function forwardAction(o: Json, path: string): ForwardAction {
  unsupported(o, path, UNSUPPORTED_ACTION_FIELDS);
  const cluster = str(o.cluster, at(path, 'cluster'));
  const weighted = obj(o.weighted_clusters, at(path, 'weighted_clusters'));
  if ((cluster === undefined || cluster === '') && weighted === undefined) {
    fail(path, 'no destination: cluster or weighted_clusters is required');
  }
  if (o.prefix_rewrite !== undefined && o.regex_rewrite !== undefined) {
    fail(path, 'prefix_rewrite and regex_rewrite are mutually exclusive');
  }
  const retry = obj(o.retry_policy, at(path, 'retry_policy'));
  const prefixRewrite = str(o.prefix_rewrite, at(path, 'prefix_rewrite'));
  const hostRewrite = str(o.host_rewrite_literal, at(path, 'host_rewrite_literal'));
  const idleTimeoutMs = durationMs(o.idle_timeout, at(path, 'idle_timeout'));
  const msd = obj(o.max_stream_duration, at(path, 'max_stream_duration')) ?? {};
  const upgrades = messages(o.upgrade_configs, at(path, 'upgrade_configs'))
    .filter(({ item, path: p }) => wrappedBool(item.enabled, at(p, 'enabled')) !== false)
    .map(({ item, path: p }) => required(item.upgrade_type, at(p, 'upgrade_type')).toLowerCase());
  const options: ForwardOptions = {
    timeoutMs: durationMs(o.timeout, at(path, 'timeout')) ?? DEFAULT_ROUTE_TIMEOUT_MS,
    ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
    maxStreamDurationMs: durationMs(msd.max_stream_duration, at(path, 'max_stream_duration.max_stream_duration')) ?? 0,
    ...(prefixRewrite !== undefined ? { prefixRewrite } : {}),
    ...(o.regex_rewrite !== undefined
      ? { regexRewrite: regexRewrite(o.regex_rewrite, at(path, 'regex_rewrite')) }
      : {}),
    ...(hostRewrite !== undefined && hostRewrite !== '' ? { hostRewrite } : {}),
    autoHostRewrite: wrappedBool(o.auto_host_rewrite, at(path, 'auto_host_rewrite')) ?? false,
    ...(retry !== undefined ? { retry: retryPolicy(retry, at(path, 'retry_policy')) } : {}),
    mirrors: messages(o.request_mirror_policies, at(path, 'request_mirror_policies')).map((m) =>
      requestMirror(m.item, m.path),
    ),
    hashPolicy: messages(o.hash_policy, at(path, 'hash_policy')).map((m) => hashPolicy(m.item, m.path)),
    upgrades,
  };
  if (cluster !== undefined && cluster !== '') return { type: 'cluster', cluster, ...options };
  return {
    type: 'weighted_clusters',
    weightedClusters: weightedClusters(weighted!, at(path, 'weighted_clusters')),
    ...options,
  };
}

const REDIRECT_CODES: Record<string, RedirectCode> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** envoy.config.route.v3.RedirectAction */
export function redirectAction(o: Json, path: string): RedirectAction {
  const https = bool(o.https_redirect, at(path, 'https_redirect'));
  const scheme = https ? 'https' : str(o.scheme_redirect, at(path, 'scheme_redirect'));
  const host = str(o.host_redirect, at(path, 'host_redirect'));
  const port = num(o.port_redirect, at(path, 'port_redirect'));
  const redirectPath = str(o.path_redirect, at(path, 'path_redirect'));
  const prefixRewrite = str(o.prefix_rewrite, at(path, 'prefix_rewrite'));
  const code = enumOf(o.response_code, at(path, 'response_code'), Object.keys(REDIRECT_CODES));
  return {
    type: 'redirect',
    ...(scheme !== undefined && scheme !== '' ? { scheme } : {}),
    ...(host !== undefined && host !== '' ? { host } : {}),
    ...(port !== undefined && port !== 0 ? { port } : {}),
    ...(redirectPath !== undefined ? { path: redirectPath } : {}),
    ...(prefixRewrite !== undefined ? { prefixRewrite } : {}),
    ...(o.regex_rewrite !== undefined
      ? { regexRewrite: regexRewrite(o.regex_rewrite, at(path, 'regex_rewrite')) }
      : {}),
    responseCode: REDIRECT_CODES[code]!,
    stripQuery: bool(o.strip_query, at(path, 'strip_query')),
  };
}

/** envoy.config.route.v3.DirectResponseAction; the body is at most `maxBodyBytes` (Envoy's default 4096). */
export function directResponseAction(o: Json, path: string, maxBodyBytes: number): DirectResponseAction {
  const status = num(o.status, at(path, 'status')) ?? 0;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    fail(at(path, 'status'), `${status} is not an HTTP status in [200, 600)`);
  }
  const body = obj(o.body, at(path, 'body'));
  if (body === undefined) return { type: 'direct_response', status };
  unsupported(body, at(path, 'body'), ['filename', 'environment_variable'], 'only inline bodies are supported');
  const text = str(body.inline_string, at(path, 'body.inline_string'));
  const bytes = body.inline_bytes;
  let value: string | Uint8Array = text ?? '';
  if (text === undefined && bytes !== undefined) {
    if (typeof bytes === 'string') value = Buffer.from(bytes, 'base64');
    else if (bytes instanceof Uint8Array) value = bytes;
    else fail(at(path, 'body.inline_bytes'), 'expected bytes');
  }
  const size = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
  if (size > maxBodyBytes) {
    fail(at(path, 'body'), `${size} bytes exceed max_direct_response_body_size_bytes (${maxBodyBytes})`);
  }
  return { type: 'direct_response', status, body: value };
}
