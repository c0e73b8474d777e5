/**
 * Listeners.
 *
 * Sidecar: `outbound` on <pod-ip>:15001 (0.0.0.0 when the proxy has no IP; pods share one host in `shoal up`, so
 * each binds its own address), an HTTP connection manager over RDS `outbound` with the fault and router filters,
 * WebSocket and CONNECT upgrades, and use_remote_address false (the app is the only client); `inbound` on
 * <pod-ip>:15006 over RDS `inbound`. Ports come from SHOAL_OUTBOUND_PORT / SHOAL_INBOUND_PORT when set.
 *
 * Proxyless gRPC: one api_listener per (service, port) named `<host>:<port>` for every name a client may use as its
 * target (`xds:///reviews.default.svc.cluster.local:9080`, `xds:///reviews:9080` from the same namespace, ...),
 * each pointing to the RouteConfiguration `<hostname>:<port>`; its HTTP filters end with the router, as grpc-js-xds
 * requires (it accepts fault before it).
 */
import type { MeshService } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import {
  adsConfigSource,
  FAULT_FILTER,
  FAULT_TYPE_URL,
  HCM_FILTER,
  HCM_TYPE_URL,
  ROUTER_FILTER,
  ROUTER_TYPE_URL,
  wrapped,
  type Warnings,
} from './common.js';
import { DEFAULT_INBOUND_PORT, DEFAULT_OUTBOUND_PORT, type ProxyContext } from './proxy.js';
import { INBOUND_ROUTE_NAME, OUTBOUND_ROUTE_NAME, serviceNames } from './routes.js';

export const OUTBOUND_LISTENER_NAME = 'outbound';
export const INBOUND_LISTENER_NAME = 'inbound';

export function faultFilter(): ProtoObject {
  return { name: FAULT_FILTER, typed_config: { '@type': FAULT_TYPE_URL } };
}

export function routerFilter(): ProtoObject {
  return { name: ROUTER_FILTER, typed_config: { '@type': ROUTER_TYPE_URL } };
}

interface HcmOptions {
  statPrefix: string;
  routeName: string;
  filters: ProtoObject[];
  upgrades: readonly string[];
  /** Append the downstream peer to x-forwarded-for (the inbound listener: the peer is the calling pod). */
  useRemoteAddress?: boolean;
}

/** An HttpConnectionManager (as a nested Any) over RDS from ADS. */
export function httpConnectionManager(options: HcmOptions): ProtoObject {
  const hcm: ProtoObject = {
    '@type': HCM_TYPE_URL,
    stat_prefix: options.statPrefix,
    rds: { route_config_name: options.routeName, config_source: adsConfigSource() },
    http_filters: options.filters,
    use_remote_address: wrapped(options.useRemoteAddress === true),
  };
  if (options.upgrades.length > 0) hcm.upgrade_configs = options.upgrades.map((upgrade_type) => ({ upgrade_type }));
  return hcm;
}

function socketListener(
  name: string,
  address: string,
  port: number,
  direction: 'OUTBOUND' | 'INBOUND',
  hcm: ProtoObject,
): ProtoObject {
  return {
    name,
    address: { socket_address: { address, port_value: port } },
    traffic_direction: direction,
    filter_chains: [{ filters: [{ name: HCM_FILTER, typed_config: hcm }] }],
  };
}

export function outboundListener(proxy: ProxyContext): ProtoObject {
  const address = proxy.ip ?? '0.0.0.0';
  const port = proxy.outboundPort ?? DEFAULT_OUTBOUND_PORT;
  const hcm = httpConnectionManager({
    statPrefix: `outbound_${address}_${port}`,
    routeName: OUTBOUND_ROUTE_NAME,
    filters: [faultFilter(), routerFilter()],
    upgrades: ['websocket', 'CONNECT'],
  });
  return socketListener(OUTBOUND_LISTENER_NAME, address, port, 'OUTBOUND', hcm);
}

export function inboundListener(proxy: ProxyContext): ProtoObject {
  const address = proxy.ip ?? '0.0.0.0';
  const port = proxy.inboundPort ?? DEFAULT_INBOUND_PORT;
  const hcm = httpConnectionManager({
    statPrefix: `inbound_${address}_${port}`,
    routeName: INBOUND_ROUTE_NAME,
    filters: [routerFilter()],
    upgrades: ['websocket'],
    useRemoteAddress: true,
  });
  return socketListener(INBOUND_LISTENER_NAME, address, port, 'INBOUND', hcm);
}

/** A proxyless gRPC client's listener `name`, routed by the RouteConfiguration `routeName`. */
export function grpcListener(name: string, routeName: string): ProtoObject {
  const hcm = httpConnectionManager({
    statPrefix: name,
    routeName,
    filters: [faultFilter(), routerFilter()],
    upgrades: [],
  });
  return { name, api_listener: { api_listener: hcm } };
}

/**
 * gRPC listeners for every non-UDP port of the services, under each name a client may target; a name claimed by
 * an earlier service is left out and reported.
 */
export function grpcListeners(
  services: readonly MeshService[],
  namespace: string,
  domain: string,
  warnings: Warnings,
): ProtoObject[] {
  const taken = new Map<string, string>();
  const out: ProtoObject[] = [];
  for (const service of services) {
    for (const port of service.ports) {
      if (port.protocol === 'UDP') continue;
      const routeName = `${service.hostname}:${port.port}`;
      for (const name of serviceNames(service, namespace, domain, false).map((n) => `${n}:${port.port}`)) {
        const owner = taken.get(name);
        if (owner !== undefined) {
          warnings.add(
            `${service.kind} ${service.namespace}/${service.name}`,
            '',
            `gRPC target ${name} is already ${owner}; left out`,
          );
          continue;
        }
        taken.set(name, routeName);
        out.push(grpcListener(name, routeName));
      }
    }
  }
  return out;
}
