/**
 * Builders for translation tests: MeshServices and endpoints the way the registry publishes them, Istio resources
 * as they come out of validation, MeshViews, ProxyContexts, and an assertion that objects encode as Envoy messages.
 */
import assert from 'node:assert/strict';
import type { DestinationRule, DestinationRuleSpec } from '../../../src/api/kinds/destination-rule.js';
import type { Gateway, GatewaySpec } from '../../../src/api/kinds/gateway.js';
import type { VirtualService, VirtualServiceSpec } from '../../../src/api/kinds/virtual-service.js';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { getXdsProtos } from '../../../src/control/xds/protos.js';
import type { ProxyContext } from '../../../src/control/xds/translate/proxy.js';
import type { SnapshotObjects } from '../../../src/control/xds/snapshot.js';
import type { XdsTypeUrl } from '../../../src/control/xds/resource-types.js';
import type {
  Locality,
  MeshEndpoint,
  MeshService,
  MeshServicePort,
  MeshView,
  Protocol,
} from '../../../src/registry/model.js';

export const DOMAIN = 'cluster.local';
export const NO_LOCALITY: Locality = { region: '', zone: '', subZone: '' };

export function fqdn(name: string, namespace = 'default'): string {
  return `${name}.${namespace}.svc.${DOMAIN}`;
}

export function port(number: number, protocol: Protocol = 'HTTP', name = protocol.toLowerCase()): MeshServicePort {
  return { name, port: number, protocol };
}

export interface EndpointOptions {
  labels?: Record<string, string>;
  health?: 'HEALTHY' | 'UNHEALTHY';
  locality?: Locality;
  weight?: number;
  /** Service port -> endpoint port; defaults to the same port for `ports`. */
  ports?: Record<number, number>;
}

export function endpoint(
  address: string,
  servicePorts: readonly number[],
  options: EndpointOptions = {},
): MeshEndpoint {
  const ports = new Map<number, number>();
  for (const p of servicePorts) ports.set(p, options.ports?.[p] ?? p);
  return {
    address,
    ports,
    labels: options.labels ?? {},
    health: options.health ?? 'HEALTHY',
    locality: options.locality ?? NO_LOCALITY,
    weight: options.weight ?? 1,
    source: `default/${address}`,
  };
}

export function service(
  name: string,
  ports: readonly MeshServicePort[],
  endpoints: readonly MeshEndpoint[] = [],
  extra: Partial<MeshService> = {},
): MeshService {
  const namespace = extra.namespace ?? 'default';
  return {
    hostname: fqdn(name, namespace),
    name,
    namespace,
    kind: 'Service',
    headless: false,
    ports,
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    endpoints,
    exportTo: ['*'],
    ...extra,
  };
}

export function virtualService(name: string, spec: VirtualServiceSpec, namespace = 'default'): VirtualService {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace }, spec };
}

export function destinationRule(name: string, spec: DestinationRuleSpec, namespace = 'default'): DestinationRule {
  return { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace }, spec };
}

export function gateway(name: string, spec: GatewaySpec, namespace = 'default'): Gateway {
  return { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name, namespace }, spec };
}

export function view(
  services: readonly MeshService[],
  config: { virtualServices?: VirtualService[]; destinationRules?: DestinationRule[]; gateways?: Gateway[] } = {},
  version = 1,
): MeshView {
  return {
    version,
    services: new Map(services.map((s) => [s.hostname, s])),
    config: {
      virtualServices: config.virtualServices ?? [],
      destinationRules: config.destinationRules ?? [],
      gateways: config.gateways ?? [],
    },
    domain: DOMAIN,
  };
}

export function sidecar(extra: Partial<ProxyContext> = {}): ProxyContext {
  return {
    type: 'sidecar',
    id: 'sidecar~127.1.0.9~productpage-1.default~default.svc.cluster.local',
    namespace: 'default',
    labels: { app: 'productpage', version: 'v1' },
    ip: '127.1.0.9',
    appPort: 9080,
    ...extra,
  };
}

export function grpcClient(extra: Partial<ProxyContext> = {}): ProxyContext {
  return { type: 'grpc', id: 'grpc-client-1', namespace: 'default', labels: {}, ...extra };
}

export const ADS = { ads: {}, resource_api_version: 'V3' };

/** The named resource of a type (fails the test if missing). */
export function find(resources: SnapshotObjects, typeUrl: XdsTypeUrl, name: string): ProtoObject {
  const key = typeUrl.endsWith('ClusterLoadAssignment') ? 'cluster_name' : 'name';
  const found = (resources[typeUrl] ?? []).find((r) => r[key] === name);
  assert.ok(
    found,
    `no ${typeUrl} named ${name}; have ${(resources[typeUrl] ?? []).map((r) => String(r[key])).join(', ')}`,
  );
  return found;
}

export function names(resources: SnapshotObjects, typeUrl: XdsTypeUrl): string[] {
  const key = typeUrl.endsWith('ClusterLoadAssignment') ? 'cluster_name' : 'name';
  return (resources[typeUrl] ?? []).map((r) => String(r[key]));
}

/** Every resource encodes as its message type (proto-object.ts rejects unknown fields and enum names). */
export function assertEncodes(resources: SnapshotObjects): void {
  const protos = getXdsProtos();
  for (const [typeUrl, list] of Object.entries(resources) as [XdsTypeUrl, readonly ProtoObject[]][]) {
    for (const object of list) protos.toAny(typeUrl, object);
  }
}

/** Encodes a standalone message (a cluster, a route...) of the given type. */
export function assertEncodesAs(messageName: string, object: ProtoObject): void {
  getXdsProtos().encode(messageName, object);
}

/** Istio's default retry policy, as translated. */
export const DEFAULT_RETRY = {
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: { value: 2 },
  retriable_status_codes: [503],
  retry_host_predicate: [
    {
      name: 'envoy.retry_host_predicates.previous_hosts',
      typed_config: {
        '@type': 'type.googleapis.com/xds.type.v3.TypedStruct',
        type_url: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
      },
    },
  ],
  host_selection_retry_max_attempts: 5,
};

/** Route metadata naming a VirtualService. */
/** The metadata naming the Istio config a resource came from (what proxy-config shows). */
function configMetadata(kind: string, name: string, ns: string) {
  return {
    filter_metadata: {
      istio: {
        fields: { config: { stringValue: `/apis/networking.istio.io/v1/namespaces/${ns}/${kind}/${name}` } },
      },
    },
  };
}

export function vsMetadata(name: string, ns = 'default') {
  return configMetadata('virtual-service', name, ns);
}

export function drMetadata(name: string, ns = 'default') {
  return configMetadata('destination-rule', name, ns);
}
