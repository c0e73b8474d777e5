/** Resources and checks the sidecar xDS-client integration tests share (SotW, NACK and delta). */
import type { Resource } from '../../src/api/resource.js';
import type { ProtoObject } from '../../src/control/xds/proto-object.js';

/** An EDS Cluster over ADS. */
export function cluster(name: string, extra: ProtoObject = {}): ProtoObject {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {} } },
    connect_timeout: { seconds: 1 },
    ...extra,
  };
}

/** A ClusterLoadAssignment with one endpoint at `ip`:80. */
export function assignment(name: string, ip: string): ProtoObject {
  return {
    cluster_name: name,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ip, port_value: 80 } } } }] }],
  };
}

/** A WorkloadEntry's `Healthy` condition. */
export function healthOf(we: Resource | undefined): { status: string; message?: string } | undefined {
  return (
    we?.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined
  )?.conditions?.find((c) => c.type === 'Healthy');
}
