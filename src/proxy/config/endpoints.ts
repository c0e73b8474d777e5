/**
 * `decodeClusterLoadAssignment`: an Envoy ClusterLoadAssignment as the sidecar's EndpointSet: priorities ->
 * localities -> endpoints, plus the same endpoints flat (priority order) in the load balancers' `LbEndpoint` shape.
 *
 * Envoy's rules: an endpoint weight defaults to 1 and must be at least 1; a locality weight, when set, too; health
 * DRAINING and TIMEOUT count as UNHEALTHY; missing priorities between those present are empty levels. EDS
 * addresses must be IP literals (STRICT_DNS and LOGICAL_DNS clusters' inline assignments may name hosts); an
 * address:port listed twice is NACKed (the load balancers key endpoints by it).
 */
import { isIP } from 'node:net';
import type { Result } from '../../core/result.js';
import type { HealthStatus, LbEndpoint as PickerEndpoint, Locality } from '../lb/types.js';
import {
  at,
  decodeResource,
  deepFreeze,
  enumOf,
  filterMetadata,
  fail,
  messages,
  num,
  obj,
  perMillion,
  required,
  str,
  unsupported,
  wrapped,
  type Json,
} from './read.js';

export type { HealthStatus, Locality };

/** Endpoint metadata key (filter_metadata) naming the app port behind a peer sidecar (src/control/xds/translate). */
export const TUNNEL_METADATA_KEY = 'shoal.io/tunnel';

/** One upstream host: the load balancers' endpoint, plus the hostname the control plane gave, if any. */
export interface LbEndpoint extends PickerEndpoint {
  /** Not used for connecting. */
  readonly hostname?: string;
  /**
   * Set when the endpoint is a peer sidecar's inbound listener: the app port there. A TCP tunnel to this endpoint
   * sends `CONNECT <address>:<tunnelPort>` to the peer sidecar instead of raw bytes.
   */
  readonly tunnelPort?: number;
}

export interface LocalityEndpoints {
  readonly locality: Locality;
  /** The locality's load_balancing_weight; 0 when unset (a locality-weighted balancer then skips it, as Envoy). */
  readonly weight: number;
  readonly endpoints: readonly LbEndpoint[];
}

export interface EndpointSet {
  readonly clusterName: string;
  /** Index = priority; a level with no localities is empty. */
  readonly priorities: readonly (readonly LocalityEndpoints[])[];
  /** Every endpoint, by priority, then locality order. */
  readonly endpoints: readonly LbEndpoint[];
  /** Envoy's overprovisioning factor (percent, default 140). */
  readonly overprovisioningFactor: number;
  readonly dropOverloads: readonly { readonly category: string; readonly perMillion: number }[];
}

const HEALTH = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'] as const;
const HEALTH_MAP: Record<(typeof HEALTH)[number], HealthStatus> = {
  UNKNOWN: 'UNKNOWN',
  HEALTHY: 'HEALTHY',
  UNHEALTHY: 'UNHEALTHY',
  DRAINING: 'UNHEALTHY',
  TIMEOUT: 'UNHEALTHY',
  DEGRADED: 'DEGRADED',
};

