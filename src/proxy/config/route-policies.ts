/**
 * Decoders for what a route carries besides its match and destination: retry policy, hash policies, header
 * mutations, request mirrors and the fault filter's HTTPFault. Defaults are Envoy's (num_retries 1, back-off 25 ms to
 * 250 ms, host_selection_retry_max_attempts 1, APPEND_IF_EXISTS_OR_ADD, mirrors at 100%).
 */
import {
  at,
  bool,
  durationMs,
  enumOf,
  extensionConfig,
  fail,
  list,
  messages,
  num,
  obj,
  perMillion,
  required,
  str,
  unsupported,
  wrapped,
  wrappedBool,
  type Json,
} from './read.js';
import { headerMatcher } from './matchers.js';
import type {
  AppendAction,
  FaultConfig,
  HashPolicy,
  HeaderMutations,
  HeaderToAdd,
  RequestMirror,
  RetryPolicy,
} from './route-types.js';

/** Envoy's retry_on conditions: HTTP (x-envoy-retry-on) and gRPC (x-envoy-retry-grpc-on). */
export const RETRY_ON_CONDITIONS: ReadonlySet<string> = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

const PREVIOUS_HOSTS = 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
const OMIT_CANARY_HOSTS = 'envoy.extensions.retry.host.omit_canary_hosts.v3.OmitCanaryHostsPredicate';
const PREVIOUS_PRIORITIES = 'envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

export const NO_MUTATIONS: HeaderMutations = Object.freeze({ add: Object.freeze([]), remove: Object.freeze([]) });

/** envoy.config.route.v3.RetryPolicy */
export function retryPolicy(o: Json, path: string): RetryPolicy {
  unsupported(o, path, ['rate_limited_retry_back_off', 'retry_options_predicates', 'retriable_request_headers']);
  const retryOn = new Set<string>();
  const ignoredRetryOn: string[] = [];
  for (const part of (str(o.retry_on, at(path, 'retry_on')) ?? '').split(',')) {
    const condition = part.trim();
    if (condition === '') continue;
    if (RETRY_ON_CONDITIONS.has(condition)) retryOn.add(condition);
    else ignoredRetryOn.push(condition);
  }
  const backOffObj = obj(o.retry_back_off, at(path, 'retry_back_off'));
  let backOff = { baseIntervalMs: 25, maxIntervalMs: 250 };
  if (backOffObj !== undefined) {
    const base = durationMs(backOffObj.base_interval, at(path, 'retry_back_off.base_interval')) ?? 0;
    if (base <= 0) fail(at(path, 'retry_back_off.base_interval'), 'must be greater than 0');
    const max = durationMs(backOffObj.max_interval, at(path, 'retry_back_off.max_interval')) ?? base * 10;
    if (max < base) fail(at(path, 'retry_back_off.max_interval'), 'must not be less than base_interval');
    backOff = { baseIntervalMs: base, maxIntervalMs: max };
  }
  let previousHosts = false;
  for (const { item, path: p } of messages(o.retry_host_predicate, at(path, 'retry_host_predicate'))) {
    const ext = extensionConfig(item.typed_config, at(p, 'typed_config'));
    const name = str(item.name, at(p, 'name')) ?? '';
    if (ext.type === PREVIOUS_HOSTS || (ext.type === '' && name === 'envoy.retry_host_predicates.previous_hosts')) {
      previousHosts = true;
    } else if (ext.type !== OMIT_CANARY_HOSTS) {
      // omit_canary_hosts is a no-op: Shoal has no canary hosts.
      fail(p, `retry host predicate ${ext.type || name} is not supported (previous_hosts, omit_canary_hosts)`);
    }
  }
  const policy: { -readonly [K in keyof RetryPolicy]: RetryPolicy[K] } = {
    retryOn,
    ignoredRetryOn,
    numRetries: wrapped(o.num_retries, at(path, 'num_retries')) ?? 1,
    perTryTimeoutMs: durationMs(o.per_try_timeout, at(path, 'per_try_timeout')) ?? 0,
    perTryIdleTimeoutMs: durationMs(o.per_try_idle_timeout, at(path, 'per_try_idle_timeout')) ?? 0,
    retriableStatusCodes: list(o.retriable_status_codes, at(path, 'retriable_status_codes')).map((c, i) =>
      statusCode(c, `${at(path, 'retriable_status_codes')}[${i}]`),
    ),
    backOff,
    previousHosts,
    hostSelectionRetryMaxAttempts:
      num(o.host_selection_retry_max_attempts, at(path, 'host_selection_retry_max_attempts')) ?? 1,
    retriableHeaders: messages(o.retriable_headers, at(path, 'retriable_headers')).map((m) =>
      headerMatcher(m.item, m.path),
    ),
  };
  const priority = obj(o.retry_priority, at(path, 'retry_priority'));
  if (priority !== undefined) {
    const p = at(path, 'retry_priority');
    const ext = extensionConfig(priority.typed_config, at(p, 'typed_config'));
    if (ext.type !== PREVIOUS_PRIORITIES) {
      fail(p, `retry priority ${ext.type || String(priority.name)} is not supported (previous_priorities)`);
    }
    if (ext.config === undefined) fail(at(p, 'typed_config'), 'PreviousPrioritiesConfig must be a TypedStruct');
    const frequency = num(ext.config.update_frequency, at(p, 'typed_config.value.update_frequency')) ?? 0;
    if (frequency <= 0) fail(at(p, 'typed_config.value.update_frequency'), 'must be greater than 0');
    policy.previousPrioritiesUpdateFrequency = frequency;
  }
  return policy;
}

