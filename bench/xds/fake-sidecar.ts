/**
 * One fake sidecar: a real ADS (state-of-the-world) stream over its own HTTP/2 connection, behaving as Envoy does.
 * The gRPC call is made directly on node:http2 (raw-call.ts), so that repeating a 1,000-name subscription in every
 * ACK costs the generator no copies.
 *
 * - Subscribes to Clusters and Listeners by wildcard, then to the ClusterLoadAssignment of every EDS cluster it
 *   receives and to every RouteConfiguration its listeners reference; every request repeats the type's whole
 *   subscription, with the latest version_info and nonce.
 * - ACKs every response; keeps, per ClusterLoadAssignment, the version_info of the response that last carried it.
 * - Is "synced" once CDS and LDS are ACKed and every subscribed assignment and route configuration has arrived.
 *
 * Node: id `sidecar~<ip>~pod-<k>.<ns>~<ns>.svc.cluster.local`, metadata NAMESPACE, LABELS {app: load},
 * SERVICE_ACCOUNT, INSTANCE_IPS, and deliberately no WORKLOAD_NAME: the control plane auto-registers a sidecar as a
 * WorkloadEntry only when its node names its workload (src/control/auto-registration.ts, entryFor), and 2,000 fake
 * proxies must not add 2,000 endpoints to the mesh they measure.
 */
import { adsServiceDefinition, type DiscoveryResponse, type NodeMessage } from '../../src/control/xds/ads-service.js';
import type { AnyMessage } from '../../src/control/xds/protos.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
} from '../../src/control/xds/resource-types.js';
import { toStruct, type JsonObject } from '../../src/control/xds/well-known.js';
import { RawGrpcCall, type CallStatus } from './raw-call.js';
import { assignmentName, edsNameOf, internNames, requestParts, resourceNameOf, routeNamesOf } from './wire.js';

export interface SidecarHooks {
  synced(sidecar: FakeSidecar): void;
  /** An assignment arrived; returns what to call once its ACK is written (or undefined). */
  assignment(sidecar: FakeSidecar, name: string, resource: AnyMessage): (() => void) | undefined;
  ended(sidecar: FakeSidecar, status: CallStatus): void;
  /** Every resource of every response (the capturing stream keeps them). */
  received?(typeUrl: string, name: string, resource: AnyMessage): void;
}

interface Subscription {
  version: string;
  nonce: string;
  names: string[];
}

export function sidecarNode(index: number, namespace: string, appPort?: number): NodeMessage {
  const ip = `127.4.${Math.floor(index / 250)}.${(index % 250) + 1}`;
  const metadata: JsonObject = {
    NAMESPACE: namespace,
    LABELS: { app: 'load' },
    SERVICE_ACCOUNT: 'load',
    INSTANCE_IPS: ip,
  };
  if (appPort !== undefined) metadata.SHOAL_APP_PORT = appPort;
  return {
    id: `sidecar~${ip}~pod-${index}.${namespace}~${namespace}.svc.cluster.local`,
    cluster: 'load',
    metadata: toStruct(metadata),
    locality: null,
    user_agent_name: 'shoal-bench-sidecar',
    client_features: [],
  };
}

export class FakeSidecar {
  private readonly call: RawGrpcCall;
  private readonly subs = new Map<string, Subscription>();
  private readonly received = { eds: new Map<string, string>(), rds: new Set<string>() };
  private acked = { cds: false, lds: false };
  isSynced = false;
  bytes = 0;
  listeners = 0;

  constructor(
    readonly index: number,
    target: string,
    node: NodeMessage,
    private readonly hooks: SidecarHooks,
  ) {
    // Its own HTTP/2 connection, as every Envoy has its own.
    const method = adsServiceDefinition().StreamAggregatedResources;
    this.call = new RawGrpcCall(target, method.path, {
      message: (bytes) => {
        this.bytes += bytes.length;
        this.onResponse(method.responseDeserialize(bytes));
      },
      status: (status) => this.hooks.ended(this, status),
    });
    for (const typeUrl of [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL]) {
      this.subs.set(typeUrl, { version: '', nonce: '', names: [] });
    }
    this.request(CLUSTER_TYPE_URL, node);
    this.request(LISTENER_TYPE_URL);
  }

  /** version_info of the response that last carried each ClusterLoadAssignment. */
  get assignmentVersions(): ReadonlyMap<string, string> {
    return this.received.eds;
  }

  get edsNames(): readonly string[] {
    return this.subs.get(ENDPOINT_TYPE_URL)!.names;
  }

  get routeNames(): readonly string[] {
    return this.subs.get(ROUTE_TYPE_URL)!.names;
  }

  close(): void {
    this.call.close();
  }

  private request(typeUrl: string, node: NodeMessage | null = null): void {
    const sub = this.subs.get(typeUrl)!;
    this.call.write(
      requestParts({
        version_info: sub.version,
        node,
        resource_names: sub.names,
        type_url: typeUrl,
        response_nonce: sub.nonce,
        error_detail: null,
      }),
    );
  }

  /** Records the response (making the next request its ACK), and subscribes to new names first if they changed. */
  private accept(response: DiscoveryResponse, names?: string[]): void {
    const sub = this.subs.get(response.type_url);
    if (sub === undefined) return;
    if (names !== undefined && names !== sub.names) sub.names = names;
    sub.version = response.version_info;
    sub.nonce = response.nonce;
    this.request(response.type_url);
  }

  private subscribeTo(typeUrl: string, names: string[]): void {
    const sub = this.subs.get(typeUrl)!;
    if (sub.names === names) return;
    sub.names = names;
    this.request(typeUrl); // with the type's latest nonce; if a response is in flight, its ACK repeats the names
  }

  private onResponse(response: DiscoveryResponse): void {
    const { type_url: typeUrl, resources } = response;
    if (this.hooks.received) for (const r of resources) this.hooks.received(typeUrl, resourceNameOf(typeUrl, r), r);
    if (typeUrl === CLUSTER_TYPE_URL) {
      const names: string[] = [];
      for (const r of resources) {
        const name = edsNameOf(r);
        if (name !== undefined) names.push(name);
      }
      this.subscribeTo(ENDPOINT_TYPE_URL, internNames(names));
      this.accept(response);
      this.acked.cds = true;
    } else if (typeUrl === LISTENER_TYPE_URL) {
      const names: string[] = [];
      for (const r of resources) names.push(...routeNamesOf(r));
      this.listeners = resources.length;
      this.subscribeTo(ROUTE_TYPE_URL, internNames(names));
      this.accept(response);
      this.acked.lds = true;
    } else if (typeUrl === ENDPOINT_TYPE_URL) {
      const after: (() => void)[] = [];
      for (const r of resources) {
        const name = assignmentName(r);
        this.received.eds.set(name, response.version_info);
        const then = this.hooks.assignment(this, name, r);
        if (then !== undefined) after.push(then);
      }
      this.accept(response);
      for (const then of after) then();
    } else if (typeUrl === ROUTE_TYPE_URL) {
      for (const r of resources) this.received.rds.add(resourceNameOf(typeUrl, r));
      this.accept(response);
    } else {
      this.accept(response);
    }
    if (!this.isSynced && this.complete()) {
      this.isSynced = true;
      this.hooks.synced(this);
    }
  }

  private complete(): boolean {
    if (!this.acked.cds || !this.acked.lds) return false;
    const eds = this.subs.get(ENDPOINT_TYPE_URL)!.names;
    const rds = this.subs.get(ROUTE_TYPE_URL)!.names;
    return eds.every((n) => this.received.eds.has(n)) && rds.every((n) => this.received.rds.has(n));
  }
}
