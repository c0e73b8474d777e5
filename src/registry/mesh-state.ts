/**
 * The registry's in-memory index and its incremental rebuild, with no store in sight (registry.ts feeds it
 * watch events). `apply` records a change and marks what it affects; `commit` rebuilds only those services,
 * keeps every unchanged MeshService object as it was (===), and says what changed, or returns undefined when
 * nothing did.
 *
 * A source is a Service or a ServiceEntry (`<kind>/<namespace>/<name>`); it yields MeshServices by hostname.
 * When several sources claim one hostname the oldest (creationTimestamp, then kind and namespace/name) wins,
 * as in Istio, and the collision is logged once.
 */
import type { StoredResource } from '../api/resource.js';
import type { WatchEvent } from '../store/store.js';
import type { MeshChange, MeshConfig, MeshService, MeshView } from './model.js';
import {
  buildService,
  buildServiceEntry,
  serviceEntrySelector,
  serviceSelector,
  type StoredService,
  type StoredServiceEntry,
} from './build.js';
import { sameService, sameShape } from './equality.js';
import { SelectorIndex, WorkloadIndex } from './label-index.js';
import { toWorkload, type StoredWorkloadEntry } from './workloads.js';

export const WATCHED_KINDS = [
  'Service',
  'ServiceEntry',
  'WorkloadEntry',
  'VirtualService',
  'DestinationRule',
  'Gateway',
] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];
type ConfigKind = 'VirtualService' | 'DestinationRule' | 'Gateway';
const CONFIG_FIELDS = { VirtualService: 'virtualServices', DestinationRule: 'destinationRules', Gateway: 'gateways' };

/** What the registry needs of a logger: pino's Logger fits. */
export interface RegistryLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Published {
  view: MeshView;
  change: MeshChange;
}

interface Built {
  uid: string;
  created: number;
  services: readonly MeshService[];
}

