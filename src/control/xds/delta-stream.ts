/**
 * Incremental ADS (DeltaAggregatedResources), per Envoy's xds_protocol.rst "Incremental xDS":
 *
 * - The first request for a type may list the versions the client already has (initial_resource_versions, after a
 *   reconnect); those are not resent if unchanged (named ones subscribed in the same request included). Listener
 *   and Cluster are wildcard when the first request names nothing, or after subscribing to "*".
 * - resource_names_subscribe / resource_names_unsubscribe change the subscription whatever the nonce (the doc: the
 *   nonce correlates ACK/NACK but must not be used to reject subscription changes). A name subscribed again is resent.
 * - A response carries only resources whose version differs from what the client has, and removed_resources for
 *   names the client has that are gone, and for subscribed names that do not exist (told once).
 * - Unsubscribing needs no response, except that with a wildcard the name is resent or removed, so the client knows
 *   whether to keep it.
 * - ACK/NACK by response_nonce and error_detail, one outstanding response per type, changes coalesced meanwhile.
 *   A NACKed response was not applied: its names are sent (or removed) again at the next change of the type, even if
 *   unchanged, so a client that rejected a response whole gets everything it lacks once a usable one comes.
 *
 * system_version_info is the snapshot's version of the type (for debugging only, as the protocol says).
 *
 * As in SotW (sotw-stream.ts), a push costs a stream O(changed names) while its subscription stays as it was: it
 * intersects the shared difference between the set it last synced its client with and the new one (change-set.ts).
 */
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, ResourceMessage } from './ads-service.js';
import { AdsStream, type TypeState } from './ads-stream.js';
import type { XdsResourceType } from './resource-types.js';
import type { TypeChange } from './change-set.js';
import { shareEncoding } from './shared-wire.js';
import type { SnapshotResource, TypeResources } from './snapshot.js';
import { TypeTracker } from './type-tracker.js';

/** In `known`: the client was told the resource does not exist. */
const ABSENT = '';

interface DeltaTypeState extends TypeState {
  /** The stream's own Set, changed in place by subscribe and unsubscribe. */
  names: Set<string>;
  /** name -> the version the client has (ABSENT: told it does not exist). */
  known: Map<string, string>;
  /** Names to send (or remove) even if the client has them at the current version. */
  forced: Set<string>;
  /** The names of the response awaiting its ACK (updated and removed). */
  sent: string[];
}

const deltaResources = new WeakMap<TypeChange, readonly ResourceMessage[]>();

/** A change's updated resources as delta Resource messages, one shared array (and encoding) per change. */
function resourcesOf(change: TypeChange): readonly ResourceMessage[] {
  let list = deltaResources.get(change);
  if (list === undefined) {
    list = shareEncoding(change.updated.map((r) => ({ name: r.name, version: r.version, resource: r.resource })));
    deltaResources.set(change, list);
  }
  return list;
}

export class DeltaStream extends AdsStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse, DeltaTypeState> {
  readonly protocol = 'delta';

  protected handle(type: XdsResourceType, request: DeltaDiscoveryRequest, existing: DeltaTypeState | undefined): void {
    const state = existing ?? this.createState(type);
    if (request.response_nonce !== '') {
      const kind = state.tracker.reply(request.response_nonce, request.error_detail);
      if (kind === 'ack') state.sent = [];
      if (kind === 'nack') {
        // The client does not have them: send them again with the next change.
        for (const name of state.sent) state.forced.add(name);
        state.sent = [];
        const nack = state.tracker.report(state.wildcard, state.names.size).lastNack;
        this.ctx.logger.warn(
          this.fields({ typeUrl: type.typeUrl, rejectedVersion: nack?.rejectedVersion, error: nack?.message }),
          `xDS client NACKed ${type.shortName} (delta)`,
        );
      }
    }
    const subscribe = request.resource_names_subscribe;
    const unsubscribe = request.resource_names_unsubscribe;
    if (existing === undefined) {
      const initial = Object.entries(request.initial_resource_versions);
      if (this.tooManyNames(type, initial.length)) return;
      for (const [name, version] of initial) state.known.set(name, version);
      if (type.wildcard && subscribe.length === 0 && unsubscribe.length === 0) state.wildcard = true;
      state.mustRespond = true;
    }
    for (const name of subscribe) {
      if (name === '*') {
        if (type.wildcard) state.wildcard = true;
        continue;
      }
      state.names.add(name);
      // A name subscribed again is resent, except on a new stream for a version the client says it has.
      if (existing !== undefined || !state.known.has(name)) state.forced.add(name);
    }
    if (this.tooManyNames(type, state.names.size)) return;
    for (const name of unsubscribe) {
      if (name === '*') {
        state.wildcard = false;
        continue;
      }
      state.names.delete(name);
      if (state.wildcard) {
        state.forced.add(name); // still covered by the wildcard? resend it, or tell the client it is gone
      } else {
        state.forced.delete(name);
        state.known.delete(name);
      }
    }
    if (subscribe.length > 0 || unsubscribe.length > 0) {
      state.needsEval = true;
      state.subscriptionChanged = true;
    }
    this.evaluate(state);
  }

