/**
 * The push engine: turns the registry's MeshView into one snapshot per connected proxy and pushes on change.
 *
 * - Changes are debounced (100 ms quiet, at most 1 s after the first change of a burst: Istio's defaults).
 * - What does not depend on the individual proxy (outbound clusters, endpoints, routes, gRPC listeners) is translated
 *   and encoded once per (namespace, proxy type) and shared by every proxy of that kind; each proxy adds only its
 *   own inbound resources. Sets are hashed once and composed per proxy by reference.
 * - Encoding reuses the bytes of every resource whose content did not change, so an endpoint-only change re-encodes
 *   only the changed ClusterLoadAssignments, and the server (which compares per-resource versions) sends EDS only,
 *   and only to the proxies subscribed to those clusters.
 */
import { Debouncer, realTimers, type Timers } from '../../core/debounce.js';
import { errorMessage } from '../../core/errors.js';
import type { MeshChange, MeshView } from '../../registry/model.js';
import type { StreamEnd, XdsLogger } from './ads-stream.js';
import { EncodingCache } from './encoding-cache.js';
import type { ProtoObject } from './proto-object.js';
import type { XdsNode } from './node.js';
import { XDS_RESOURCE_TYPES, type XdsTypeUrl } from './resource-types.js';
import type { SnapshotListener, SnapshotProvider } from './snapshot-cache.js';
import { mergeTypeResources, Snapshot, type TypeResources } from './snapshot.js';
import { proxyContextOf, type ProxyContext } from './translate/proxy.js';
import {
  onlyEndpointsChange,
  ownDependsOnView,
  proxyOwn,
  sharedOutbound,
  type TranslationResult,
} from './translate/index.js';

export interface MeshSource {
  view(): MeshView;
  subscribe(listener: (view: MeshView, change: MeshChange) => void): () => void;
}

export interface MeshProviderOptions {
  registry: MeshSource;
  logger: XdsLogger;
  debounceQuietMs?: number;
  debounceMaxMs?: number;
  timers?: Timers;
  /** A proxy's first stream opened / its last stream ended (auto-registration listens here). */
  onConnect?: (node: XdsNode, proxy: ProxyContext) => void;
  onDisconnect?: (node: XdsNode, proxy: ProxyContext, end: StreamEnd) => void;
}

type TypeSets = Partial<Record<XdsTypeUrl, TypeResources>>;

interface EncodedPart {
  sets: TypeSets;
  warnings: readonly string[];
}

/** What every proxy of a (namespace, proxy type) shares, at one view version, in the two parts translated apart. */
interface SharedEntry {
  version: number;
  /** Everything but the ClusterLoadAssignments. */
  config: EncodedPart;
  endpoints: EncodedPart;
  sets: TypeSets;
  warnings: string[];
}

interface ProxyEntry {
  node: XdsNode;
  proxy: ProxyContext;
  listeners: Set<SnapshotListener>;
  snapshot?: Snapshot;
  /** Per type: the shared and own sets the merged set was made of, to skip re-merging. */
  merged: Map<XdsTypeUrl, { shared?: TypeResources; own?: TypeResources; set: TypeResources }>;
  /** The proxy's own sets as last translated, kept while they depend on the proxy alone (ownDependsOnView). */
  own?: { sets: TypeSets; warnings: string[] };
  warnings: string[];
}

export interface PushStats {
  pushes: number;
  lastPushMs: number;
  lastPushProxies: number;
  lastViewVersion: number;
}

export class MeshSnapshotProvider implements SnapshotProvider {
  private readonly proxies = new Map<string, ProxyEntry>();
  private readonly shared = new Map<string, SharedEntry>();
  /**
   * The latest view version reached by a change that could alter more than ClusterLoadAssignments; a shared entry
   * translated at this version or later keeps its other types on an endpoint-only push.
   */
  private lastConfigChange = -1;
  private readonly encoder = new EncodingCache();
  private readonly debouncer: Debouncer;
  private readonly unsubscribe: () => void;
  readonly stats: PushStats = { pushes: 0, lastPushMs: 0, lastPushProxies: 0, lastViewVersion: 0 };

  constructor(private readonly opts: MeshProviderOptions) {
    const timers = opts.timers ?? realTimers;
    this.debouncer = new Debouncer(() => this.push(), opts.debounceQuietMs ?? 100, opts.debounceMaxMs ?? 1000, timers);
    this.unsubscribe = opts.registry.subscribe((view, change) => {
      if (change.configChanged || !onlyEndpointsChange(view, change.endpointsChanged)) {
        this.lastConfigChange = change.to;
      }
      this.debouncer.trigger();
    });
  }

  watch(node: XdsNode, deliver: SnapshotListener): (end: StreamEnd) => void {
    let entry = this.proxies.get(node.id);
    const first = entry === undefined;
    if (entry === undefined) {
      entry = { node, proxy: proxyContextOf(node), listeners: new Set(), merged: new Map(), warnings: [] };
      this.proxies.set(node.id, entry);
    }
    entry.listeners.add(deliver);
    if (first) this.opts.onConnect?.(node, entry.proxy);
    entry.snapshot ??= this.build(entry, this.opts.registry.view());
    deliver(entry.snapshot);
    const own = entry;
    let done = false;
    return (end: StreamEnd) => {
      if (done) return;
      done = true;
      own.listeners.delete(deliver);
      if (own.listeners.size === 0) {
        this.proxies.delete(node.id);
        for (const { typeUrl } of XDS_RESOURCE_TYPES) this.encoder.forgetSet(`proxy/${node.id}/${typeUrl}`);
        this.opts.onDisconnect?.(own.node, own.proxy, end);
      }
    };
  }

