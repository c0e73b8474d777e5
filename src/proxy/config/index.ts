/**
 * The sidecar's runtime configuration (docs/sidecar-xds.md): one decoder per xDS resource type, each returning the
 * compiled, frozen config or the reason it cannot be used (the NACK's error_detail), and `ProxyConfig`, the whole
 * configuration at one instant: what the xDS client publishes and what listeners, the router and the cluster
 * manager read. A change publishes a new ProxyConfig sharing every decoded resource that did not change, so a
 * request holds on to the one it started with. Only warm resources are in it: a listener whose route configuration
 * has not arrived and an EDS cluster whose ClusterLoadAssignment has not arrived are listed in `warming` and left
 * out (or kept at their previous version), as Envoy does.
 */
import type { ClusterConfig } from './cluster.js';
import type { EndpointSet } from './endpoints.js';
import type { ListenerConfig } from './listener.js';
import type { RouteTable } from './route-types.js';
export { decodeListener, type ListenerConfig, type ListenerKind, type HttpFilterKind } from './listener.js';
export { decodeRouteConfiguration } from './route-config.js';
export { decodeCluster, type ClusterConfig, type ClusterType, type UpstreamHttp } from './cluster.js';
export {
  decodeClusterLoadAssignment,
  emptyEndpointSet,
  endpointKey,
  type EndpointSet,
  type HealthStatus,
  type LbEndpoint,
  type Locality,
  type LocalityEndpoints,
} from './endpoints.js';
export type { CircuitBreakers, LbPolicy, LbSettings, OutlierDetection, SlowStart } from './cluster-policies.js';
export type { DataSource, SubjectAltNameMatcher, UpstreamTls } from './cluster-tls.js';
export type * from './route-types.js';
export type { HeaderMatcher, QueryParameterMatcher, StringMatcher, ValueMatch } from './matchers.js';
export { matchHeader, matchQueryParameter, matchString } from './matchers.js';
export { pickWeightedCluster, routeMatches, selectRoute, selectVirtualHost, type RequestView } from './route-select.js';

/** The version_info of the last accepted response of each type ('' before the first). */
export interface ConfigVersions {
  readonly listeners: string;
  readonly routes: string;
  readonly clusters: string;
  readonly endpoints: string;
}

export interface ProxyConfig {
  readonly versions: ConfigVersions;
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  /** RouteConfigurations by name (those the listeners name over RDS). */
  readonly routes: ReadonlyMap<string, RouteTable>;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  /**
   * Endpoints by cluster name, for every cluster in `clusters`: an EDS cluster's assignment (empty if its initial
   * fetch timed out), a STATIC / DNS cluster's inline endpoints.
   */
  readonly endpoints: ReadonlyMap<string, EndpointSet>;
  /** Accepted but not yet usable: listeners waiting for their routes, EDS clusters waiting for their endpoints. */
  readonly warming: { readonly listeners: readonly string[]; readonly clusters: readonly string[] };
}

/** The route table a listener uses: its inline routes, or the RDS one. */
export function routeTableOf(config: ProxyConfig, listener: ListenerConfig): RouteTable | undefined {
  if (listener.inlineRoutes !== undefined) return listener.inlineRoutes;
  return listener.routeConfigName !== undefined ? config.routes.get(listener.routeConfigName) : undefined;
}
