/**
 * One StreamAggregatedResources (state of the world) or DeltaAggregatedResources (incremental) call to one
 * control-plane address, on a channel of its own: every attempt gets a fresh channel, so the reconnect timing is the
 * client's backoff alone (a reused grpc-js channel would add its own reconnect backoff, up to two minutes, after the
 * control plane comes back). Both use the service definition the control plane serves (ads-service.ts).
 *
 * The node goes on the first request only (the server reads it there, as gRPC clients send it). Writes after the
 * call ended are dropped. `halfClose()` ends the client's side (the control plane treats that as a graceful
 * shutdown and deregisters the workload at once); `cancel()` abandons the call.
 */
import {
  Client,
  credentials as grpcCredentials,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientDuplexStream,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  adsServiceDefinition,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type NodeMessage,
} from '../../control/xds/ads-service.js';

/** `sotw`: StreamAggregatedResources; `delta`: DeltaAggregatedResources. */
export type AdsProtocol = 'sotw' | 'delta';

export type AdsRequestOut = Omit<DiscoveryRequest, 'node'> | Omit<DeltaDiscoveryRequest, 'node'>;

export interface AdsCallHandlers {
  /** A DiscoveryResponse on a `sotw` call, a DeltaDiscoveryResponse on a `delta` call. */
  onResponse(call: AdsCall, response: DiscoveryResponse | DeltaDiscoveryResponse): void;
  /** Exactly once, when the call is over (any status, including OK after a graceful close). */
  onEnd(call: AdsCall, status: StatusObject): void;
}

export interface AdsCallOptions {
  address: string;
  node: NodeMessage;
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
  /** Default `sotw`. */
  protocol?: AdsProtocol;
}

/** Keepalive so a control plane that vanished without closing the connection is noticed. */
const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

export class AdsCall {
  readonly address: string;
  readonly protocol: AdsProtocol;
  readonly startedAt = Date.now();
  /** Responses received on this call. */
  responses = 0;
  private done = false;
  private nodeSent = false;
  private readonly node: NodeMessage;
  private readonly client: Client;
  private readonly call: ClientDuplexStream<
    DiscoveryRequest | DeltaDiscoveryRequest,
    DiscoveryResponse | DeltaDiscoveryResponse
  >;

  constructor(options: AdsCallOptions, handlers: AdsCallHandlers) {
    this.address = options.address;
    this.node = options.node;
    this.protocol = options.protocol ?? 'sotw';
    this.client = new Client(options.address, options.credentials ?? grpcCredentials.createInsecure(), {
      ...DEFAULT_CHANNEL_OPTIONS,
      ...options.channelOptions,
    });
    const definition = adsServiceDefinition();
    if (this.protocol === 'delta') {
      const method = definition.DeltaAggregatedResources;
      this.call = this.client.makeBidiStreamRequest(
        method.path,
        method.requestSerialize as (value: DiscoveryRequest | DeltaDiscoveryRequest) => Buffer,
        method.responseDeserialize,
      );
    } else {
      const method = definition.StreamAggregatedResources;
      this.call = this.client.makeBidiStreamRequest(
        method.path,
        method.requestSerialize as (value: DiscoveryRequest | DeltaDiscoveryRequest) => Buffer,
        method.responseDeserialize,
      );
    }
    this.call.on('data', (response: DiscoveryResponse | DeltaDiscoveryResponse) => {
      if (this.done) return;
      this.responses++;
      handlers.onResponse(this, response);
    });
    this.call.on('error', () => {}); // the status event carries the outcome
    this.call.on('status', (status: StatusObject) => {
      if (this.done) return;
      this.done = true;
      this.client.close();
      handlers.onEnd(this, status);
    });
  }

  get ended(): boolean {
    return this.done;
  }

  /** Writes a request (with the node if it is the call's first); false once the call is over. */
  send(request: AdsRequestOut): boolean {
    if (this.done || this.call.writableEnded) return false;
    const node = this.nodeSent ? null : this.node;
    this.nodeSent = true;
    this.call.write({ ...request, node });
    return true;
  }

  halfClose(): void {
    if (!this.done && !this.call.writableEnded) this.call.end();
  }

  cancel(): void {
    if (!this.done) this.call.cancel();
  }
}
