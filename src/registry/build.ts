/**
 * MeshServices from their sources: a Kubernetes Service (one hostname) or a ServiceEntry (one per host).
 * Pure functions over the object and the workloads its selector picks; the rules are in docs/registry.md.
 */
import { isIP } from 'node:net';
import type { StoredResource } from '../api/resource.js';
import type { ServiceSpec } from '../api/kinds/service.js';
import type { ServiceEntrySpec } from '../api/kinds/service-entry.js';
import type { MeshEndpoint, MeshService, MeshServicePort } from './model.js';
import { serviceEntryPortProtocol, servicePortProtocol } from './protocol.js';
import {
  endpointPort,
  endpointWeight,
  freezeEndpoint,
  parseLocality,
  workloadEndpoint,
  type PortTarget,
  type Workload,
} from './workloads.js';

export type StoredService = StoredResource<ServiceSpec>;
export type StoredServiceEntry = StoredResource<ServiceEntrySpec>;

/** Istio's annotation on a Kubernetes Service: the namespaces it is exported to, comma-separated. */
export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

/** `<name>.<namespace>.svc.<domain>`. */
export function serviceHostname(name: string, namespace: string, domain: string): string {
  return `${name}.${namespace}.svc.${domain}`;
}

/** exportTo with `.` resolved to the owning namespace; absent or empty is `['*']`. */
export function resolveExportTo(exportTo: readonly string[] | undefined, namespace: string): readonly string[] {
  if (!exportTo || exportTo.length === 0) return Object.freeze(['*']);
  const out = [...new Set(exportTo.map((e) => (e === '.' ? namespace : e)))];
  return Object.freeze(out);
}

/** The selector that picks a Service's endpoints: none (no endpoints) when absent or empty. */
export function serviceSelector(svc: StoredService): Readonly<Record<string, string>> | undefined {
  const selector = svc.spec?.selector;
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}

/** A ServiceEntry's workloadSelector labels: an empty one picks every workload of its namespace (as Istio). */
export function serviceEntrySelector(se: StoredServiceEntry): Readonly<Record<string, string>> | undefined {
  const ws = se.spec?.workloadSelector;
  return ws ? (ws.labels ?? {}) : undefined;
}

function byAddress(a: MeshEndpoint, b: MeshEndpoint): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
}

function finish(service: MeshService): MeshService {
  Object.freeze(service.ports);
  for (const p of service.ports) Object.freeze(p);
  Object.freeze(service.endpoints);
  return Object.freeze(service);
}

export function buildService(svc: StoredService, workloads: readonly Workload[], domain: string): MeshService {
  const spec: Partial<ServiceSpec> = svc.spec ?? {};
  const { name, namespace } = svc.metadata;
  const specPorts = spec.ports ?? [];
  const ports: MeshServicePort[] = specPorts.map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: servicePortProtocol(p),
  }));
  const targets: PortTarget[] = specPorts.map((p) => ({ port: p.port, name: p.name, targetPort: p.targetPort }));
  const headless = spec.clusterIP === 'None';
  const annotation = svc.metadata.annotations?.[EXPORT_TO_ANNOTATION];
  const exportTo = annotation
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return finish({
    hostname: serviceHostname(name, namespace, domain),
    name,
    namespace,
    kind: 'Service',
    vip: headless || spec.clusterIP === undefined ? undefined : spec.clusterIP,
    headless,
    ports,
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    endpoints: workloads.map((w) => workloadEndpoint(w, targets)).sort(byAddress),
    exportTo: resolveExportTo(exportTo, namespace),
  });
}

/** The VIP of a ServiceEntry: its first address when that is one IP (a /32 or /128 counts); else none. */
export function serviceEntryVip(addresses: readonly string[] | undefined): string | undefined {
  const first = addresses?.[0];
  if (first === undefined) return undefined;
  const [ip = '', bits] = first.split('/');
  const family = isIP(ip);
  if (family === 0) return undefined;
  if (bits === undefined || (family === 4 && bits === '32') || (family === 6 && bits === '128')) return ip;
  return undefined;
}

/** One MeshService per host of the ServiceEntry, sharing ports and endpoints. */
export function buildServiceEntry(se: StoredServiceEntry, workloads: readonly Workload[]): MeshService[] {
  const spec: Partial<ServiceEntrySpec> = se.spec ?? {};
  const { name, namespace } = se.metadata;
  const specPorts = spec.ports ?? [];
  const ports: MeshServicePort[] = specPorts.map((p) => ({
    name: p.name,
    port: p.number,
    protocol: serviceEntryPortProtocol(p.protocol),
  }));
  const targets: PortTarget[] = specPorts.map((p) => ({ port: p.number, name: p.name, targetPort: p.targetPort }));
  const resolution = spec.resolution ?? 'NONE';
  const base = {
    name,
    namespace,
    kind: 'ServiceEntry' as const,
    vip: serviceEntryVip(spec.addresses),
    headless: false,
    resolution,
    location: spec.location ?? 'MESH_EXTERNAL',
    exportTo: resolveExportTo(spec.exportTo, namespace),
  };
  const source = `serviceentry:${namespace}/${name}`;
  // Addresses the control plane allocated for hosts without spec.addresses (Istio's status.addresses).
  const status = se.status as { addresses?: { value: string; host: string }[] } | undefined;
  const allocated = new Map((status?.addresses ?? []).map((a) => [a.host, a.value]));
  let shared: MeshEndpoint[] | undefined;
  if (spec.workloadSelector) {
    shared = workloads.map((w) => workloadEndpoint(w, targets));
  } else if (spec.endpoints && spec.endpoints.length > 0) {
    shared = spec.endpoints.map((e, i) => {
      const map = new Map<number, number>();
      for (const t of targets) map.set(t.port, endpointPort(t, e.ports ?? {}));
      return freezeEndpoint({
        address: e.address,
        ports: map,
        labels: { ...e.labels },
        health: 'HEALTHY',
        locality: parseLocality(e.locality),
        weight: endpointWeight(e.weight),
        serviceAccount: e.serviceAccount,
        network: e.network,
        source: `${source}[${i}]`,
      });
    });
  }
  const sharedSorted = shared ? Object.freeze(shared.sort(byAddress)) : undefined;
  const hosts = [...new Set(spec.hosts ?? [])];
  return hosts.map((host) => {
    let endpoints: readonly MeshEndpoint[] = sharedSorted ?? [];
    if (!sharedSorted && (resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && !host.startsWith('*')) {
      // DNS resolution without endpoints: the proxy resolves the host itself.
      const map = new Map<number, number>(targets.map((t) => [t.port, endpointPort(t, {})]));
      endpoints = [
        freezeEndpoint({
          address: host,
          ports: map,
          labels: {},
          health: 'HEALTHY',
          locality: parseLocality(undefined),
          weight: 1,
          source: `${source}[${host}]`,
        }),
      ];
    }
    const vip = base.vip ?? allocated.get(host);
    return finish({ hostname: host, ...base, vip, ports, endpoints });
  });
}
