/**
 * The xDS resource types Shoal serves, with the protocol properties that differ between them.
 *
 * Envoy's xDS protocol (api-docs/xds_protocol.rst) treats Listener and Cluster specially: they support the wildcard
 * subscription ("*", or, for historical reasons, a stream that never named a resource), and in state-of-the-world
 * every response carries every subscribed resource, so absence means deletion. The other types are named-only and a
 * SotW response may carry just the resources that changed.
 */

const PREFIX = 'type.googleapis.com/';

export const LISTENER_TYPE_URL = `${PREFIX}envoy.config.listener.v3.Listener`;
export const ROUTE_TYPE_URL = `${PREFIX}envoy.config.route.v3.RouteConfiguration`;
export const CLUSTER_TYPE_URL = `${PREFIX}envoy.config.cluster.v3.Cluster`;
export const ENDPOINT_TYPE_URL = `${PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`;
export const SECRET_TYPE_URL = `${PREFIX}envoy.extensions.transport_sockets.tls.v3.Secret`;

export type XdsTypeUrl =
  | typeof LISTENER_TYPE_URL
  | typeof ROUTE_TYPE_URL
  | typeof CLUSTER_TYPE_URL
  | typeof ENDPOINT_TYPE_URL
  | typeof SECRET_TYPE_URL;

export interface XdsResourceType {
  readonly typeUrl: XdsTypeUrl;
  /** Fully qualified protobuf message name, e.g. `envoy.config.listener.v3.Listener`. */
  readonly messageName: string;
  /** Envoy's short name for the discovery service: LDS, RDS, CDS, EDS, SDS. */
  readonly shortName: 'LDS' | 'RDS' | 'CDS' | 'EDS' | 'SDS';
  /** Wildcard subscriptions are defined for this type (Listener and Cluster only). */
  readonly wildcard: boolean;
  /** In SotW, every response carries the complete subscribed set; absence means deletion. */
  readonly fullStateInSotw: boolean;
}

function resourceType(
  typeUrl: XdsTypeUrl,
  shortName: XdsResourceType['shortName'],
  rootType: boolean,
): XdsResourceType {
  return {
    typeUrl,
    messageName: typeUrl.slice(PREFIX.length),
    shortName,
    wildcard: rootType,
    fullStateInSotw: rootType,
  };
}

/** In the order a push should be applied to avoid dropping traffic: CDS, EDS, LDS, RDS (then SDS). */
export const XDS_RESOURCE_TYPES: readonly XdsResourceType[] = Object.freeze([
  resourceType(CLUSTER_TYPE_URL, 'CDS', true),
  resourceType(ENDPOINT_TYPE_URL, 'EDS', false),
  resourceType(LISTENER_TYPE_URL, 'LDS', true),
  resourceType(ROUTE_TYPE_URL, 'RDS', false),
  resourceType(SECRET_TYPE_URL, 'SDS', false),
]);

const BY_URL = new Map<string, XdsResourceType>(XDS_RESOURCE_TYPES.map((t) => [t.typeUrl, t]));

/** The resource type for a type URL, or undefined for a type Shoal does not serve. */
export function resourceTypeOf(typeUrl: string): XdsResourceType | undefined {
  return BY_URL.get(typeUrl);
}

export function isXdsTypeUrl(typeUrl: string): typeUrl is XdsTypeUrl {
  return BY_URL.has(typeUrl);
}

/** `type.googleapis.com/<message>` for a fully qualified message name (a leading dot is dropped). */
export function typeUrlOf(messageName: string): string {
  return PREFIX + (messageName.startsWith('.') ? messageName.slice(1) : messageName);
}

/** The message name in a type URL: everything after the last '/'. */
export function messageNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