export function endpointKey(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function locality(value: unknown, path: string): Locality {
  const o = obj(value, path) ?? {};
  return {
    region: str(o.region, at(path, 'region')) ?? '',
    zone: str(o.zone, at(path, 'zone')) ?? '',
    subZone: str(o.sub_zone, at(path, 'sub_zone')) ?? '',
  };
}

function lbEndpoint(
  o: Json,
  path: string,
  where: { locality: Locality; priority: number },
  hostnames: boolean,
): LbEndpoint {
  unsupported(o, path, ['endpoint_name'], 'named endpoints are not supported');
  const endpoint = obj(o.endpoint, at(path, 'endpoint'));
  if (endpoint === undefined) fail(at(path, 'endpoint'), 'required');
  const sp = at(path, 'endpoint.address.socket_address');
  const socket = obj(obj(endpoint.address, at(path, 'endpoint.address'))?.socket_address, sp);
  if (socket === undefined) fail(sp, 'required');
  unsupported(socket, sp, ['named_port', 'resolver_name']);
  enumOf(socket.protocol, at(sp, 'protocol'), ['TCP'] as const);
  const address = required(socket.address, at(sp, 'address'));
  if (!hostnames && isIP(address) === 0) fail(at(sp, 'address'), `${address} is not an IP address`);
  const port = num(socket.port_value, at(sp, 'port_value')) ?? 0;
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(at(sp, 'port_value'), `${port} is not a port`);
  const weight = wrapped(o.load_balancing_weight, at(path, 'load_balancing_weight')) ?? 1;
  if (weight < 1) fail(at(path, 'load_balancing_weight'), 'must be at least 1');
  const hostname = str(endpoint.hostname, at(path, 'endpoint.hostname'));
  const tunnel = filterMetadata(o.metadata, at(path, 'metadata'))[TUNNEL_METADATA_KEY]?.target_port;
  if (
    tunnel !== undefined &&
    (typeof tunnel !== 'number' || !Number.isInteger(tunnel) || tunnel < 1 || tunnel > 65535)
  ) {
    fail(
      at(path, `metadata.filter_metadata["${TUNNEL_METADATA_KEY}"].target_port`),
      `${JSON.stringify(tunnel)} is not a port`,
    );
  }
  return {
    key: endpointKey(address, port),
    address,
    port,
    weight,
    health: HEALTH_MAP[enumOf(o.health_status, at(path, 'health_status'), HEALTH)],
    locality: where.locality,
    priority: where.priority,
    ...(hostname !== undefined && hostname !== '' ? { hostname } : {}),
    ...(tunnel !== undefined ? { tunnelPort: tunnel } : {}),
  };
}

/** A ClusterLoadAssignment's endpoints; `hostnames` allows DNS names (inline assignments of DNS clusters). */
export function endpointSet(o: Json, path: string, hostnames: boolean): EndpointSet {
  unsupported(o, path, ['named_endpoints']);
  const levels: LocalityEndpoints[][] = [];
  const seen = new Set<string>();
  for (const { item, path: p } of messages(o.endpoints, at(path, 'endpoints'))) {
    unsupported(item, p, ['leds_cluster_locality_config']);
    const priority = num(item.priority, at(p, 'priority')) ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > 128)
      fail(at(p, 'priority'), `${priority} is not a priority`);
    const where = { locality: locality(item.locality, at(p, 'locality')), priority };
    const weight = wrapped(item.load_balancing_weight, at(p, 'load_balancing_weight'));
    if (weight !== undefined && weight < 1) fail(at(p, 'load_balancing_weight'), 'must be at least 1');
    const endpoints = messages(item.lb_endpoints, at(p, 'lb_endpoints')).map((e) => {
      const endpoint = lbEndpoint(e.item, e.path, where, hostnames);
      if (seen.has(endpoint.key)) fail(e.path, `endpoint ${endpoint.key} is listed twice`);
      seen.add(endpoint.key);
      return endpoint;
    });
    while (levels.length <= priority) levels.push([]);
    levels[priority]!.push({ locality: where.locality, weight: weight ?? 0, endpoints });
  }
  const policy = obj(o.policy, at(path, 'policy')) ?? {};
  const factor = wrapped(policy.overprovisioning_factor, at(path, 'policy.overprovisioning_factor')) ?? 140;
  if (factor <= 0) fail(at(path, 'policy.overprovisioning_factor'), 'must be greater than 0');
  return {
    clusterName: required(o.cluster_name, at(path, 'cluster_name')),
    priorities: levels,
    endpoints: levels.flatMap((level) => level.flatMap((l) => l.endpoints)),
    overprovisioningFactor: factor,
    dropOverloads: messages(policy.drop_overloads, at(path, 'policy.drop_overloads')).map(({ item, path: p }) => ({
      category: required(item.category, at(p, 'category')),
      perMillion: perMillion(item.drop_percentage, at(p, 'drop_percentage')),
    })),
  };
}

/** An envoy.config.endpoint.v3.ClusterLoadAssignment, decoded (`fromAny` output), as a frozen EndpointSet. */
export function decodeClusterLoadAssignment(resource: unknown): Result<EndpointSet, string> {
  return decodeResource('ClusterLoadAssignment', resource, (o) => deepFreeze(endpointSet(o, '', false)));
}

/** An EndpointSet without endpoints (an EDS cluster whose assignment never came, after its initial fetch timeout). */
export function emptyEndpointSet(clusterName: string): EndpointSet {
  return deepFreeze({ clusterName, priorities: [], endpoints: [], overprovisioningFactor: 140, dropOverloads: [] });
}
