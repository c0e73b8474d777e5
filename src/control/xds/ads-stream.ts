/**
 * What the state-of-the-world and delta ADS streams share: identifying the node from the first request, watching the
 * provider for its snapshots, per-type trackers, nonces, guarded writes, ending the stream with a gRPC status, and
 * the status report. Subclasses implement the two protocol variants (`handle` a request, `evaluate` a type).
 *
 * Every entry point (a request, a snapshot, the end of the call) catches what it throws and ends only this stream,
 * so one client's garbage or a bug in one stream never reaches another stream or the provider.
 */
import { status as GrpcStatus, type ServerDuplexStream, type ServerErrorResponse } from '@grpc/grpc-js';
import { errorMessage } from '../../core/errors.js';
import type { NodeMessage, StatusMessage } from './ads-service.js';
import { parseNode, type XdsNode } from './node.js';
import { resourceTypeOf, XDS_RESOURCE_TYPES, type XdsResourceType, type XdsTypeUrl } from './resource-types.js';
import { changeBetween, type TypeChange } from './change-set.js';
import type { EvaluationQueue } from './evaluation-queue.js';
import type { Snapshot, TypeResources } from './snapshot.js';
import type { SnapshotProvider } from './snapshot-cache.js';
import type { TypeStatus, TypeTracker } from './type-tracker.js';

/** Structured log lines; pino's Logger fits as is. */
export interface XdsLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface StreamContext {
  readonly provider: SnapshotProvider;
  readonly logger: XdsLogger;
  readonly maxNamesPerType: number;
  readonly controlPlaneId: string | undefined;
  readonly now: () => Date;
  readonly onClose: (stream: AdsStream) => void;
  /**
   * A request whose type URL is not an xDS resource type, e.g. Istio's `istio.io/health` reports (a request with no
   * error_detail says the workload is healthy, one with error_detail says why it is not).
   */
  readonly onOtherRequest?: (node: XdsNode, request: AdsRequest) => void;
  /** Where streams given a new snapshot wait for their evaluation (without one they evaluate at once). */
  readonly queue?: EvaluationQueue;
}

/** How a stream ended, for the provider: graceful when the client half-closed it (a proxy shutting down on purpose). */
export interface StreamEnd {
  graceful: boolean;
}

/** One stream, as `/debug/syncz` and `shoal proxy-status` show it. */
export interface ConnectionStatus {
  streamId: number;
  protocol: 'sotw' | 'delta';
  peer: string;
  /** Empty until the first request arrives. */
  nodeId: string;
  node?: XdsNode;
  connectedAt: string;
  snapshotVersion?: string;
  types: TypeStatus[];
}

export interface AdsRequest {
  node: NodeMessage | null;
  type_url: string;
  response_nonce: string;
  error_detail: StatusMessage | null;
}

export interface TypeState {
  readonly type: XdsResourceType;
  readonly tracker: TypeTracker;
  wildcard: boolean;
  /** The explicitly subscribed names (SotW streams may share one Set: never mutate it there). */
  names: ReadonlySet<string>;
  /** Respond even if nothing changed (the first request for the type, or a subscription that asks for it). */
  mustRespond: boolean;
  /** The subscription changed since the last evaluation. */
  needsEval: boolean;
  /** The snapshot's type version at the last evaluation. */
  evaluated: string;
  /**
   * The type set the client was last brought up to date with (a reference to the shared set, never a copy): it has
   * every subscribed resource at this set's version, or was told so in a response it NACKed.
   */
  syncedFrom: TypeResources | undefined;
  /** The subscription changed since the client was last brought up to date. */
  subscriptionChanged: boolean;
}

export abstract class AdsStream<Req extends AdsRequest = AdsRequest, Res = unknown, S extends TypeState = TypeState> {
  abstract readonly protocol: 'sotw' | 'delta';
  readonly id: number;
  readonly connectedAt: Date;
  readonly peer: string;
  protected readonly ctx: StreamContext;
  protected readonly types = new Map<XdsTypeUrl, S>();
  protected node?: XdsNode;
  protected snapshot?: Snapshot;
  private readonly call: ServerDuplexStream<Req, Res>;
  private cancelWatch?: (end: StreamEnd) => void;
  private graceful = false;
  private closed = false;
  private nonces = 0;
  private readonly ignoredTypes = new Set<string>();

