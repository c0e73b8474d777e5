/**
 * Admission plugins: server-side defaulting that runs after validation and before the store write, per kind.
 * The one Shoal has today allocates Service virtual IPs, as Kubernetes' API server allocates ClusterIPs.
 */
import type { Resource, StoredResource } from '../../api/resource.js';
import { ShoalError } from '../../core/errors.js';
import type { VipAllocator } from '../../registry/vip-allocator.js';
import type { Store } from '../../store/store.js';

export interface AdmissionPlugin {
  /** Before a create; may change `obj`. */
  beforeCreate?(obj: Resource): void;
  /** A create did not happen after all (e.g. AlreadyExists): undo what beforeCreate reserved. */
  createFailed?(obj: Resource): void;
  /** Before a replace; may change `obj` (e.g. keep server-set fields the client left out). */
  beforeUpdate?(obj: Resource, current: StoredResource): void;
  afterDelete?(obj: StoredResource): void;
}

interface ServiceSpecish {
  clusterIP?: string;
}

/**
 * `spec.clusterIP` of a Service: allocated from the service CIDR on create when absent, kept on update when the
 * client leaves it out (a Service keeps its VIP for life), released on delete; `None` means headless (no VIP).
 * An explicit address must be inside the CIDR and free.
 */
export class ServiceVipAdmission implements AdmissionPlugin {
  constructor(private readonly allocator: VipAllocator) {}

  /** Marks the VIPs of stored Services as taken (at startup). */
  static async seeded(allocator: VipAllocator, store: Store): Promise<ServiceVipAdmission> {
    const { items } = await store.list('Service');
    for (const svc of items) {
      const ip = (svc.spec as ServiceSpecish | undefined)?.clusterIP;
      if (ip && ip !== 'None' && allocator.contains(ip)) allocator.reserve(ip);
    }
    return new ServiceVipAdmission(allocator);
  }

  beforeCreate(obj: Resource): void {
    const spec = (obj.spec ??= {}) as ServiceSpecish;
    if (spec.clusterIP === 'None') return;
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      spec.clusterIP = this.allocator.allocate();
      return;
    }
    this.claim(obj, spec.clusterIP);
  }

  createFailed(obj: Resource): void {
    const ip = (obj.spec as ServiceSpecish | undefined)?.clusterIP;
    if (ip && ip !== 'None') this.allocator.release(ip);
  }

  beforeUpdate(obj: Resource, current: StoredResource): void {
    const spec = (obj.spec ??= {}) as ServiceSpecish;
    const was = (current.spec as ServiceSpecish | undefined)?.clusterIP;
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      if (was !== undefined) spec.clusterIP = was;
      return;
    }
    if (spec.clusterIP !== was) {
      throw ShoalError.invalid('Service', obj.metadata.name, [
        { field: 'spec.clusterIP', message: `field is immutable (it is ${was ?? 'unset'})` },
      ]);
    }
  }

  afterDelete(obj: StoredResource): void {
    const ip = (obj.spec as ServiceSpecish | undefined)?.clusterIP;
    if (ip && ip !== 'None' && this.allocator.contains(ip)) this.allocator.release(ip);
  }

  private claim(obj: Resource, ip: string): void {
    if (!this.allocator.contains(ip)) {
      throw ShoalError.invalid('Service', obj.metadata.name, [
        { field: 'spec.clusterIP', message: `${ip} is not in the service CIDR` },
      ]);
    }
    if (!this.allocator.reserve(ip)) {
      throw ShoalError.invalid('Service', obj.metadata.name, [
        { field: 'spec.clusterIP', message: `${ip} is already allocated to another Service` },
      ]);
    }
  }
}

interface ServiceEntryish {
  spec?: { hosts?: string[]; addresses?: string[] };
  status?: { addresses?: { value: string; host: string }[] };
}

/**
 * Istio's address auto-allocation for ServiceEntries: every non-wildcard host of an entry without spec.addresses
 * gets a VIP from the service CIDR, kept in `status.addresses` for the entry's life (updates keep the addresses of
 * hosts that remain; new hosts get new ones; removed hosts give theirs back).
 */
export class ServiceEntryVipAdmission implements AdmissionPlugin {
  constructor(private readonly allocator: VipAllocator) {}

  static async seeded(allocator: VipAllocator, store: Store): Promise<ServiceEntryVipAdmission> {
    const { items } = await store.list('ServiceEntry');
    for (const se of items) {
      for (const a of (se as ServiceEntryish).status?.addresses ?? []) {
        if (allocator.contains(a.value)) allocator.reserve(a.value);
      }
    }
    return new ServiceEntryVipAdmission(allocator);
  }

  beforeCreate(obj: Resource): void {
    this.assign(obj as ServiceEntryish, new Map());
  }

  createFailed(obj: Resource): void {
    for (const a of (obj as ServiceEntryish).status?.addresses ?? []) this.allocator.release(a.value);
  }

  beforeUpdate(obj: Resource, current: StoredResource): void {
    const kept = new Map(((current as ServiceEntryish).status?.addresses ?? []).map((a) => [a.host, a.value]));
    const next = this.assign(obj as ServiceEntryish, kept);
    for (const [host, ip] of kept) if (!next.has(host)) this.allocator.release(ip);
  }

  afterDelete(obj: StoredResource): void {
    for (const a of (obj as ServiceEntryish).status?.addresses ?? []) {
      if (this.allocator.contains(a.value)) this.allocator.release(a.value);
    }
  }

  /** Sets status.addresses from `kept` plus new allocations; returns the host -> address map in force. */
  private assign(se: ServiceEntryish, kept: ReadonlyMap<string, string>): Map<string, string> {
    const out = new Map<string, string>();
    if ((se.spec?.addresses ?? []).length === 0) {
      for (const host of new Set(se.spec?.hosts ?? [])) {
        if (host.includes('*')) continue;
        out.set(host, kept.get(host) ?? this.allocator.allocate());
      }
    }
    const addresses = [...out].map(([host, value]) => ({ value, host }));
    if (addresses.length > 0) se.status = { ...(se.status ?? {}), addresses };
    else if (se.status?.addresses) {
      const { addresses: _dropped, ...rest } = se.status;
      se.status = Object.keys(rest).length > 0 ? rest : undefined;
      if (se.status === undefined) delete se.status;
    }
    return out;
  }
}
