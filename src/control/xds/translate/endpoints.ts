/**
 * ClusterLoadAssignments: a service port's endpoints (a subset's: those whose labels include the subset's), grouped
 * by locality. Written so that every client accepts them, proxyless gRPC included:
 *
 * - every group has a locality (region/zone/sub_zone always present, '' when unknown) and a
 *   load_balancing_weight (the sum of its endpoints' weights, at least 1); groups are sorted by locality;
 * - every endpoint has a socket_address (the IP literal and the endpoint's port for that service port), a
 *   health_status (HEALTHY or UNHEALTHY: unhealthy endpoints stay listed, clients skip them) and a weight;
 * - an address:port listed twice is kept once (gRPC NACKs duplicates), and reported.
 *
 * Locality-aware balancing relative to the proxy (locality.ts) rewrites weights or priorities.
 */
import type { Locality, MeshEndpoint, MeshService } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import { toStruct } from '../well-known.js';
import { labelsMatch, wrapped, type Warnings } from './common.js';
import type { PortPolicy } from './destination-rules.js';
import { applyLocalityLb, type LocalityGroup } from './locality.js';

/** The endpoints behind one port of a service, optionally only those matching a subset's labels. */
export function endpointsFor(
  service: MeshService,
  port: number,
  subsetLabels?: Readonly<Record<string, string>>,
): MeshEndpoint[] {
  return service.endpoints.filter((e) => e.ports.has(port) && labelsMatch(subsetLabels, e.labels));
}

function localityKey(l: Locality): string {
  return `${l.region}/${l.zone}/${l.subZone}`;
}

/** Endpoint metadata of a sidecar-backed endpoint: the app port a TCP tunnel through the peer sidecar targets. */
export const TUNNEL_METADATA_KEY = 'shoal.io/tunnel';

function lbEndpoint(address: string, port: number, e: MeshEndpoint, servicePort: number): ProtoObject {
  const out: ProtoObject = {
    endpoint: { address: { socket_address: { address, port_value: port } } },
    health_status: e.health,
    load_balancing_weight: wrapped(Math.max(1, e.weight)),
  };
  const appPort = e.appPorts?.get(servicePort);
  if (appPort !== undefined) {
    out.metadata = { filter_metadata: { [TUNNEL_METADATA_KEY]: toStruct({ target_port: appPort }) } };
  }
  return out;
}

/** Groups endpoints by locality (sorted), each endpoint at its port for service port `port`. */
export function localityGroups(
  endpoints: readonly MeshEndpoint[],
  port: number,
  clusterName: string,
  warnings: Warnings,
): LocalityGroup[] {
  const groups = new Map<string, LocalityGroup>();
  const seen = new Set<string>();
  for (const e of endpoints) {
    const target = e.ports.get(port);
    if (target === undefined) continue;
    const key = `${e.address}:${target}`;
    if (seen.has(key)) {
      warnings.add(`cluster ${clusterName}`, '', `endpoint ${key} (${e.source}) is listed twice; kept once`);
      continue;
    }
    seen.add(key);
    const locality = { region: e.locality.region, zone: e.locality.zone, subZone: e.locality.subZone };
    let group = groups.get(localityKey(locality));
    if (group === undefined) {
      group = { locality, weight: 0, priority: 0, endpoints: [] };
      groups.set(localityKey(locality), group);
    }
    group.weight += Math.max(1, e.weight);
    group.endpoints.push(lbEndpoint(e.address, target, e, port));
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}

/** The `endpoints` list of a ClusterLoadAssignment. */
export function localityLbEndpoints(groups: readonly LocalityGroup[]): ProtoObject[] {
  return groups.map((g) => {
    const out: ProtoObject = {
      locality: { region: g.locality.region, zone: g.locality.zone, sub_zone: g.locality.subZone },
      lb_endpoints: g.endpoints,
      load_balancing_weight: wrapped(Math.max(1, g.weight)),
    };
    if (g.priority > 0) out.priority = g.priority;
    return out;
  });
}

export interface AssignmentTarget {
  clusterName: string;
  service: MeshService;
  port: number;
  subsetLabels?: Readonly<Record<string, string>>;
  policy: PortPolicy;
}

/** The ClusterLoadAssignment of an EDS cluster, as seen by a proxy at `proxyLocality` (if it has one). */
export function loadAssignment(target: AssignmentTarget, warnings: Warnings, proxyLocality?: Locality): ProtoObject {
  const endpoints = endpointsFor(target.service, target.port, target.subsetLabels);
  let groups = localityGroups(endpoints, target.port, target.clusterName, warnings);
  const setting = target.policy.loadBalancer?.localityLbSetting;
  groups = applyLocalityLb(groups, proxyLocality, setting, target.policy.outlierDetection !== undefined);
  return { cluster_name: target.clusterName, endpoints: localityLbEndpoints(groups) };
}
