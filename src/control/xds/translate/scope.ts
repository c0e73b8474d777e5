/**
 * What a proxy in one namespace can see, and which routing configuration applies to each service it sees.
 *
 * Visibility follows Istio's `exportTo`: absent or `*` is every namespace, `.` the owner's own, `~` none, else the
 * listed namespaces; it applies to services, VirtualServices and DestinationRules alike. Hosts in a VirtualService or
 * DestinationRule that are short names (no dot) are resolved in the resource's own namespace
 * (`reviews` -> `reviews.<ns>.svc.<domain>`); names with dots are taken as written (as Istio does); `*.example.com`
 * and `*` are wildcards. When several resources claim a host, the most specific host wins (exact, then the longest
 * wildcard), then the first in the view's order; see selectVirtualService and destination-rules.ts.
 */
import type { DestinationRule } from '../../../api/kinds/destination-rule.js';
import type { VirtualService } from '../../../api/kinds/virtual-service.js';
import type { MeshService, MeshView } from '../../../registry/model.js';
import { describe, namespaceOf, type Warnings } from './common.js';
import type { ProxyType } from './proxy.js';

/** A resource's claim on a (resolved) host, with its position in the view's order. */
export interface HostClaim<T> {
  readonly item: T;
  readonly order: number;
  readonly host: string;
}

/** Claims by exact host, and the wildcard ones: finding a service's rules is a lookup, not a scan. */
export interface HostIndex<T> {
  readonly exact: ReadonlyMap<string, readonly HostClaim<T>[]>;
  readonly wildcard: readonly HostClaim<T>[];
}

export interface OutboundScope {
  readonly view: MeshView;
  readonly namespace: string;
  readonly type: ProxyType;
  /** Services visible from the namespace, sorted by hostname. */
  readonly services: readonly MeshService[];
  /** The visible services by hostname. */
  readonly byHost: ReadonlyMap<string, MeshService>;
  /** VirtualServices visible from the namespace and bound to the mesh (sidecars, gRPC), by resolved host. */
  readonly virtualServices: HostIndex<VirtualService>;
  /** DestinationRules visible from the namespace, by resolved host. */
  readonly destinationRules: HostIndex<DestinationRule>;
}

/** Is something owned by `owner` with this exportTo visible from `namespace`? */
export function exportedTo(exportTo: readonly string[] | undefined, owner: string, namespace: string): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && owner === namespace));
}

/** A VirtualService/DestinationRule host as an FQDN: short names resolve in the resource's namespace. */
export function resolveHost(host: string, namespace: string, domain: string): string {
  if (host === '*' || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domain}`;
}

/**
 * How specifically `pattern` (resolved) matches `hostname`: undefined if not at all, else a rank where larger is
 * more specific (an exact match beats any wildcard, a longer wildcard suffix beats a shorter one).
 */
export function hostMatchRank(pattern: string, hostname: string): number | undefined {
  if (pattern === hostname) return Number.MAX_SAFE_INTEGER;
  if (pattern === '*') return 0;
  if (!pattern.startsWith('*.')) return undefined;
  const suffix = pattern.slice(1);
  const name = hostname.startsWith('*.') ? hostname.slice(1) : hostname;
  return name.endsWith(suffix) && name.length > suffix.length ? suffix.length : undefined;
}

/** Is the VirtualService bound to the mesh's sidecars (no gateways, or `mesh` among them)? */
export function boundToMesh(vs: VirtualService): boolean {
  const gateways = vs.spec?.gateways;
  return gateways === undefined || gateways.length === 0 || gateways.includes('mesh');
}

/** Indexes items by their resolved hosts (an item claiming a host twice counts once). */
export function hostIndex<T>(items: readonly T[], hostsOf: (item: T) => readonly string[]): HostIndex<T> {
  const exact = new Map<string, HostClaim<T>[]>();
  const wildcard: HostClaim<T>[] = [];
  items.forEach((item, order) => {
    for (const host of new Set(hostsOf(item))) {
      const claim = { item, order, host };
      if (host.startsWith('*')) wildcard.push(claim);
      else exact.set(host, [...(exact.get(host) ?? []), claim]);
    }
  });
  return { exact, wildcard };
}

/** The items claiming `hostname`, each with its best rank (see hostMatchRank), in view order. */
export function claimsOn<T>(index: HostIndex<T>, hostname: string): { item: T; rank: number }[] {
  const best = new Map<number, { item: T; rank: number }>();
  const consider = (claim: HostClaim<T>, rank: number | undefined): void => {
    if (rank === undefined) return;
    const seen = best.get(claim.order);
    if (seen === undefined || rank > seen.rank) best.set(claim.order, { item: claim.item, rank });
  };
  for (const claim of index.exact.get(hostname) ?? []) consider(claim, Number.MAX_SAFE_INTEGER);
  for (const claim of index.wildcard) consider(claim, hostMatchRank(claim.host, hostname));
  return [...best.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
}

/** The scope of a namespace's proxies of one type. */
export function outboundScope(view: MeshView, namespace: string, type: ProxyType): OutboundScope {
  const services = [...view.services.values()]
    .filter((s) => exportedTo(s.exportTo, s.namespace, namespace))
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  const meshVirtualServices = view.config.virtualServices.filter(
    (vs) => boundToMesh(vs) && exportedTo(vs.spec?.exportTo, namespaceOf(vs), namespace),
  );
  const rules = view.config.destinationRules.filter((dr) => exportedTo(dr.spec?.exportTo, namespaceOf(dr), namespace));
  return {
    view,
    namespace,
    type,
    services,
    byHost: new Map(services.map((s) => [s.hostname, s])),
    virtualServices: hostIndex(meshVirtualServices, (vs) =>
      (vs.spec?.hosts ?? []).map((h) => resolveHost(h, namespaceOf(vs), view.domain)),
    ),
    destinationRules: hostIndex(rules, (dr) => [resolveHost(dr.spec?.host ?? '', namespaceOf(dr), view.domain)]),
  };
}

/**
 * The VirtualService that routes `hostname`: the most specific host match, then the first. A VirtualService
 * shadowed by another with an equally specific host is reported.
 */
export function selectVirtualService(
  index: HostIndex<VirtualService>,
  hostname: string,
  warnings: Warnings,
): VirtualService | undefined {
  let best: { item: VirtualService; rank: number } | undefined;
  const tied: VirtualService[] = [];
  for (const claim of claimsOn(index, hostname)) {
    if (best === undefined || claim.rank > best.rank) {
      best = claim;
      tied.length = 0;
    } else if (claim.rank === best.rank) {
      tied.push(claim.item);
    }
  }
  for (const vs of tied) {
    warnings.add(vs, 'spec.hosts', `ignored for ${hostname}: ${describe(best!.item)} also routes it and comes first`);
  }
  return best?.item;
}
