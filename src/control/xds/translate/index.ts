/**
 * Translation: the registry's MeshView and one proxy in, Envoy xDS resources out (plain objects for
 * getXdsProtos().toAny), plus the list of what could not be translated faithfully. Pure functions.
 *
 * For 2000 proxies over 1000 services, translation is split in two halves whose resource names never overlap:
 * - `sharedOutbound(view, namespace, type)`: what every proxy of a namespace and type gets (outbound clusters,
 *   endpoints, the sidecar `outbound` routes, gRPC listeners and routes). Memoize it by
 *   (view.version, namespace, type): its output depends on nothing else.
 * - `proxyOwn(view, proxy)`: the proxy's own listeners, inbound route and cluster, gateway configuration, and the
 *   outbound parts that depend on its labels or locality (see plan.ts).
 * `translate` is both, merged. docs/translation.md has the whole mapping.
 */
import type { MeshView } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  type XdsTypeUrl,
} from '../resource-types.js';
import type { SnapshotObjects } from '../snapshot.js';
import { Warnings } from './common.js';
import { buildCluster, clustersDependOnEndpoints, inboundCluster, planClusters } from './clusters.js';
import { selectDestinationRule } from './destination-rules.js';
import { loadAssignment } from './endpoints.js';
import { gatewayResources } from './gateway.js';
import { grpcListeners, inboundListener, outboundListener } from './listeners.js';
import { scopePlan, type ScopePlan, type ServicePlan } from './plan.js';
import type { ProxyContext, ProxyType } from './proxy.js';
import { grpcRouteConfig, inboundRoutes, sidecarOutboundRoutes, type RoutingInput } from './routes.js';

export type { ProxyContext, ProxyType } from './proxy.js';
export { proxyContextOf } from './proxy.js';

export interface TranslationResult {
  /** Resources by type URL (only types with resources are present). */
  resources: SnapshotObjects;
  /** What could not be translated faithfully, one line each (`<Kind> <ns>/<name>: <field>: <what happened>`). */
  warnings: string[];
}

class Collector {
  private readonly byType = new Map<XdsTypeUrl, ProtoObject[]>();
  readonly warnings = new Warnings();

  add(typeUrl: XdsTypeUrl, ...objects: ProtoObject[]): void {
    if (objects.length === 0) return;
    const list = this.byType.get(typeUrl) ?? [];
    list.push(...objects);
    this.byType.set(typeUrl, list);
  }

  result(): TranslationResult {
    const resources: SnapshotObjects = {};
    for (const [typeUrl, list] of this.byType) resources[typeUrl] = list;
    return { resources, warnings: this.warnings.list() };
  }
}

function routingInput(plan: ScopePlan, warnings: Warnings, labels?: Readonly<Record<string, string>>): RoutingInput {
  const { scope, byHost } = plan;
  return {
    type: scope.type,
    namespace: scope.namespace,
    ...(labels !== undefined ? { labels } : {}),
    domain: scope.view.domain,
    services: scope.byHost,
    ruleFor: (service) => {
      const p = byHost.get(service.hostname);
      if (labels !== undefined && p?.labelDependent === true) {
        return selectDestinationRule(scope, service, warnings, labels);
      }
      return p?.rule;
    },
    virtualServiceFor: (service) => byHost.get(service.hostname)?.virtualService,
    warnings,
  };
}

/**
 * Which part of sharedOutbound to translate: all of it, its ClusterLoadAssignments alone (`endpoints`), or all but
 * them (`config`). The two parts never overlap; `all` is their union.
 */
export type SharedPart = 'all' | 'config' | 'endpoints';

/** Everything that depends only on (view, namespace, proxy type). */
export function sharedOutbound(
  view: MeshView,
  namespace: string,
  proxyType: ProxyType,
  part: SharedPart = 'all',
): TranslationResult {
  const plan = scopePlan(view, namespace, proxyType);
  const out = new Collector();
  const config = part !== 'endpoints';
  if (config) out.warnings.addAll(plan.warnings);
  for (const sp of plan.services) {
    if (sp.labelDependent) continue;
    for (const c of sp.clusters) {
      if (config) out.add(CLUSTER_TYPE_URL, buildCluster(c, proxyType, out.warnings));
      if (part !== 'config' && c.discovery === 'EDS' && !sp.localityDependent.has(c.name)) {
        const target = { clusterName: c.name, service: c.service, port: c.port.port, policy: c.policy };
        out.add(ENDPOINT_TYPE_URL, loadAssignment({ ...target, subsetLabels: c.subset?.labels }, out.warnings));
      }
    }
  }
  if (!config) return out.result();
  const input = routingInput(plan, out.warnings);
  if (proxyType === 'sidecar' && !plan.routesLabelDependent) {
    out.add(ROUTE_TYPE_URL, sidecarOutboundRoutes(plan.scope.services, input));
  }
  if (proxyType === 'grpc') {
    const services = plan.scope.services;
    out.add(LISTENER_TYPE_URL, ...grpcListeners(services, namespace, view.domain, out.warnings));
    for (const sp of plan.services) {
      if (!sp.routesLabelDependent) out.add(ROUTE_TYPE_URL, ...grpcRoutes(sp, input));
    }
  }
  return out.result();
}

