/**
 * The gRPC service definition of envoy.service.discovery.v3.AggregatedDiscoveryService for @grpc/grpc-js, built
 * from the protobufjs root in protos.ts (no second parse through @grpc/proto-loader), and narrow TypeScript shapes of
 * the discovery messages as they decode (snake_case, every field present, enums and int64s as strings, bytes as
 * Buffers, Anys left encoded). The same definition serves the control plane (`server.addService`) and clients
 * (`makeClientConstructor`).
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { AnyMessage } from './protos.js';
import { getXdsProtos } from './protos.js';
import { namesCachingDecoder, sharedBlockEncoder } from './shared-wire.js';
import type { StructMessage } from './well-known.js';

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** google.rpc.Status, as carried by a NACK's error_detail. */
export interface StatusMessage {
  code: number;
  message: string;
}

export interface LocalityMessage {
  region: string;
  zone: string;
  sub_zone: string;
}

/** envoy.config.core.v3.Node (the fields the control plane reads). */
export interface NodeMessage {
  id: string;
  cluster: string;
  metadata: StructMessage | null;
  locality: LocalityMessage | null;
  user_agent_name: string;
  user_agent_version?: string;
  client_features: string[];
}

export interface DiscoveryRequest {
  version_info: string;
  node: NodeMessage | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail: StatusMessage | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
  control_plane: { identifier: string } | null;
}

export interface DeltaDiscoveryRequest {
  node: NodeMessage | null;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: { [name: string]: string };
  response_nonce: string;
  error_detail: StatusMessage | null;
}

/** envoy.service.discovery.v3.Resource */
export interface ResourceMessage {
  name: string;
  version: string;
  resource: AnyMessage | null;
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: ResourceMessage[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
  control_plane: { identifier: string } | null;
}

export interface AdsServiceDefinition extends ServiceDefinition {
  StreamAggregatedResources: MethodDefinition<DiscoveryRequest, DiscoveryResponse>;
  DeltaAggregatedResources: MethodDefinition<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
}

const DECODE: protobuf.IConversionOptions = {
  defaults: true,
  arrays: true,
  objects: true,
  enums: String,
  longs: String,
};

function codec<T>(type: protobuf.Type): { serialize: (value: T) => Buffer; deserialize: (bytes: Buffer) => T } {
  return {
    serialize(value: T): Buffer {
      const bytes = type.encode(type.fromObject(value as { [key: string]: unknown })).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    deserialize(bytes: Buffer): T {
      return type.toObject(type.decode(bytes), DECODE) as T;
    },
  };
}

/**
 * DiscoveryRequest's long `resource_names` (every SotW ACK repeats the subscription) are decoded once per distinct
 * list; DiscoveryResponse's `resources`, when shared by many responses, are encoded once (shared-wire.ts).
 */
function serverSide<T>(
  type: protobuf.Type,
  base: { serialize: (value: T) => Buffer; deserialize: (bytes: Buffer) => T },
): { serialize: (value: T) => Buffer; deserialize: (bytes: Buffer) => T } {
  if (type.fullName === '.envoy.service.discovery.v3.DiscoveryRequest') {
    const toObject = (message: protobuf.Message): Record<string, unknown> => type.toObject(message, DECODE);
    const deserialize = namesCachingDecoder(type, 'resource_names', toObject);
    return { ...base, deserialize: (bytes) => deserialize(bytes) as T };
  }
  if (type.fields.resources?.repeated === true) {
    return { ...base, serialize: sharedBlockEncoder(type, 'resources', base.serialize) };
  }
  return base;
}

function method<Req, Res>(service: protobuf.Service, name: string): MethodDefinition<Req, Res> {
  const rpc = service.methods[name];
  if (rpc === undefined) throw new Error(`${service.fullName} has no method ${name}`);
  rpc.resolve();
  if (rpc.resolvedRequestType === null || rpc.resolvedResponseType === null) {
    throw new Error(`${service.fullName}.${name}: unresolved message types`);
  }
  const request = serverSide<Req>(rpc.resolvedRequestType, codec<Req>(rpc.resolvedRequestType));
  const response = serverSide<Res>(rpc.resolvedResponseType, codec<Res>(rpc.resolvedResponseType));
  return {
    path: `/${ADS_SERVICE_NAME}/${name}`,
    originalName: name,
    requestStream: rpc.requestStream === true,
    responseStream: rpc.responseStream === true,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
  };
}

let definition: AdsServiceDefinition | undefined;

/** The ADS service definition (loads the protos on first call). */
export function adsServiceDefinition(): AdsServiceDefinition {
  if (definition === undefined) {
    const service = getXdsProtos().root.lookupService(ADS_SERVICE_NAME);
    definition = {
      StreamAggregatedResources: method<DiscoveryRequest, DiscoveryResponse>(service, 'StreamAggregatedResources'),
      DeltaAggregatedResources: method<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(
        service,
        'DeltaAggregatedResources',
      ),
    };
  }
  return definition;
}
