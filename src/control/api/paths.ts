/**
 * Kubernetes REST paths -> what they address.
 *   /api/v1/namespaces/{ns}/{plural}[/{name}]     core group
 *   /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]
 *   /api/v1/{plural}, /apis/{group}/{version}/{plural}   cluster-wide lists and watches
 *   /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}   discovery
 */
import type { KindDefinition } from '../../api/kind.js';
import { kindByRestPath } from '../../api/registry.js';

export type ApiPath =
  | { type: 'resource'; def: KindDefinition; version: string; namespace?: string; name?: string }
  | { type: 'discovery'; group?: string; version?: string; core: boolean }
  | { type: 'unknown-kind'; group: string; version: string; plural: string }
  | { type: 'none' };

export function parseApiPath(pathname: string): ApiPath {
  const parts = pathname.split('/').filter((p) => p !== '');
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
    if (version === undefined) return { type: 'discovery', core: true };
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { type: 'discovery', core: false };
    group = parts[1]!;
    version = parts[2];
    rest = parts.slice(3);
    if (version === undefined) return { type: 'discovery', core: false, group };
  } else {
    return { type: 'none' };
  }
  if (rest.length === 0) return { type: 'discovery', core: group === '', group, version };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  if (rest.length > 2) return { type: 'none' };
  const plural = rest[0]!;
  const def = kindByRestPath(group, version, plural);
  if (!def) return { type: 'unknown-kind', group, version, plural };
  const name = rest[1] === undefined ? undefined : decodeURIComponent(rest[1]);
  return { type: 'resource', def, version, namespace, name };
}

/** The path of one object or of a namespace's collection, for links and the CLI. */
export function resourcePath(
  def: KindDefinition,
  namespace?: string,
  name?: string,
  version = def.versions[0],
): string {
  const base = def.group === '' ? `/api/${version}` : `/apis/${def.group}/${version}`;
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/${def.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}
