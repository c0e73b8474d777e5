/**
 * Debug endpoints on the HTTP API, Istio's names:
 * - `/debug/syncz`: every connected proxy and, per xDS type, the sent and ACKed versions, SYNCED/STALE/NACKED, the
 *   NACK's error (what `shoal proxy-status` shows);
 * - `/debug/config_dump?proxyID=<id>`: what the control plane would send that proxy now, decoded to JSON
 *   (what `shoal proxy-config` shows), with the translation's warnings.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ShoalError } from '../core/errors.js';
import { json } from './api/server.js';
import type { MeshSnapshotProvider } from './xds/mesh-provider.js';
import { getXdsProtos } from './xds/protos.js';
import { XDS_RESOURCE_TYPES } from './xds/resource-types.js';
import type { XdsServer } from './xds/server.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface SyncStatus {
  proxyId: string;
  namespace?: string;
  userAgent?: string;
  connectedAt: string;
  protocol: 'sotw' | 'delta';
  types: { type: string; status: string; sent?: string; acked?: string; nonce?: string; error?: string }[];
}

export function debugRoutes(xds: XdsServer, provider: MeshSnapshotProvider): Map<string, Route> {
  const routes = new Map<string, Route>();
  routes.set('/debug/syncz', (_req, res) => json(res, 200, syncz(xds)));
  routes.set('/debug/config_dump', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const id = url.searchParams.get('proxyID') ?? '';
    const snapshot = provider.snapshotOf(id);
    if (snapshot === undefined) throw new ShoalError('NotFound', `proxy "${id}" is not connected`);
    const protos = getXdsProtos();
    const configs: Record<string, { name: string; version: string; resource: unknown }[]> = {};
    for (const { typeUrl, shortName } of XDS_RESOURCE_TYPES) {
      configs[shortName] = [...snapshot.resources(typeUrl).values()].map((r) => ({
        name: r.name,
        version: r.version,
        resource: protos.fromAny(r.resource),
      }));
    }
    json(res, 200, { proxyId: id, version: snapshot.version, warnings: provider.warningsOf(id), configs });
  });
  routes.set('/debug/push_status', (_req, res) => json(res, 200, provider.stats));
  return routes;
}

export function syncz(xds: XdsServer): SyncStatus[] {
  return xds
    .connections()
    .filter((c) => c.nodeId !== '')
    .map((c) => ({
      proxyId: c.nodeId,
      ...(c.node?.namespace ? { namespace: c.node.namespace } : {}),
      ...(c.node?.userAgent ? { userAgent: c.node.userAgent } : {}),
      connectedAt: c.connectedAt,
      protocol: c.protocol,
      types: c.types.map((t) => ({
        type: t.shortName,
        status: t.status,
        ...(t.sentVersion ? { sent: t.sentVersion } : {}),
        ...(t.ackedVersion ? { acked: t.ackedVersion } : {}),
        ...(t.sentNonce ? { nonce: t.sentNonce } : {}),
        ...(t.lastNack ? { error: t.lastNack.message } : {}),
      })),
    }))
    .sort((a, b) => a.proxyId.localeCompare(b.proxyId));
}
