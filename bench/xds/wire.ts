/**
 * What the load generator reads out of xDS responses, and how it writes its requests, kept cheap because the
 * generator shares the machine's two cores with the control plane it measures.
 *
 * - Clusters and ClusterLoadAssignments are not decoded whole: a protobuf field walk picks out the few fields an
 *   Envoy needs to follow the protocol (a cluster's name, discovery type and EDS service name; an assignment's
 *   cluster name and endpoint addresses). Field numbers come from the loaded Envoy API, by name.
 * - Listeners are decoded whole (nested Anys expanded) to find the RouteConfiguration names they reference, once per
 *   distinct content: every sidecar in a namespace gets the same bytes.
 * - Requests repeat the whole subscription (as Envoy's SotW client does); the encoded `resource_names` block is
 *   cached per names list and put first, so the request's own fields, encoded after it, win (protobuf merge rules).
 *   `requestParts` hands out the two pieces for raw-call.ts to write without joining them.
 */
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { adsServiceDefinition, type DiscoveryRequest } from '../../src/control/xds/ads-service.js';
import { getXdsProtos, type AnyMessage } from '../../src/control/xds/protos.js';

const EDS_DISCOVERY_TYPE = 3; // envoy.config.cluster.v3.Cluster.DiscoveryType.EDS

function fieldId(message: string, field: string): number {
  const found = getXdsProtos().type(message).fields[field];
  if (found === undefined) throw new Error(`${message} has no field ${field}`);
  return found.id;
}

const F = (() => {
  const cla = 'envoy.config.endpoint.v3.ClusterLoadAssignment';
  const cluster = 'envoy.config.cluster.v3.Cluster';
  return {
    claName: fieldId(cla, 'cluster_name'),
    claAddressPath: [
      fieldId(cla, 'endpoints'),
      fieldId('envoy.config.endpoint.v3.LocalityLbEndpoints', 'lb_endpoints'),
      fieldId('envoy.config.endpoint.v3.LbEndpoint', 'endpoint'),
      fieldId('envoy.config.endpoint.v3.Endpoint', 'address'),
      fieldId('envoy.config.core.v3.Address', 'socket_address'),
      fieldId('envoy.config.core.v3.SocketAddress', 'address'),
    ],
    clusterName: fieldId(cluster, 'name'),
    clusterType: fieldId(cluster, 'type'),
    clusterEds: fieldId(cluster, 'eds_cluster_config'),
    edsServiceName: fieldId(`${cluster}.EdsClusterConfig`, 'service_name'),
  };
})();

const LENGTH_DELIMITED = 2;

/** Every string at a path of length-delimited fields (repeated fields at any level are all visited). */
function stringsAt(bytes: Uint8Array, path: readonly number[], depth: number, out: string[]): void {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === path[depth] && (tag & 7) === LENGTH_DELIMITED) {
      if (depth === path.length - 1) out.push(r.string());
      else stringsAt(r.bytes(), path, depth + 1, out);
    } else r.skipType(tag & 7);
  }
}

/** The first string of a top-level field, or ''. */
function topString(bytes: Uint8Array, id: number): string {
  const out: string[] = [];
  stringsAt(bytes, [id], 0, out);
  return out[0] ?? '';
}

const nameFields = new Map<string, number>();

/** A resource's name (`cluster_name` for an assignment, `name` otherwise), read without decoding it. */
export function resourceNameOf(typeUrl: string, any: AnyMessage): string {
  let id = nameFields.get(typeUrl);
  if (id === undefined) {
    const type = getXdsProtos().type(typeUrl);
    id = fieldId(type.fullName.slice(1), type.fields.cluster_name ? 'cluster_name' : 'name');
    nameFields.set(typeUrl, id);
  }
  return topString(any.value, id);
}

export function assignmentName(any: AnyMessage): string {
  return topString(any.value, F.claName);
}

/** The socket addresses of an assignment's endpoints. */
export function assignmentAddresses(any: AnyMessage): string[] {
  const out: string[] = [];
  stringsAt(any.value, F.claAddressPath, 0, out);
  return out;
}

/** The name an EDS subscription uses for a cluster (its EDS service_name, else its name), or undefined if not EDS. */
export function edsNameOf(any: AnyMessage): string | undefined {
  const r = protobuf.Reader.create(any.value);
  let name = '';
  let type = 0;
  let serviceName = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    const id = tag >>> 3;
    if (id === F.clusterName && (tag & 7) === LENGTH_DELIMITED) name = r.string();
    else if (id === F.clusterType && (tag & 7) === 0) type = r.int32();
    else if (id === F.clusterEds && (tag & 7) === LENGTH_DELIMITED)
      serviceName = topString(r.bytes(), F.edsServiceName);
    else r.skipType(tag & 7);
  }
  return type === EDS_DISCOVERY_TYPE ? serviceName || name : undefined;
}

const routeNamesByContent = new Map<string, readonly string[]>();

function collectRouteNames(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectRouteNames(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'route_config_name' && typeof v === 'string' && v !== '') out.add(v);
      else collectRouteNames(v, out);
    }
  }
}

/** The RouteConfiguration names a Listener's HTTP connection managers fetch over RDS. */
export function routeNamesOf(any: AnyMessage): readonly string[] {
  const key = createHash('sha1').update(any.value).digest('base64');
  let names = routeNamesByContent.get(key);
  if (names === undefined) {
    const out = new Set<string>();
    collectRouteNames(getXdsProtos().fromAny(any), out);
    names = [...out];
    routeNamesByContent.set(key, names);
  }
  return names;
}

const interned = new Map<string, string[]>();

/**
 * One shared, sorted array per distinct names list (never mutate it), so an encoded subscription is cached once for
 * every stream.
 */
export function internNames(names: Iterable<string>): string[] {
  const sorted = [...new Set(names)].sort();
  const key = sorted.join('\n');
  let found = interned.get(key);
  if (found === undefined) {
    found = sorted;
    interned.set(key, found);
  }
  return found;
}

const namesBlocks = new WeakMap<string[], Buffer>();
const EMPTY: DiscoveryRequest = {
  version_info: '',
  node: null,
  resource_names: [],
  type_url: '',
  response_nonce: '',
  error_detail: null,
};

/**
 * A DiscoveryRequest encoded with the ADS definition's serializer, as the pieces of one message: the encoded
 * resource_names (cached per names list, shared by every request naming it) and the rest.
 */
export function requestParts(request: DiscoveryRequest): Buffer[] {
  const serialize = adsServiceDefinition().StreamAggregatedResources.requestSerialize;
  if (request.resource_names.length === 0) return [serialize(request)];
  let block = namesBlocks.get(request.resource_names);
  if (block === undefined) {
    block = serialize({ ...EMPTY, resource_names: request.resource_names });
    namesBlocks.set(request.resource_names, block);
  }
  return [block, serialize({ ...request, resource_names: [] })];
}
