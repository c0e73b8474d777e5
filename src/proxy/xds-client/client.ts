/**
 * The sidecar's ADS client (state of the world): subscribes to every Listener and Cluster (wildcard), then to the
 * RouteConfigurations its listeners name and the ClusterLoadAssignments of its EDS clusters, as Envoy does; decodes
 * each response with src/proxy/config's decoders, ACKs it or NACKs it whole (the last accepted configuration stays);
 * assembles warm resources into an immutable ProxyConfig (warming.ts) and publishes it to subscribers.
 *
 * Ready once Listeners and Clusters have arrived and nothing accepted is warming (every listener has its routes,
 * every EDS cluster its endpoints, or their initial fetch timed out); nothing is published before, and readiness
 * is never lost afterwards: when the control plane is unreachable the last good configuration keeps serving while
 * the client reconnects with jittered backoff, failing over across `servers` (backoff.ts). Health reports are
 * Istio's `istio.io/health` requests on the stream, repeated after every reconnect. docs/sidecar-xds.md has it all.
 *
 * Two protocols (`mode`): incremental (DeltaAggregatedResources: responses carry only what changed and what was
 * removed; a new stream lists the versions the client holds, so unchanged resources are not resent) and state of
 * the world (StreamAggregatedResources). `auto` (the default) tries delta and falls back to state of the world for
 * a server that answers UNIMPLEMENTED, remembering it for that address.
 */
import { status as GrpcStatus, type ChannelCredentials, type ChannelOptions, type StatusObject } from '@grpc/grpc-js';
import type { DeltaDiscoveryResponse, DiscoveryResponse, NodeMessage } from '../../control/xds/ads-service.js';
import type { XdsLogger } from '../../control/xds/ads-stream.js';
import { realTimers, type Timers } from '../../core/debounce.js';
import { errorMessage } from '../../core/errors.js';
import type { ProxyConfig } from '../config/index.js';
import { AdsCall, type AdsProtocol } from './ads-call.js';
import { Reconnector, type BackoffOptions } from './backoff.js';
import { createTypes, TYPE_ORDER, typeOf, type TypeName, type XdsTypes } from './types.js';
import { assemble, assignmentNames, routeNames, sameConfig, type AcceptedConfig } from './warming.js';

export const HEALTH_TYPE_URL = 'istio.io/health';
/** Envoy's initial_fetch_timeout default. */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** `auto`: delta, or state of the world for a server that does not implement delta. */
export type XdsMode = 'auto' | 'delta' | 'sotw';

export const XDS_MODES: readonly XdsMode[] = ['auto', 'delta', 'sotw'];

export interface XdsClientOptions {
  /** Control-plane `host:port` addresses, tried in order on failure. */
  servers: readonly string[];
  /** The node to present (see sidecarNode()). */
  node: NodeMessage;
  logger?: XdsLogger;
  timers?: Timers;
  /** In [0, 1); jitters the backoff. */
  random?: () => number;
  backoff?: BackoffOptions;
  /** How long a newly named route configuration or assignment may take before it counts as empty (0: forever). */
  initialFetchTimeoutMs?: number;
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
  /** ADS protocol; default `auto` (delta first, state of the world for a server answering UNIMPLEMENTED). */
  mode?: XdsMode;
}

export interface XdsClientStatus {
  state: 'connecting' | 'connected' | 'waiting' | 'closed';
  server: string;
  /** The protocol of the current stream (or of the next attempt). */
  protocol: AdsProtocol;
  ready: boolean;
  /** Consecutive failed connection attempts. */
  failures: number;
  lastError?: string;
  types: Record<TypeName, { version: string; subscribed: number; lastNack?: { nonce: string; message: string } }>;
}