  constructor(id: number, call: ServerDuplexStream<Req, Res>, ctx: StreamContext) {
    this.id = id;
    this.call = call;
    this.ctx = ctx;
    this.connectedAt = ctx.now();
    this.peer = call.getPeer();
  }

  start(): void {
    this.call.on('data', (request: Req) => this.guard(() => this.onRequest(request)));
    // The client half-closed its side. grpc-js also ends the readable side when a call is cancelled, so decide on
    // the next turn, once a cancellation would have been seen: only an uncancelled end is a graceful one.
    this.call.on('end', () => {
      setImmediate(() => {
        if (this.closed || this.call.cancelled) return;
        this.graceful = true;
        this.shutdown();
      });
    });
    this.call.on('cancelled', () => this.close('cancelled'));
    this.call.on('error', (error: unknown) => this.close(`error: ${errorMessage(error)}`));
    this.call.on('close', () => this.close('closed'));
  }

  /** Ends the stream with status OK (the client reconnects, possibly elsewhere). */
  shutdown(): void {
    if (this.close('ended by server')) this.call.end();
  }

  /** Ends the stream with an error status. */
  fail(code: GrpcStatus, details: string): void {
    if (!this.close(details)) return;
    const error: ServerErrorResponse = Object.assign(new Error(details), { code, details });
    this.call.emit('error', error);
  }

  status(): ConnectionStatus {
    const out: ConnectionStatus = {
      streamId: this.id,
      protocol: this.protocol,
      peer: this.peer,
      nodeId: this.node?.id ?? '',
      connectedAt: this.connectedAt.toISOString(),
      types: [],
    };
    if (this.node) out.node = this.node;
    if (this.snapshot) out.snapshotVersion = this.snapshot.version;
    for (const type of XDS_RESOURCE_TYPES) {
      const state = this.types.get(type.typeUrl);
      if (state) out.types.push(state.tracker.report(state.wildcard, state.names.size));
    }
    return out;
  }

  /**
   * The gate every evaluation passes: the snapshot to answer from, or undefined when there is nothing to do (no
   * snapshot yet, nothing changed for this type) or a response is still awaiting its ACK (then `dirty` makes the reply
   * evaluate again, so pushes coalesce into one response). On success the state records the evaluated version.
   */
  protected beginEvaluation(state: S): Snapshot | undefined {
    const snapshot = this.snapshot;
    if (snapshot === undefined) return undefined;
    const { type, tracker } = state;
    const typeVersion = snapshot.typeVersion(type.typeUrl);
    if (!state.mustRespond && !state.needsEval && typeVersion === state.evaluated) return undefined;
    if (tracker.awaitingAck) {
      tracker.dirty = true;
      return undefined;
    }
    tracker.dirty = false;
    state.needsEval = false;
    state.evaluated = typeVersion;
    return snapshot;
  }

  /**
   * Evaluates one type. A push costs O(changed names), not O(subscribed names): while the subscription is as it was
   * when the client was last brought up to date, only the difference between that set and the new one can concern
   * it (change-set.ts: computed once and shared by every stream making the same step). A changed subscription, names
   * to send again, or a first response walk the whole selection.
   */
  protected evaluate(state: S): void {
    const snapshot = this.beginEvaluation(state);
    if (snapshot === undefined) return;
    const set = snapshot.typeSet(state.type.typeUrl);
    const from = state.syncedFrom;
    if (from !== undefined && !state.mustRespond && !state.subscriptionChanged && !this.forcing(state)) {
      this.evaluateChange(state, set, changeBetween(from, set));
    } else {
      this.evaluateAll(state, set);
    }
  }

