/**
 * Every kind Shoal serves, and the ways to find one: by kind name, by apiVersion + kind (documents), by REST
 * path (the HTTP API) and by the names people type (`shoal get vs`).
 */
import type { KindDefinition } from './kind.js';
import { authorizationPolicyKind } from './kinds/authorization-policy.js';
import { deploymentKind } from './kinds/deployment.js';
import { destinationRuleKind } from './kinds/destination-rule.js';
import { gatewayKind } from './kinds/gateway.js';
import { podKind } from './kinds/pod.js';
import { peerAuthenticationKind } from './kinds/peer-authentication.js';
import { requestAuthenticationKind } from './kinds/request-authentication.js';
import { serviceEntryKind } from './kinds/service-entry.js';
import { serviceKind } from './kinds/service.js';
import { virtualServiceKind } from './kinds/virtual-service.js';
import { workloadEntryKind } from './kinds/workload-entry.js';
import { workloadGroupKind } from './kinds/workload-group.js';

export const KINDS: readonly KindDefinition[] = Object.freeze([
  serviceKind,
  deploymentKind,
  podKind,
  virtualServiceKind,
  destinationRuleKind,
  serviceEntryKind,
  gatewayKind,
  workloadEntryKind,
  workloadGroupKind,
  peerAuthenticationKind,
  authorizationPolicyKind,
  requestAuthenticationKind,
]);

const byKind = new Map(KINDS.map((def) => [def.kind, def]));

/** `'VirtualService'` (exact, case-sensitive: the `kind` field of a document). */
export function kindByName(kind: string): KindDefinition | undefined {
  return byKind.get(kind);
}

/** Splits `networking.istio.io/v1` into group and version; `v1` is the core group. */
function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The kind if `apiVersion` is one Shoal serves it at (`networking.istio.io/v1alpha3`, `VirtualService`). */
export function kindForApiVersion(apiVersion: string, kind: string): KindDefinition | undefined {
  const def = byKind.get(kind);
  if (!def) return undefined;
  const { group, version } = splitApiVersion(apiVersion);
  return def.group === group && def.versions.includes(version) ? def : undefined;
}

/** `/apis/{group}/{version}/.../{plural}`; group `''` for `/api/v1`. */
export function kindByRestPath(group: string, version: string, plural: string): KindDefinition | undefined {
  return KINDS.find((def) => def.group === group && def.plural === plural && def.versions.includes(version));
}

const byCliName = new Map<string, KindDefinition>();
for (const def of KINDS) {
  const names = [def.kind, def.singular, def.plural, ...def.shortNames].map((n) => n.toLowerCase());
  for (const name of names) byCliName.set(name, def);
  if (def.group !== '') {
    for (const name of [def.kind.toLowerCase(), def.singular, def.plural]) {
      byCliName.set(`${name}.${def.group}`, def);
      for (const version of def.versions) byCliName.set(`${name}.${version}.${def.group}`, def);
    }
  }
}

/**
 * What people type, case-insensitive: `vs`, `virtualservice`, `virtualservices`, `VirtualService`,
 * `virtualservices.networking.istio.io`, `virtualservices.v1.networking.istio.io`.
 */
export function kindByCliName(name: string): KindDefinition | undefined {
  return byCliName.get(name.toLowerCase());
}