function statusCode(value: unknown, path: string): number {
  const n = num(value, path) ?? 0;
  if (!Number.isInteger(n) || n < 100 || n > 599) fail(path, `${String(value)} is not an HTTP status code`);
  return n;
}

/** envoy.config.route.v3.RouteAction.HashPolicy, in Envoy's shape (cookie ttl in ms). */
export function hashPolicy(o: Json, path: string): HashPolicy {
  const terminal = bool(o.terminal, at(path, 'terminal'));
  const header = obj(o.header, at(path, 'header'));
  if (header !== undefined) {
    unsupported(header, at(path, 'header'), ['regex_rewrite']);
    return { header: { header_name: required(header.header_name, at(path, 'header.header_name')) }, terminal };
  }
  const cookie = obj(o.cookie, at(path, 'cookie'));
  if (cookie !== undefined) {
    const p = at(path, 'cookie');
    unsupported(cookie, p, ['attributes']);
    const ttl = durationMs(cookie.ttl, at(p, 'ttl'));
    const cookiePath = str(cookie.path, at(p, 'path'));
    return {
      cookie: {
        name: required(cookie.name, at(p, 'name')),
        ...(ttl !== undefined ? { ttl } : {}),
        ...(cookiePath !== undefined && cookiePath !== '' ? { path: cookiePath } : {}),
      },
      terminal,
    };
  }
  const connection = obj(o.connection_properties, at(path, 'connection_properties'));
  if (connection !== undefined) {
    const sourceIp = bool(connection.source_ip, at(path, 'connection_properties.source_ip'));
    return { connection_properties: { source_ip: sourceIp }, terminal };
  }
  const query = obj(o.query_parameter, at(path, 'query_parameter'));
  if (query !== undefined) {
    return { query_parameter: { name: required(query.name, at(path, 'query_parameter.name')) }, terminal };
  }
  const filterState = obj(o.filter_state, at(path, 'filter_state'));
  if (filterState !== undefined) {
    return { filter_state: { key: required(filterState.key, at(path, 'filter_state.key')) }, terminal };
  }
  fail(path, 'no hash policy (header, cookie, connection_properties, query_parameter or filter_state)');
}

const APPEND_ACTIONS: readonly AppendAction[] = [
  'APPEND_IF_EXISTS_OR_ADD',
  'ADD_IF_ABSENT',
  'OVERWRITE_IF_EXISTS_OR_ADD',
  'OVERWRITE_IF_EXISTS',
];

function checkMutable(name: string, path: string): string {
  const lower = name.toLowerCase();
  if (lower.startsWith(':') || lower === 'host') fail(path, `${name} may not be modified`);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) fail(path, `${JSON.stringify(name)} is not a valid header name`);
  return lower;
}

/**
 * A configured header value as the proxy carries header values: one character per octet (latin1), the form the
 * parsers produce and the serializers write. Configuration strings are Unicode, and Envoy sends them as their UTF-8
 * bytes; a value with a character above U+007F becomes the latin1 string of its UTF-8 encoding here, once, so that
 * "grüße" leaves as the octets of UTF-8, on HTTP/1.1 and HTTP/2 alike, instead of characters cut to their low byte.
 */
