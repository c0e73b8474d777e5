/**
 * One xDS type's accepted resources on the client side, and the all-or-nothing decision on each response.
 *
 * A response is decoded resource by resource (protobuf bytes -> `fromAny` -> the type's `decode()`); if any
 * resource fails, the whole response is rejected with every failure named (`Cluster "x": type: ...`), the cache is
 * left as it was, and the caller NACKs. Otherwise the new set replaces (Listener, Cluster: every SotW response is
 * the full set, absence is deletion) or updates (RouteConfiguration, ClusterLoadAssignment: a response carries
 * only what changed) the accepted one.
 *
 * Decoded resources are cached by a hash of their bytes, so a resource resent unchanged (every full-state push,
 * every reconnect) is not decoded again and keeps its identity in the published ProxyConfig.
 *
 * Incremental (delta) responses go through `applyDelta`: the given resources are upserted and `removed_resources`
 * removed, with the same decoders and the same all-or-nothing rule. Each resource keeps the version the server gave
 * it (`versions()`: the `initial_resource_versions` of the next delta stream). The type's `version` is then the
 * response's `system_version_info`, or, if the server sets none, `delta:` and a hash of the accepted state (names and
 * resource bytes), so the same state always shows the same version.
 */
import { createHash } from 'node:crypto';
import type { DeltaDiscoveryResponse, DiscoveryResponse } from '../../control/xds/ads-service.js';
import type { AnyMessage } from '../../control/xds/protos.js';
import { getXdsProtos } from '../../control/xds/protos.js';
import { errorMessage } from '../../core/errors.js';
import { err, ok, type Result } from '../../core/result.js';

export type Decoder<T> = (resource: unknown) => Result<T, string>;

interface Entry<T> {
  readonly name: string;
  readonly hash: string;
  readonly value: T;
  /** The server's version of the resource (delta only). */
  readonly version?: string;
}

/** At most this many resource errors are spelled out in one NACK. */
const MAX_ERRORS = 8;

export class TypeCache<T> {
  private entries = new Map<string, Entry<T>>();
  private byHash = new Map<string, Entry<T>>();
  /** version_info of the last accepted response ('' before the first). */
  version = '';
  /** At least one response was accepted (on any stream). */
  received = false;

  constructor(
    readonly typeUrl: string,
    private readonly decode: Decoder<T>,
    private readonly nameOf: (value: T) => string,
    /** Listener and Cluster: each response is the complete set. */
    readonly fullState: boolean,
  ) {}

  get(name: string): T | undefined {
    return this.entries.get(name)?.value;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The accepted resources by name. */
  values(): Map<string, T> {
    const out = new Map<string, T>();
    for (const [name, entry] of this.entries) out.set(name, entry.value);
    return out;
  }

  /** The server's version of every accepted resource that has one (those accepted from delta responses). */
  versions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, entry] of this.entries) if (entry.version !== undefined) out[name] = entry.version;
    return out;
  }

  /**
   * Accepts a response, or returns the NACK message and changes nothing. For named types, resources outside
   * `subscribed` are ignored.
   */
  apply(response: DiscoveryResponse, subscribed?: ReadonlySet<string>): Result<number, string> {
    const errors: string[] = [];
    const incoming = new Map<string, Entry<T>>();
    response.resources.forEach((any, i) => {
      const entry = this.decodeOne(any, i, errors);
      if (entry === undefined) return;
      if (incoming.has(entry.name)) errors.push(`resources[${i}]: ${entry.name} is listed twice`);
      incoming.set(
        entry.name,
        entry.version === undefined ? entry : { name: entry.name, hash: entry.hash, value: entry.value },
      );
    });
    if (errors.length > 0) return err(joinErrors(errors));
    let next: Map<string, Entry<T>>;
    if (this.fullState) next = incoming;
    else {
      next = new Map(this.entries);
      for (const [name, entry] of incoming) if (subscribed === undefined || subscribed.has(name)) next.set(name, entry);
    }
    this.replace(next);
    this.version = response.version_info;
    this.received = true;
    return ok(incoming.size);
  }

  /**
   * Accepts an incremental response (upserts `resources`, removes `removed_resources`), or returns the NACK message
   * and changes nothing. For named types, resources outside `subscribed` are ignored.
   */
  applyDelta(response: DeltaDiscoveryResponse, subscribed?: ReadonlySet<string>): Result<number, string> {
    const errors: string[] = [];
    const incoming = new Map<string, Entry<T>>();
    response.resources.forEach((resource, i) => {
      if (resource.resource === null) return void errors.push(`resources[${i}]: ${resource.name} has no resource`);
      const entry = this.decodeOne(resource.resource, i, errors);
      if (entry === undefined) return;
      if (resource.name !== '' && resource.name !== entry.name) {
        return void errors.push(`resources[${i}]: named ${resource.name} but the resource is ${entry.name}`);
      }
      if (incoming.has(entry.name)) errors.push(`resources[${i}]: ${entry.name} is listed twice`);
      incoming.set(entry.name, { name: entry.name, hash: entry.hash, value: entry.value, version: resource.version });
    });
    for (const name of response.removed_resources) {
      if (incoming.has(name)) errors.push(`removed_resources: ${name} is also in resources`);
    }
    if (errors.length > 0) return err(joinErrors(errors));
    const next = new Map(this.entries);
    for (const name of response.removed_resources) next.delete(name);
    for (const [name, entry] of incoming) if (subscribed === undefined || subscribed.has(name)) next.set(name, entry);
    this.replace(next);
    this.version = response.system_version_info !== '' ? response.system_version_info : this.stateHash();
    this.received = true;
    return ok(incoming.size + response.removed_resources.length);
  }

  private decodeOne(any: AnyMessage, i: number, errors: string[]): Entry<T> | undefined {
    if (any.type_url !== this.typeUrl) {
      errors.push(`resources[${i}]: type ${any.type_url} in a ${this.typeUrl} response`);
      return undefined;
    }
    const hash = createHash('sha1').update(any.value).digest('base64');
    const cached = this.byHash.get(hash);
    if (cached !== undefined) return cached;
    let decoded: Result<T, string>;
    try {
      decoded = this.decode(getXdsProtos().fromAny(any));
    } catch (error) {
      decoded = err(`resources[${i}]: cannot be parsed: ${errorMessage(error)}`);
    }
    if (!decoded.ok) {
      errors.push(decoded.error);
      return undefined;
    }
    return { name: this.nameOf(decoded.value), hash, value: decoded.value };
  }

  /** `delta:` and a hash of the accepted names and resource bytes. */
  private stateHash(): string {
    const hash = createHash('sha1');
    for (const name of [...this.entries.keys()].sort()) hash.update(`${name}\0${this.entries.get(name)!.hash}\0`);
    return `delta:${hash.digest('hex').slice(0, 16)}`;
  }

  /** Drops resources no longer subscribed (named types). */
  retain(names: ReadonlySet<string>): void {
    if ([...this.entries.keys()].every((n) => names.has(n))) return;
    this.replace(new Map([...this.entries].filter(([name]) => names.has(name))));
  }

  private replace(next: Map<string, Entry<T>>): void {
    this.entries = next;
    this.byHash = new Map([...next.values()].map((e) => [e.hash, e]));
  }
}

function joinErrors(errors: string[]): string {
  const more = errors.length > MAX_ERRORS ? `; and ${errors.length - MAX_ERRORS} more` : '';
  return errors.slice(0, MAX_ERRORS).join('; ') + more;
}
