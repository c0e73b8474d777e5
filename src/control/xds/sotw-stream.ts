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
 */
import type { DiscoveryRequest, DiscoveryResponse } from './ads-service.js';
import { AdsStream, type TypeState } from './ads-stream.js';
import type { XdsResourceType } from './resource-types.js';
import { versionOfSet, type Snapshot, type SnapshotResource } from './snapshot.js';
import { TypeTracker } from './type-tracker.js';

interface SotwTypeState extends TypeState {
  /** The client has named resources at least once (ends the legacy "empty means wildcard" meaning). */
  explicit: boolean;
  /**
   * The subscribed resources as of the last response: a reference to that (immutable) selection, never a copy,
   * so a push to thousands of streams allocates nothing per name.
   */
  sent: ReadonlyMap<string, SnapshotResource>;
  /** Names to send again even if `sent` has them at the current version (newly subscribed ones). */
  resend: Set<string>;
}

const NOTHING_SENT: ReadonlyMap<string, SnapshotResource> = new Map();

function sentBefore(state: SotwTypeState, resource: SnapshotResource): boolean {
  return !state.resend.has(resource.name) && state.sent.get(resource.name)?.version === resource.version;
}

function sameVersions(selection: ReadonlyMap<string, SnapshotResource>, state: SotwTypeState): boolean {
  if (state.resend.size > 0 || selection.size !== state.sent.size) return false;
  if (selection === state.sent) return true;
  for (const resource of selection.values()) if (!sentBefore(state, resource)) return false;
  return true;
}

/** Whether a request names exactly the current explicit subscription (every ACK repeats it). */
function sameSubscription(state: SotwTypeState, names: readonly string[]): boolean {
  if (state.wildcard || names.length !== state.names.size) return false;
  for (const name of names) if (!state.names.has(name)) return false;
  return true;
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

  protected evaluate(state: SotwTypeState): void {
    const snapshot = this.beginEvaluation(state);
    if (snapshot === undefined) return;
    const { type, tracker } = state;
    const typeVersion = state.evaluated;
    const selection = this.select(snapshot, state);
    let resources: SnapshotResource[];
    if (type.fullStateInSotw) {
      if (!state.mustRespond && sameVersions(selection, state)) return;
      resources = [...selection.values()];
    } else {
      resources = [];
      for (const r of selection.values()) if (!sentBefore(state, r)) resources.push(r);
      if (resources.length === 0) {
        state.sent = selection;
        state.resend.clear();
        state.mustRespond = false;
        return;
      }
    }
    // A selection that is the whole type has the type's version: no need to hash the names again per stream.
    const all = snapshot.resources(type.typeUrl);
    const version = state.wildcard || selection === all ? typeVersion : versionOfSet(selection);
    const nonce = this.nextNonce();
    const written = this.send({
      version_info: version,
      resources: resources.map((r) => r.resource),
      type_url: type.typeUrl,
      nonce,
      control_plane: this.controlPlane(),
    });
    if (!written) return;
    state.mustRespond = false;
    state.sent = selection;
    state.resend.clear();
    tracker.sent(nonce, version, resources.length);
  }

  private createState(type: XdsResourceType): SotwTypeState {
    const state: SotwTypeState = {
      type,
      tracker: new TypeTracker(type, this.ctx.now),
      wildcard: false,
      names: new Set(),
      explicit: false,
      sent: NOTHING_SENT,
      resend: new Set(),
      mustRespond: false,
      needsEval: true,
      evaluated: '',
    };
    this.types.set(type.typeUrl, state);
    return state;
  }

  /** Applies a request's resource_names (the complete subscription for the type). */
  private subscribe(state: SotwTypeState, resourceNames: readonly string[]): void {
    const { type } = state;
    // An ACK repeats the subscription: nothing to do when it names the same set.
    if (resourceNames.length > 0 && sameSubscription(state, resourceNames)) return;
    // Keep the snapshot's own name strings, shared by every stream, rather than this request's decoded copies.
    const known = this.snapshot?.resources(type.typeUrl);
    let wildcard = false;
    const names = new Set<string>();
    if (type.wildcard && resourceNames.length === 0 && !state.explicit) {
      wildcard = true; // legacy wildcard: this stream never named a Listener/Cluster
    } else {
      if (resourceNames.length > 0) state.explicit = true;
      for (const name of resourceNames) {
        if (name === '*' && type.wildcard) wildcard = true;
        else names.add(known?.get(name)?.name ?? name);
      }
    }
    let changed = wildcard !== state.wildcard || names.size !== state.names.size;
    if (wildcard && !state.wildcard) {
      state.sent = NOTHING_SENT; // everything is newly requested
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
    if (changed) state.needsEval = true;
  }

  private select(snapshot: Snapshot, state: SotwTypeState): ReadonlyMap<string, SnapshotResource> {
    const all = snapshot.resources(state.type.typeUrl);
    if (state.wildcard) return all;
    if (state.names.size >= all.size && covers(state.names, all)) return all;
    const selection = new Map<string, SnapshotResource>();
    for (const name of state.names) {
      const resource = all.get(name);
      if (resource !== undefined) selection.set(name, resource);
    }
    return selection;
  }
}

/** Whether every resource of `all` is subscribed (then the selection is `all` itself). */
function covers(names: ReadonlySet<string>, all: ReadonlyMap<string, SnapshotResource>): boolean {
  for (const name of all.keys()) if (!names.has(name)) return false;
  return true;
}
