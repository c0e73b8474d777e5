/**
 * `decodeCluster`: an Envoy Cluster as the sidecar's ClusterConfig. Discovery types EDS (from ADS), STATIC,
 * STRICT_DNS and LOGICAL_DNS (their endpoints inline); ORIGINAL_DST, custom cluster types, active health checks,
 * subset load balancing and other features the sidecar cannot honour are NACKed by field. Durations are in ms,
 * Envoy's defaults are filled in (connect timeout 5 s, idle timeout 1 h, DNS refresh 5 s).
 */
import type { Result } from '../../core/result.js';
import type { JsonObject } from '../../control/xds/well-known.js';
import {
  circuitBreakers,
  lbSettings,
  outlierDetection,
  type CircuitBreakers,
  type LbSettings,
  type OutlierDetection,
} from './cluster-policies.js';
import { transportSocket, type UpstreamTls } from './cluster-tls.js';
import { endpointSet, type EndpointSet } from './endpoints.js';
import {
  anyType,
  at,
  decodeResource,
  deepFreeze,
  durationMs,
  enumOf,
  fail,
  filterMetadata,
  messageName,
  obj,
  required,
  str,
  unsupported,
  wrapped,
  type Json,
} from './read.js';

export type ClusterType = 'EDS' | 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';

export interface UpstreamHttp {
  /** Speak HTTP/2 (h2c, or h2 over TLS) to the upstream. */
  readonly http2: boolean;
  /** Use the downstream request's protocol instead (use_downstream_protocol_config). */
  readonly useDownstreamProtocol: boolean;
  readonly http2MaxConcurrentStreams?: number;
  /** 0: unlimited. */
  readonly maxRequestsPerConnection: number;
  readonly idleTimeoutMs: number;
  /** 0: unlimited. */
  readonly maxConnectionDurationMs: number;
}

export interface ClusterConfig {
  readonly name: string;
  readonly type: ClusterType;
  /** EDS: the ClusterLoadAssignment to wait for (eds_cluster_config.service_name, else the cluster name). */
  readonly edsServiceName?: string;
  /** STATIC / STRICT_DNS / LOGICAL_DNS: the inline load_assignment (host names allowed for DNS). */
  readonly endpoints?: EndpointSet;
  readonly lb: LbSettings;
  readonly connectTimeoutMs: number;
  readonly circuitBreakers: CircuitBreakers;
  readonly outlierDetection?: OutlierDetection;
  readonly http: UpstreamHttp;
  readonly tcpKeepalive?: {
    readonly probes?: number;
    readonly timeSeconds?: number;
    readonly intervalSeconds?: number;
  };
  /** TLS origination; undefined: plaintext. */
  readonly tls?: UpstreamTls;
  readonly dnsLookupFamily: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  readonly dnsRefreshRateMs: number;
  /** filter_metadata.istio.config: the DestinationRule that shaped this cluster. */
  readonly istioConfig?: string;
  readonly metadata: Readonly<Record<string, JsonObject>>;
}

const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Upstream HTTP options: typed_extension_protocol_options (current) or the deprecated cluster fields. */
function upstreamHttp(o: Json): UpstreamHttp {
  let http2 = obj(o.http2_protocol_options, 'http2_protocol_options') !== undefined;
  let h2Options = obj(o.http2_protocol_options, 'http2_protocol_options');
  let useDownstreamProtocol = o.protocol_selection === 'USE_DOWNSTREAM_PROTOCOL';
  let common = obj(o.common_http_protocol_options, 'common_http_protocol_options') ?? {};
  let commonPath = 'common_http_protocol_options';
  const legacyMax = wrapped(o.max_requests_per_connection, 'max_requests_per_connection');
  for (const [key, value] of Object.entries(
    obj(o.typed_extension_protocol_options, 'typed_extension_protocol_options') ?? {},
  )) {
    const path = `typed_extension_protocol_options[${JSON.stringify(key)}]`;
    const options = obj(value, path) ?? {};
    if (messageName(anyType(options)) !== HTTP_OPTIONS_KEY)
      fail(path, `protocol options ${key} are not supported (${HTTP_OPTIONS_KEY})`);
    unsupported(options, path, ['auto_config'], 'ALPN-negotiated upstream protocols are not supported');
    unsupported(options, path, ['http_filters', 'header_validation_config']);
    common = obj(options.common_http_protocol_options, at(path, 'common_http_protocol_options')) ?? common;
    commonPath = at(path, 'common_http_protocol_options');
    const explicit = obj(options.explicit_http_config, at(path, 'explicit_http_config'));
    const downstream = obj(options.use_downstream_protocol_config, at(path, 'use_downstream_protocol_config'));
    if (explicit !== undefined) {
      unsupported(
        explicit,
        at(path, 'explicit_http_config'),
        ['http3_protocol_options'],
        'HTTP/3 upstreams are not supported',
      );
      h2Options = obj(explicit.http2_protocol_options, at(path, 'explicit_http_config.http2_protocol_options'));
      http2 = h2Options !== undefined;
    } else if (downstream !== undefined) {
      useDownstreamProtocol = true;
      h2Options = obj(
        downstream.http2_protocol_options,
        at(path, 'use_downstream_protocol_config.http2_protocol_options'),
      );
    }
  }
  const maxStreams = wrapped(h2Options?.max_concurrent_streams, 'http2_protocol_options.max_concurrent_streams');
  return {
    http2,
    useDownstreamProtocol,
    ...(maxStreams !== undefined ? { http2MaxConcurrentStreams: maxStreams } : {}),
    maxRequestsPerConnection:
      wrapped(common.max_requests_per_connection, at(commonPath, 'max_requests_per_connection')) ?? legacyMax ?? 0,
    idleTimeoutMs: durationMs(common.idle_timeout, at(commonPath, 'idle_timeout')) ?? 3_600_000,
    maxConnectionDurationMs: durationMs(common.max_connection_duration, at(commonPath, 'max_connection_duration')) ?? 0,
  };
}

