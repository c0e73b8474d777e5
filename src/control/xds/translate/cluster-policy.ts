/**
 * A DestinationRule's traffic policy as Cluster fields: load balancing, connection pool (circuit breakers, timeouts,
 * upstream HTTP options) and outlier detection, following Istio's cluster builder. Proxyless gRPC gets only what
 * grpc-js-xds implements (ROUND_ROBIN or RING_HASH, max_requests); the rest is reported, never silently dropped.
 */
import type { Protocol } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import { duration } from '../well-known.js';
import {
  durationOf,
  HTTP_PROTOCOL_OPTIONS_KEY,
  HTTP_PROTOCOL_OPTIONS_TYPE_URL,
  UINT32_MAX,
  wrapped,
} from './common.js';
import type { ConnectionPoolSettings, LoadBalancerSettings, OutlierDetectionSettings } from './destination-rules.js';
import type { ProxyType } from './proxy.js';
import { parseDuration } from '../../../api/validators.js';

/** Reports a policy field that could not be translated: path relative to the traffic policy. */
export type PolicyWarn = (path: string, message: string) => void;

/** Istio's default connect timeout (MeshConfig.connectTimeout). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Envoy's (and grpc's) default and largest ring sizes. */
const DEFAULT_MIN_RING_SIZE = 1024;
const GRPC_MAX_RING_SIZE = 8_388_608;

export function isHttpLike(protocol: Protocol): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC' || protocol === 'UNKNOWN';
}

export function isHttp2(protocol: Protocol): boolean {
  return protocol === 'HTTP2' || protocol === 'GRPC';
}

/** Istio's default when a rule sets no simple policy: LEAST_REQUEST; proxyless gRPC: ROUND_ROBIN. */
export function defaultLbPolicy(type: ProxyType): string {
  return type === 'grpc' ? 'ROUND_ROBIN' : 'LEAST_REQUEST';
}

/** lb_policy and its config (ring_hash_lb_config, maglev_lb_config, locality weighting). Slow start is refused at apply. */
export function loadBalancerFields(
  lb: LoadBalancerSettings | undefined,
  type: ProxyType,
  warn: PolicyWarn,
): ProtoObject {
  const grpc = type === 'grpc';
  const out: ProtoObject = { lb_policy: defaultLbPolicy(type) };
  if (lb === undefined) return out;
  const hash = lb.consistentHash;
  if (hash !== undefined) {
    if (hash.maglev !== undefined && !grpc) {
      out.lb_policy = 'MAGLEV';
      if (hash.maglev.tableSize !== undefined) out.maglev_lb_config = { table_size: wrapped(hash.maglev.tableSize) };
    } else {
      if (hash.maglev !== undefined) {
        warn('loadBalancer.consistentHash.maglev', 'proxyless gRPC has no Maglev; RING_HASH used instead');
      }
      out.lb_policy = 'RING_HASH';
      let size = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize ?? (grpc ? undefined : DEFAULT_MIN_RING_SIZE);
      if (grpc && size !== undefined && size > GRPC_MAX_RING_SIZE) {
        warn('loadBalancer.consistentHash', `minimumRingSize ${size} exceeds gRPC's ${GRPC_MAX_RING_SIZE}; clamped`);
        size = GRPC_MAX_RING_SIZE;
      }
      if (size !== undefined) out.ring_hash_lb_config = { minimum_ring_size: wrapped(size) };
    }
  } else if (lb.simple !== undefined && lb.simple !== 'UNSPECIFIED') {
    const policy = lb.simple === 'LEAST_CONN' ? 'LEAST_REQUEST' : lb.simple;
    if (grpc && policy !== 'ROUND_ROBIN') {
      warn('loadBalancer.simple', `proxyless gRPC does not implement ${lb.simple}; ROUND_ROBIN used instead`);
    } else {
      out.lb_policy = policy;
    }
  }
  const locality = lb.localityLbSetting;
  if (locality !== undefined && locality.enabled !== false) {
    if (locality.failoverPriority !== undefined && locality.failoverPriority.length > 0) {
      warn('loadBalancer.localityLbSetting.failoverPriority', 'label-based failover priority is not translated');
    }
  }
  return out;
}

/** Istio's defaults: every threshold at its maximum (Envoy's own 1024 would surprise), remaining counts tracked. */
function thresholds(pool: ConnectionPoolSettings | undefined): ProtoObject {
  const t = {
    max_connections: pool?.tcp?.maxConnections ?? UINT32_MAX,
    max_pending_requests: pool?.http?.http1MaxPendingRequests ?? UINT32_MAX,
    max_requests: pool?.http?.http2MaxRequests ?? UINT32_MAX,
    max_retries: pool?.http?.maxRetries ?? UINT32_MAX,
  };
  return {
    max_connections: wrapped(t.max_connections),
    max_pending_requests: wrapped(t.max_pending_requests),
    max_requests: wrapped(t.max_requests),
    max_retries: wrapped(t.max_retries),
    track_remaining: true,
  };
}

function seconds(text: string | undefined): { value: number } | undefined {
  if (text === undefined) return undefined;
  return wrapped(Math.max(1, Math.round((parseDuration(text) ?? 0) / 1000)));
}

