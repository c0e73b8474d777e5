/**
 * State-of-the-world ADS (StreamAggregatedResources), per Envoy's xds_protocol.rst:
 *
 * - Each type URL is its own sub-stream with its own version_info and nonce. A request whose response_nonce is the
 *   latest nonce sent answers that response: an ACK, or a NACK when error_detail is set (the client stays on its last
 *   ACKed version; the error is recorded, nothing is resent until the configuration changes). A request carrying an
 *   older nonce (or none, after a response went out) is stale and ignored whole: the client will repeat its
 *   subscription when it answers the latest response.
 * - Listener and Cluster accept the wildcard (no names ever sent, or "*"); every response carries the full subscribed
 *   set, so absence is deletion. RouteConfiguration, ClusterLoadAssignment and Secret are named only, and a response
 *   carries just the subscribed resources the client does not have at their current version.
 * - Newly subscribed names are sent even if sent before. An unchanged resource is never resent otherwise (except in
 *   the full LDS/CDS set).
 * - At most one response per type is outstanding: changes that arrive before its ACK/NACK are coalesced into one
 *   response sent when the reply comes (Istio does the same), so a client that never ACKs costs one response.
 *
 * version_info is the version of the client's subscribed set (snapshot.ts `versionOfSet`), so equal content has an
 * equal version on every stream.
 *
 * A push costs a stream O(changed names), not O(subscribed names) (AdsStream.evaluate): while the subscription is as
 * it was, the stream intersects the shared difference between the set its client was last brought up to date with
 * and the new one (change-set.ts) with its subscription.
 */
import type { DiscoveryRequest, DiscoveryResponse } from './ads-service.js';
import { AdsStream, type TypeState } from './ads-stream.js';
import { anysOf, type TypeChange } from './change-set.js';
import type { AnyMessage } from './protos.js';
import type { XdsResourceType } from './resource-types.js';
import { sharedNames } from './shared-wire.js';
import { versionOfSet, type Snapshot, type SnapshotResource, type TypeResources } from './snapshot.js';
import { TypeTracker } from './type-tracker.js';

interface SotwTypeState extends TypeState {
  /** The client has named resources at least once (ends the legacy "empty means wildcard" meaning). */
  explicit: boolean;
  /** How many resources of `syncedFrom` are not subscribed (0: the selection is the whole set). */
  uncovered: number;
  /** Names to send again even if the client has them at the current version (newly subscribed ones). */
  resend: Set<string>;
  /** The request's names list that set the current subscription, when it is a shared one (shared-wire.ts). */
  requested: readonly string[] | undefined;
}

interface ParsedNames {
  wildcard: boolean;
  /** Never mutated: streams subscribing with the same shared list share it. */
  names: ReadonlySet<string>;
}

function parseNames(list: readonly string[], type: XdsResourceType, snapshot: Snapshot | undefined): ParsedNames {
  const known = snapshot?.resources(type.typeUrl);
  let wildcard = false;
  const names = new Set<string>();
  for (const name of list) {
    if (name === '*' && type.wildcard) wildcard = true;
    else names.add(known?.get(name)?.name ?? name);
  }
  return { wildcard, names };
}

const parsedShared = new WeakMap<readonly string[], Map<XdsResourceType, ParsedNames>>();

/**
 * A shared names list (shared-wire.ts) parsed once per type: thousands of streams subscribing with the same 1,000
 * names share one Set instead of holding a copy each.
 */
function sharedSubscription(
  list: readonly string[],
  type: XdsResourceType,
  snapshot: Snapshot | undefined,
): ParsedNames {
  let byType = parsedShared.get(list);
  if (byType === undefined) parsedShared.set(list, (byType = new Map<XdsResourceType, ParsedNames>()));
  let parsed = byType.get(type);
  if (parsed === undefined) byType.set(type, (parsed = parseNames(list, type, snapshot)));
  return parsed;
}

/** Whether a request names exactly the current explicit subscription (every ACK repeats it). */
function sameSubscription(state: SotwTypeState, names: readonly string[]): boolean {
  if (state.wildcard || names.length !== state.names.size) return false;
  for (const name of names) if (!state.names.has(name)) return false;
  return true;
}

function subscribesAll(state: SotwTypeState, resources: readonly SnapshotResource[]): boolean {
  if (state.wildcard) return true;
  for (const r of resources) if (!state.names.has(r.name)) return false;
  return true;
}

/** The subscribed part of a set, and how many of the set's resources are left out (0: the set itself). */
function select(set: TypeResources, state: SotwTypeState): [ReadonlyMap<string, SnapshotResource>, number] {
  const all = set.resources;
  if (state.wildcard) return [all, 0];
  const selection = new Map<string, SnapshotResource>();
  for (const name of state.names) {
    const resource = all.get(name);
    if (resource !== undefined) selection.set(name, resource);
  }
  const uncovered = all.size - selection.size;
  return uncovered === 0 ? [all, 0] : [selection, uncovered];
}

export class SotwStream extends AdsStream<DiscoveryRequest, DiscoveryResponse, SotwTypeState> {
  readonly protocol = 'sotw';

  protected handle(type: XdsResourceType, request: DiscoveryRequest, existing: SotwTypeState | undefined): void {
    const state = existing ?? this.createState(type);
    const kind = state.tracker.reply(request.response_nonce, request.error_detail);
    if (kind === 'stale') return;
    if (kind === 'nack') {
      const nack = state.tracker.report(state.wildcard, state.names.size).lastNack;
      this.ctx.logger.warn(
        this.fields({ typeUrl: type.typeUrl, rejectedVersion: nack?.rejectedVersion, error: nack?.message }),
        `xDS client NACKed ${type.shortName}`,
      );
    }
    if (this.tooManyNames(type, request.resource_names.length)) return;
    this.subscribe(state, request.resource_names);
    if (kind === 'initial') state.mustRespond = true;
    this.evaluate(state);
  }

