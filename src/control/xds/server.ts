/**
 * The discovery server: envoy.service.discovery.v3.AggregatedDiscoveryService over @grpc/grpc-js, both
 * StreamAggregatedResources (state of the world, sotw-stream.ts) and DeltaAggregatedResources (incremental,
 * delta-stream.ts), serving snapshots from a SnapshotProvider. It knows nothing of Shoal's resources: translation
 * happens before the provider.
 *
 * Protections against a bad client, each confined to that client's stream: a limit on subscribed names per type
 * (RESOURCE_EXHAUSTED), a maximum request size, at most one outstanding response per type, garbage bytes ending only
 * that call (grpc-js answers INTERNAL), a cap on concurrent streams, keepalive pings to reap dead peers, and writes
 * that are skipped once the call is gone.
 */
import { Server, ServerCredentials, status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import { errorMessage } from '../../core/errors.js';
import {
  adsServiceDefinition,
  type AdsServiceDefinition,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from './ads-service.js';
import type { AdsStream, ConnectionStatus, StreamContext, XdsLogger } from './ads-stream.js';
import { DeltaStream } from './delta-stream.js';
import { EvaluationQueue } from './evaluation-queue.js';
import type { SnapshotProvider } from './snapshot-cache.js';
import { SotwStream } from './sotw-stream.js';

export interface XdsServerOptions {
  provider: SnapshotProvider;
  logger?: XdsLogger;
  /** Subscribed resource names per type and stream (default 10,000). */
  maxNamesPerType?: number;
  /** Largest request accepted, in bytes (default 4 MiB). */
  maxReceiveMessageBytes?: number;
  /** Concurrent ADS streams (default 10,000); more are answered RESOURCE_EXHAUSTED. */
  maxStreams?: number;
  /** HTTP/2 keepalive ping interval and timeout (defaults 30 s and 10 s). */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** Sent as control_plane.identifier in every response. */
  controlPlaneId?: string;
  now?: () => Date;
  /** Requests of non-xDS types (see StreamContext.onOtherRequest). */
  onOtherRequest?: StreamContext['onOtherRequest'];
  /**
   * A push is evaluated and written in slices of at most this many ms, each on its own turn of the event loop
   * (evaluation-queue.ts; default 50). 0 evaluates every stream at once, inside the provider's delivery.
   */
  pushSliceMs?: number;
}

export interface XdsListenOptions {
  port: number;
  host?: string;
  credentials?: ServerCredentials;
}

/**
 * The option, else SHOAL_XDS_PUSH_SLICE_MS (for benchmarks), else 50 ms. Measured at 2,000 proxies (docs/xds.md):
 * short slices let the ACKs of the first streams in before the last streams are written, which delays the last
 * response; a slice long enough for an endpoint push to finish in one or two keeps the event loop from being held
 * by a long push (a full CDS to thousands of streams) without that cost.
 */
function pushSliceMs(options: XdsServerOptions): number {
  const fromEnv = Number(process.env.SHOAL_XDS_PUSH_SLICE_MS);
  return options.pushSliceMs ?? (process.env.SHOAL_XDS_PUSH_SLICE_MS && fromEnv >= 0 ? fromEnv : 50);
}

const NOOP_LOGGER: XdsLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class XdsServer {
  private readonly options: XdsServerOptions;
  private readonly ctx: StreamContext;
  private readonly streams = new Map<number, AdsStream>();
  private server?: Server;
  private nextId = 0;
  private stopping = false;

  constructor(options: XdsServerOptions) {
    this.options = options;
    this.ctx = {
      provider: options.provider,
      logger: options.logger ?? NOOP_LOGGER,
      maxNamesPerType: options.maxNamesPerType ?? 10_000,
      controlPlaneId: options.controlPlaneId,
      now: options.now ?? (() => new Date()),
      onClose: (stream) => {
        this.streams.delete(stream.id);
      },
      ...(options.onOtherRequest ? { onOtherRequest: options.onOtherRequest } : {}),
      ...(pushSliceMs(options) === 0 ? {} : { queue: new EvaluationQueue({ sliceMs: pushSliceMs(options) }) }),
    };
  }

  /** Adds the ADS service to a grpc-js server (e.g. one that also serves certificate signing). */
  addTo(server: Server): void {
    const ads = adsServiceDefinition();
    const service: AdsServiceDefinition = {
      StreamAggregatedResources: { ...ads.StreamAggregatedResources },
      DeltaAggregatedResources: { ...ads.DeltaAggregatedResources },
    };
    // grpc-js ends a call whose request cannot be parsed (INTERNAL) without telling the handler: log it here.
    service.StreamAggregatedResources.requestDeserialize = this.logged(
      ads.StreamAggregatedResources.requestDeserialize,
    );
    service.DeltaAggregatedResources.requestDeserialize = this.logged(ads.DeltaAggregatedResources.requestDeserialize);
    server.addService(service, {
      StreamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
        this.accept(call, (id) => new SotwStream(id, call, this.ctx));
      },
      DeltaAggregatedResources: (call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => {
        this.accept(call, (id) => new DeltaStream(id, call, this.ctx));
      },
    });
  }

  /** Starts a server of its own; resolves with the bound port (useful with port 0). */
  async start(listen: XdsListenOptions): Promise<number> {
    if (this.server !== undefined) throw new Error('xDS server already started');
    const server = new Server({
      'grpc.max_receive_message_length': this.options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
      'grpc.keepalive_time_ms': this.options.keepaliveTimeMs ?? 30_000,
      'grpc.keepalive_timeout_ms': this.options.keepaliveTimeoutMs ?? 10_000,
    });
    this.addTo(server);
    const host = listen.host ?? '0.0.0.0';
    const address = host.includes(':') ? `[${host}]:${listen.port}` : `${host}:${listen.port}`;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, listen.credentials ?? ServerCredentials.createInsecure(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
    this.server = server;
    this.stopping = false;
    this.ctx.logger.info({ address: host, port }, 'xDS server listening');
    return port;
  }

  /**
   * Ends every stream (status OK: clients reconnect, perhaps to another replica) and shuts the server down, waiting
   * at most `graceMs` for calls to finish before forcing it.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    for (const stream of [...this.streams.values()]) stream.shutdown();
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Every open stream's node, subscriptions and sync status (for /debug/syncz and `shoal proxy-status`). */
  connections(): ConnectionStatus[] {
    return [...this.streams.values()].map((stream) => stream.status());
  }

  private logged<T>(deserialize: (bytes: Buffer) => T): (bytes: Buffer) => T {
    return (bytes) => {
      try {
        return deserialize(bytes);
      } catch (error) {
        this.ctx.logger.warn({ bytes: bytes.length, error: errorMessage(error) }, 'xDS request could not be decoded');
        throw error;
      }
    };
  }

  private accept<Req, Res>(call: ServerDuplexStream<Req, Res>, make: (id: number) => AdsStream): void {
    const maxStreams = this.options.maxStreams ?? 10_000;
    if (this.stopping || this.streams.size >= maxStreams) {
      const code = this.stopping ? GrpcStatus.UNAVAILABLE : GrpcStatus.RESOURCE_EXHAUSTED;
      const details = this.stopping ? 'xDS server is shutting down' : `more than ${maxStreams} xDS streams`;
      if (!this.stopping) this.ctx.logger.warn({ peer: call.getPeer(), maxStreams }, `xDS stream refused: ${details}`);
      call.emit('error', Object.assign(new Error(details), { code, details }));
      return;
    }
    const stream = make(++this.nextId);
    this.streams.set(stream.id, stream);
    stream.start();
  }
}
