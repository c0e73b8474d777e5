/**
 * The policies an Istio HTTPRoute attaches to an Envoy route: retries (Istio's retry.ConvertPolicy and its
 * default), fault injection (per-route HTTPFault), header operations, and consistent-hash policies from the
 * destination's DestinationRule.
 */
import type { HTTPRoute } from '../../../api/kinds/http-route.js';
import type { Headers } from '../../../api/kinds/istio-common.js';
import type { ProtoObject } from '../proto-object.js';
import { toStruct } from '../well-known.js';
import { durationOf, FAULT_TYPE_URL, sortedEntries, TYPED_STRUCT_TYPE_URL, TYPE_PREFIX, wrapped } from './common.js';
import type { ConsistentHashSettings } from './destination-rules.js';
import type { ProxyType } from './proxy.js';

export type RouteWarn = (path: string, message: string) => void;
type HTTPRetry = NonNullable<HTTPRoute['retries']>;
type HTTPFault = NonNullable<HTTPRoute['fault']>;

export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
/** The retry conditions grpc-js-xds acts on (gRPC status names); it ignores the others. */
const GRPC_RETRY_ON = new Set(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);

/** Istio's Percent (0-100, fractional) as an Envoy FractionalPercent per million. */
export function fractionalPercent(value: number): ProtoObject {
  return { numerator: Math.round(value * 10_000), denominator: 'MILLION' };
}

/** Envoy's retry-host predicate that avoids hosts already tried (Istio's default), as a TypedStruct. */
function previousHosts(): ProtoObject {
  return {
    name: 'envoy.retry_host_predicates.previous_hosts',
    typed_config: {
      '@type': TYPED_STRUCT_TYPE_URL,
      type_url: `${TYPE_PREFIX}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate`,
    },
  };
}

