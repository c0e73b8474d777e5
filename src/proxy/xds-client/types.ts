/**
 * The four xDS types the sidecar subscribes to, each with its decoder (src/proxy/config), its accepted resources
 * (type-cache.ts) and its per-stream protocol state: the latest nonce received (every request carries it, or the
 * server ignores the request as stale), the subscribed names (RouteConfiguration and ClusterLoadAssignment are
 * named; Listener and Cluster are wildcard) and the last NACK, for status reports.
 */
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
} from '../../control/xds/resource-types.js';
import {
  decodeCluster,
  decodeClusterLoadAssignment,
  decodeListener,
  decodeRouteConfiguration,
  type ClusterConfig,
  type EndpointSet,
  type ListenerConfig,
  type RouteTable,
} from '../config/index.js';
import { TypeCache } from './type-cache.js';

export type TypeName = 'LDS' | 'RDS' | 'CDS' | 'EDS';

export const TYPE_ORDER: readonly TypeName[] = ['LDS', 'RDS', 'CDS', 'EDS'];

export interface TypeState<T> {
  readonly cache: TypeCache<T>;
  /** Subscribed by name (RDS, EDS) rather than wildcard (LDS, CDS). */
  readonly named: boolean;
  /** The latest nonce received for this type on the current stream ('' on a new stream). */
  nonce: string;
  names: Set<string>;
  /** Delta streams: the names subscribed on the current stream (what the server was told so far). */
  streamNames: Set<string>;
  lastNack?: { nonce: string; message: string };
}

export interface XdsTypes {
  readonly LDS: TypeState<ListenerConfig>;
  readonly RDS: TypeState<RouteTable>;
  readonly CDS: TypeState<ClusterConfig>;
  readonly EDS: TypeState<EndpointSet>;
}

function state<T>(cache: TypeCache<T>, named: boolean): TypeState<T> {
  return { cache, named, nonce: '', names: new Set(), streamNames: new Set() };
}

export function createTypes(): XdsTypes {
  return {
    LDS: state(new TypeCache(LISTENER_TYPE_URL, decodeListener, (l) => l.name, true), false),
    RDS: state(new TypeCache(ROUTE_TYPE_URL, decodeRouteConfiguration, (r) => r.name, false), true),
    CDS: state(new TypeCache(CLUSTER_TYPE_URL, decodeCluster, (c) => c.name, true), false),
    EDS: state(new TypeCache(ENDPOINT_TYPE_URL, decodeClusterLoadAssignment, (e) => e.clusterName, false), true),
  };
}

const BY_URL: Record<string, TypeName> = {
  [LISTENER_TYPE_URL]: 'LDS',
  [ROUTE_TYPE_URL]: 'RDS',
  [CLUSTER_TYPE_URL]: 'CDS',
  [ENDPOINT_TYPE_URL]: 'EDS',
};

export function typeOf(typeUrl: string): TypeName | undefined {
  return BY_URL[typeUrl];
}
