/**
 * WorkloadEntries as the registry sees them: their effective labels, health, locality, the Shoal sidecar's
 * inbound-port annotation, and the MeshEndpoint a workload becomes behind one service. See docs/registry.md.
 */
import type { StoredResource } from '../api/resource.js';
import type { WorkloadEntrySpec, WorkloadEntryStatus } from '../api/kinds/workload-entry.js';
import type { HealthStatus, Locality, MeshEndpoint } from './model.js';

export type StoredWorkloadEntry = StoredResource<WorkloadEntrySpec, WorkloadEntryStatus>;

/**
 * Set by a Shoal sidecar on the WorkloadEntry it registers: the port of its inbound listener. Traffic to that
 * endpoint must go through the sidecar, so every service port of the endpoint maps to this port; the sidecar
 * forwards to its app.
 */
export const SIDECAR_INBOUND_PORT_ANNOTATION = 'sidecar.shoal.io/inbound-port';

/** One WorkloadEntry, indexed: what selectors match and what endpoints are built from. */
export interface Workload {
  /** `<namespace>/<name>`, also the endpoints' `source`. */
  key: string;
  namespace: string;
  /** spec.labels merged with metadata.labels (metadata wins), as Istio does. */
  labels: Readonly<Record<string, string>>;
  address: string;
  /** spec.ports: named ports of the workload. */
  namedPorts: Readonly<Record<string, number>>;
  health: HealthStatus;
  locality: Locality;
  weight: number;
  serviceAccount: string | undefined;
  network: string | undefined;
  /** The sidecar's inbound port when a Shoal sidecar registered it (the annotation), else undefined. */
  sidecarInboundPort: number | undefined;
  /** The annotation's value when it is not a port number (the registry logs it once). */
  badInboundPort: string | undefined;
}

/** `region/zone/subzone`; missing parts are ''. */
export function parseLocality(text: string | undefined): Locality {
  const [region = '', zone = '', subZone = ''] = (text ?? '').split('/');
  return { region, zone, subZone };
}

/** UNHEALTHY only when the `Healthy` condition says `False`: no condition (yet) means healthy, as in Istio. */
export function healthOf(status: WorkloadEntryStatus | undefined): HealthStatus {
  const healthy = status?.conditions?.find((c) => c.type === 'Healthy');
  return healthy?.status === 'False' ? 'UNHEALTHY' : 'HEALTHY';
}

/** Envoy refuses a load_balancing_weight of 0: unset and 0 both mean 1. */
export function endpointWeight(weight: number | undefined): number {
  return weight === undefined || weight < 1 ? 1 : weight;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

export function toWorkload(entry: StoredWorkloadEntry): Workload {
  const spec: Partial<WorkloadEntrySpec> = entry.spec ?? {};
  const annotation = entry.metadata.annotations?.[SIDECAR_INBOUND_PORT_ANNOTATION];
  const inbound = annotation === undefined ? undefined : parsePort(annotation.trim());
  return {
    key: `${entry.metadata.namespace}/${entry.metadata.name}`,
    namespace: entry.metadata.namespace,
    labels: Object.freeze({ ...spec.labels, ...entry.metadata.labels }),
    address: spec.address ?? '',
    namedPorts: spec.ports ?? {},
    health: healthOf(entry.status),
    locality: parseLocality(spec.locality),
    weight: endpointWeight(spec.weight),
    serviceAccount: spec.serviceAccount,
    network: spec.network,
    sidecarInboundPort: inbound,
    badInboundPort: annotation !== undefined && inbound === undefined ? annotation : undefined,
  };
}

/** A service port as endpoint building needs it. */
export interface PortTarget {
  /** The service port number (the key in MeshEndpoint.ports). */
  port: number;
  /** The service port's name: the workload's named port of that name wins. */
  name: string | undefined;
  /** Kubernetes targetPort (number or a named port) / ServiceEntry targetPort. */
  targetPort: number | string | undefined;
}

/**
 * The endpoint port for one service port: the sidecar's inbound port if registered by a sidecar; else the
 * workload's port named like the service port; else a named targetPort looked up in the workload's ports; else
 * a numeric targetPort; else the service port itself.
 */
export function endpointPort(
  target: PortTarget,
  namedPorts: Readonly<Record<string, number>>,
  inbound?: number,
): number {
  if (inbound !== undefined) return inbound;
  const byName = target.name ? namedPorts[target.name] : undefined;
  if (byName !== undefined) return byName;
  if (typeof target.targetPort === 'string') {
    const byTarget = namedPorts[target.targetPort];
    if (byTarget !== undefined) return byTarget;
  } else if (target.targetPort !== undefined) {
    return target.targetPort;
  }
  return target.port;
}

/** The endpoint a workload is behind a service with these ports. */
export function workloadEndpoint(workload: Workload, ports: readonly PortTarget[]): MeshEndpoint {
  const map = new Map<number, number>();
  const inbound = workload.sidecarInboundPort;
  const appPorts = inbound === undefined ? undefined : new Map<number, number>();
  for (const p of ports) {
    map.set(p.port, endpointPort(p, workload.namedPorts, inbound));
    appPorts?.set(p.port, endpointPort(p, workload.namedPorts));
  }
  return freezeEndpoint({
    address: workload.address,
    ports: map,
    ...(appPorts !== undefined ? { appPorts } : {}),
    labels: workload.labels,
    health: workload.health,
    locality: workload.locality,
    weight: workload.weight,
    serviceAccount: workload.serviceAccount,
    network: workload.network,
    source: workload.key,
  });
}

export function freezeEndpoint(endpoint: MeshEndpoint): MeshEndpoint {
  Object.freeze(endpoint.locality);
  Object.freeze(endpoint.labels);
  return Object.freeze(endpoint);
}
