/**
 * From accepted resources to the ProxyConfig the sidecar runs, the way Envoy warms resources:
 *
 * - an EDS cluster is active once its ClusterLoadAssignment has arrived (or its initial fetch timed out: then it is
 *   active with no endpoints, as Envoy's initial_fetch_timeout makes it); until then it is warming, and the
 *   previous version of a cluster of the same name, if any, keeps serving;
 * - a listener is active once its RouteConfiguration has arrived (or timed out: then it has no routes and answers
 *   404 NR); until then the previous version keeps serving;
 * - removed listeners and clusters go at once.
 *
 * The subscriptions the client keeps follow from this: the route configurations and assignments that accepted or
 * still-active resources name, so a warming replacement and the version it replaces both stay up to date.
 */
import type {
  ClusterConfig,
  ConfigVersions,
  EndpointSet,
  ListenerConfig,
  ProxyConfig,
  RouteTable,
} from '../config/index.js';
import { emptyEndpointSet } from '../config/index.js';

export interface AcceptedConfig {
  readonly versions: ConfigVersions;
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  readonly routes: ReadonlyMap<string, RouteTable>;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  /** ClusterLoadAssignments by name (an EDS cluster's edsServiceName). */
  readonly assignments: ReadonlyMap<string, EndpointSet>;
  /** `rds:<name>` / `eds:<name>`: route configurations and assignments whose initial fetch timed out. */
  readonly timedOut: ReadonlySet<string>;
}

/** One empty set per name, so that republishing a timed-out cluster does not look like a change. */
const EMPTY_SETS = new Map<string, EndpointSet>();

function endpointsFor(cluster: ClusterConfig, accepted: AcceptedConfig): EndpointSet | undefined {
  if (cluster.endpoints !== undefined) return cluster.endpoints;
  const name = cluster.edsServiceName ?? cluster.name;
  const set = accepted.assignments.get(name);
  if (set !== undefined || !accepted.timedOut.has(`eds:${name}`)) return set;
  let empty = EMPTY_SETS.get(name);
  if (empty === undefined) EMPTY_SETS.set(name, (empty = emptyEndpointSet(name)));
  return empty;
}

function routesReady(listener: ListenerConfig, accepted: AcceptedConfig): boolean {
  const name = listener.routeConfigName;
  return name === undefined || accepted.routes.has(name) || accepted.timedOut.has(`rds:${name}`);
}

/** The active configuration: accepted where warm, the previous version where warming. */
export function assemble(accepted: AcceptedConfig, previous: ProxyConfig | undefined): ProxyConfig {
  const clusters = new Map<string, ClusterConfig>();
  const endpoints = new Map<string, EndpointSet>();
  const warmingClusters: string[] = [];
  for (const [name, cluster] of accepted.clusters) {
    const set = endpointsFor(cluster, accepted);
    if (set !== undefined) {
      clusters.set(name, cluster);
      endpoints.set(name, set);
      continue;
    }
    warmingClusters.push(name);
    const old = previous?.clusters.get(name);
    if (old === undefined) continue;
    clusters.set(name, old);
    endpoints.set(name, endpointsFor(old, accepted) ?? previous!.endpoints.get(name)!);
  }
  const listeners = new Map<string, ListenerConfig>();
  const warmingListeners: string[] = [];
  for (const [name, listener] of accepted.listeners) {
    if (routesReady(listener, accepted)) listeners.set(name, listener);
    else {
      warmingListeners.push(name);
      const old = previous?.listeners.get(name);
      if (old !== undefined) listeners.set(name, old);
    }
  }
  const routes = new Map<string, RouteTable>();
  for (const listener of listeners.values()) {
    const name = listener.routeConfigName;
    if (name === undefined || routes.has(name)) continue;
    const table = accepted.routes.get(name) ?? previous?.routes.get(name);
    if (table !== undefined) routes.set(name, table);
  }
  return Object.freeze({
    versions: accepted.versions,
    listeners,
    routes,
    clusters,
    endpoints,
    warming: Object.freeze({ listeners: warmingListeners, clusters: warmingClusters }),
  });
}

/** Route configurations the client must subscribe to: those named by accepted or active listeners. */
export function routeNames(accepted: AcceptedConfig, active: ProxyConfig | undefined): Set<string> {
  const names = new Set<string>();
  for (const map of [accepted.listeners, active?.listeners]) {
    for (const l of map?.values() ?? []) if (l.routeConfigName !== undefined) names.add(l.routeConfigName);
  }
  return names;
}

/** Assignments the client must subscribe to: those of accepted or active EDS clusters. */
export function assignmentNames(accepted: AcceptedConfig, active: ProxyConfig | undefined): Set<string> {
  const names = new Set<string>();
  for (const map of [accepted.clusters, active?.clusters]) {
    for (const c of map?.values() ?? []) if (c.edsServiceName !== undefined) names.add(c.edsServiceName);
  }
  return names;
}

/** Same content by identity: every decoded resource is shared between snapshots when unchanged. */
export function sameConfig(a: ProxyConfig, b: ProxyConfig): boolean {
  const va = a.versions;
  const vb = b.versions;
  if (va.listeners !== vb.listeners || va.routes !== vb.routes || va.clusters !== vb.clusters) return false;
  if (va.endpoints !== vb.endpoints) return false;
  const same = <V>(x: ReadonlyMap<string, V>, y: ReadonlyMap<string, V>): boolean =>
    x.size === y.size && [...x].every(([k, v]) => y.get(k) === v);
  return (
    same(a.listeners, b.listeners) &&
    same(a.routes, b.routes) &&
    same(a.clusters, b.clusters) &&
    same(a.endpoints, b.endpoints) &&
    a.warming.listeners.join('\n') === b.warming.listeners.join('\n') &&
    a.warming.clusters.join('\n') === b.warming.clusters.join('\n')
  );
}