  /** The snapshot last built for a proxy (for /debug/config_dump and proxy-config). */
  snapshotOf(nodeId: string): Snapshot | undefined {
    return this.proxies.get(nodeId)?.snapshot;
  }

  /** Translation warnings for a proxy (fields that could not be rendered faithfully). */
  warningsOf(nodeId: string): readonly string[] {
    return this.proxies.get(nodeId)?.warnings ?? [];
  }

  /** Pushes now if changes are pending (tests, shutdown). */
  flush(): void {
    this.debouncer.flush();
  }

  stop(): void {
    this.debouncer.cancel();
    this.unsubscribe();
  }

  private push(): void {
    const started = performance.now();
    const view = this.opts.registry.view();
    this.encoder.begin();
    let pushed = 0;
    for (const entry of this.proxies.values()) {
      try {
        const next = this.build(entry, view);
        if (next === entry.snapshot) continue;
        entry.snapshot = next;
        pushed++;
        for (const deliver of [...entry.listeners]) deliver(next);
      } catch (err) {
        this.opts.logger.error(
          { nodeId: entry.node.id, error: errorMessage(err) },
          'could not build the proxy snapshot',
        );
      }
    }
    this.encoder.sweep();
    for (const [key, s] of this.shared) if (s.version !== view.version) this.shared.delete(key);
    this.stats.pushes++;
    this.stats.lastPushMs = performance.now() - started;
    this.stats.lastPushProxies = pushed;
    this.stats.lastViewVersion = view.version;
    this.opts.logger.debug({ version: view.version, proxies: pushed, ms: this.stats.lastPushMs }, 'xDS push');
  }

  private build(entry: ProxyEntry, view: MeshView): Snapshot {
    const shared = this.sharedSets(view, entry.proxy);
    const own = this.ownSets(entry, view);
    entry.warnings = [...shared.warnings, ...own.warnings];
    const types: TypeSets = {};
    let changed = entry.snapshot === undefined;
    for (const { typeUrl } of XDS_RESOURCE_TYPES) {
      const s = shared.sets[typeUrl];
      const o = own.sets[typeUrl];
      const previous = entry.merged.get(typeUrl);
      let set: TypeResources | undefined;
      if (previous !== undefined && previous.shared === s && previous.own === o) set = previous.set;
      else if (s !== undefined || o !== undefined) {
        set = s && o ? mergeTypeResources([s, o]) : (s ?? o)!;
        entry.merged.set(typeUrl, { shared: s, own: o, set });
        changed = true;
      } else if (previous !== undefined) {
        entry.merged.delete(typeUrl);
        changed = true;
      }
      if (set !== undefined) types[typeUrl] = set;
    }
    return changed || entry.snapshot === undefined ? Snapshot.compose(types) : entry.snapshot;
  }

  /**
   * The proxy's own resources, encoded. When they depend on the proxy alone they are translated once and kept, so a
   * push to thousands of sidecars does not translate, serialize and compare each one's listeners again.
   */
  private ownSets(entry: ProxyEntry, view: MeshView): { sets: TypeSets; warnings: string[] } {
    const dependsOnView = ownDependsOnView(view, entry.proxy);
    if (entry.own !== undefined && !dependsOnView) return entry.own;
    const own = proxyOwn(view, entry.proxy);
    const sets: TypeSets = {};
    for (const { typeUrl } of XDS_RESOURCE_TYPES) {
      const objects = own.resources[typeUrl];
      if (objects && objects.length > 0) {
        sets[typeUrl] = this.encoder.set(`proxy/${entry.node.id}/${typeUrl}`, typeUrl, objects);
      }
    }
    const result = { sets, warnings: own.warnings };
    if (dependsOnView) delete entry.own;
    else entry.own = result;
    return result;
  }

  /**
   * The sets shared by a (namespace, proxy type), translated once per view version. When every change since the
   * cached version altered endpoints only, just the ClusterLoadAssignments are translated and encoded again: the
   * other types (a thousand clusters, a route configuration with a thousand virtual hosts) are kept as they are.
   */
  private sharedSets(view: MeshView, proxy: ProxyContext): SharedEntry {
    const key = `${proxy.namespace}/${proxy.type}`;
    const cached = this.shared.get(key);
    if (cached !== undefined && cached.version === view.version) return cached;
    let config: EncodedPart;
    if (cached !== undefined && cached.version >= this.lastConfigChange) {
      config = cached.config;
      for (const typeUrl of Object.keys(config.sets)) this.encoder.keep(`shared/${key}/${typeUrl}`);
    } else {
      config = this.encodePart(key, sharedOutbound(view, proxy.namespace, proxy.type, 'config'));
    }
    const endpoints = this.encodePart(key, sharedOutbound(view, proxy.namespace, proxy.type, 'endpoints'));
    const entry: SharedEntry = {
      version: view.version,
      config,
      endpoints,
      sets: { ...config.sets, ...endpoints.sets },
      warnings: [...config.warnings, ...endpoints.warnings],
    };
    this.shared.set(key, entry);
    return entry;
  }

  private encodePart(key: string, result: TranslationResult): EncodedPart {
    const sets: TypeSets = {};
    for (const [typeUrl, objects] of Object.entries(result.resources) as [XdsTypeUrl, readonly ProtoObject[]][]) {
      sets[typeUrl] = this.encoder.set(`shared/${key}/${typeUrl}`, typeUrl, objects);
    }
    return { sets, warnings: result.warnings };
  }
}
