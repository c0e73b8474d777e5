/**
 * Where the discovery server gets snapshots from.
 *
 * `SnapshotProvider` is the whole contract between the server and whatever computes configuration: when a stream
 * has identified its node, the server calls `watch(node, deliver)`; the provider calls `deliver` with the node's
 * snapshot whenever it has one (possibly synchronously, inside `watch`) and again on every change, until the server
 * calls the returned `cancel` (the stream ended). The server compares per-resource versions, so delivering an equal
 * snapshot costs a comparison and sends nothing.
 *
 * `SnapshotCache` is the provider a translation layer feeds: `set(nodeId, snapshot)` / `delete(nodeId)`, keyed by
 * node id (like go-control-plane's cache). Its `onWatch`/`onUnwatch` hooks tell the translation layer which nodes are
 * connected (with their metadata), so it can compute snapshots for those only, lazily on first connection.
 */
import type { XdsNode } from './node.js';
import type { Snapshot } from './snapshot.js';
import type { StreamEnd } from './ads-stream.js';

export type SnapshotListener = (snapshot: Snapshot) => void;

export interface SnapshotProvider {
  /** The returned function ends the watch; `end.graceful` says the client closed its stream on purpose. */
  watch(node: XdsNode, deliver: SnapshotListener): (end: StreamEnd) => void;
}

export interface SnapshotCacheOptions {
  /** A node's first stream opened (compute its snapshot now if not yet done). */
  onWatch?: (node: XdsNode) => void;
  /** A node's last stream closed. */
  onUnwatch?: (node: XdsNode) => void;
  /** A listener threw; the cache goes on delivering to the others. */
  onListenerError?: (nodeId: string, error: unknown) => void;
}

interface NodeEntry {
  snapshot?: Snapshot;
  node?: XdsNode;
  readonly listeners: Set<SnapshotListener>;
}

export class SnapshotCache implements SnapshotProvider {
  private readonly entries = new Map<string, NodeEntry>();
  private readonly options: SnapshotCacheOptions;

  constructor(options: SnapshotCacheOptions = {}) {
    this.options = options;
  }

  watch(node: XdsNode, deliver: SnapshotListener): () => void {
    const entry = this.entry(node.id);
    const first = entry.listeners.size === 0;
    entry.node = node;
    entry.listeners.add(deliver);
    if (first) this.options.onWatch?.(node);
    if (entry.snapshot !== undefined) this.deliver(node.id, deliver, entry.snapshot);
    let cancelled = false;
    return () => {
      if (cancelled) return;
      cancelled = true;
      entry.listeners.delete(deliver);
      if (entry.listeners.size === 0) {
        if (entry.snapshot === undefined) this.entries.delete(node.id);
        this.options.onUnwatch?.(node);
      }
    };
  }

  /** Stores the node's snapshot and delivers it to the node's open streams. */
  set(nodeId: string, snapshot: Snapshot): void {
    const entry = this.entry(nodeId);
    if (entry.snapshot === snapshot) return;
    entry.snapshot = snapshot;
    for (const listener of [...entry.listeners]) this.deliver(nodeId, listener, snapshot);
  }

  get(nodeId: string): Snapshot | undefined {
    return this.entries.get(nodeId)?.snapshot;
  }

  /** Forgets a node's snapshot; open streams keep what they have until a new one is set. */
  delete(nodeId: string): void {
    const entry = this.entries.get(nodeId);
    if (entry === undefined) return;
    delete entry.snapshot;
    if (entry.listeners.size === 0) this.entries.delete(nodeId);
  }

  /** Nodes with at least one open stream (as their latest stream identified them). */
  connectedNodes(): XdsNode[] {
    const nodes: XdsNode[] = [];
    for (const entry of this.entries.values()) {
      if (entry.listeners.size > 0 && entry.node !== undefined) nodes.push(entry.node);
    }
    return nodes;
  }

  /** Node ids that have a snapshot. */
  nodeIds(): string[] {
    return [...this.entries].filter(([, e]) => e.snapshot !== undefined).map(([id]) => id);
  }

  private entry(nodeId: string): NodeEntry {
    let entry = this.entries.get(nodeId);
    if (entry === undefined) {
      entry = { listeners: new Set() };
      this.entries.set(nodeId, entry);
    }
    return entry;
  }

  private deliver(nodeId: string, listener: SnapshotListener, snapshot: Snapshot): void {
    try {
      listener(snapshot);
    } catch (error) {
      this.options.onListenerError?.(nodeId, error);
    }
  }
}
