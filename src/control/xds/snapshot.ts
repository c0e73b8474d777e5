/**
 * An immutable per-proxy snapshot: for each xDS type URL, the resources by name, each already encoded as a
 * google.protobuf.Any and versioned by a hash of those bytes. The discovery server compares these per-resource
 * versions with what a stream has sent, so a resource whose bytes did not change is never resent (except where SotW
 * demands the full set, for Listener and Cluster). Each type also has a version (a hash of its name/version pairs) so
 * the server can skip a type whose content is identical to the last snapshot's.
 *
 * Build one with `Snapshot.fromResources` (plain objects, encoded and checked here) or `Snapshot.fromEncoded`
 * (resources a translation layer encoded and cached itself), and derive the next with `withResources`, which keeps
 * every other type's maps as they were.
 */
import { createHash } from 'node:crypto';
import type { ProtoObject } from './proto-object.js';
import { getXdsProtos, type AnyMessage } from './protos.js';
import { ENDPOINT_TYPE_URL, XDS_RESOURCE_TYPES, type XdsTypeUrl } from './resource-types.js';

export interface SnapshotResource {
  readonly name: string;
  /** 16 hex digits of SHA-256 over the type URL and the encoded bytes. */
  readonly version: string;
  readonly resource: AnyMessage;
}

/** One type's resources, hashed once; share it between snapshots (see Snapshot.compose). */
export interface TypeResources {
  readonly version: string;
  readonly resources: ReadonlyMap<string, SnapshotResource>;
}

export type SnapshotObjects = Partial<Record<XdsTypeUrl, readonly ProtoObject[]>>;
export type SnapshotEncoded = Partial<Record<XdsTypeUrl, readonly { name: string; resource: AnyMessage }[]>>;

