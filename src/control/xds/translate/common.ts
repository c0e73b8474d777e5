/**
 * What every translation module shares: Istio's resource naming (cluster names, config paths), Envoy type URLs and
 * filter names, the ADS config source, Envoy wrappers, and the warning list that records what could not be
 * translated faithfully (never silently dropped).
 */
import type { Resource } from '../../../api/resource.js';
import type { ProtoObject } from '../proto-object.js';
import { duration, toStruct, type DurationMessage, type JsonObject } from '../well-known.js';
import { parseDuration } from '../../../api/validators.js';

export const TYPE_PREFIX = 'type.googleapis.com/';
export const HCM_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
export const ROUTER_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.filters.http.router.v3.Router`;
export const FAULT_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.filters.http.fault.v3.HTTPFault`;
export const HTTP_PROTOCOL_OPTIONS_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`;
export const TYPED_STRUCT_TYPE_URL = `${TYPE_PREFIX}xds.type.v3.TypedStruct`;

export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
export const ROUTER_FILTER = 'envoy.filters.http.router';
export const FAULT_FILTER = 'envoy.filters.http.fault';
/** The key of typed_extension_protocol_options for upstream HTTP options. */
export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Envoy's 32-bit "no limit" (Istio's default circuit-breaker thresholds). */
export const UINT32_MAX = 4294967295;

/** Every resource comes from the one ADS stream. */
export function adsConfigSource(): ProtoObject {
  return { ads: {}, resource_api_version: 'V3' };
}

/** A google.protobuf.UInt32Value / UInt64Value / BoolValue / DoubleValue in object form. */
export function wrapped<T extends number | boolean>(value: T): { value: T } {
  return { value };
}

/** A Duration for an Istio duration string (validated at apply time; an unparsable one counts as zero). */
export function durationOf(text: string): DurationMessage {
  return duration(parseDuration(text) ?? 0);
}

export type Direction = 'outbound' | 'inbound';

/** Istio's cluster name: `outbound|<port>|<subset>|<hostname>`, `inbound|<port>||`. */
export function clusterName(direction: Direction, port: number, subset = '', hostname = ''): string {
  return `${direction}|${port}|${subset}|${hostname}`;
}

/** `/apis/networking.istio.io/v1/namespaces/<ns>/<kebab-kind>/<name>` (Istio's config path, for proxy-config). */
export function configPath(resource: Resource): string {
  const kind = resource.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return `/apis/networking.istio.io/v1/namespaces/${namespaceOf(resource)}/${kind}/${resource.metadata.name}`;
}

/** Envoy metadata `filter_metadata.istio.config = <config path>`, as Istio attaches to routes and clusters. */
export function istioMetadata(resource: Resource, extra: JsonObject = {}): ProtoObject {
  return { filter_metadata: { istio: toStruct({ config: configPath(resource), ...extra }) } };
}

export function namespaceOf(resource: Resource): string {
  return resource.metadata.namespace ?? 'default';
}

/** `Kind namespace/name`: how warnings name a resource. */
export function describe(resource: Resource): string {
  return `${resource.kind} ${namespaceOf(resource)}/${resource.metadata.name}`;
}

/**
 * What could not be translated faithfully, one line each: `<Kind> <ns>/<name>: <field path>: <what happened>`.
 * Duplicates are kept once, in first-seen order.
 */
export class Warnings {
  private readonly seen = new Set<string>();

  /** `resource` is a Kind ns/name prefix (see describe) or free text. */
  add(resource: Resource | string, path: string, message: string): void {
    const who = typeof resource === 'string' ? resource : describe(resource);
    this.seen.add(path === '' ? `${who}: ${message}` : `${who}: ${path}: ${message}`);
  }

  addAll(lines: Iterable<string>): void {
    for (const line of lines) this.seen.add(line);
  }

  list(): string[] {
    return [...this.seen];
  }
}

/** Do `labels` contain every key/value of `selector`? (An empty selector matches everything.) */
export function labelsMatch(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Object keys in a stable order, for deterministic output from maps written by people. */
export function sortedEntries<V>(record: Readonly<Record<string, V>> | undefined): [string, V][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
