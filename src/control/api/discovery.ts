/** API discovery documents (/api, /apis, /api/v1, /apis/{group}/{version}) so Kubernetes clients find the kinds. */
import { KINDS } from '../../api/registry.js';

interface DiscoveryPath {
  core: boolean;
  group?: string;
  version?: string;
}

export function discovery(path: DiscoveryPath): unknown {
  if (path.core && path.version === undefined) return { kind: 'APIVersions', versions: ['v1'] };
  if (!path.core && path.group === undefined) {
    const groups = [...new Set(KINDS.filter((k) => k.group !== '').map((k) => k.group))];
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((g) => groupDoc(g)),
    };
  }
  const group = path.core ? '' : (path.group ?? '');
  if (path.version === undefined)
    return KINDS.some((k) => k.group === group)
      ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group) }
      : undefined;
  const kinds = KINDS.filter((k) => k.group === group && k.versions.includes(path.version!));
  if (kinds.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? path.version : `${group}/${path.version}`,
    resources: kinds.map((k) => ({
      name: k.plural,
      singularName: k.singular,
      namespaced: k.namespaced,
      kind: k.kind,
      shortNames: k.shortNames,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    })),
  };
}

function groupDoc(group: string): Record<string, unknown> {
  const versions = [...new Set(KINDS.filter((k) => k.group === group).flatMap((k) => k.versions))];
  return {
    name: group,
    versions: versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
  };
}