function hash(parts: readonly (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest('hex').slice(0, 16);
}

/**
 * The version of a set of resources: a hash of its sorted name/version pairs. A snapshot's type version is the
 * version of all its resources of that type; the SotW server uses the same function for a client's subscribed set,
 * so the same set has the same version wherever it appears.
 */
export function versionOfSet(resources: ReadonlyMap<string, SnapshotResource>): string {
  const parts: string[] = [];
  for (const name of [...resources.keys()].sort()) parts.push(name, '\0', resources.get(name)?.version ?? '', '\n');
  return hash(parts);
}

/** A resource's name: `cluster_name` for a ClusterLoadAssignment, `name` for the others. */
export function resourceNameOf(typeUrl: XdsTypeUrl, object: ProtoObject): string {
  const name = typeUrl === ENDPOINT_TYPE_URL ? object.cluster_name : object.name;
  if (typeof name !== 'string' || name === '') {
    throw new Error(`${typeUrl}: resource without a ${typeUrl === ENDPOINT_TYPE_URL ? 'cluster_name' : 'name'}`);
  }
  return name;
}

/** One resource, hashed. */
export function snapshotResource(typeUrl: XdsTypeUrl, name: string, resource: AnyMessage): SnapshotResource {
  if (resource.type_url !== typeUrl) {
    throw new Error(`resource "${name}" has type ${resource.type_url}, expected ${typeUrl}`);
  }
  return Object.freeze({ name, version: hash([resource.type_url, '\0', resource.value]), resource });
}

/** A type set of resources hashed already (snapshotResource), e.g. kept from an earlier set. */
export function typeResourcesOf(typeUrl: XdsTypeUrl, list: readonly SnapshotResource[]): TypeResources {
  const resources = new Map<string, SnapshotResource>();
  for (const resource of list) {
    if (resources.has(resource.name)) throw new Error(`${typeUrl}: duplicate resource name "${resource.name}"`);
    resources.set(resource.name, resource);
  }
  return Object.freeze({ version: versionOfSet(resources), resources });
}

export function typeResources(
  typeUrl: XdsTypeUrl,
  entries: readonly { name: string; resource: AnyMessage }[],
): TypeResources {
  return typeResourcesOf(
    typeUrl,
    entries.map(({ name, resource }) => snapshotResource(typeUrl, name, resource)),
  );
}

const EMPTY_TYPE: TypeResources = typeResources(XDS_RESOURCE_TYPES[0]!.typeUrl, []);

export class Snapshot {
  private readonly byType: ReadonlyMap<XdsTypeUrl, TypeResources>;
  /** The version, hashed on first use (diagnostics ask for it; a push to thousands of proxies does not). */
  private readonly lazy: { version?: string } = {};

  private constructor(byType: ReadonlyMap<XdsTypeUrl, TypeResources>) {
    this.byType = byType;
    Object.freeze(this);
  }

  /** A hash of every type's version: equal snapshots have equal versions. */
  get version(): string {
    this.lazy.version ??= hash(XDS_RESOURCE_TYPES.map((t) => `${t.typeUrl}=${this.typeVersion(t.typeUrl)}\n`));
    return this.lazy.version;
  }

  static empty(): Snapshot {
    return new Snapshot(new Map());
  }

  /** Encodes plain resource objects (checked against their message types; throws on a malformed one). */
  static fromResources(objects: SnapshotObjects): Snapshot {
    return Snapshot.empty().withResources(objects);
  }

  static fromEncoded(encoded: SnapshotEncoded): Snapshot {
    return Snapshot.empty().withEncoded(encoded);
  }

  /** A new snapshot in which each type present in `objects` is replaced whole; other types are shared. */
  withResources(objects: SnapshotObjects): Snapshot {
    const protos = getXdsProtos();
    const encoded: SnapshotEncoded = {};
    for (const [typeUrl, list] of Object.entries(objects) as [XdsTypeUrl, readonly ProtoObject[]][]) {
      encoded[typeUrl] = list.map((object) => ({
        name: resourceNameOf(typeUrl, object),
        resource: protos.toAny(typeUrl, object),
      }));
    }
    return this.withEncoded(encoded);
  }

  withEncoded(encoded: SnapshotEncoded): Snapshot {
    const byType = new Map(this.byType);
    for (const [typeUrl, entries] of Object.entries(encoded) as [XdsTypeUrl, SnapshotEncoded[XdsTypeUrl]][]) {
      const next = typeResources(typeUrl, entries ?? []);
      // Keep the old maps when nothing changed, so identity comparisons stay cheap too.
      if (next.version !== this.byType.get(typeUrl)?.version) byType.set(typeUrl, next);
    }
    return new Snapshot(byType);
  }

  /**
   * A snapshot made of already-hashed type sets, shared as they are: the cheap way to build thousands of per-proxy
   * snapshots from a few shared sets.
   */
  static compose(types: Partial<Record<XdsTypeUrl, TypeResources>>): Snapshot {
    const byType = new Map<XdsTypeUrl, TypeResources>();
    for (const [typeUrl, set] of Object.entries(types) as [XdsTypeUrl, TypeResources | undefined][]) {
      if (set !== undefined) byType.set(typeUrl, set);
    }
    return new Snapshot(byType);
  }

  /** The hashed set of a type, to share with another snapshot. */
  typeSet(typeUrl: XdsTypeUrl): TypeResources {
    return this.byType.get(typeUrl) ?? EMPTY_TYPE;
  }

  /** The resources of a type by name (empty if the type is absent). */
  resources(typeUrl: XdsTypeUrl): ReadonlyMap<string, SnapshotResource> {
    return (this.byType.get(typeUrl) ?? EMPTY_TYPE).resources;
  }

  get(typeUrl: XdsTypeUrl, name: string): SnapshotResource | undefined {
    return this.resources(typeUrl).get(name);
  }

  /** A hash of the type's name/version pairs; every empty type has the same version. */
  typeVersion(typeUrl: XdsTypeUrl): string {
    return (this.byType.get(typeUrl) ?? EMPTY_TYPE).version;
  }

  /** Resource counts per type URL, for diagnostics. */
  counts(): Record<XdsTypeUrl, number> {
    const out = {} as Record<XdsTypeUrl, number>;
    for (const t of XDS_RESOURCE_TYPES) out[t.typeUrl] = this.resources(t.typeUrl).size;
    return out;
  }
}

/** The union of hashed sets (names must not collide), without hashing any resource again. */
export function mergeTypeResources(sets: readonly TypeResources[]): TypeResources {
  const nonEmpty = sets.filter((s) => s.resources.size > 0);
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const resources = new Map<string, SnapshotResource>();
  for (const set of nonEmpty) {
    for (const [name, resource] of set.resources) {
      if (resources.has(name)) throw new Error(`duplicate resource name "${name}"`);
      resources.set(name, resource);
    }
  }
  return Object.freeze({ version: versionOfSet(resources), resources });
}
