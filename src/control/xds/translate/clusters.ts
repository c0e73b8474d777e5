/**
 * Outbound clusters: for each port of a visible service, `outbound|<port>||<hostname>` and one
 * `outbound|<port>|<subset>|<hostname>` per subset of its DestinationRule, plus a sidecar's own
 * `inbound|<appPort>||`.
 *
 * Discovery: EDS over ADS for services (STATIC) and ServiceEntries with STATIC resolution, or NONE with endpoints;
 * STRICT_DNS (resolution DNS) and LOGICAL_DNS (DNS_ROUND_ROBIN) with an inline load_assignment of host names for
 * DNS ServiceEntries (the host itself at the service port when it lists no endpoints). A NONE ServiceEntry without
 * endpoints would need original-destination passthrough, which an explicit proxy cannot do: it gets no cluster.
 * Policies come from cluster-policy.ts and tls.ts.
 */
import type { Subset } from '../../../api/kinds/destination-rule.js';
import type { MeshService, MeshServicePort } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import { duration } from '../well-known.js';
import {
  adsConfigSource,
  clusterName,
  HTTP_PROTOCOL_OPTIONS_TYPE_URL,
  istioMetadata,
  type Warnings,
} from './common.js';
import {
  connectionPoolFields,
  DEFAULT_CONNECT_TIMEOUT_MS,
  loadBalancerFields,
  outlierDetectionFields,
  type PolicyWarn,
} from './cluster-policy.js';
import { portPolicy, type EffectiveRule, type PortPolicy } from './destination-rules.js';
import { endpointsFor, localityGroups, localityLbEndpoints } from './endpoints.js';
import type { ProxyContext, ProxyType } from './proxy.js';
import { tlsFields } from './tls.js';

/** One outbound cluster to build (and, for EDS, its assignment). */
export interface ClusterPlan {
  name: string;
  service: MeshService;
  port: MeshServicePort;
  subset?: Subset;
  rule?: EffectiveRule;
  policy: PortPolicy;
  discovery: 'EDS' | 'STRICT_DNS' | 'LOGICAL_DNS';
}

function discoveryOf(service: MeshService): ClusterPlan['discovery'] | undefined {
  if (service.resolution === 'DNS') return 'STRICT_DNS';
  if (service.resolution === 'DNS_ROUND_ROBIN') return 'LOGICAL_DNS';
  if (service.resolution === 'NONE' && service.kind === 'ServiceEntry' && service.endpoints.length === 0) {
    return undefined;
  }
  return 'EDS';
}

/**
 * Whether a service's clusters, not only its ClusterLoadAssignments, follow its endpoints: a DNS-resolved service
 * carries them in its Cluster, and a resolution-NONE ServiceEntry has a cluster only while it has endpoints
 * (discoveryOf). Every other service's endpoints reach its proxies through EDS alone.
 */
export function clustersDependOnEndpoints(service: MeshService): boolean {
  if (service.resolution === 'DNS' || service.resolution === 'DNS_ROUND_ROBIN') return true;
  return service.resolution === 'NONE' && service.kind === 'ServiceEntry';
}

/** The clusters of one service (UDP ports have none: nothing proxies UDP). */
export function planClusters(service: MeshService, rule: EffectiveRule | undefined, warnings: Warnings): ClusterPlan[] {
  const discovery = discoveryOf(service);
  if (discovery === undefined) {
    warnings.add(
      `${service.kind} ${service.namespace}/${service.name}`,
      '',
      `${service.hostname}: resolution NONE without endpoints needs passthrough to the original destination, which Shoal does not do; no cluster`,
    );
    return [];
  }
  const plans: ClusterPlan[] = [];
  for (const port of service.ports) {
    if (port.protocol === 'UDP') continue;
    const base = { service, port, discovery, ...(rule !== undefined ? { rule } : {}) };
    plans.push({
      ...base,
      name: clusterName('outbound', port.port, '', service.hostname),
      policy: portPolicy(rule, port.port),
    });
    for (const subset of rule?.subsets ?? []) {
      plans.push({
        ...base,
        name: clusterName('outbound', port.port, subset.name, service.hostname),
        subset,
        policy: portPolicy(rule, port.port, subset),
      });
    }
  }
  return plans;
}