export function wireValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/** `*_headers_to_add` (HeaderValueOption[]) and `*_headers_to_remove` of one message. */
export function headerMutations(o: Json, path: string, direction: 'request' | 'response'): HeaderMutations {
  const addField = `${direction}_headers_to_add`;
  const removeField = `${direction}_headers_to_remove`;
  const add: HeaderToAdd[] = messages(o[addField], at(path, addField)).map(({ item, path: p }) => {
    const header = obj(item.header, at(p, 'header')) ?? {};
    const name = checkMutable(required(header.key, at(p, 'header.key')), at(p, 'header.key'));
    if (header.raw_value !== undefined) fail(at(p, 'header.raw_value'), 'not supported (use value)');
    const append = wrappedBool(item.append, at(p, 'append'));
    if (append !== undefined && item.append_action !== undefined) {
      fail(p, 'append and append_action are mutually exclusive');
    }
    const action =
      append === undefined
        ? enumOf(item.append_action, at(p, 'append_action'), APPEND_ACTIONS)
        : append
          ? 'APPEND_IF_EXISTS_OR_ADD'
          : 'OVERWRITE_IF_EXISTS_OR_ADD';
    const value = str(header.value, at(p, 'header.value')) ?? '';
    // The proxy writes mutation values without checking them again (header injection is refused here, once).
    if (/[\r\n\0]/.test(value)) fail(at(p, 'header.value'), 'may not contain CR, LF or NUL');
    return {
      name,
      value: wireValue(value),
      action,
      keepEmptyValue: bool(item.keep_empty_value, at(p, 'keep_empty_value')),
    };
  });
  const remove = list(o[removeField], at(path, removeField)).map((n, i) => {
    const p = `${at(path, removeField)}[${i}]`;
    return checkMutable(required(n, p), p);
  });
  return add.length === 0 && remove.length === 0 ? NO_MUTATIONS : { add, remove };
}

/** Concatenates mutations in application order (most specific first, as Envoy applies them). */
export function mergeMutations(...parts: readonly HeaderMutations[]): HeaderMutations {
  const nonEmpty = parts.filter((m) => m.add.length > 0 || m.remove.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? NO_MUTATIONS;
  return { add: nonEmpty.flatMap((m) => m.add), remove: nonEmpty.flatMap((m) => m.remove) };
}

/** envoy.config.route.v3.RouteAction.RequestMirrorPolicy */
export function requestMirror(o: Json, path: string): RequestMirror {
  unsupported(o, path, ['cluster_header']);
  const fraction = obj(o.runtime_fraction, at(path, 'runtime_fraction'));
  const traceSampled = wrappedBool(o.trace_sampled, at(path, 'trace_sampled'));
  return {
    cluster: required(o.cluster, at(path, 'cluster')),
    perMillion:
      fraction === undefined
        ? 1_000_000
        : perMillion(fraction.default_value, at(path, 'runtime_fraction.default_value')),
    ...(traceSampled !== undefined ? { traceSampled } : {}),
  };
}

/*
 * envoy.extensions.filters.http.fault.v3.HTTPFault: the fault filter's configuration, at the listener (the filter's
 * typed_config, a default for every route) or per route / virtual host (typed_per_filter_config, which replaces
 * it). Fixed delays and aborts with a percentage; an unset percentage injects nothing (Envoy's and Istio's reading
 * since istio/istio#36303). Header-controlled faults and response rate limits are not supported.
 */
export const FAULT_FILTER = 'envoy.filters.http.fault';
export const FAULT_TYPE = 'envoy.extensions.filters.http.fault.v3.HTTPFault';

export function decodeFault(o: Json, path: string): FaultConfig {
  unsupported(o, path, ['downstream_nodes', 'response_rate_limit'], 'not supported by the sidecar fault filter');
  const fault: { -readonly [K in keyof FaultConfig]: FaultConfig[K] } = {
    headers: messages(o.headers, at(path, 'headers')).map((m) => headerMatcher(m.item, m.path)),
  };
  const delay = obj(o.delay, at(path, 'delay'));
  if (delay !== undefined) {
    const p = at(path, 'delay');
    if (delay.header_delay !== undefined) fail(at(p, 'header_delay'), 'header-controlled delays are not supported');
    const fixed = durationMs(delay.fixed_delay, at(p, 'fixed_delay'));
    if (fixed === undefined) fail(at(p, 'fixed_delay'), 'required');
    fault.delay = { fixedDelayMs: fixed, perMillion: perMillion(delay.percentage, at(p, 'percentage')) };
  }
  const abort = obj(o.abort, at(path, 'abort'));
  if (abort !== undefined) {
    const p = at(path, 'abort');
    if (abort.header_abort !== undefined) fail(at(p, 'header_abort'), 'header-controlled aborts are not supported');
    const share = perMillion(abort.percentage, at(p, 'percentage'));
    const grpcStatus = num(abort.grpc_status, at(p, 'grpc_status'));
    const httpStatus = num(abort.http_status, at(p, 'http_status'));
    if (grpcStatus !== undefined) {
      fault.abort = { grpcStatus, perMillion: share };
    } else {
      if (httpStatus === undefined || httpStatus < 200 || httpStatus > 599) {
        fail(at(p, 'http_status'), `${String(httpStatus ?? 'unset')} is not an HTTP status in [200, 600)`);
      }
      fault.abort = { httpStatus, perMillion: share };
    }
  }
  const cluster = str(o.upstream_cluster, at(path, 'upstream_cluster'));
  if (cluster !== undefined && cluster !== '') fault.upstreamCluster = cluster;
  const maxActive = wrapped(o.max_active_faults, at(path, 'max_active_faults'));
  if (maxActive !== undefined) fault.maxActiveFaults = maxActive;
  return fault;
}