export function isWatchedKind(kind: string): kind is WatchedKind {
  return (WATCHED_KINDS as readonly string[]).includes(kind);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function byCreation(a: StoredResource, b: StoredResource): number {
  const ta = Date.parse(a.metadata.creationTimestamp);
  const tb = Date.parse(b.metadata.creationTimestamp);
  if (ta !== tb) return ta - tb;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export class MeshState {
  private readonly objects = new Map(WATCHED_KINDS.map((k) => [k, new Map<string, StoredResource>()] as const));
  private readonly workloads = new WorkloadIndex();
  private readonly selectors = new SelectorIndex();
  private readonly built = new Map<string, Built>();
  private readonly hostSources = new Map<string, Set<string>>();
  private readonly dirtySources = new Set<string>();
  private readonly dirtyConfig = new Set<ConfigKind>();
  /** Hostname -> the collision last logged for it; annotation problems logged, by workload. */
  private readonly collisions = new Map<string, string>();
  private readonly badAnnotations = new Map<string, string>();
  private current: MeshView;

  constructor(
    private readonly domain: string,
    private readonly logger: RegistryLogger,
  ) {
    const config: MeshConfig = Object.freeze({ virtualServices: [], destinationRules: [], gateways: [] });
    this.current = Object.freeze({ version: 0, services: new Map(), config, domain });
  }

  get view(): MeshView {
    return this.current;
  }

  /** How many objects of `kind` are indexed. */
  count(kind: WatchedKind): number {
    return this.objects.get(kind)!.size;
  }

  /** Records one watch event. Events for an object at the resourceVersion already held are ignored. */
  apply(event: WatchEvent): void {
    const obj = event.object;
    if (!isWatchedKind(obj.kind)) return;
    const map = this.objects.get(obj.kind)!;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const prev = map.get(key);
    if (event.type === 'DELETED') {
      if (!prev) return;
      map.delete(key);
    } else {
      if (prev?.metadata.resourceVersion === obj.metadata.resourceVersion) return;
      map.set(key, obj.kind === 'WorkloadEntry' ? obj : deepFreeze(obj));
    }
    const next = event.type === 'DELETED' ? undefined : obj;
    const source = `${obj.kind}/${key}`;
    switch (obj.kind) {
      case 'WorkloadEntry':
        this.workloadChanged(key, next as StoredWorkloadEntry | undefined);
        break;
      case 'Service':
        this.selectors.set(source, obj.metadata.namespace, next && serviceSelector(next as StoredService));
        this.dirtySources.add(source);
        break;
      case 'ServiceEntry':
        this.selectors.set(source, obj.metadata.namespace, next && serviceEntrySelector(next as StoredServiceEntry));
        this.dirtySources.add(source);
        break;
      default:
        this.dirtyConfig.add(obj.kind);
    }
  }

  /** After a relist: make `kind`'s objects exactly `items` (changed ones applied, missing ones deleted). */
  resync(kind: WatchedKind, items: readonly StoredResource[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(`${item.metadata.namespace}/${item.metadata.name}`);
      this.apply({ type: 'MODIFIED', object: item });
    }
    const gone = [...this.objects.get(kind)!].filter(([key]) => !seen.has(key));
    for (const [, obj] of gone) this.apply({ type: 'DELETED', object: obj });
  }

  /** Rebuilds what the applied events touched; the new view and what changed, or undefined if nothing did. */
  commit(force = false): Published | undefined {
    const touched = new Set<string>();
    for (const source of this.dirtySources) this.rebuild(source, touched);
    this.dirtySources.clear();
    const prev = this.current;
    let services: Map<string, MeshService> | undefined;
    const endpointsChanged = new Set<string>();
    let configChanged = force;
    for (const host of touched) {
      const before = prev.services.get(host);
      const after = this.resolve(host);
      if (before === after || (before && after && sameService(before, after))) continue;
      services ??= new Map(prev.services);
      if (after) services.set(host, after);
      else services.delete(host);
      if (!before || !after || !sameShape(before, after)) {
        configChanged = true;
      } else {
        endpointsChanged.add(host);
        // A DNS-resolved service carries its endpoints in its Cluster: CDS must change too.
        if (after.resolution === 'DNS' || after.resolution === 'DNS_ROUND_ROBIN') configChanged = true;
      }
    }
    const config = this.rebuildConfig(prev.config);
    if (config !== prev.config) configChanged = true;
    if (!services && config === prev.config && !force) return undefined;
    const version = prev.version + 1;
    const view: MeshView = Object.freeze({ version, services: services ?? prev.services, config, domain: this.domain });
    this.current = view;
    return { view, change: Object.freeze({ from: prev.version, to: version, endpointsChanged, configChanged }) };
  }

  private workloadChanged(key: string, entry: StoredWorkloadEntry | undefined): void {
    const old = this.workloads.get(key);
    if (old) for (const s of this.selectors.matching(old.namespace, old.labels)) this.dirtySources.add(s);
    if (!entry) {
      this.workloads.remove(key);
      this.badAnnotations.delete(key);
      return;
    }
    const workload = toWorkload(entry);
    if (workload.badInboundPort !== undefined && this.badAnnotations.get(key) !== workload.badInboundPort) {
      this.badAnnotations.set(key, workload.badInboundPort);
      this.logger.warn(
        { workloadEntry: key, value: workload.badInboundPort },
        'ignoring sidecar.shoal.io/inbound-port: not a port number',
      );
    }
    this.workloads.put(workload);
    for (const s of this.selectors.matching(workload.namespace, workload.labels)) this.dirtySources.add(s);
  }

  private rebuild(source: string, touched: Set<string>): void {
    const slash = source.indexOf('/');
    const kind = source.slice(0, slash) as 'Service' | 'ServiceEntry';
    const obj = this.objects.get(kind)!.get(source.slice(slash + 1));
    const prev = this.built.get(source);
    let next: MeshService[] = [];
    if (obj && kind === 'Service') {
      const selector = serviceSelector(obj as StoredService);
      const picked = selector ? this.workloads.select(obj.metadata.namespace, selector) : [];
      next = [buildService(obj as StoredService, picked, this.domain)];
    } else if (obj) {
      const selector = serviceEntrySelector(obj as StoredServiceEntry);
      const picked = selector ? this.workloads.select(obj.metadata.namespace, selector) : [];
      next = buildServiceEntry(obj as StoredServiceEntry, picked);
    }
    const sameObject = prev !== undefined && obj !== undefined && prev.uid === obj.metadata.uid;
    const prevByHost = new Map((prev?.services ?? []).map((s) => [s.hostname, s]));
    next = next.map((s) => {
      const p = prevByHost.get(s.hostname);
      return p && sameService(p, s) ? p : s;
    });
    const nextHosts = new Set(next.map((s) => s.hostname));
    for (const p of prev?.services ?? []) {
      if (nextHosts.has(p.hostname)) continue;
      touched.add(p.hostname);
      const set = this.hostSources.get(p.hostname);
      set?.delete(source);
      if (set?.size === 0) this.hostSources.delete(p.hostname);
    }
    for (const s of next) {
      // A recreated object (new uid) may have a new creationTimestamp: the collision winner may change.
      if (!sameObject || prevByHost.get(s.hostname) !== s) touched.add(s.hostname);
      let set = this.hostSources.get(s.hostname);
      if (!set) this.hostSources.set(s.hostname, (set = new Set()));
      set.add(source);
    }
    if (obj && next.length > 0) {
      const created = Date.parse(obj.metadata.creationTimestamp);
      this.built.set(source, { uid: obj.metadata.uid, created, services: next });
    } else {
      this.built.delete(source);
    }
  }

  /** The service that owns `host`: the only source's, or the oldest source's when several claim it. */
  private resolve(host: string): MeshService | undefined {
    const sources = [...(this.hostSources.get(host) ?? [])];
    if (sources.length === 0) {
      this.collisions.delete(host);
      return undefined;
    }
    if (sources.length > 1) {
      sources.sort((a, b) => this.built.get(a)!.created - this.built.get(b)!.created || (a < b ? -1 : a > b ? 1 : 0));
      const signature = sources.join(' ');
      if (this.collisions.get(host) !== signature) {
        this.collisions.set(host, signature);
        this.logger.warn(
          { hostname: host, winner: sources[0], ignored: sources.slice(1) },
          'hostname defined more than once: the oldest definition wins',
        );
      }
    } else {
      this.collisions.delete(host);
    }
    return this.built.get(sources[0]!)!.services.find((s) => s.hostname === host);
  }

  private rebuildConfig(prev: MeshConfig): MeshConfig {
    if (this.dirtyConfig.size === 0) return prev;
    let next: MeshConfig | undefined;
    for (const kind of this.dirtyConfig) {
      const field = CONFIG_FIELDS[kind] as keyof MeshConfig;
      const sorted = [...this.objects.get(kind)!.values()].sort(byCreation);
      const old = prev[field] as readonly StoredResource[];
      if (sorted.length === old.length && sorted.every((o, i) => o === old[i])) continue;
      next ??= { ...prev };
      (next as unknown as Record<string, readonly StoredResource[]>)[field] = Object.freeze(sorted);
    }
    this.dirtyConfig.clear();
    return next ? Object.freeze(next) : prev;
  }
}
