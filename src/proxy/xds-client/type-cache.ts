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
 */
import { createHash } from 'node:crypto';
import type { DiscoveryResponse } from '../../control/xds/ads-service.js';
import { getXdsProtos } from '../../control/xds/protos.js';
import { errorMessage } from '../../core/errors.js';
import { err, ok, type Result } from '../../core/result.js';

export type Decoder<T> = (resource: unknown) => Result<T, string>;

interface Entry<T> {
  readonly name: string;
  readonly hash: string;
  readonly value: T;
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

  /**
   * Accepts a response, or returns the NACK message and changes nothing. For named types, resources outside
   * `subscribed` are ignored.
   */
  apply(response: DiscoveryResponse, subscribed?: ReadonlySet<string>): Result<number, string> {
    const protos = getXdsProtos();
    const errors: string[] = [];
    const incoming = new Map<string, Entry<T>>();
    response.resources.forEach((any, i) => {
      if (any.type_url !== this.typeUrl) {
        errors.push(`resources[${i}]: type ${any.type_url} in a ${this.typeUrl} response`);
        return;
      }
      const hash = createHash('sha1').update(any.value).digest('base64');
      let entry = this.byHash.get(hash);
      if (entry === undefined) {
        let decoded: Result<T, string>;
        try {
          decoded = this.decode(protos.fromAny(any));
        } catch (error) {
          decoded = err(`resources[${i}]: cannot be parsed: ${errorMessage(error)}`);
        }
        if (!decoded.ok) return void errors.push(decoded.error);
        entry = { name: this.nameOf(decoded.value), hash, value: decoded.value };
      }
      if (incoming.has(entry.name)) errors.push(`resources[${i}]: ${entry.name} is listed twice`);
      incoming.set(entry.name, entry);
    });
    if (errors.length > 0) {
      const more = errors.length > MAX_ERRORS ? `; and ${errors.length - MAX_ERRORS} more` : '';
      return err(errors.slice(0, MAX_ERRORS).join('; ') + more);
    }
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
