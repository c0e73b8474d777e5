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
