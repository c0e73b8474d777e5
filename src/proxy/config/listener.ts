/**
 * `decodeListener`: an Envoy Listener as the sidecar's ListenerConfig. The sidecar's listeners are HTTP: one filter
 * chain without a match, holding one HTTP connection manager, whose routes come over RDS from ADS (or inline), and
 * whose HTTP filters are the fault filter (optional) and the router (last). An `api_listener` (as proxyless gRPC
 * clients get) decodes as kind `grpc-api`, without an address.
 *
 * Anything that would change what the listener does and that the sidecar cannot do is NACKed with its field path:
 * other network filters (tcp_proxy, ...), TLS termination, filter chain matching, listener filters, original
 * destination, HTTP filters other than fault and router (unless `is_optional`), routes from anything but ADS.
 */
import { isIP } from 'node:net';
import type { Result } from '../../core/result.js';
import { decodeFault, FAULT_FILTER, FAULT_TYPE } from './route-policies.js';
import {
  anyType,
  at,
  bool,
  decodeResource,
  deepFreeze,
  durationMs,
  enumOf,
  fail,
  messageName,
  messages,
  num,
  obj,
  required,
  str,
  unsupported,
  wrappedBool,
  type Json,
} from './read.js';
import { decodeRouteConfiguration } from './route-config.js';
import type { FaultConfig, RouteTable } from './route-types.js';

export type ListenerKind = 'outbound' | 'inbound' | 'grpc-api';
export type HttpFilterKind = 'fault' | 'router';

