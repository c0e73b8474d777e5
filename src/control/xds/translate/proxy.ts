/**
 * Who is asking: the proxy a translation is for, lifted out of the xDS node it presents.
 *
 * Node ids follow Istio's `<type>~<ip>~<pod>.<namespace>~<namespace>.svc.<domain>`: `sidecar~...` is a Shoal sidecar
 * (or an Envoy in its place), `router~...` a gateway. Anything else, and any node whose metadata says
 * `GENERATOR: grpc` (Istio's marker for proxyless gRPC, whatever the id), is a proxyless gRPC client such as
 * `@grpc/grpc-js-xds`. Metadata keys: Istio's `INSTANCE_IPS`, `NAMESPACE`, `LABELS`, `SERVICE_ACCOUNT`,
 * `WORKLOAD_NAME`, and Shoal's `SHOAL_APP_PORT`, `SHOAL_INBOUND_PORT`, `SHOAL_OUTBOUND_PORT`.
 */
import { isIP } from 'node:net';
import type { Locality } from '../../../registry/model.js';
import type { XdsNode } from '../node.js';
import type { JsonValue } from '../well-known.js';

export type ProxyType = 'sidecar' | 'gateway' | 'grpc';

export interface ProxyContext {
  type: ProxyType;
  /** The node id, as presented. */
  id: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  workloadName?: string;
  /** The proxy's own address (first of INSTANCE_IPS, else the id's IP part). */
  ip?: string;
  /** The sidecar's inbound listener port (default 15006). */
  inboundPort?: number;
  /** The sidecar's outbound listener port (default 15001). */
  outboundPort?: number;
  /** The app's port behind the sidecar: the inbound cluster's endpoint. */
  appPort?: number;
  serviceAccount?: string;
  /** The node's locality, when it presents one (locality-aware load balancing needs it). */
  locality?: Locality;
}

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_INBOUND_PORT = 15006;
export const DEFAULT_OUTBOUND_PORT = 15001;

function portOf(value: JsonValue | undefined): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

function firstIp(value: JsonValue | undefined): string | undefined {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  for (const item of list) {
    if (typeof item === 'string' && isIP(item.trim()) !== 0) return item.trim();
  }
  return undefined;
}

function typeOf(node: XdsNode, idType: string): ProxyType {
  const generator = node.metadata.GENERATOR;
  if (typeof generator === 'string' && generator.toLowerCase() === 'grpc') return 'grpc';
  if (idType === 'sidecar') return 'sidecar';
  if (idType === 'router') return 'gateway';
  return 'grpc';
}

/** The namespace from metadata, else from the id (`<pod>.<ns>` or `<ns>.svc.<domain>`), else `default`. */
function namespaceOf(node: XdsNode, parts: readonly string[]): string {
  if (node.namespace !== undefined) return node.namespace;
  if (parts.length === 4) {
    const fromDomain = parts[3]!.split('.')[0];
    if (fromDomain) return fromDomain;
    const dot = parts[2]!.indexOf('.');
    if (dot >= 0 && dot < parts[2]!.length - 1) return parts[2]!.slice(dot + 1);
  }
  return DEFAULT_NAMESPACE;
}

/** The ProxyContext of a connected node (never throws: missing parts get defaults). */
export function proxyContextOf(node: XdsNode): ProxyContext {
  const parts = node.id.split('~');
  const type = typeOf(node, parts.length === 4 ? parts[0]! : '');
  const proxy: ProxyContext = { type, id: node.id, namespace: namespaceOf(node, parts), labels: { ...node.labels } };
  if (node.workloadName !== undefined) proxy.workloadName = node.workloadName;
  const ip = firstIp(node.metadata.INSTANCE_IPS) ?? (parts.length === 4 ? firstIp(parts[1]) : undefined);
  if (ip !== undefined) proxy.ip = ip;
  const md = node.metadata;
  const inboundPort = portOf(md.SHOAL_INBOUND_PORT);
  if (inboundPort !== undefined) proxy.inboundPort = inboundPort;
  const outboundPort = portOf(md.SHOAL_OUTBOUND_PORT);
  if (outboundPort !== undefined) proxy.outboundPort = outboundPort;
  const appPort = portOf(md.SHOAL_APP_PORT);
  if (appPort !== undefined) proxy.appPort = appPort;
  if (node.serviceAccount !== undefined) proxy.serviceAccount = node.serviceAccount;
  if (node.locality !== undefined) proxy.locality = { ...node.locality };
  return proxy;
}
