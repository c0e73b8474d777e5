/**
 * Incremental ADS (DeltaAggregatedResources), per Envoy's xds_protocol.rst "Incremental xDS":
 *
 * - The first request for a type may list the versions the client already has (initial_resource_versions, after a
 *   reconnect); those are not resent if unchanged. Listener and Cluster are wildcard when the first request names
 *   nothing, or after subscribing to "*".
 * - resource_names_subscribe / resource_names_unsubscribe change the subscription whatever the nonce (the doc: the
 *   nonce correlates ACK/NACK but must not be used to reject subscription changes). A name subscribed again is resent.
 * - A response carries only resources whose version differs from what the client has, and removed_resources for
 *   names the client has that are gone, and for subscribed names that do not exist (told once).
 * - Unsubscribing needs no response, except that with a wildcard the name is resent or removed, so the client knows
 *   whether to keep it.
 * - ACK/NACK by response_nonce and error_detail, one outstanding response per type, changes coalesced meanwhile.
 *
 * system_version_info is the snapshot's version of the type (for debugging only, as the protocol says).
 */
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from './ads-service.js';
import { AdsStream, type TypeState } from './ads-stream.js';
import type { XdsResourceType } from './resource-types.js';
import type { SnapshotResource } from './snapshot.js';
import { TypeTracker } from './type-tracker.js';

/** In `known`: the client was told the resource does not exist. */
const ABSENT = '';

interface DeltaTypeState extends TypeState {
  /** name -> the version the client has (ABSENT: told it does not exist). */
  known: Map<string, string>;
  /** Names to send (or remove) even if the client has them at the current version. */
  forced: Set<string>;
}

export class DeltaStream extends AdsStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse, DeltaTypeState> {
  readonly protocol = 'delta';

  protected handle(type: XdsResourceType, request: DeltaDiscoveryRequest, existing: DeltaTypeState | undefined): void {
    const state = existing ?? this.createState(type);
    if (request.response_nonce !== '') {
      const kind = state.tracker.reply(request.response_nonce, request.error_detail);
      if (kind === 'nack') {
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
      state.forced.add(name);
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
    if (subscribe.length > 0 || unsubscribe.length > 0) state.needsEval = true;
    this.evaluate(state);
  }

  protected evaluate(state: DeltaTypeState): void {
    const snapshot = this.beginEvaluation(state);
    if (snapshot === undefined) return;
    const { type, tracker } = state;
    const typeVersion = state.evaluated;

    const all = snapshot.resources(type.typeUrl);
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

    if (changed.length === 0 && removed.length === 0 && !state.mustRespond) return;
    const nonce = this.nextNonce();
    const written = this.send({
      system_version_info: typeVersion,
      resources: changed.map((r) => ({ name: r.name, version: r.version, resource: r.resource })),
      type_url: type.typeUrl,
      removed_resources: removed,
      nonce,
      control_plane: this.controlPlane(),
    });
    if (!written) return;
    state.mustRespond = false;
    tracker.sent(nonce, typeVersion, changed.length + removed.length);
  }

  private createState(type: XdsResourceType): DeltaTypeState {
    const state: DeltaTypeState = {
      type,
      tracker: new TypeTracker(type, this.ctx.now),
      wildcard: false,
      names: new Set(),
      known: new Map(),
      forced: new Set(),
      mustRespond: false,
      needsEval: true,
      evaluated: '',
    };
    this.types.set(type.typeUrl, state);
    return state;
  }
}