/** Upstream HTTP options (envoy.extensions.upstreams.http.v3.HttpProtocolOptions), or undefined when all default. */
function httpProtocolOptions(
  pool: ConnectionPoolSettings | undefined,
  protocol: Protocol,
  warn: PolicyWarn,
): ProtoObject | undefined {
  const http = pool?.http;
  const common: ProtoObject = {};
  if (http?.idleTimeout !== undefined) common.idle_timeout = durationOf(http.idleTimeout);
  if (http?.maxRequestsPerConnection !== undefined && http.maxRequestsPerConnection > 0) {
    common.max_requests_per_connection = wrapped(http.maxRequestsPerConnection);
  }
  if (pool?.tcp?.maxConnectionDuration !== undefined) {
    common.max_connection_duration = durationOf(pool.tcp.maxConnectionDuration);
  }
  const h2 = isHttp2(protocol) || (protocol === 'HTTP' && http?.h2UpgradePolicy === 'UPGRADE');
  const h2Options: ProtoObject =
    http?.maxConcurrentStreams !== undefined ? { max_concurrent_streams: wrapped(http.maxConcurrentStreams) } : {};
  if (!h2 && http?.useClientProtocol !== true && http?.maxConcurrentStreams !== undefined) {
    warn('connectionPool.http.maxConcurrentStreams', 'applies to HTTP/2 upstream connections only; ignored');
  }
  if (!h2 && Object.keys(common).length === 0 && http?.useClientProtocol !== true) return undefined;
  const options: ProtoObject = { '@type': HTTP_PROTOCOL_OPTIONS_TYPE_URL };
  if (Object.keys(common).length > 0) options.common_http_protocol_options = common;
  if (http?.useClientProtocol === true) {
    options.use_downstream_protocol_config = { http_protocol_options: {}, http2_protocol_options: h2Options };
  } else {
    options.explicit_http_config = h2 ? { http2_protocol_options: h2Options } : { http_protocol_options: {} };
  }
  return options;
}

/** connect_timeout, circuit_breakers, TCP keepalive and upstream HTTP options. */
export function connectionPoolFields(
  pool: ConnectionPoolSettings | undefined,
  protocol: Protocol,
  type: ProxyType,
  warn: PolicyWarn,
): ProtoObject {
  if (type === 'grpc') {
    for (const [group, settings] of [
      ['tcp', pool?.tcp],
      ['http', pool?.http],
    ] as const) {
      for (const key of Object.keys(settings ?? {})) {
        if (key !== 'http2MaxRequests') warn(`connectionPool.${group}.${key}`, 'not supported by proxyless gRPC');
      }
    }
    const max = pool?.http?.http2MaxRequests;
    return max !== undefined ? { circuit_breakers: { thresholds: [{ max_requests: wrapped(max) }] } } : {};
  }
  const out: ProtoObject = {
    connect_timeout:
      pool?.tcp?.connectTimeout !== undefined
        ? durationOf(pool.tcp.connectTimeout)
        : duration(DEFAULT_CONNECT_TIMEOUT_MS),
    circuit_breakers: { thresholds: [thresholds(pool)] },
  };
  const keepalive = pool?.tcp?.tcpKeepalive;
  if (keepalive !== undefined) {
    const tcp: ProtoObject = {};
    if (keepalive.probes !== undefined) tcp.keepalive_probes = wrapped(keepalive.probes);
    if (keepalive.time !== undefined) tcp.keepalive_time = seconds(keepalive.time);
    if (keepalive.interval !== undefined) tcp.keepalive_interval = seconds(keepalive.interval);
    out.upstream_connection_options = { tcp_keepalive: tcp };
  }
  if (pool?.tcp?.idleTimeout !== undefined) {
    warn(
      'connectionPool.tcp.idleTimeout',
      'applies to TCP proxying, which Shoal tunnels through CONNECT; not translated',
    );
  }
  if (isHttpLike(protocol)) {
    const options = httpProtocolOptions(pool, protocol, warn);
    if (options !== undefined) out.typed_extension_protocol_options = { [HTTP_PROTOCOL_OPTIONS_KEY]: options };
  }
  return out;
}

/** outlier_detection, as Istio: success-rate ejection off, consecutive errors enforced at 100%. */
export function outlierDetectionFields(
  od: OutlierDetectionSettings | undefined,
  type: ProxyType,
  warn: PolicyWarn,
): ProtoObject {
  if (od === undefined) return {};
  if (type === 'grpc') {
    warn('outlierDetection', 'proxyless gRPC ejects by success rate or failure percentage only; not translated');
    return {};
  }
  const out: ProtoObject = { enforcing_success_rate: wrapped(0) };
  if (od.consecutive5xxErrors !== undefined) {
    out.consecutive_5xx = wrapped(od.consecutive5xxErrors);
    out.enforcing_consecutive_5xx = wrapped(od.consecutive5xxErrors > 0 ? 100 : 0);
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    out.consecutive_gateway_failure = wrapped(od.consecutiveGatewayErrors);
    out.enforcing_consecutive_gateway_failure = wrapped(od.consecutiveGatewayErrors > 0 ? 100 : 0);
  }
  if (od.interval !== undefined) out.interval = durationOf(od.interval);
  if (od.baseEjectionTime !== undefined) out.base_ejection_time = durationOf(od.baseEjectionTime);
  if (od.maxEjectionPercent !== undefined) out.max_ejection_percent = wrapped(od.maxEjectionPercent);
  if (od.splitExternalLocalOriginErrors !== true && od.consecutiveLocalOriginFailures !== undefined) {
    warn(
      'outlierDetection.consecutiveLocalOriginFailures',
      'only applies with splitExternalLocalOriginErrors; ignored',
    );
  }
  if (od.splitExternalLocalOriginErrors === true) {
    out.split_external_local_origin_errors = true;
    out.enforcing_local_origin_success_rate = wrapped(0);
    const n = od.consecutiveLocalOriginFailures;
    if (n !== undefined && n > 0) {
      out.consecutive_local_origin_failure = wrapped(n);
      out.enforcing_consecutive_local_origin_failure = wrapped(100);
    }
  }
  return { outlier_detection: out };
}
