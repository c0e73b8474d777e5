/** The sidecar's xDS client (docs/sidecar-xds.md). */
export {
  DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
  HEALTH_TYPE_URL,
  XdsClient,
  type XdsClientOptions,
  type XdsClientStatus,
} from './client.js';
export {
  GATEWAY_USER_AGENT,
  gatewayNode,
  gatewayNodeId,
  parseControlAddresses,
  SIDECAR_USER_AGENT,
  sidecarNode,
  sidecarNodeId,
  type GatewayIdentity,
  type SidecarIdentity,
} from './node.js';
export { DEFAULT_BACKOFF, Reconnector, type BackoffOptions } from './backoff.js';
export type { TypeName } from './types.js';
