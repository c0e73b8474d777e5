/**
 * Structural comparison of MeshServices, split the way MeshChange needs it: the service's shape (everything
 * a Cluster or Listener is built from) and its endpoints (what EDS carries).
 */
import type { Locality, MeshEndpoint, MeshService, MeshServicePort } from './model.js';

function sameArray<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i]!, b[i]!)) return false;
  return true;
}

function samePort(a: MeshServicePort, b: MeshServicePort): boolean {
  return a.name === b.name && a.port === b.port && a.protocol === b.protocol;
}

function sameLocality(a: Locality, b: Locality): boolean {
  return a.region === b.region && a.zone === b.zone && a.subZone === b.subZone;
}

export function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

function samePortMap(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export function sameEndpoint(a: MeshEndpoint, b: MeshEndpoint): boolean {
  return (
    a === b ||
    (a.address === b.address &&
      a.source === b.source &&
      a.health === b.health &&
      a.weight === b.weight &&
      a.serviceAccount === b.serviceAccount &&
      a.network === b.network &&
      sameLocality(a.locality, b.locality) &&
      samePortMap(a.ports, b.ports) &&
      sameLabels(a.labels, b.labels))
  );
}

/** Everything but the endpoints. */
export function sameShape(a: MeshService, b: MeshService): boolean {
  return (
    a.hostname === b.hostname &&
    a.name === b.name &&
    a.namespace === b.namespace &&
    a.kind === b.kind &&
    a.vip === b.vip &&
    a.headless === b.headless &&
    a.resolution === b.resolution &&
    a.location === b.location &&
    sameArray(a.ports, b.ports, samePort) &&
    sameArray(a.exportTo, b.exportTo, (x, y) => x === y)
  );
}

export function sameEndpoints(a: MeshService, b: MeshService): boolean {
  return sameArray(a.endpoints, b.endpoints, sameEndpoint);
}

export function sameService(a: MeshService, b: MeshService): boolean {
  return a === b || (sameShape(a, b) && sameEndpoints(a, b));
}