function grpcRoutes(sp: ServicePlan, input: RoutingInput): ProtoObject[] {
  return sp.service.ports.filter((p) => p.protocol !== 'UDP').map((p) => grpcRouteConfig(sp.service, p.port, input));
}

/** The outbound parts that depend on this proxy's labels or locality (the complement of sharedOutbound's). */
function dependentOutbound(view: MeshView, proxy: ProxyContext, out: Collector): void {
  const plan = scopePlan(view, proxy.namespace, proxy.type);
  const labels = proxy.labels;
  for (const sp of plan.dependent) {
    if (sp.labelDependent) {
      const rule = selectDestinationRule(plan.scope, sp.service, out.warnings, labels);
      for (const c of planClusters(sp.service, rule, out.warnings)) {
        out.add(CLUSTER_TYPE_URL, buildCluster(c, proxy.type, out.warnings));
        if (c.discovery !== 'EDS') continue;
        const target = { clusterName: c.name, service: c.service, port: c.port.port, policy: c.policy };
        out.add(
          ENDPOINT_TYPE_URL,
          loadAssignment({ ...target, subsetLabels: c.subset?.labels }, out.warnings, proxy.locality),
        );
      }
      continue;
    }
    for (const c of sp.clusters) {
      if (!sp.localityDependent.has(c.name)) continue;
      const target = { clusterName: c.name, service: c.service, port: c.port.port, policy: c.policy };
      out.add(
        ENDPOINT_TYPE_URL,
        loadAssignment({ ...target, subsetLabels: c.subset?.labels }, out.warnings, proxy.locality),
      );
    }
  }
  if (!plan.routesLabelDependent) return;
  const input = routingInput(plan, out.warnings, labels);
  if (proxy.type === 'sidecar') out.add(ROUTE_TYPE_URL, sidecarOutboundRoutes(plan.scope.services, input));
  if (proxy.type === 'grpc') {
    for (const sp of plan.dependent) if (sp.routesLabelDependent) out.add(ROUTE_TYPE_URL, ...grpcRoutes(sp, input));
  }
}

/**
 * Whether a change to the endpoints of `hosts` alone (MeshChange.endpointsChanged, with configChanged false) can
 * alter nothing but ClusterLoadAssignments, so that the `config` part of sharedOutbound stays as it was. Not when a
 * host's clusters themselves depend on its endpoints (clustersDependOnEndpoints), or the host is gone.
 */
export function onlyEndpointsChange(view: MeshView, hosts: Iterable<string>): boolean {
  for (const host of hosts) {
    const service = view.services.get(host);
    if (service === undefined || clustersDependOnEndpoints(service)) return false;
  }
  return true;
}

/**
 * Whether proxyOwn's result for this proxy can differ from one view to another. A sidecar in a namespace with no
 * label- or locality-dependent service gets only its own listeners, route and cluster, made from the proxy alone:
 * the push engine then keeps what it translated and encoded the first time.
 */
export function ownDependsOnView(view: MeshView, proxy: ProxyContext): boolean {
  if (proxy.type !== 'sidecar') return true;
  const plan = scopePlan(view, proxy.namespace, proxy.type);
  return plan.dependent.length > 0 || plan.routesLabelDependent;
}

/** What belongs to this proxy alone. */
export function proxyOwn(view: MeshView, proxy: ProxyContext): TranslationResult {
  const out = new Collector();
  if (proxy.type === 'sidecar') {
    out.add(LISTENER_TYPE_URL, outboundListener(proxy));
    if (proxy.appPort !== undefined) {
      out.add(LISTENER_TYPE_URL, inboundListener(proxy));
      out.add(ROUTE_TYPE_URL, inboundRoutes(proxy.appPort));
      out.add(CLUSTER_TYPE_URL, inboundCluster(proxy, proxy.appPort));
    } else {
      out.warnings.add(`proxy ${proxy.id}`, '', 'no SHOAL_APP_PORT in its node metadata: no inbound listener');
    }
  }
  if (proxy.type === 'gateway') {
    const gateway = gatewayResources(view, proxy, out.warnings);
    out.add(LISTENER_TYPE_URL, ...gateway.listeners);
    out.add(ROUTE_TYPE_URL, ...gateway.routes);
  }
  dependentOutbound(view, proxy, out);
  return out.result();
}

/** Everything a proxy gets: sharedOutbound and proxyOwn, merged. */
export function translate(view: MeshView, proxy: ProxyContext): TranslationResult {
  const shared = sharedOutbound(view, proxy.namespace, proxy.type);
  const own = proxyOwn(view, proxy);
  const resources: SnapshotObjects = {};
  for (const typeUrl of [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL] as const) {
    const list = [...(shared.resources[typeUrl] ?? []), ...(own.resources[typeUrl] ?? [])];
    if (list.length > 0) resources[typeUrl] = list;
  }
  const warnings = new Warnings();
  warnings.addAll(shared.warnings);
  warnings.addAll(own.warnings);
  return { resources, warnings: warnings.list() };
}