function dnsAssignment(plan: ClusterPlan, logical: boolean, warnings: Warnings): ProtoObject {
  const { service, port } = plan;
  const endpoints = endpointsFor(service, port.port, plan.subset?.labels);
  let groups = localityGroups(endpoints, port.port, plan.name, warnings);
  if (endpoints.length === 0 && !service.hostname.startsWith('*')) {
    const self = { socket_address: { address: service.hostname, port_value: port.port } };
    groups = [
      {
        locality: { region: '', zone: '', subZone: '' },
        weight: 1,
        priority: 0,
        endpoints: [{ endpoint: { address: self }, health_status: 'HEALTHY', load_balancing_weight: { value: 1 } }],
      },
    ];
  }
  if (logical && (groups.length > 1 || (groups[0]?.endpoints.length ?? 0) > 1)) {
    warnings.add(`cluster ${plan.name}`, '', 'LOGICAL_DNS takes one host name; only the first endpoint is used');
    groups = groups.slice(0, 1).map((g) => ({ ...g, endpoints: g.endpoints.slice(0, 1) }));
  }
  return { cluster_name: plan.name, endpoints: localityLbEndpoints(groups) };
}

/** Where a policy warning points: the DestinationRule, or the cluster when no rule applies. */
function policyWarn(plan: ClusterPlan, warnings: Warnings): PolicyWarn {
  const where = plan.subset !== undefined ? `subset ${plan.subset.name}, ` : '';
  return (path, message) =>
    warnings.add(plan.rule?.rule ?? `cluster ${plan.name}`, path, `${message} (${where}cluster ${plan.name})`);
}

/** The Cluster for a plan, for a proxy of `type`. */
export function buildCluster(plan: ClusterPlan, type: ProxyType, warnings: Warnings): ProtoObject {
  const grpc = type === 'grpc';
  const warn = policyWarn(plan, warnings);
  const out: ProtoObject = { name: plan.name };
  let discovery = plan.discovery;
  if (grpc && discovery === 'STRICT_DNS') {
    const { kind, namespace, name, hostname } = plan.service;
    warnings.add(`${kind} ${namespace}/${name}`, '', `${hostname}: proxyless gRPC has no STRICT_DNS; LOGICAL_DNS used`);
    discovery = 'LOGICAL_DNS';
  }
  out.type = discovery;
  if (discovery === 'EDS') {
    out.eds_cluster_config = { eds_config: adsConfigSource(), service_name: plan.name };
  } else {
    out.load_assignment = dnsAssignment(plan, discovery === 'LOGICAL_DNS', warnings);
    if (!grpc) out.dns_lookup_family = 'V4_PREFERRED';
  }
  const lb = plan.policy.loadBalancer;
  Object.assign(
    out,
    loadBalancerFields(lb, type, warn),
    connectionPoolFields(plan.policy.connectionPool, plan.port.protocol, type, warn),
    outlierDetectionFields(plan.policy.outlierDetection, type, warn),
    tlsFields(plan.policy.tls, plan.service.hostname, type, warn),
  );
  if (!grpc) {
    // Unhealthy endpoints are sent (marked UNHEALTHY): Envoy's default 50% panic threshold would route to them.
    const common: ProtoObject = {
      healthy_panic_threshold: { value: plan.policy.outlierDetection?.minHealthPercent ?? 0 },
    };
    const distribute = lb?.localityLbSetting?.distribute;
    if (lb?.localityLbSetting?.enabled !== false && distribute !== undefined && distribute.length > 0) {
      common.locality_weighted_lb_config = {};
    }
    out.common_lb_config = common;
  }
  if (plan.rule !== undefined) out.metadata = istioMetadata(plan.rule.rule);
  return out;
}

/**
 * A sidecar's `inbound|<appPort>||`: its own app, at its IP (or 127.0.0.1), spoken to in the protocol the request
 * arrived in (HTTP/2 and gRPC stay HTTP/2), like Istio's inbound clusters for sniffed ports.
 */
export function inboundCluster(proxy: ProxyContext, appPort: number): ProtoObject {
  const name = clusterName('inbound', appPort);
  const address = { socket_address: { address: proxy.ip ?? '127.0.0.1', port_value: appPort } };
  return {
    name,
    type: 'STATIC',
    connect_timeout: duration(DEFAULT_CONNECT_TIMEOUT_MS),
    lb_policy: 'ROUND_ROBIN',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': HTTP_PROTOCOL_OPTIONS_TYPE_URL,
        use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          locality: { region: '', zone: '', sub_zone: '' },
          lb_endpoints: [{ endpoint: { address }, health_status: 'HEALTHY', load_balancing_weight: { value: 1 } }],
          load_balancing_weight: { value: 1 },
        },
      ],
    },
  };
}
