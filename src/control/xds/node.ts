/**
 * The identity an xDS client presents in the first request of a stream (envoy.config.core.v3.Node), with Istio's
 * metadata keys lifted out: NAMESPACE, LABELS, SERVICE_ACCOUNT, WORKLOAD_NAME, CLUSTER_ID. Snapshot providers key
 * and select on this; the server itself only uses `id`.
 */
import type { NodeMessage } from './ads-service.js';
import { fromStruct, type JsonObject, type JsonValue } from './well-known.js';

export interface XdsNode {
  id: string;
  cluster: string;
  /** The whole metadata Struct as plain JSON. */
  metadata: JsonObject;
  namespace?: string;
  labels: Record<string, string>;
  serviceAccount?: string;
  workloadName?: string;
  clusterId?: string;
  locality?: { region: string; zone: string; subZone: string };
  /** `user_agent_name user_agent_version`, e.g. "gRPC Node Pure JS 1.14.1" or "envoy 1.31.0". */
  userAgent?: string;
  clientFeatures: string[];
}

function stringOf(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function labelsOf(value: JsonValue | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === 'string') labels[key] = v;
    }
  }
  return labels;
}

/** The node of a decoded request. `id` is required by the caller; everything else may be missing. */
export function parseNode(message: NodeMessage): XdsNode {
  const metadata = fromStruct(message.metadata);
  const node: XdsNode = {
    id: message.id,
    cluster: message.cluster ?? '',
    metadata,
    labels: labelsOf(metadata.LABELS),
    clientFeatures: [...(message.client_features ?? [])],
  };
  const namespace = stringOf(metadata.NAMESPACE);
  if (namespace !== undefined) node.namespace = namespace;
  const serviceAccount = stringOf(metadata.SERVICE_ACCOUNT);
  if (serviceAccount !== undefined) node.serviceAccount = serviceAccount;
  const workloadName = stringOf(metadata.WORKLOAD_NAME);
  if (workloadName !== undefined) node.workloadName = workloadName;
  const clusterId = stringOf(metadata.CLUSTER_ID);
  if (clusterId !== undefined) node.clusterId = clusterId;
  const locality = message.locality;
  if (locality && (locality.region || locality.zone || locality.sub_zone)) {
    node.locality = { region: locality.region, zone: locality.zone, subZone: locality.sub_zone };
  }
  if (message.user_agent_name) {
    node.userAgent = [message.user_agent_name, message.user_agent_version].filter(Boolean).join(' ');
  }
  return node;
}
