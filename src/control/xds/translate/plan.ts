/**
 * The per-(view, namespace, proxy type) plan that both halves of a translation start from: the visible services,
 * the VirtualService and DestinationRule chosen for each, its clusters, and which parts depend on the individual
 * proxy rather than on its namespace:
 *
 * - a DestinationRule with a workloadSelector in the namespace claims the service: its clusters, endpoints and
 *   routes depend on the proxy's labels;
 * - a VirtualService with `sourceLabels` matches: the routes depend on the labels;
 * - locality-aware load balancing (localityLbSetting distribute, or failover with outlier detection): the
 *   ClusterLoadAssignment depends on the proxy's locality.
 *
 * sharedOutbound emits everything else; proxyOwn emits those parts, per proxy, so the two never overlap. The plan
 * is cached per view object (a WeakMap: it goes with the view), which keeps proxyOwn cheap for thousands of proxies.
 */
import type { VirtualService } from '../../../api/kinds/virtual-service.js';
import type { MeshService, MeshView } from '../../../registry/model.js';
import { Warnings } from './common.js';
import { planClusters, type ClusterPlan } from './clusters.js';
import { ruleDependsOnLabels, selectDestinationRule, type EffectiveRule } from './destination-rules.js';
import { localityAware } from './locality.js';
import type { ProxyType } from './proxy.js';
import { hostMatchRank, outboundScope, selectVirtualService, type HostClaim, type OutboundScope } from './scope.js';

export interface ServicePlan {
  readonly service: MeshService;
  /** The rule chosen without regard to workloadSelectors (what every proxy of the namespace sees). */
  readonly rule?: EffectiveRule;
  readonly virtualService?: VirtualService;
  readonly clusters: readonly ClusterPlan[];
  /** Clusters, endpoints and routes depend on the proxy's labels. */
  readonly labelDependent: boolean;
  /** Routes depend on the proxy's labels (labelDependent, or sourceLabels in the VirtualService). */
  readonly routesLabelDependent: boolean;
  /** EDS clusters whose assignment depends on the proxy's locality. */
  readonly localityDependent: ReadonlySet<string>;
}

export interface ScopePlan {
  readonly scope: OutboundScope;
  readonly services: readonly ServicePlan[];
  readonly byHost: ReadonlyMap<string, ServicePlan>;
  /** The services with label- or locality-dependent parts (what proxyOwn looks at). */
  readonly dependent: readonly ServicePlan[];
  /** Some service's routes depend on the proxy's labels (the sidecar's `outbound` routes are then per proxy). */
  readonly routesLabelDependent: boolean;
  /** Warnings found while planning (reported with the shared half). */
  readonly warnings: readonly string[];
}

function usesSourceLabels(vs: VirtualService | undefined): boolean {
  if (vs === undefined) return false;
  const http = (vs.spec?.http ?? []).some((r) => (r.match ?? []).some((m) => m.sourceLabels !== undefined));
  const tcp = (vs.spec?.tcp ?? []).some((r) => (r.match ?? []).some((m) => m.sourceLabels !== undefined));
  return http || tcp;
}

function planService(scope: OutboundScope, service: MeshService, warnings: Warnings): ServicePlan {
  const rule = selectDestinationRule(scope, service, warnings);
  const virtualService = selectVirtualService(scope.virtualServices, service.hostname, warnings);
  const clusters = planClusters(service, rule, warnings);
  const labelDependent = ruleDependsOnLabels(scope, service);
  const localityDependent = new Set<string>();
  for (const c of clusters) {
    if (c.discovery !== 'EDS') continue;
    const setting = c.policy.loadBalancer?.localityLbSetting;
    if (localityAware(setting, c.policy.outlierDetection !== undefined)) localityDependent.add(c.name);
  }
  return {
    service,
    ...(rule !== undefined ? { rule } : {}),
    ...(virtualService !== undefined ? { virtualService } : {}),
    clusters,
    labelDependent,
    routesLabelDependent: labelDependent || usesSourceLabels(virtualService),
    localityDependent,
  };
}

/** A mesh VirtualService host that names no service at all (a common slip: `reviews.default` is taken literally). */
function unmatchedHosts(scope: OutboundScope, warnings: Warnings): void {
  const { view } = scope;
  const hostnames = [...view.services.keys()];
  const report = (claim: HostClaim<VirtualService>): void => {
    const host = claim.host;
    if (
      view.services.has(host) ||
      (host.startsWith('*') && hostnames.some((h) => hostMatchRank(host, h) !== undefined))
    )
      return;
    warnings.add(claim.item, 'spec.hosts', `${host} matches no service; its routes apply to nothing`);
  };
  for (const claims of scope.virtualServices.exact.values()) claims.forEach(report);
  scope.virtualServices.wildcard.forEach(report);
}

const cache = new WeakMap<MeshView, Map<string, ScopePlan>>();

/** The plan for a namespace's proxies of one type (cached per view object). */
export function scopePlan(view: MeshView, namespace: string, type: ProxyType): ScopePlan {
  let byKey = cache.get(view);
  if (byKey === undefined) {
    byKey = new Map();
    cache.set(view, byKey);
  }
  const key = `${namespace}\0${type}`;
  let plan = byKey.get(key);
  if (plan === undefined) {
    const scope = outboundScope(view, namespace, type);
    const warnings = new Warnings();
    const services = scope.services.map((s) => planService(scope, s, warnings));
    unmatchedHosts(scope, warnings);
    plan = {
      scope,
      services,
      byHost: new Map(services.map((p) => [p.service.hostname, p])),
      dependent: services.filter((p) => p.routesLabelDependent || p.localityDependent.size > 0),
      routesLabelDependent: services.some((p) => p.routesLabelDependent),
      warnings: warnings.list(),
    };
    byKey.set(key, plan);
  }
  return plan;
}
