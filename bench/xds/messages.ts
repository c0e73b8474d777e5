/**
 * The messages between the xDS benchmark's parent process and its children (Node IPC, JSON): the load generator
 * (generator.ts: N fake sidecars on real ADS streams) and the floor server (floor-server.ts: a bare XdsServer over
 * a SnapshotCache). Times are `process.hrtime` milliseconds, a monotonic clock every process on the machine shares,
 * so the parent can subtract a child's timestamps from its own.
 */

/** Monotonic milliseconds, comparable across the processes of one machine. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface GeneratorConfig {
  /** host:port of the ADS server. */
  target: string;
  streams: number;
  /** NAMESPACE of every fake sidecar. */
  namespace: string;
  /** Streams opened together; the next batch opens when this one is synced. */
  batch: number;
  /** Where stream 0 writes the resources it received once synced (the floor server replays them). */
  capturePath?: string;
  /** SHOAL_APP_PORT in the node metadata, as Shoal's own sidecars send it (adds per-proxy inbound resources). */
  appPort?: number;
}

/** "Tell me when every stream has ACKed a ClusterLoadAssignment of `cluster` with (or without) `address`." */
export interface Expectation {
  id: number;
  cluster: string;
  address: string;
  present: boolean;
}

export type ToGenerator = { type: 'expect'; expectations: Expectation[] } | { type: 'stop' };

export interface SyncedReport {
  type: 'synced';
  streams: number;
  /** From the first stream opened to the last one synced. */
  ms: number;
  /** The EDS names stream 0 subscribed to. */
  clusters: string[];
  listeners: number;
  routes: number;
  /** Bytes of response messages received, all streams. */
  bytes: number;
}

export type FromGenerator =
  | { type: 'progress'; opened: number; synced: number }
  | SyncedReport
  | { type: 'armed'; ids: number[] }
  /** Every stream ACKed the expected assignment; `acks` holds each stream's ACK time. */
  | { type: 'delivered'; id: number; acks: number[] }
  | { type: 'failed'; message: string };

export interface FloorConfig {
  /** Resources captured by a generator stream (see GeneratorConfig.capturePath). */
  capturePath: string;
}

/** One endpoint change in the floor: the first endpoint of `cluster` gets `address`. */
export interface FloorChange {
  id: number;
  cluster: string;
  address: string;
}

export type ToFloor = { type: 'prepare'; changes: FloorChange[] } | { type: 'apply'; id: number } | { type: 'stop' };

export type FromFloor =
  | { type: 'listening'; port: number }
  | { type: 'prepared'; ms: number }
  /** `ms`: the synchronous `cache.set` loop over every connected node (the server evaluates and writes inside it). */
  | { type: 'applied'; id: number; nodes: number; ms: number }
  | { type: 'failed'; message: string };

/** The resources one stream received, per type URL, as base64 (the capture file's JSON). */
export type Capture = Record<string, { name: string; value: string }[]>;