  protected forcing(state: SotwTypeState): boolean {
    return state.resend.size > 0;
  }

  protected evaluateChange(state: SotwTypeState, set: TypeResources, change: TypeChange): void {
    let uncovered = state.uncovered;
    if (!state.wildcard) {
      for (const name of change.added) if (!state.names.has(name)) uncovered++;
      for (const name of change.removed) if (!state.names.has(name)) uncovered--;
    }
    const everyUpdate = subscribesAll(state, change.updated);
    const updated = everyUpdate ? change.updated : change.updated.filter((r) => state.names.has(r.name));
    let resources: readonly AnyMessage[];
    if (state.type.fullStateInSotw) {
      const removed = state.wildcard ? change.removed.length > 0 : change.removed.some((n) => state.names.has(n));
      if (updated.length === 0 && !removed) return this.upToDate(state, set, uncovered);
      resources = uncovered === 0 ? anysOf(set) : [...select(set, state)[0].values()].map((r) => r.resource);
    } else {
      if (updated.length === 0) return this.upToDate(state, set, uncovered);
      resources = everyUpdate ? change.updatedAnys : updated.map((r) => r.resource);
    }
    const version = state.wildcard || uncovered === 0 ? set.version : versionOfSet(select(set, state)[0]);
    this.respond(state, set, uncovered, version, resources);
  }

  protected evaluateAll(state: SotwTypeState, set: TypeResources): void {
    const [selection, uncovered] = select(set, state);
    const version = state.wildcard || uncovered === 0 ? set.version : versionOfSet(selection);
    let resources: readonly AnyMessage[];
    if (state.type.fullStateInSotw) {
      const same = state.syncedFrom !== undefined && state.resend.size === 0 && version === state.tracker.version;
      if (!state.mustRespond && same) return this.upToDate(state, set, uncovered);
      resources = selection === set.resources ? anysOf(set) : [...selection.values()].map((r) => r.resource);
    } else {
      const from = state.syncedFrom?.resources;
      const list: AnyMessage[] = [];
      for (const r of selection.values()) {
        if (state.resend.has(r.name) || from?.get(r.name)?.version !== r.version) list.push(r.resource);
      }
      if (list.length === 0) return this.upToDate(state, set, uncovered);
      resources = list;
    }
    this.respond(state, set, uncovered, version, resources);
  }

  /** Nothing to send: the client has (or was told) everything it subscribes to in `set`. */
  private upToDate(state: SotwTypeState, set: TypeResources, uncovered: number): void {
    state.syncedFrom = set;
    state.uncovered = uncovered;
    state.resend.clear();
    state.mustRespond = false;
    state.subscriptionChanged = false;
  }

  private respond(
    state: SotwTypeState,
    set: TypeResources,
    uncovered: number,
    version: string,
    resources: readonly AnyMessage[],
  ): void {
    const nonce = this.nextNonce();
    const written = this.send({
      version_info: version,
      resources: resources as AnyMessage[],
      type_url: state.type.typeUrl,
      nonce,
      control_plane: this.controlPlane(),
    });
    if (!written) return;
    this.upToDate(state, set, uncovered);
    state.tracker.sent(nonce, version, resources.length);
  }

  private createState(type: XdsResourceType): SotwTypeState {
    const state: SotwTypeState = {
      type,
      tracker: new TypeTracker(type, this.ctx.now),
      wildcard: false,
      names: new Set(),
      explicit: false,
      syncedFrom: undefined,
      uncovered: 0,
      resend: new Set(),
      subscriptionChanged: false,
      requested: undefined,
      mustRespond: false,
      needsEval: true,
      evaluated: '',
    };
    this.types.set(type.typeUrl, state);
    return state;
  }

  /** Applies a request's resource_names (the complete subscription for the type). */
  private subscribe(state: SotwTypeState, resourceNames: readonly string[]): void {
    // An ACK repeats the subscription: nothing to do when it is the very list (shared) or names the same set.
    if (resourceNames === state.requested) return;
    const shared = sharedNames.isShared(resourceNames) ? resourceNames : undefined;
    if (resourceNames.length > 0 && sameSubscription(state, resourceNames)) {
      state.requested = shared;
      return;
    }
    state.requested = shared;
    const { type } = state;
    let wildcard = false;
    let names: ReadonlySet<string>;
    if (type.wildcard && resourceNames.length === 0 && !state.explicit) {
      wildcard = true; // legacy wildcard: this stream never named a Listener/Cluster
      names = new Set();
    } else {
      if (resourceNames.length > 0) state.explicit = true;
      // Keep the snapshot's own name strings, shared by every stream, rather than this request's decoded copies.
      const parsed =
        shared !== undefined
          ? sharedSubscription(shared, type, this.snapshot)
          : parseNames(resourceNames, type, this.snapshot);
      wildcard = parsed.wildcard;
      names = parsed.names;
    }
    let changed = wildcard !== state.wildcard || names.size !== state.names.size;
    if (wildcard && !state.wildcard) {
      state.syncedFrom = undefined; // everything is newly requested
      state.mustRespond = true;
    }
    for (const name of names) {
      if (!state.names.has(name)) {
        changed = true;
        state.resend.add(name); // newly requested: resend even if sent before
      }
    }
    state.wildcard = wildcard;
    state.names = names;
    if (changed) {
      state.needsEval = true;
      state.subscriptionChanged = true;
    }
  }
}
