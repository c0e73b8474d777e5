/**
 * A scripted ADS client for the discovery server's tests: opens a SotW or delta stream with @grpc/grpc-js and the
 * same service definition the server uses, queues responses, and awaits the next one (or asserts there is none).
 */
import { Client, credentials, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import {
  adsServiceDefinition,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type NodeMessage,
} from '../../src/control/xds/ads-service.js';
import type { XdsLogger } from '../../src/control/xds/ads-stream.js';
import { getXdsProtos, type AnyMessage } from '../../src/control/xds/protos.js';
import type { ProtoObject } from '../../src/control/xds/proto-object.js';
import { XdsServer, type XdsServerOptions } from '../../src/control/xds/server.js';
import { SnapshotCache } from '../../src/control/xds/snapshot-cache.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import type { TypeStatus } from '../../src/control/xds/type-tracker.js';
import { toStruct } from '../../src/control/xds/well-known.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export interface TestXdsServer {
  server: XdsServer;
  cache: SnapshotCache;
  port: number;
  logs: LogLine[];
}

/** An XdsServer on 127.0.0.1:0 over a SnapshotCache, logging into an array. */
export async function startXdsServer(options: Partial<XdsServerOptions> = {}): Promise<TestXdsServer> {
  const logs: LogLine[] = [];
  const line =
    (level: LogLine['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      logs.push({ level, message, fields });
    };
  const logger: XdsLogger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  const cache = new SnapshotCache();
  const server = new XdsServer({ provider: cache, logger, ...options });
  const port = await server.start({ port: 0, host: '127.0.0.1' });
  return { server, cache, port, logs };
}

/** Polls `condition` until it holds (or throws after `timeoutMs`). */
/** Polls `condition` until it holds (test/helpers/grpc-xds.ts waitUntil, with this suite's defaults). */
export function waitFor(condition: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  return waitUntil(condition, timeoutMs, what);
}

export function testNode(id: string): NodeMessage {
  return {
    id,
    cluster: 'test',
    metadata: toStruct({ NAMESPACE: 'default', LABELS: { app: 'test' }, SERVICE_ACCOUNT: 'test' }),
    locality: null,
    user_agent_name: 'shoal-test',
    client_features: [],
  };
}

export function sotwRequest(fields: Partial<DiscoveryRequest> & { type_url: string }): DiscoveryRequest {
  return { version_info: '', node: null, resource_names: [], response_nonce: '', error_detail: null, ...fields };
}

export function deltaRequest(fields: Partial<DeltaDiscoveryRequest> & { type_url: string }): DeltaDiscoveryRequest {
  return {
    node: null,
    resource_names_subscribe: [],
    resource_names_unsubscribe: [],
    initial_resource_versions: {},
    response_nonce: '',
    error_detail: null,
    ...fields,
  };
}

/** The discovery server's record of one node's stream for one type, if it has one. */
export function typeStatus(server: XdsServer, nodeId: string, typeUrl: string): TypeStatus | undefined {
  return server
    .connections()
    .find((c) => c.nodeId === nodeId)
    ?.types.find((s) => s.typeUrl === typeUrl);
}

/** The `name` (or `cluster_name`) of each Any in a response, decoded. */
export function namesOf(resources: readonly AnyMessage[]): string[] {
  const protos = getXdsProtos();
  return resources.map((any) => {
    const object: ProtoObject = protos.fromAny(any);
    return String(object.name ?? object.cluster_name);
  });
}

export class AdsTestClient<Req, Res> {
  private readonly client: Client;
  private readonly call: ClientDuplexStream<Req, Res>;
  private readonly queue: Res[] = [];
  private waiter?: () => void;
  private status?: StatusObject;
  private readonly ended: Promise<StatusObject>;

  private constructor(port: number, path: string, serialize: (r: Req) => Buffer, deserialize: (b: Buffer) => Res) {
    this.client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(path, serialize, deserialize);
    this.call.on('data', (response: Res) => {
      this.queue.push(response);
      this.waiter?.();
    });
    this.call.on('error', () => {});
    this.ended = new Promise((resolve) => {
      this.call.on('status', (status: StatusObject) => {
        this.status = status;
        this.waiter?.();
        resolve(status);
      });
    });
  }

  static sotw(port: number): AdsTestClient<DiscoveryRequest, DiscoveryResponse> {
    const m = adsServiceDefinition().StreamAggregatedResources;
    return new AdsTestClient(port, m.path, m.requestSerialize, m.responseDeserialize);
  }

  static delta(port: number): AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
    const m = adsServiceDefinition().DeltaAggregatedResources;
    return new AdsTestClient(port, m.path, m.requestSerialize, m.responseDeserialize);
  }

  /** A stream on the SotW method that writes raw bytes, for garbage. */
  static raw(port: number): AdsTestClient<Buffer, Buffer> {
    const path = adsServiceDefinition().StreamAggregatedResources.path;
    return new AdsTestClient<Buffer, Buffer>(
      port,
      path,
      (b) => b,
      (b) => b,
    );
  }

  send(request: Req): void {
    this.call.write(request);
  }

  /** The next response; rejects after `timeoutMs` or if the stream ends first. */
  async next(timeoutMs = 3_000): Promise<Res> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = this.queue.shift();
      if (response !== undefined) return response;
      if (this.status) throw new Error(`stream ended: ${this.status.code} ${this.status.details}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Asserts that no response arrives within `ms`. */
  async expectNone(ms = 200): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.queue.length > 0) throw new Error(`unexpected response: ${JSON.stringify(this.queue[0])}`);
  }

  /** Resolves with the stream's final status. */
  async closed(timeoutMs = 3_000): Promise<StatusObject> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`stream still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Half-closes the stream: the client ends it on purpose (a proxy shutting down gracefully). */
  end(): void {
    this.call.end();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
