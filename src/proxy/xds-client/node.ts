/**
 * The node a sidecar or a gateway presents on its ADS stream (envoy.config.core.v3.Node), as the control plane reads
 * it (src/control/xds/translate/proxy.ts, src/control/auto-registration.ts):
 *
 * - id `sidecar~<pod-ip>~<workload>.<namespace>~<namespace>.svc.<domain>` (Istio's), which makes it a sidecar;
 * - metadata: Istio's NAMESPACE, LABELS, INSTANCE_IPS, WORKLOAD_NAME, SERVICE_ACCOUNT (and CLUSTER_ID when set), and
 *   Shoal's SHOAL_APP_PORT, SHOAL_INBOUND_PORT, SHOAL_OUTBOUND_PORT, SHOAL_PORTS (the app's named ports, for the
 *   WorkloadEntry the control plane registers) and SHOAL_HEALTH_CHECKS (the entry starts unhealthy until the
 *   sidecar's first health report);
 * - cluster `<app label or workload>.<namespace>`, locality, user agent `shoal-sidecar <version>`.
 *
 * A gateway (`shoal gateway`) presents Istio's gateway id `router~<bind>~<workload>.<namespace>~<namespace>.svc.<domain>`
 * and only Istio's keys: its listeners come from the Gateways selecting its LABELS and bind INSTANCE_IPS (its
 * `--bind` address; src/control/xds/translate/gateway.ts), and having no app it neither registers nor reports health.
 */
import type { NodeMessage } from '../../control/xds/ads-service.js';
import { toStruct, type JsonObject } from '../../control/xds/well-known.js';
import { err, ok, type Result } from '../../core/result.js';
import { VERSION } from '../../core/version.js';

export interface SidecarIdentity {
  readonly type?: 'sidecar';
  /** The pod's IP: the listeners bind it and the WorkloadEntry's address is it. */
  podIp: string;
  /** The WorkloadEntry name (one per instance, e.g. the pod name). */
  workload: string;
  namespace: string;
  serviceAccount: string;
  labels?: Readonly<Record<string, string>>;
  /** The app's port behind the inbound listener. */
  appPort: number;
  inboundPort?: number;
  outboundPort?: number;
  /** The app's named ports (WorkloadEntry `ports`); default `{ http: appPort }`. */
  ports?: Readonly<Record<string, number>>;
  /** The sidecar probes the app and reports health: the entry starts Healthy=False until the first report. */
  healthChecks?: boolean;
  locality?: { region: string; zone: string; subZone: string };
  /** Istio's CLUSTER_ID. */
  clusterId?: string;
  /** DNS domain (default cluster.local). */
  domain?: string;
}

export const SIDECAR_USER_AGENT = 'shoal-sidecar';

/** Istio's sidecar node id. */
export function sidecarNodeId(identity: Pick<SidecarIdentity, 'podIp' | 'workload' | 'namespace' | 'domain'>): string {
  const { podIp, workload, namespace } = identity;
  return `sidecar~${podIp}~${workload}.${namespace}~${namespace}.svc.${identity.domain ?? 'cluster.local'}`;
}

/** The node message of a sidecar, sent on the first request of every ADS stream. */
export function sidecarNode(identity: SidecarIdentity): NodeMessage {
  const labels = { ...(identity.labels ?? {}) };
  const metadata: JsonObject = {
    NAMESPACE: identity.namespace,
    LABELS: labels,
    INSTANCE_IPS: identity.podIp,
    WORKLOAD_NAME: identity.workload,
    SERVICE_ACCOUNT: identity.serviceAccount,
    SHOAL_APP_PORT: String(identity.appPort),
    SHOAL_INBOUND_PORT: String(identity.inboundPort ?? 15006),
    SHOAL_OUTBOUND_PORT: String(identity.outboundPort ?? 15001),
    SHOAL_PORTS: { ...(identity.ports ?? { http: identity.appPort }) },
    SHOAL_HEALTH_CHECKS: identity.healthChecks === true ? 'true' : 'false',
  };
  if (identity.clusterId !== undefined) metadata.CLUSTER_ID = identity.clusterId;
  const locality = identity.locality;
  return {
    id: sidecarNodeId(identity),
    cluster: `${labels.app ?? identity.workload}.${identity.namespace}`,
    metadata: toStruct(metadata),
    locality: locality ? { region: locality.region, zone: locality.zone, sub_zone: locality.subZone } : null,
    user_agent_name: SIDECAR_USER_AGENT,
    user_agent_version: VERSION,
    client_features: [],
  };
}

export interface GatewayIdentity {
  readonly type: 'gateway';
  /** The address the listeners bind (`--bind`), presented as INSTANCE_IPS. */
  bind: string;
  /** The proxy's name (`shoal up`: the Gateway's name). */
  workload: string;
  namespace: string;
  /** What Gateways select (`spec.selector`). */
  labels?: Readonly<Record<string, string>>;
  serviceAccount?: string;
  /** Istio's CLUSTER_ID. */
  clusterId?: string;
  /** DNS domain (default cluster.local). */
  domain?: string;
}

export const GATEWAY_USER_AGENT = 'shoal-gateway';

/** Istio's gateway node id. */
export function gatewayNodeId(identity: Pick<GatewayIdentity, 'bind' | 'workload' | 'namespace' | 'domain'>): string {
  const { bind, workload, namespace } = identity;
  return `router~${bind}~${workload}.${namespace}~${namespace}.svc.${identity.domain ?? 'cluster.local'}`;
}

/** The node message of a gateway, sent on the first request of every ADS stream. */
export function gatewayNode(identity: GatewayIdentity): NodeMessage {
  const labels = { ...(identity.labels ?? {}) };
  const metadata: JsonObject = {
    NAMESPACE: identity.namespace,
    LABELS: labels,
    INSTANCE_IPS: identity.bind,
    WORKLOAD_NAME: identity.workload,
    SERVICE_ACCOUNT: identity.serviceAccount ?? 'default',
  };
  if (identity.clusterId !== undefined) metadata.CLUSTER_ID = identity.clusterId;
  return {
    id: gatewayNodeId(identity),
    cluster: `${labels.app ?? identity.workload}.${identity.namespace}`,
    metadata: toStruct(metadata),
    locality: null,
    user_agent_name: GATEWAY_USER_AGENT,
    user_agent_version: VERSION,
    client_features: [],
  };
}

/** `host:port` entries of `--control` (comma-separated), or what is wrong with them. */
export function parseControlAddresses(value: string | readonly string[]): Result<string[], string> {
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) return err('--control: at least one host:port is required');
  for (const address of list) {
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    if (!address.includes(':') || !Number.isInteger(port) || port < 1 || port > 65535) {
      return err(`--control: ${address} is not host:port`);
    }
  }
  return ok(list);
}
