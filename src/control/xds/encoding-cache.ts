/**
 * Encodes translated Envoy objects into hashed type sets, re-encoding only what changed. Translation builds fresh
 * objects on every push; comparing their JSON text (cheap) against the last push's lets an unchanged resource keep
 * its encoded bytes and its hashed SnapshotResource (never hashed again), and an unchanged type keep its
 * TypeResources object, so snapshots built from it compare by identity and the server sends nothing for it.
 *
 * Entries are filed per set (`setKey`): two proxies' resources of the same name (their inbound listeners) differ in
 * content. A push that reuses a whole set without translating it again says so with `keep`.
 */
import type { ProtoObject } from './proto-object.js';
import { getXdsProtos } from './protos.js';
import type { XdsTypeUrl } from './resource-types.js';
import {
  resourceNameOf,
  snapshotResource,
  typeResourcesOf,
  type SnapshotResource,
  type TypeResources,
} from './snapshot.js';

interface Entry {
  json: string;
  resource: SnapshotResource;
  generation: number;
}

interface Group {
  /** The push that last used this set. */
  generation: number;
  /** Whether that push encoded through it (then its unused entries go at the sweep), or kept it whole. */
  encoded: boolean;
  entries: Map<string, Entry>;
  set?: TypeResources;
}

export class EncodingCache {
  private readonly groups = new Map<string, Group>();
  private generation = 0;
  /** Resources encoded (not reused) since creation: a measure of the work a push did. */
  encodedCount = 0;

  /** Starts a new push generation; `sweep()` after it drops what the push no longer used. */
  begin(): void {
    this.generation++;
  }

  /**
   * The hashed set for `objects`, filed under `setKey` (e.g. `ns/type/typeUrl`): the previous set object is returned
   * as-is when nothing in it changed.
   */
  set(setKey: string, typeUrl: XdsTypeUrl, objects: readonly ProtoObject[]): TypeResources {
    const group = this.group(setKey);
    group.encoded = true;
    const resources = objects.map((o) => this.encode(group, typeUrl, o));
    const previous = group.set;
    if (previous !== undefined && sameResources(previous, resources)) return previous;
    const next = typeResourcesOf(typeUrl, resources);
    if (previous !== undefined && previous.version === next.version) return previous;
    group.set = next;
    return next;
  }

  /** This push uses the set filed under `setKey` as it is (its inputs did not change): keep all of it. */
  keep(setKey: string): void {
    const group = this.groups.get(setKey);
    if (group !== undefined && group.generation !== this.generation) {
      group.generation = this.generation;
      group.encoded = false;
    }
  }

  /**
   * Drops what the push since `begin()` did not use: sets it neither encoded nor kept (proxies gone, namespaces
   * without proxies), and, in sets it encoded, the resources it no longer produced.
   */
  sweep(): void {
    for (const [key, group] of this.groups) {
      if (group.generation !== this.generation) this.groups.delete(key);
      else if (group.encoded) {
        for (const [name, entry] of group.entries) if (entry.generation !== this.generation) group.entries.delete(name);
      }
    }
  }

  forgetSet(setKey: string): void {
    this.groups.delete(setKey);
  }

  private group(setKey: string): Group {
    let group = this.groups.get(setKey);
    if (group === undefined) {
      group = { generation: this.generation, encoded: true, entries: new Map() };
      this.groups.set(setKey, group);
    }
    group.generation = this.generation;
    return group;
  }

  private encode(group: Group, typeUrl: XdsTypeUrl, object: ProtoObject): SnapshotResource {
    const name = resourceNameOf(typeUrl, object);
    const json = JSON.stringify(object);
    const cached = group.entries.get(name);
    if (cached !== undefined && cached.json === json) {
      cached.generation = this.generation;
      return cached.resource;
    }
    const resource = snapshotResource(typeUrl, name, getXdsProtos().toAny(typeUrl, object));
    this.encodedCount++;
    group.entries.set(name, { json, resource, generation: this.generation });
    return resource;
  }
}

/** Whether a set holds exactly these resource objects (in any order): then it is the same set. */
function sameResources(set: TypeResources, resources: readonly SnapshotResource[]): boolean {
  if (set.resources.size !== resources.length) return false;
  for (const r of resources) if (set.resources.get(r.name) !== r) return false;
  return true;
}