function discovery(o: Json, name: string): Pick<ClusterConfig, 'type' | 'edsServiceName' | 'endpoints'> {
  if (o.cluster_type !== undefined) fail('cluster_type', 'custom cluster types are not supported');
  const type = enumOf(o.type, 'type', ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS'] as const);
  if (type === 'EDS') {
    const eds = obj(o.eds_cluster_config, 'eds_cluster_config');
    if (eds === undefined) fail('eds_cluster_config', 'required for an EDS cluster');
    if (obj(eds.eds_config, 'eds_cluster_config.eds_config')?.ads === undefined) {
      fail('eds_cluster_config.eds_config', 'only ADS config sources are supported (eds_config: { ads: {} })');
    }
    const service = str(eds.service_name, 'eds_cluster_config.service_name');
    return { type, edsServiceName: service !== undefined && service !== '' ? service : name };
  }
  const assignment = obj(o.load_assignment, 'load_assignment');
  if (assignment === undefined) fail('load_assignment', `required for a ${type} cluster`);
  const endpoints = endpointSet({ cluster_name: name, ...assignment }, 'load_assignment', type !== 'STATIC');
  if (type === 'LOGICAL_DNS' && endpoints.endpoints.length !== 1) {
    fail('load_assignment', `a LOGICAL_DNS cluster takes exactly one endpoint, got ${endpoints.endpoints.length}`);
  }
  return { type, endpoints };
}

function tcpKeepalive(o: Json): NonNullable<ClusterConfig['tcpKeepalive']> {
  const path = 'upstream_connection_options.tcp_keepalive';
  const probes = wrapped(o.keepalive_probes, at(path, 'keepalive_probes'));
  const timeSeconds = wrapped(o.keepalive_time, at(path, 'keepalive_time'));
  const intervalSeconds = wrapped(o.keepalive_interval, at(path, 'keepalive_interval'));
  return {
    ...(probes !== undefined ? { probes } : {}),
    ...(timeSeconds !== undefined ? { timeSeconds } : {}),
    ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
  };
}

function cluster(o: Json): ClusterConfig {
  const name = required(o.name, 'name');
  unsupported(o, '', ['health_checks'], 'active health checking is not supported by the sidecar');
  unsupported(o, '', ['transport_socket_matches', 'filters', 'upstream_config', 'lrs_server', 'dns_resolution_config']);
  const connectTimeoutMs = durationMs(o.connect_timeout, 'connect_timeout') ?? 5_000;
  if (connectTimeoutMs <= 0) fail('connect_timeout', 'must be greater than 0');
  const keepalive = obj(
    obj(o.upstream_connection_options, 'upstream_connection_options')?.tcp_keepalive,
    'upstream_connection_options.tcp_keepalive',
  );
  const metadata = filterMetadata(o.metadata, 'metadata');
  const istioConfig = metadata.istio?.config;
  const outlier = outlierDetection(o.outlier_detection);
  const tls = transportSocket(o.transport_socket, 'transport_socket');
  return {
    name,
    ...discovery(o, name),
    lb: lbSettings(o),
    connectTimeoutMs,
    circuitBreakers: circuitBreakers(o.circuit_breakers),
    ...(outlier !== undefined ? { outlierDetection: outlier } : {}),
    http: upstreamHttp(o),
    ...(keepalive !== undefined ? { tcpKeepalive: tcpKeepalive(keepalive) } : {}),
    ...(tls !== undefined ? { tls } : {}),
    dnsLookupFamily: enumOf(o.dns_lookup_family, 'dns_lookup_family', [
      'AUTO',
      'V4_ONLY',
      'V6_ONLY',
      'V4_PREFERRED',
      'ALL',
    ] as const),
    dnsRefreshRateMs: durationMs(o.dns_refresh_rate, 'dns_refresh_rate') ?? 5_000,
    ...(typeof istioConfig === 'string' ? { istioConfig } : {}),
    metadata,
  };
}

/** An envoy.config.cluster.v3.Cluster, decoded (`fromAny` output), as a frozen ClusterConfig. */
export function decodeCluster(resource: unknown): Result<ClusterConfig, string> {
  return decodeResource('Cluster', resource, (o) => deepFreeze(cluster(o)));
}
