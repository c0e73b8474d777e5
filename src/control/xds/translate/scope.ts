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

export interface OutboundScope {
  readonly view: MeshView;
  readonly namespace: string;
  readonly type: ProxyType;
  /** Services visible from the namespace, sorted by hostname. */
  readonly services: readonly MeshService[];
  /** VirtualServices visible from the namespace and bound to the mesh (sidecars, gRPC), in view order. */
  readonly meshVirtualServices: readonly VirtualService[];
  /** DestinationRules visible from the namespace, in view order. */
  readonly destinationRules: readonly DestinationRule[];
  /** The visible services by hostname. */
  readonly byHost: ReadonlyMap<string, MeshService>;
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

/** The scope of a namespace's proxies of one type. */
export function outboundScope(view: MeshView, namespace: string, type: ProxyType): OutboundScope {
  const services = [...view.services.values()]
    .filter((s) => exportedTo(s.exportTo, s.namespace, namespace))
    .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  const meshVirtualServices = view.config.virtualServices.filter(
    (vs) => boundToMesh(vs) && exportedTo(vs.spec?.exportTo, namespaceOf(vs), namespace),
  );
  const destinationRules = view.config.destinationRules.filter((dr) =>
    exportedTo(dr.spec?.exportTo, namespaceOf(dr), namespace),
  );
  const byHost = new Map(services.map((s) => [s.hostname, s]));
  return { view, namespace, type, services, meshVirtualServices, destinationRules, byHost };
}

/**
 * The VirtualService that routes `hostname` among `candidates`: the most specific host match, then the first.
 * A VirtualService shadowed by another with an equally specific host is reported.
 */
export function selectVirtualService(
  candidates: readonly VirtualService[],
  hostname: string,
  domain: string,
  warnings: Warnings,
): VirtualService | undefined {
  let best: VirtualService | undefined;
  let bestRank = -1;
  const tied: VirtualService[] = [];
  for (const vs of candidates) {
    const ns = namespaceOf(vs);
    let rank: number | undefined;
    for (const host of vs.spec?.hosts ?? []) {
      const r = hostMatchRank(resolveHost(host, ns, domain), hostname);
      if (r !== undefined && (rank === undefined || r > rank)) rank = r;
    }
    if (rank === undefined) continue;
    if (rank > bestRank) {
      best = vs;
      bestRank = rank;
      tied.length = 0;
    } else if (rank === bestRank) {
      tied.push(vs);
    }
  }
  if (best !== undefined) {
    for (const vs of tied) {
      warnings.add(vs, 'spec.hosts', `ignored for ${hostname}: ${describe(best)} also routes it and comes first`);
    }
  }
  return best;
}