  protected abstract handle(type: XdsResourceType, request: Req, state: S | undefined): void;
  /** Whether some names must be sent (or removed) again whatever their versions. */
  protected abstract forcing(state: S): boolean;
  /** The subscription is as it was: only `change` can concern the client. */
  protected abstract evaluateChange(state: S, set: TypeResources, change: TypeChange): void;
  /** Compares the whole selection with what the client has. */
  protected abstract evaluateAll(state: S, set: TypeResources): void;

  protected nextNonce(): string {
    this.nonces++;
    return `${this.id.toString(36)}-${this.nonces.toString(36)}`;
  }

  protected controlPlane(): { identifier: string } | null {
    return this.ctx.controlPlaneId === undefined ? null : { identifier: this.ctx.controlPlaneId };
  }

  /** Writes a response unless the call is gone; false if it was not written. */
  protected send(response: Res): boolean {
    if (this.closed || this.call.destroyed || !this.call.writable) return false;
    this.call.write(response);
    return true;
  }

  protected tooManyNames(type: XdsResourceType, count: number): boolean {
    if (count <= this.ctx.maxNamesPerType) return false;
    const details = `${type.shortName}: ${count} subscribed resource names exceed the limit of ${this.ctx.maxNamesPerType}`;
    this.ctx.logger.warn(this.fields({ typeUrl: type.typeUrl, names: count }), `xDS client rejected: ${details}`);
    this.fail(GrpcStatus.RESOURCE_EXHAUSTED, details);
    return true;
  }

  protected fields(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { streamId: this.id, protocol: this.protocol, nodeId: this.node?.id, peer: this.peer, ...extra };
  }

  private onRequest(request: Req): void {
    if (this.closed) return;
    if (this.node === undefined) {
      if (!request.node?.id) {
        this.fail(GrpcStatus.INVALID_ARGUMENT, 'the first request on a stream must carry node.id');
        return;
      }
      this.node = parseNode(request.node);
      this.ctx.logger.info(this.fields({ userAgent: this.node.userAgent }), 'xDS stream opened');
      this.cancelWatch = this.ctx.provider.watch(this.node, (snapshot) => this.guard(() => this.onSnapshot(snapshot)));
      if (this.closed) this.cancelWatch({ graceful: false }); // the provider's synchronous delivery failed the stream
    }
    const type = resourceTypeOf(request.type_url);
    if (type === undefined && this.ctx.onOtherRequest) {
      this.ctx.onOtherRequest(this.node, request);
      return;
    }
    if (type === undefined) {
      if (this.ignoredTypes.size < XDS_RESOURCE_TYPES.length * 2 && !this.ignoredTypes.has(request.type_url)) {
        this.ignoredTypes.add(request.type_url);
        this.ctx.logger.debug(this.fields({ typeUrl: request.type_url }), 'xDS request for an unserved type ignored');
      }
      return;
    }
    this.handle(type, request, this.types.get(type.typeUrl));
  }

  /**
   * Evaluates every subscribed type against the latest snapshot, in the protocol's order (the evaluation queue calls
   * this for a stream given a new snapshot).
   */
  evaluatePending(): void {
    this.guard(() => {
      if (this.closed) return;
      for (const type of XDS_RESOURCE_TYPES) {
        const state = this.types.get(type.typeUrl);
        if (state) this.evaluate(state);
      }
    });
  }

  /**
   * A new snapshot: requests from now on are answered from it at once; the pushes it causes wait their turn in the
   * evaluation queue, so one push to thousands of streams does not hold the event loop.
   */
  private onSnapshot(snapshot: Snapshot): void {
    if (this.closed) return;
    this.snapshot = snapshot;
    if (this.ctx.queue !== undefined) this.ctx.queue.add(this);
    else this.evaluatePending();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.ctx.logger.error(this.fields({ error: errorMessage(error) }), 'xDS stream failed');
      this.fail(GrpcStatus.INTERNAL, 'internal error in the discovery server');
    }
  }

  /** Releases the stream's resources once; true the first time. */
  private close(reason: string): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.cancelWatch?.({ graceful: this.graceful });
    this.ctx.queue?.delete(this);
    this.ctx.onClose(this);
    this.ctx.logger.info(this.fields({ reason }), 'xDS stream closed');
    return true;
  }
}