function splitRetryOn(retryOn: string): { on: string[]; codes: number[] } {
  const on: string[] = [];
  const codes: number[] = [];
  for (const part of retryOn.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const n = Number(part);
    if (/^\d+$/.test(part) && n >= 100 && n <= 599) codes.push(n);
    else on.push(part);
  }
  if (codes.length > 0 && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
  return { on, codes };
}

/** retry_policy for a route (Istio's default when `retries` is unset), or undefined for no retries. */
export function retryPolicy(retries: HTTPRetry | undefined, type: ProxyType, warn: RouteWarn): ProtoObject | undefined {
  if (retries !== undefined && retries.attempts <= 0) return undefined;
  const attempts = retries?.attempts ?? 2;
  const parsed = retries?.retryOn !== undefined ? splitRetryOn(retries.retryOn) : undefined;
  const retryOn = parsed !== undefined ? parsed.on.join(',') : DEFAULT_RETRY_ON;
  const out: ProtoObject = { retry_on: retryOn, num_retries: wrapped(attempts) };
  if (retries?.backoff !== undefined) out.retry_back_off = { base_interval: durationOf(retries.backoff) };
  if (type === 'grpc') {
    if (!retryOn.split(',').some((c) => GRPC_RETRY_ON.has(c))) {
      warn('retries.retryOn', `proxyless gRPC retries only on gRPC status names (${[...GRPC_RETRY_ON].join(', ')})`);
    }
    for (const field of ['perTryTimeout', 'retryRemoteLocalities', 'retryIgnorePreviousHosts'] as const) {
      if (retries?.[field] !== undefined) warn(`retries.${field}`, 'not supported by proxyless gRPC');
    }
    return out;
  }
  const codes = parsed?.codes ?? [503];
  if (codes.length > 0) out.retriable_status_codes = codes;
  if (retries?.perTryTimeout !== undefined) out.per_try_timeout = durationOf(retries.perTryTimeout);
  if (retries?.retryIgnorePreviousHosts !== false) {
    out.retry_host_predicate = [previousHosts()];
    out.host_selection_retry_max_attempts = 5;
  }
  if (retries?.retryRemoteLocalities === true) {
    out.retry_priority = {
      name: 'envoy.retry_priorities.previous_priorities',
      typed_config: {
        '@type': TYPED_STRUCT_TYPE_URL,
        type_url: `${TYPE_PREFIX}envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig`,
        value: toStruct({ update_frequency: attempts + 1 }),
      },
    };
  }
  return out;
}

const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/**
 * The per-route HTTPFault. An unset percentage injects nothing (Istio and Envoy agree since istio/istio#36303);
 * it is written out as 0% (gRPC rejects a fault without one) and reported, as people often expect 100%.
 */
export function faultFilterConfig(fault: HTTPFault, warn: RouteWarn): ProtoObject {
  const out: ProtoObject = { '@type': FAULT_TYPE_URL };
  const percentage = (value: number | undefined, path: string): ProtoObject => {
    if (value === undefined) warn(path, 'no percentage: Istio injects this fault into no request (set value: 100)');
    return fractionalPercent(value ?? 0);
  };
  if (fault.delay !== undefined) {
    out.delay = {
      fixed_delay: durationOf(fault.delay.fixedDelay),
      percentage: percentage(fault.delay.percentage?.value, 'fault.delay.percentage'),
    };
  }
  if (fault.abort !== undefined) {
    const abort: ProtoObject = { percentage: percentage(fault.abort.percentage?.value, 'fault.abort.percentage') };
    if (fault.abort.grpcStatus !== undefined) abort.grpc_status = GRPC_CODES.indexOf(fault.abort.grpcStatus);
    else abort.http_status = fault.abort.httpStatus ?? 500;
    out.abort = abort;
  }
  return out;
}

export interface HeaderOps {
  request_headers_to_add?: ProtoObject[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: ProtoObject[];
  response_headers_to_remove?: string[];
  /** A request `set` of `host` / `:authority` becomes a host rewrite (Envoy cannot set those headers). */
  hostRewrite?: string;
}

function isProtected(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'host' || lower.startsWith(':');
}

/** Istio's Headers as Envoy header operations: set => OVERWRITE_IF_EXISTS_OR_ADD, add => APPEND_IF_EXISTS_OR_ADD. */
export function headerOps(headers: Headers | undefined, path: string, warn: RouteWarn): HeaderOps {
  const out: HeaderOps = {};
  for (const direction of ['request', 'response'] as const) {
    const ops = headers?.[direction];
    if (ops === undefined) continue;
    const add: ProtoObject[] = [];
    for (const [action, appendAction] of [
      ['set', 'OVERWRITE_IF_EXISTS_OR_ADD'],
      ['add', 'APPEND_IF_EXISTS_OR_ADD'],
    ] as const) {
      for (const [key, value] of sortedEntries(ops[action])) {
        if (isProtected(key)) {
          const authority = direction === 'request' && action === 'set' && /^(host|:authority)$/i.test(key);
          if (authority) out.hostRewrite = value;
          else warn(`${path}.${direction}.${action}.${key}`, 'Envoy does not let this header be modified; ignored');
          continue;
        }
        add.push({ header: { key, value }, append_action: appendAction });
      }
    }
    const remove = (ops.remove ?? []).filter((name) => {
      if (isProtected(name)) warn(`${path}.${direction}.remove`, `Envoy does not let ${name} be removed; ignored`);
      return !isProtected(name);
    });
    if (add.length > 0) out[`${direction}_headers_to_add`] = add;
    if (remove.length > 0) out[`${direction}_headers_to_remove`] = remove;
  }
  return out;
}

/** A consistent-hash setting as route hash_policy entries (gRPC: header, or its channel id for source IP). */
export function hashPolicy(hash: ConsistentHashSettings, type: ProxyType, warn: RouteWarn): ProtoObject[] {
  if (hash.httpHeaderName !== undefined) return [{ header: { header_name: hash.httpHeaderName } }];
  if (type === 'grpc') {
    if (hash.useSourceIp === true) {
      warn('consistentHash.useSourceIp', 'proxyless gRPC hashes by channel (one client) instead of source IP');
      return [{ filter_state: { key: 'io.grpc.channel_id' } }];
    }
    warn('consistentHash', 'proxyless gRPC hashes only by header or channel; no hash policy');
    return [];
  }
  if (hash.httpCookie !== undefined) {
    const cookie: ProtoObject = { name: hash.httpCookie.name };
    if (hash.httpCookie.ttl !== undefined) cookie.ttl = durationOf(hash.httpCookie.ttl);
    if (hash.httpCookie.path !== undefined) cookie.path = hash.httpCookie.path;
    return [{ cookie }];
  }
  if (hash.useSourceIp === true) return [{ connection_properties: { source_ip: true } }];
  if (hash.httpQueryParameterName !== undefined) return [{ query_parameter: { name: hash.httpQueryParameterName } }];
  return [];
}
