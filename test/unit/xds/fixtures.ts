/**
 * Hand-built Envoy resources for one service, the way a translation layer would produce them for a proxyless gRPC
 * client: echo.default.svc.cluster.local:8080 -> route -> outbound|8080||echo... (EDS over ADS) -> endpoints.
 */
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
} from '../../../src/control/xds/resource-types.js';
import { Snapshot } from '../../../src/control/xds/snapshot.js';
import { duration, wrap } from '../../../src/control/xds/well-known.js';

export const HOST = 'echo.default.svc.cluster.local';
export const LISTENER_NAME = `${HOST}:8080`;
export const ROUTE_NAME = `${HOST}:8080`;
export const CLUSTER_NAME = `outbound|8080||${HOST}`;
export const HCM_TYPE_URL =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

const ADS_SOURCE = { ads: {}, resource_api_version: 'V3' };

export function echoListener(name = LISTENER_NAME, routeName = ROUTE_NAME): ProtoObject {
  return {
    name,
    api_listener: {
      api_listener: {
        '@type': HCM_TYPE_URL,
        stat_prefix: 'outbound_echo',
        rds: { route_config_name: routeName, config_source: ADS_SOURCE },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } }],
      },
    },
  };
}

export function echoRoute(name = ROUTE_NAME, cluster = CLUSTER_NAME): ProtoObject {
  return {
    name,
    virtual_hosts: [
      {
        name: `${HOST}:8080`,
        domains: [HOST, `${HOST}:8080`, 'echo', 'echo:8080'],
        routes: [{ name: 'default', match: { prefix: '' }, route: { cluster, timeout: duration(15_000) } }],
      },
    ],
  };
}

export function echoCluster(name = CLUSTER_NAME): ProtoObject {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS_SOURCE, service_name: name },
    connect_timeout: duration(1_500),
    lb_policy: 'ROUND_ROBIN',
  };
}

export function echoEndpoints(ports: readonly number[], name = CLUSTER_NAME, host = '127.0.0.1'): ProtoObject {
  return {
    cluster_name: name,
    endpoints: [
      {
        locality: { region: 'local', zone: 'zone-a', sub_zone: '' },
        load_balancing_weight: wrap(1),
        priority: 0,
        lb_endpoints: ports.map((port) => ({
          endpoint: { address: { socket_address: { address: host, port_value: port } } },
          health_status: 'HEALTHY',
          load_balancing_weight: wrap(1),
        })),
      },
    ],
  };
}

/** The four resources of the echo service, with endpoints on `ports`. */
export function echoSnapshot(ports: readonly number[]): Snapshot {
  return Snapshot.fromResources({
    [LISTENER_TYPE_URL]: [echoListener()],
    [ROUTE_TYPE_URL]: [echoRoute()],
    [CLUSTER_TYPE_URL]: [echoCluster()],
    [ENDPOINT_TYPE_URL]: [echoEndpoints(ports)],
  });
}