const NOOP_LOGGER: XdsLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class XdsClient {
  private readonly logger: XdsLogger;
  private readonly timers: Timers;
  private readonly reconnector: Reconnector;
  private readonly types: XdsTypes = createTypes();
  private readonly subscribers = new Set<(config: ProxyConfig) => void>();
  private readonly fetchTimers = new Set<unknown>();
  private readonly timedOut = new Set<string>();
  private readyWaiters: { resolve: (config: ProxyConfig) => void; reject: (error: Error) => void }[] = [];
  private call?: AdsCall;
  private active?: ProxyConfig;
  private published?: ProxyConfig;
  private isReady = false;
  private closed = false;
  private closing?: Promise<void>;
  private endWaiter?: () => void;
  private health?: { healthy: boolean; message?: string };
  private lastError?: string;
  /** Addresses that answered a delta call with UNIMPLEMENTED (mode `auto`): state of the world from then on. */
  private readonly sotwOnly = new Set<string>();

  constructor(private readonly options: XdsClientOptions) {
    this.logger = options.logger ?? NOOP_LOGGER;
    this.timers = options.timers ?? realTimers;
    this.reconnector = new Reconnector(options.servers, this.timers, options.random ?? Math.random, options.backoff);
  }

  /** Opens the first stream. */
  start(): void {
    if (this.call === undefined && !this.closed && !this.reconnector.pending) this.connect();
  }

  /** LDS, CDS and everything they need have arrived at least once. */
  get ready(): boolean {
    return this.isReady;
  }

  /** The configuration in force (undefined until ready). */
  get config(): ProxyConfig | undefined {
    return this.published;
  }

  /** Calls `listener` with every new configuration (at once with the current one, if any); returns unsubscribe. */
  subscribe(listener: (config: ProxyConfig) => void): () => void {
    this.subscribers.add(listener);
    if (this.published !== undefined) listener(this.published);
    return () => void this.subscribers.delete(listener);
  }

  /** Resolves with the first complete configuration; rejects if the client is closed before. */
  whenReady(): Promise<ProxyConfig> {
    if (this.published !== undefined) return Promise.resolve(this.published);
    if (this.closed) return Promise.reject(new Error('xDS client closed before it was ready'));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Reports the workload's health to the control plane now and after every reconnect. */
  reportHealth(healthy: boolean, message?: string): void {
    this.health = { healthy, ...(message !== undefined ? { message } : {}) };
    this.sendHealth();
  }

  status(): XdsClientStatus {
    const state = this.closed
      ? 'closed'
      : this.call === undefined
        ? 'waiting'
        : this.call.responses > 0
          ? 'connected'
          : 'connecting';
    const types = {} as XdsClientStatus['types'];
    for (const name of TYPE_ORDER) {
      const t = this.types[name];
      types[name] = {
        version: t.cache.version,
        subscribed: t.names.size,
        ...(t.lastNack !== undefined ? { lastNack: { ...t.lastNack } } : {}),
      };
    }
    return {
      state,
      server: this.call?.address ?? this.reconnector.address,
      protocol: this.call?.protocol ?? this.protocolFor(this.reconnector.address),
      ready: this.isReady,
      failures: this.reconnector.failureCount,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      types,
    };
  }

  /**
   * Stops. Graceful (the default): half-closes the stream, so the control plane deregisters this workload at once,
   * and waits up to `timeoutMs` for the server to end it, then cancels.
   */
  close(options: { graceful?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    this.reconnector.cancel();
    for (const t of this.fetchTimers) this.timers.clearTimeout(t);
    this.fetchTimers.clear();
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(new Error('xDS client closed before it was ready'));
    const call = this.call;
    this.closing = new Promise<void>((resolve) => {
      if (call === undefined || call.ended) return resolve();
      const timer = this.timers.setTimeout(() => call.cancel(), options.timeoutMs ?? 5_000);
      this.endWaiter = () => {
        this.timers.clearTimeout(timer);
        resolve();
      };
      if (options.graceful === false) call.cancel();
      else call.halfClose();
    });
    return this.closing;
  }

  private protocolFor(address: string): AdsProtocol {
    const mode = this.options.mode ?? 'auto';
    if (mode === 'auto') return this.sotwOnly.has(address) ? 'sotw' : 'delta';
    return mode;
  }

  private connect(): void {
    if (this.closed) return;
    for (const name of TYPE_ORDER) {
      this.types[name].nonce = '';
      this.types[name].streamNames = new Set();
    }
    const address = this.reconnector.address;
    const protocol = this.protocolFor(address);
    this.logger.debug({ server: address, nodeId: this.options.node.id, protocol }, 'xDS connecting');
    this.call = new AdsCall(
      {
        address,
        protocol,
        node: this.options.node,
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        ...(this.options.channelOptions ? { channelOptions: this.options.channelOptions } : {}),
      },
      {
        onResponse: (call, response) => this.guard(call, () => this.onResponse(call, response)),
        onEnd: (call, status) => this.onEnd(call, status),
      },
    );
    // Clusters first (Envoy's order), then listeners, then what the last accepted configuration needs.
    if (protocol === 'delta') {
      for (const name of ['CDS', 'LDS', 'EDS', 'RDS'] as const) this.deltaInitial(name);
      this.sendHealth();
      return;
    }
    this.request('CDS');
    this.request('LDS');
    if (this.types.EDS.names.size > 0) this.request('EDS');
    if (this.types.RDS.names.size > 0) this.request('RDS');
    this.sendHealth();
  }

  private onEnd(call: AdsCall, status: StatusObject): void {
    if (call !== this.call) return;
    this.call = undefined;
    if (this.closed) {
      this.endWaiter?.();
      return;
    }
    const mode = this.options.mode ?? 'auto';
    if (
      call.protocol === 'delta' &&
      mode === 'auto' &&
      call.responses === 0 &&
      status.code === GrpcStatus.UNIMPLEMENTED
    ) {
      this.sotwOnly.add(call.address);
      this.logger.info(
        { server: call.address, details: status.details },
        'xDS control plane does not implement delta ADS; using state of the world',
      );
      this.connect();
      return;
    }
    const healthy = call.responses > 0;
    if (status.code !== GrpcStatus.OK) this.lastError = `${GrpcStatus[status.code]}: ${status.details}`;
    const delay = this.reconnector.schedule(healthy, () => this.connect());
    const fields = {
      server: call.address,
      code: GrpcStatus[status.code],
      details: status.details,
      retryInMs: Math.round(delay),
      next: this.reconnector.address,
    };
    if (healthy) this.logger.info(fields, 'xDS stream ended; reconnecting, serving the last configuration meanwhile');
    else this.logger.warn(fields, 'xDS control plane unreachable; retrying');
  }

  private guard(call: AdsCall, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logger.error({ server: call.address, error: errorMessage(error) }, 'xDS client failed; reconnecting');
      call.cancel();
    }
  }

  private onResponse(call: AdsCall, response: DiscoveryResponse | DeltaDiscoveryResponse): void {
    if (call !== this.call || this.closed) return;
    if (call.responses === 1) {
      this.reconnector.succeeded();
      this.logger.info({ server: call.address }, 'xDS stream connected');
    }
    const name = typeOf(response.type_url);
    if (name === undefined) {
      this.logger.debug({ typeUrl: response.type_url }, 'xDS response of an unknown type ignored');
      return;
    }
    const type = this.types[name];
    type.nonce = response.nonce;
    const delta = 'removed_resources' in response;
    const result = delta
      ? type.cache.applyDelta(response, type.named ? type.names : undefined)
      : type.cache.apply(response, type.named ? type.names : undefined);
    if (!result.ok) {
      type.lastNack = { nonce: response.nonce, message: result.error };
      this.logger.warn(
        { type: name, version: delta ? response.system_version_info : response.version_info, error: result.error },
        `xDS ${name} rejected (NACK)`,
      );
      this.request(name, result.error);
      return;
    }
    this.request(name);
    this.update();
  }

  /** Re-assembles the active configuration, follows its subscriptions, publishes when ready. */
  private update(): void {
    const accepted = this.accepted();
    const active = assemble(accepted, this.active);
    this.active = active;
    this.resubscribe('RDS', routeNames(accepted, active));
    this.resubscribe('EDS', assignmentNames(accepted, active));
    const { LDS, CDS } = this.types;
    if (!this.isReady && LDS.cache.received && CDS.cache.received) {
      if (active.warming.listeners.length === 0 && active.warming.clusters.length === 0) {
        this.isReady = true;
        this.logger.info({ versions: active.versions }, 'xDS configuration complete: ready');
      }
    }
    if (!this.isReady || (this.published !== undefined && sameConfig(this.published, active))) return;
    this.published = active;
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve(active);
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber(active);
      } catch (error) {
        this.logger.error({ error: errorMessage(error) }, 'xDS config subscriber failed');
      }
    }
  }

  private accepted(): AcceptedConfig {
    const { LDS, RDS, CDS, EDS } = this.types;
    return {
      versions: {
        listeners: LDS.cache.version,
        routes: RDS.cache.version,
        clusters: CDS.cache.version,
        endpoints: EDS.cache.version,
      },
      listeners: LDS.cache.values(),
      routes: RDS.cache.values(),
      clusters: CDS.cache.values(),
      assignments: EDS.cache.values(),
      timedOut: this.timedOut,
    };
  }

  private resubscribe(name: 'RDS' | 'EDS', names: Set<string>): void {
    const type = this.types[name];
    const added = [...names].filter((n) => !type.names.has(n));
    if (added.length === 0 && names.size === type.names.size) return;
    type.names = names;
    type.cache.retain(names);
    const prefix = name === 'RDS' ? 'rds:' : 'eds:';
    for (const key of this.timedOut) if (key.startsWith(prefix) && !names.has(key.slice(4))) this.timedOut.delete(key);
    this.request(name);
    const timeout = this.options.initialFetchTimeoutMs ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
    if (added.length === 0 || timeout <= 0) return;
    const timer = this.timers.setTimeout(() => {
      this.fetchTimers.delete(timer);
      const missing = added.filter((n) => type.names.has(n) && !type.cache.has(n));
      if (missing.length === 0) return;
      for (const n of missing) this.timedOut.add(prefix + n);
      this.logger.warn(
        { type: name, names: missing.slice(0, 10), count: missing.length, timeoutMs: timeout },
        `xDS ${name} initial fetch timed out; using none`,
      );
      this.update();
    }, timeout);
    this.fetchTimers.add(timer);
  }

  /** Sends the type's subscription with the latest nonce: an ACK, a NACK (`error`), or a subscription change. */
  private request(name: TypeName, error?: string): void {
    if (this.call?.protocol === 'delta') return this.deltaRequest(name, error);
    const type = this.types[name];
    this.call?.send({
      version_info: type.cache.version,
      resource_names: type.named ? [...type.names].sort() : [],
      type_url: type.cache.typeUrl,
      response_nonce: type.nonce,
      error_detail: error === undefined ? null : { code: GrpcStatus.INVALID_ARGUMENT, message: error },
    });
  }

  /**
   * A delta stream's first request for a type: LDS and CDS subscribe to `*`, RDS and EDS to the names the accepted
   * configuration needs (nothing yet: no request); both list the versions held, which the server does not resend.
   */
  private deltaInitial(name: TypeName): void {
    const type = this.types[name];
    if (type.named && type.names.size === 0) return;
    const held = type.cache.versions();
    const initial: Record<string, string> = {};
    for (const [n, version] of Object.entries(held)) if (!type.named || type.names.has(n)) initial[n] = version;
    type.streamNames = new Set(type.named ? type.names : []);
    this.call?.send({
      type_url: type.cache.typeUrl,
      resource_names_subscribe: type.named ? [...type.names].sort() : ['*'],
      resource_names_unsubscribe: [],
      initial_resource_versions: initial,
      response_nonce: '',
      error_detail: null,
    });
  }

  /** Delta: an ACK or NACK of the latest response, with the names subscribed and unsubscribed since the last one. */
  private deltaRequest(name: TypeName, error?: string): void {
    const type = this.types[name];
    const subscribe: string[] = [];
    const unsubscribe: string[] = [];
    if (type.named) {
      for (const n of type.names) if (!type.streamNames.has(n)) subscribe.push(n);
      for (const n of type.streamNames) if (!type.names.has(n)) unsubscribe.push(n);
      type.streamNames = new Set(type.names);
    }
    if (type.nonce === '' && subscribe.length === 0 && unsubscribe.length === 0) return;
    this.call?.send({
      type_url: type.cache.typeUrl,
      resource_names_subscribe: subscribe.sort(),
      resource_names_unsubscribe: unsubscribe.sort(),
      initial_resource_versions: {},
      response_nonce: type.nonce,
      error_detail: error === undefined ? null : { code: GrpcStatus.INVALID_ARGUMENT, message: error },
    });
  }

  private sendHealth(): void {
    const health = this.health;
    if (health === undefined) return;
    const error_detail = health.healthy
      ? null
      : { code: GrpcStatus.UNAVAILABLE, message: health.message || 'unhealthy' };
    if (this.call?.protocol === 'delta') {
      this.call.send({
        type_url: HEALTH_TYPE_URL,
        resource_names_subscribe: [],
        resource_names_unsubscribe: [],
        initial_resource_versions: {},
        response_nonce: '',
        error_detail,
      });
      return;
    }
    this.call?.send({
      version_info: '',
      resource_names: [],
      type_url: HEALTH_TYPE_URL,
      response_nonce: '',
      error_detail: health.healthy ? null : { code: GrpcStatus.UNAVAILABLE, message: health.message || 'unhealthy' },
    });
  }
}
