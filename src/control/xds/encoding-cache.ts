/**
 * Encodes translated Envoy objects into hashed type sets, re-encoding only what changed. Translation builds fresh
 * objects on every push; comparing their JSON text (cheap) against the last push's lets an unchanged resource keep
 * its encoded bytes and its hashed SnapshotResource (never hashed again), and an unchanged type keep its
 * TypeResources object, so snapshots built from it compare by identity and the server sends nothing for it.
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

export class EncodingCache {
  private readonly entries = new Map<string, Entry>();
  private readonly sets = new Map<string, TypeResources>();
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
    const resources = objects.map((o) => this.encode(setKey, typeUrl, o));
    const previous = this.sets.get(setKey);
    if (previous !== undefined && sameResources(previous, resources)) return previous;
    const next = typeResourcesOf(typeUrl, resources);
    if (previous !== undefined && previous.version === next.version) return previous;
    this.sets.set(setKey, next);
    return next;
  }

  /** Drops entries unused since the last `begin()`. */
  sweep(): void {
    for (const [key, entry] of this.entries) if (entry.generation !== this.generation) this.entries.delete(key);
  }

  forgetSet(setKey: string): void {
    this.sets.delete(setKey);
  }

  /** Entries are per set: two proxies' resources of the same name (their inbound listeners) differ in content. */
  private encode(setKey: string, typeUrl: XdsTypeUrl, object: ProtoObject): SnapshotResource {
    const name = resourceNameOf(typeUrl, object);
    const key = `${setKey}\0${name}`;
    const json = JSON.stringify(object);
    const cached = this.entries.get(key);
    if (cached !== undefined && cached.json === json) {
      cached.generation = this.generation;
      return cached.resource;
    }
    const resource = snapshotResource(typeUrl, name, getXdsProtos().toAny(typeUrl, object));
    this.encodedCount++;
    this.entries.set(key, { json, resource, generation: this.generation });
    return resource;
  }
}

/** Whether a set holds exactly these resource objects (in any order): then it is the same set. */
function sameResources(set: TypeResources, resources: readonly SnapshotResource[]): boolean {
  if (set.resources.size !== resources.length) return false;
  for (const r of resources) if (set.resources.get(r.name) !== r) return false;
  return true;
}