  protected forcing(state: DeltaTypeState): boolean {
    return state.forced.size > 0;
  }

  /** `known` holds syncedFrom's version (or ABSENT) for every covered name, and nothing else. */
  protected evaluateChange(state: DeltaTypeState, set: TypeResources, change: TypeChange): void {
    const changed: SnapshotResource[] = [];
    const removed: string[] = [];
    for (const r of change.updated) {
      if (!state.wildcard && !state.names.has(r.name)) continue;
      if (state.known.get(r.name) === r.version) continue;
      changed.push(r);
      state.known.set(r.name, r.version);
    }
    for (const name of change.removed) {
      const version = state.known.get(name);
      if (state.names.has(name)) {
        // Still subscribed, now absent: tell the client, once.
        if (version === ABSENT) continue;
        removed.push(name);
        state.known.set(name, ABSENT);
      } else if (version !== undefined) {
        if (state.wildcard && version !== ABSENT) removed.push(name); // was in the wildcard set, is not any more
        state.known.delete(name);
      }
    }
    state.syncedFrom = set;
    if (changed.length === 0 && removed.length === 0) return;
    const resources = changed.length === change.updated.length ? resourcesOf(change) : undefined;
    this.respond(state, set, changed, removed, resources);
  }

  protected evaluateAll(state: DeltaTypeState, set: TypeResources): void {
    const all = set.resources;
    const changed: SnapshotResource[] = [];
    const removed: string[] = [];
    const covered = (name: string): boolean => state.names.has(name) || (state.wildcard && all.has(name));
    const consider = (name: string): void => {
      const resource = all.get(name);
      if (resource !== undefined) {
        if (state.forced.has(name) || state.known.get(name) !== resource.version) {
          changed.push(resource);
          state.known.set(name, resource.version);
        }
      } else if (state.forced.has(name) || state.known.get(name) !== ABSENT) {
        removed.push(name);
        state.known.set(name, ABSENT);
      }
    };
    if (state.wildcard) for (const name of all.keys()) consider(name);
    for (const name of state.names) if (!(state.wildcard && all.has(name))) consider(name);
    for (const name of state.forced) {
      if (covered(name)) continue;
      if (state.wildcard) removed.push(name); // unsubscribed and not in the wildcard set
      state.known.delete(name);
    }
    for (const [name, version] of state.known) {
      if (covered(name)) continue;
      if (state.wildcard && version !== ABSENT) removed.push(name); // deleted from the wildcard set
      state.known.delete(name);
    }
    state.forced.clear();
    state.syncedFrom = set;
    state.subscriptionChanged = false;

    if (changed.length === 0 && removed.length === 0 && !state.mustRespond) return;
    this.respond(state, set, changed, removed);
  }

  private respond(
    state: DeltaTypeState,
    set: TypeResources,
    changed: readonly SnapshotResource[],
    removed: string[],
    shared?: readonly ResourceMessage[],
  ): void {
    const nonce = this.nextNonce();
    const resources = shared ?? changed.map((r) => ({ name: r.name, version: r.version, resource: r.resource }));
    const written = this.send({
      system_version_info: set.version,
      resources: resources as ResourceMessage[],
      type_url: state.type.typeUrl,
      removed_resources: removed,
      nonce,
      control_plane: this.controlPlane(),
    });
    if (!written) return;
    state.mustRespond = false;
    state.sent = [...changed.map((r) => r.name), ...removed];
    state.tracker.sent(nonce, set.version, changed.length + removed.length);
  }

  private createState(type: XdsResourceType): DeltaTypeState {
    const state: DeltaTypeState = {
      type,
      tracker: new TypeTracker(type, this.ctx.now),
      wildcard: false,
      names: new Set(),
      known: new Map(),
      forced: new Set(),
      sent: [],
      syncedFrom: undefined,
      subscriptionChanged: false,
      mustRespond: false,
      needsEval: true,
      evaluated: '',
    };
    this.types.set(type.typeUrl, state);
    return state;
  }
}