export interface ListenerConfig {
  readonly name: string;
  /** From traffic_direction (UNSPECIFIED counts as outbound); `grpc-api` for an api_listener. */
  readonly kind: ListenerKind;
  /** An IP literal to bind; undefined for `grpc-api`. */
  readonly address?: string;
  readonly port?: number;
  readonly bindToPort: boolean;
  readonly statPrefix: string;
  /** The RouteConfiguration this listener routes by (RDS), unless its routes are inline. */
  readonly routeConfigName?: string;
  readonly inlineRoutes?: RouteTable;
  /** HTTP filters in order; the router is always last. */
  readonly httpFilters: readonly HttpFilterKind[];
  /** The fault filter's own config (applies to routes without a per-route fault), when it injects anything. */
  readonly fault?: FaultConfig;
  /** Optional HTTP filters that were skipped because the sidecar does not implement them. */
  readonly skippedFilters: readonly string[];
  /** Enabled upgrades, lowercase (`websocket`, `connect`). */
  readonly upgrades: readonly string[];
  readonly codec: 'AUTO' | 'HTTP1' | 'HTTP2';
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  /** Envoy defaults: stream idle 5 min, request 0 (none), request headers 0 (none), drain 5 s. */
  readonly streamIdleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly requestHeadersTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  /** Port stripping from Host before virtual host selection. */
  readonly stripPort: 'none' | 'matching' | 'any';
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER_TYPE = 'envoy.extensions.filters.http.router.v3.Router';
const ROUTER_FILTER = 'envoy.filters.http.router';
const HTTP_FILTERS: Record<string, HttpFilterKind> = { [ROUTER_TYPE]: 'router', [FAULT_TYPE]: 'fault' };
const FILTERS_BY_NAME: Record<string, HttpFilterKind> = { [ROUTER_FILTER]: 'router', [FAULT_FILTER]: 'fault' };

type HcmFields = Omit<ListenerConfig, 'name' | 'kind' | 'address' | 'port' | 'bindToPort'>;

function adsOnly(value: unknown, path: string): void {
  const source = obj(value, path) ?? {};
  if (source.ads === undefined) fail(path, 'only ADS config sources are supported (config_source: { ads: {} })');
}

function httpConnectionManager(o: Json, path: string): HcmFields {
  unsupported(o, path, ['scoped_routes', 'http3_protocol_options', 'strip_trailing_host_dot']);
  const filters: HttpFilterKind[] = [];
  const skippedFilters: string[] = [];
  let fault: FaultConfig | undefined;
  const list = messages(o.http_filters, at(path, 'http_filters'));
  list.forEach(({ item, path: p }, i) => {
    const name = str(item.name, at(p, 'name')) ?? '';
    if (item.config_discovery !== undefined)
      fail(at(p, 'config_discovery'), 'filter config discovery is not supported');
    if (bool(item.disabled, at(p, 'disabled'))) fail(at(p, 'disabled'), 'disabled filters are not supported');
    const config = obj(item.typed_config, at(p, 'typed_config'));
    const type = config !== undefined ? messageName(anyType(config)) : '';
    const kind = config !== undefined ? HTTP_FILTERS[type] : FILTERS_BY_NAME[name];
    if (kind === undefined) {
      if (bool(item.is_optional, at(p, 'is_optional'))) return void skippedFilters.push(name || type);
      fail(p, `HTTP filter ${name || '(unnamed)'} (${type || 'no typed_config'}) is not supported (fault, router)`);
    }
    if (kind === 'router' && i !== list.length - 1) fail(p, 'the router must be the last HTTP filter');
    if (kind === 'fault' && config !== undefined) {
      const f = decodeFault(config, at(p, 'typed_config'));
      if (f.delay !== undefined || f.abort !== undefined) fault = f;
    }
    filters.push(kind);
  });
  if (filters[filters.length - 1] !== 'router') fail(at(path, 'http_filters'), 'the router filter is required, last');
  let routeConfigName: string | undefined;
  let inlineRoutes: RouteTable | undefined;
  const rds = obj(o.rds, at(path, 'rds'));
  const inline = obj(o.route_config, at(path, 'route_config'));
  if (rds !== undefined) {
    adsOnly(rds.config_source, at(path, 'rds.config_source'));
    routeConfigName = required(rds.route_config_name, at(path, 'rds.route_config_name'));
  } else if (inline !== undefined) {
    const decoded = decodeRouteConfiguration(inline);
    if (!decoded.ok) fail(at(path, 'route_config'), decoded.error);
    inlineRoutes = decoded.value;
  } else {
    fail(path, 'no routes: rds or route_config is required');
  }
  const upgrades = messages(o.upgrade_configs, at(path, 'upgrade_configs'))
    .filter(({ item, path: p }) => {
      unsupported(item, p, ['filters']);
      return wrappedBool(item.enabled, at(p, 'enabled')) !== false;
    })
    .map(({ item, path: p }) => required(item.upgrade_type, at(p, 'upgrade_type')).toLowerCase());
  const stripPort = o.strip_any_host_port === true ? 'any' : o.strip_matching_host_port === true ? 'matching' : 'none';
  return {
    statPrefix: str(o.stat_prefix, at(path, 'stat_prefix')) ?? '',
    ...(routeConfigName !== undefined ? { routeConfigName } : {}),
    ...(inlineRoutes !== undefined ? { inlineRoutes } : {}),
    httpFilters: filters,
    ...(fault !== undefined ? { fault } : {}),
    skippedFilters,
    upgrades,
    codec: enumOf(o.codec_type, at(path, 'codec_type'), ['AUTO', 'HTTP1', 'HTTP2'] as const),
    useRemoteAddress: wrappedBool(o.use_remote_address, at(path, 'use_remote_address')) ?? false,
    xffNumTrustedHops: num(o.xff_num_trusted_hops, at(path, 'xff_num_trusted_hops')) ?? 0,
    streamIdleTimeoutMs: durationMs(o.stream_idle_timeout, at(path, 'stream_idle_timeout')) ?? 300_000,
    requestTimeoutMs: durationMs(o.request_timeout, at(path, 'request_timeout')) ?? 0,
    requestHeadersTimeoutMs: durationMs(o.request_headers_timeout, at(path, 'request_headers_timeout')) ?? 0,
    drainTimeoutMs: durationMs(o.drain_timeout, at(path, 'drain_timeout')) ?? 5_000,
    normalizePath: wrappedBool(o.normalize_path, at(path, 'normalize_path')) ?? false,
    mergeSlashes: bool(o.merge_slashes, at(path, 'merge_slashes')),
    stripPort,
  };
}

/** The HCM of a filter chain: exactly one network filter, and it must be the HTTP connection manager. */
function hcmOf(chain: Json, path: string): HcmFields {
  unsupported(chain, path, ['filter_chain_match'], 'filter chain matching is not supported by the sidecar');
  unsupported(chain, path, ['transport_socket'], 'TLS termination is not supported on sidecar listeners');
  const filters = messages(chain.filters, at(path, 'filters'));
  if (filters.length !== 1)
    fail(at(path, 'filters'), `expected one network filter (the HTTP connection manager), got ${filters.length}`);
  const { item, path: p } = filters[0]!;
  const config = obj(item.typed_config, at(p, 'typed_config')) ?? {};
  const type = messageName(anyType(config));
  if (type !== HCM_TYPE) {
    fail(
      p,
      `network filter ${str(item.name, at(p, 'name')) ?? ''} (${type || 'no typed_config'}) is not supported (only the HTTP connection manager)`,
    );
  }
  return httpConnectionManager(config, at(p, 'typed_config'));
}

function listener(o: Json): ListenerConfig {
  const name = required(o.name, 'name');
  unsupported(o, '', [
    'default_filter_chain',
    'filter_chain_matcher',
    'listener_filters',
    'udp_listener_config',
    'internal_listener',
    'additional_addresses',
  ]);
  if (wrappedBool(o.use_original_dst, 'use_original_dst') === true)
    fail('use_original_dst', 'original destination is not supported');
  const api = obj(o.api_listener, 'api_listener');
  if (api !== undefined) {
    const hcm = obj(api.api_listener, 'api_listener.api_listener') ?? {};
    if (messageName(anyType(hcm)) !== HCM_TYPE) fail('api_listener.api_listener', `expected an ${HCM_TYPE}`);
    return { name, kind: 'grpc-api', bindToPort: false, ...httpConnectionManager(hcm, 'api_listener.api_listener') };
  }
  const address = obj(obj(o.address, 'address')?.socket_address, 'address.socket_address');
  if (address === undefined) fail('address', 'a socket_address is required');
  unsupported(address, 'address.socket_address', ['named_port', 'resolver_name']);
  enumOf(address.protocol, 'address.socket_address.protocol', ['TCP'] as const);
  const ip = required(address.address, 'address.socket_address.address');
  if (isIP(ip) === 0) fail('address.socket_address.address', `${ip} is not an IP address`);
  const port = num(address.port_value, 'address.socket_address.port_value') ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail('address.socket_address.port_value', `${port} is not a port`);
  const chains = messages(o.filter_chains, 'filter_chains');
  if (chains.length !== 1) fail('filter_chains', `expected exactly one filter chain, got ${chains.length}`);
  const direction = enumOf(o.traffic_direction, 'traffic_direction', ['UNSPECIFIED', 'INBOUND', 'OUTBOUND'] as const);
  return {
    name,
    kind: direction === 'INBOUND' ? 'inbound' : 'outbound',
    address: ip,
    port,
    bindToPort: wrappedBool(o.bind_to_port, 'bind_to_port') ?? true,
    ...hcmOf(chains[0]!.item, chains[0]!.path),
  };
}

/** An envoy.config.listener.v3.Listener, decoded (`fromAny` output), as a frozen ListenerConfig. */
export function decodeListener(resource: unknown): Result<ListenerConfig, string> {
  return decodeResource('Listener', resource, (o) => deepFreeze(listener(o)));
}
