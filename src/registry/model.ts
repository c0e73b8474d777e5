/**
 * The registry's view of the mesh: services with their ports and endpoints, and the routing configuration that
 * applies to them. The registry (src/registry/registry.ts) derives it from the store; translation
 * (src/control/xds/translate/) turns it into Envoy resources. Everything here is immutable once published: a change
 * produces a new MeshView that shares the unchanged parts with the old one.
 */
import type { DestinationRule } from '../api/kinds/destination-rule.js';
import type { Gateway } from '../api/kinds/gateway.js';
import type { VirtualService } from '../api/kinds/virtual-service.js';

/**
 * Istio's protocol names, derived from a port's name prefix / appProtocol like Istio does (http, http2, grpc, tcp, ...);
 * see protocol.ts. UNKNOWN = not declared: Istio would sniff, Shoal treats it as opaque TCP.
 */
export type Protocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP' | 'UNKNOWN';

export interface MeshServicePort {
  /** Port name (may be '' for an unnamed single port). */
  name: string;
  /** The service port clients use: the port in `outbound|<port>|<subset>|<fqdn>`. */
  port: number;
  protocol: Protocol;
}

export interface Locality {
  region: string;
  zone: string;
  subZone: string;
}

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY';

/** One instance behind a service (a WorkloadEntry, a ServiceEntry endpoint). */
export interface MeshEndpoint {
  /** IP literal; a hostname only for ServiceEntry resolution DNS. */
  address: string;
  /** Endpoint port for each service port (keyed by service port number). */
  ports: ReadonlyMap<number, number>;
  /**
   * Sidecar-backed endpoints only (where `ports` point at the peer sidecar's inbound listener): the app's own port
   * for each service port, which a TCP tunnel (CONNECT) through the peer sidecar asks for.
   */
  appPorts?: ReadonlyMap<number, number>;
  labels: Readonly<Record<string, string>>;
  health: HealthStatus;
  locality: Locality;
  /** load_balancing_weight; 1 when unset. */
  weight: number;
  serviceAccount?: string;
  network?: string;
  /**
   * `<namespace>/<name>` of the WorkloadEntry it comes from, or `serviceentry:<ns>/<name>[i]` for the i-th inline
   * endpoint, or `serviceentry:<ns>/<name>[<host>]` for the host itself (DNS resolution without endpoints).
   */
  source: string;
}

export type Resolution = 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'NONE';

export interface MeshService {
  /** `reviews.default.svc.cluster.local`, or a ServiceEntry host such as `api.example.com`. */
  hostname: string;
  /** The Service's or ServiceEntry's own name and namespace. */
  name: string;
  namespace: string;
  kind: 'Service' | 'ServiceEntry';
  /** The virtual IP (ClusterIP analogue); undefined for headless services. */
  vip?: string;
  headless: boolean;
  ports: readonly MeshServicePort[];
  /** Services are STATIC (EDS); ServiceEntries say what they are. */
  resolution: Resolution;
  location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  /** Every matching endpoint, healthy or not (health travels with the endpoint). Sorted by address for stable output. */
  endpoints: readonly MeshEndpoint[];
  /** Namespaces this service is visible to; ['*'] by default; '.' is resolved to the service's own namespace. */
  exportTo: readonly string[];
}

/** The routing configuration in force, by kind, sorted by namespace/name (creation order where Istio needs it). */
export interface MeshConfig {
  virtualServices: readonly VirtualService[];
  destinationRules: readonly DestinationRule[];
  gateways: readonly Gateway[];
}

export interface MeshView {
  /** Increases with every published change. */
  version: number;
  /** Keyed by hostname. */
  services: ReadonlyMap<string, MeshService>;
  config: MeshConfig;
  /** Cluster DNS domain (`cluster.local`). */
  domain: string;
}

/** What changed between two views: lets the push engine send EDS only, and only for the services whose endpoints moved. */
export interface MeshChange {
  from: number;
  to: number;
  /**
   * Hostnames whose endpoints (and nothing else) changed. A DNS-resolved service is listed too, but also sets
   * configChanged: its endpoints live in its Cluster.
   */
  endpointsChanged: ReadonlySet<string>;
  /** True when anything other than endpoints changed (services, ports, VIPs, routing config). */
  configChanged: boolean;
}
