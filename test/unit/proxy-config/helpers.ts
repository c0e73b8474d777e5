/**
 * Decoder test helpers: resources go through the real wire format first (checked and encoded by
 * getXdsProtos().toAny, decoded by fromAny), so each decoder sees exactly what the xDS client hands it: zero values
 * dropped, int64 as strings, nested Anys expanded.
 */
import assert from 'node:assert/strict';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { getXdsProtos } from '../../../src/control/xds/protos.js';
import type { Result } from '../../../src/core/result.js';

export const TYPE = 'type.googleapis.com/';
export const LISTENER = 'envoy.config.listener.v3.Listener';
export const ROUTE_CONFIGURATION = 'envoy.config.route.v3.RouteConfiguration';
export const CLUSTER = 'envoy.config.cluster.v3.Cluster';
export const CLA = 'envoy.config.endpoint.v3.ClusterLoadAssignment';
export const HCM_TYPE = `${TYPE}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
export const ROUTER_TYPE = `${TYPE}envoy.extensions.filters.http.router.v3.Router`;
export const FAULT_TYPE = `${TYPE}envoy.extensions.filters.http.fault.v3.HTTPFault`;
export const TYPED_STRUCT = `${TYPE}xds.type.v3.TypedStruct`;
export const ADS = { ads: {}, resource_api_version: 'V3' };

/** `object` as the xDS client would decode it off the wire. */
export function wire(messageName: string, object: ProtoObject): ProtoObject {
  const protos = getXdsProtos();
  return protos.fromAny(protos.toAny(messageName, object));
}

/** Encodes, decodes and runs `decode`, asserting success. */
export function decoded<T>(decode: (r: unknown) => Result<T, string>, messageName: string, object: ProtoObject): T {
  const result = decode(wire(messageName, object));
  if (!result.ok) assert.fail(`expected ${messageName} to decode, got: ${result.error}`);
  return result.value;
}

/** Encodes, decodes and runs `decode`, asserting the exact error. */
export function rejected<T>(
  decode: (r: unknown) => Result<T, string>,
  messageName: string,
  object: ProtoObject,
  error: string,
): void {
  const result = decode(wire(messageName, object));
  assert.equal(result.ok, false, `expected ${messageName} to be rejected with: ${error}`);
  if (!result.ok) assert.equal(result.error, error);
}

/** A deep copy where Sets become sorted arrays and RegExps their source, for exact comparisons. */
export function plain(value: unknown): unknown {
  if (value instanceof Set) return [...(value as Set<unknown>)].map(plain).sort();
  if (value instanceof Map)
    return Object.fromEntries([...(value as Map<string, unknown>)].map(([k, v]) => [k, plain(v)]));
  if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
