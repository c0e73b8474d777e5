/**
 * Gateway proxies (`router~...` nodes, `shoal gateway`): listeners and routes from the Gateways whose selector
 * matches the proxy's labels (any namespace; an empty selector matches every gateway proxy), as Istio's gateway
 * builder does:
 *
 * - servers are grouped by port; each port is one listener `0.0.0.0_<port>` bound to the server's `bind`, else the
 *   proxy's own address (INSTANCE_IPS, `shoal gateway --bind`: processes share one host, as sidecars bind their pod
 *   IP), else 0.0.0.0, at the server's targetPort (or port), an HTTP connection manager with use_remote_address true
 *   (the gateway is the edge);
 * - HTTP / HTTP2 / GRPC servers share the RouteConfiguration `http.<port>`; an HTTPS server with SIMPLE, MUTUAL or
 *   OPTIONAL_MUTUAL TLS gets its own filter chain (matched by SNI on its hosts, certificates read from files as in
 *   Istio) and RouteConfiguration `https.<port>.<server name or index>.<gateway>.<namespace>`;
 * - a virtual host per host of a VirtualService bound to the gateway (`gateways: [<ns>/<name>]`, a bare name in the
 *   VirtualService's namespace) that a server's hosts (`[namespace/]host`) admit, named `<host>:<port>`, with the
 *   domains `<host>` and `<host>:<port>`; several VirtualServices for one host are merged in order (Istio merges
 *   them at gateways); `httpsRedirect` makes the virtual host require TLS.
 *
 * TLS PASSTHROUGH, TCP and TLS servers, and ISTIO_MUTUAL are reported, not translated.
 */
import type { Gateway, Server } from '../../../api/kinds/gateway.js';
import type { VirtualService } from '../../../api/kinds/virtual-service.js';
import type { MeshView } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import { HCM_FILTER, labelsMatch, namespaceOf, TYPE_PREFIX, wrapped, type Warnings } from './common.js';
import { selectDestinationRule } from './destination-rules.js';
import { virtualServiceRoutes } from './http-routes.js';
import { faultFilter, httpConnectionManager, routerFilter } from './listeners.js';
import { scopePlan } from './plan.js';
import type { ProxyContext } from './proxy.js';
import type { RouteEnv } from './route-action.js';
import { gatewayRefs } from './route-match.js';
import { exportedTo, hostMatchRank, resolveHost } from './scope.js';
import { TLS_TRANSPORT_SOCKET } from './tls.js';

const DOWNSTREAM_TLS_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`;
const TLS_INSPECTOR_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`;
const TLS_VERSIONS: Record<string, string> = {
  TLS_AUTO: 'TLS_AUTO',
  TLSV1_0: 'TLSv1_0',
  TLSV1_1: 'TLSv1_1',
  TLSV1_2: 'TLSv1_2',
  TLSV1_3: 'TLSv1_3',
};

interface BoundServer {
  gateway: Gateway;
  server: Server;
  index: number;
}

export interface GatewayResources {
  listeners: ProtoObject[];
  routes: ProtoObject[];
}

/** The more specific of a server host and a VirtualService host, if they overlap. */
function intersect(serverHost: string, vsHost: string): string | undefined {
  if (hostMatchRank(serverHost, vsHost) !== undefined) return vsHost;
  if (hostMatchRank(vsHost, serverHost) !== undefined) return serverHost;
  return undefined;
}

/** A server's hosts as (namespace filter, host); the filter `.` is the gateway's namespace. */
function serverHosts(b: BoundServer): { ns: string; host: string }[] {
  return b.server.hosts.map((entry) => {
    const slash = entry.indexOf('/');
    const ns = slash >= 0 ? entry.slice(0, slash) : '*';
    return { ns: ns === '.' ? namespaceOf(b.gateway) : ns, host: slash >= 0 ? entry.slice(slash + 1) : entry };
  });
}

function gatewayRef(g: Gateway): string {
  return `${namespaceOf(g)}/${g.metadata.name}`;
}

function boundVirtualServices(view: MeshView, b: BoundServer): VirtualService[] {
  const ref = gatewayRef(b.gateway);
  return view.config.virtualServices.filter((vs) => {
    const ns = namespaceOf(vs);
    if (!gatewayRefs(vs.spec?.gateways ?? [], ns).includes(ref)) return false;
    return exportedTo(vs.spec?.exportTo, ns, namespaceOf(b.gateway));
  });
}

function routeConfig(
  name: string,
  servers: readonly BoundServer[],
  view: MeshView,
  proxy: ProxyContext,
  warnings: Warnings,
): ProtoObject {
  const plan = scopePlan(view, proxy.namespace, 'gateway');
  const byHost = plan.byHost;
  const hosts = new Map<string, { port: number; routes: ProtoObject[]; redirect: boolean }>();
  for (const b of servers) {
    const port = b.server.port.number;
    const env: RouteEnv = {
      ctx: {
        type: 'gateway',
        namespace: proxy.namespace,
        labels: proxy.labels,
        port,
        gateways: [gatewayRef(b.gateway)],
      },
      domain: view.domain,
      services: plan.scope.byHost,
      ruleFor: (s) => {
        const p = byHost.get(s.hostname);
        return p?.labelDependent === true ? selectDestinationRule(plan.scope, s, warnings, proxy.labels) : p?.rule;
      },
    };
    const allowed = serverHosts(b);
    for (const vs of boundVirtualServices(view, b)) {
      const vsNs = namespaceOf(vs);
      const matched = new Set<string>();
      for (const h of vs.spec?.hosts ?? []) {
        for (const a of allowed) {
          if (a.ns !== '*' && a.ns !== vsNs) continue;
          const host = intersect(a.host, resolveHost(h, vsNs, view.domain));
          if (host !== undefined) matched.add(host);
        }
      }
      if (matched.size === 0) continue;
      const routes = virtualServiceRoutes(vs, env, warnings);
      for (const host of matched) {
        const entry = hosts.get(host) ?? { port, routes: [], redirect: false };
        entry.routes.push(...routes);
        entry.redirect ||= b.server.tls?.httpsRedirect === true;
        hosts.set(host, entry);
      }
    }
  }
  const virtualHosts = [...hosts.entries()].map(([host, { port, routes, redirect }]) => {
    const vh: ProtoObject = { name: `${host}:${port}`, domains: [host, `${host}:${port}`], routes };
    if (redirect) vh.require_tls = 'ALL';
    return vh;
  });
  return { name, virtual_hosts: virtualHosts, validate_clusters: wrapped(false) };
}

function downstreamTls(b: BoundServer): ProtoObject {
  const tls = b.server.tls!;
  const file = (filename: string): ProtoObject => ({ filename });
  const common: ProtoObject = {
    tls_certificates: [
      { certificate_chain: file(tls.serverCertificate ?? ''), private_key: file(tls.privateKey ?? '') },
    ],
    alpn_protocols: ['h2', 'http/1.1'],
  };
  if (tls.caCertificates !== undefined) {
    const validation: ProtoObject = { trusted_ca: file(tls.caCertificates) };
    if (tls.caCrl !== undefined) validation.crl = file(tls.caCrl);
    if (tls.subjectAltNames !== undefined) {
      validation.match_typed_subject_alt_names = tls.subjectAltNames.map((san) => ({
        san_type: san.startsWith('spiffe://') ? 'URI' : 'DNS',
        matcher: { exact: san },
      }));
    }
    if (tls.verifyCertificateSpki !== undefined) validation.verify_certificate_spki = tls.verifyCertificateSpki;
    if (tls.verifyCertificateHash !== undefined) validation.verify_certificate_hash = tls.verifyCertificateHash;
    common.validation_context = validation;
  }
  const params: ProtoObject = {};
  if (tls.minProtocolVersion !== undefined) params.tls_minimum_protocol_version = TLS_VERSIONS[tls.minProtocolVersion];
  if (tls.maxProtocolVersion !== undefined) params.tls_maximum_protocol_version = TLS_VERSIONS[tls.maxProtocolVersion];
  if (tls.cipherSuites !== undefined) params.cipher_suites = tls.cipherSuites;
  if (Object.keys(params).length > 0) common.tls_params = params;
  const context: ProtoObject = { '@type': DOWNSTREAM_TLS_TYPE_URL, common_tls_context: common };
  if (tls.mode === 'MUTUAL') context.require_client_certificate = wrapped(true);
  return { name: TLS_TRANSPORT_SOCKET, typed_config: context };
}

function hcmChain(routeName: string, listenerName: string): ProtoObject {
  const hcm = httpConnectionManager({
    statPrefix: listenerName,
    routeName,
    filters: [faultFilter(), routerFilter()],
    upgrades: ['websocket'],
  });
  hcm.use_remote_address = wrapped(true);
  return { filters: [{ name: HCM_FILTER, typed_config: hcm }] };
}

/** Why a server cannot be translated, or undefined. */
function unsupported(server: Server): string | undefined {
  const protocol = server.port.protocol;
  if (protocol === 'TCP' || protocol === 'TLS') return `${protocol} servers are not translated`;
  if (protocol === 'HTTPS') {
    const mode = server.tls?.mode ?? 'SIMPLE';
    if (mode === 'PASSTHROUGH') return 'TLS PASSTHROUGH is not translated';
    if (mode === 'ISTIO_MUTUAL') return 'ISTIO_MUTUAL needs the mesh certificates over SDS, which are not served yet';
  }
  if (server.tls?.mode !== undefined && protocol !== 'HTTPS' && server.tls.httpsRedirect !== true) {
    return `tls on a ${protocol} server is not translated`;
  }
  return undefined;
}

/** The listeners and routes of a gateway proxy. */
export function gatewayResources(view: MeshView, proxy: ProxyContext, warnings: Warnings): GatewayResources {
  const byPort = new Map<number, BoundServer[]>();
  for (const gateway of view.config.gateways) {
    const selector = gateway.spec?.selector;
    if (selector !== undefined && Object.keys(selector).length > 0 && !labelsMatch(selector, proxy.labels)) continue;
    (gateway.spec?.servers ?? []).forEach((server, index) => {
      const problem = unsupported(server);
      if (problem !== undefined) warnings.add(gateway, `spec.servers[${index}]`, problem);
      else byPort.set(server.port.number, [...(byPort.get(server.port.number) ?? []), { gateway, server, index }]);
    });
  }
  const out: GatewayResources = { listeners: [], routes: [] };
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    const servers = byPort.get(port)!;
    const listenerName = `0.0.0.0_${port}`;
    const chains: ProtoObject[] = [];
    const plain = servers.filter((b) => b.server.port.protocol !== 'HTTPS');
    for (const b of servers.filter((s) => s.server.port.protocol === 'HTTPS')) {
      const routeName = `https.${port}.${b.server.name ?? b.index}.${b.gateway.metadata.name}.${namespaceOf(b.gateway)}`;
      out.routes.push(routeConfig(routeName, [b], view, proxy, warnings));
      const names = serverHosts(b)
        .map((h) => h.host)
        .filter((h) => h !== '*');
      const match: ProtoObject = { transport_protocol: 'tls' };
      if (names.length > 0) match.server_names = names;
      chains.push({
        filter_chain_match: match,
        ...hcmChain(routeName, listenerName),
        transport_socket: downstreamTls(b),
      });
    }
    if (plain.length > 0) {
      out.routes.push(routeConfig(`http.${port}`, plain, view, proxy, warnings));
      chains.push(hcmChain(`http.${port}`, listenerName));
    }
    const first = servers[0]!.server;
    const listener: ProtoObject = {
      name: listenerName,
      address: {
        socket_address: { address: first.bind ?? proxy.ip ?? '0.0.0.0', port_value: first.port.targetPort ?? port },
      },
      traffic_direction: 'OUTBOUND',
      filter_chains: chains,
    };
    if (plain.length < servers.length) {
      listener.listener_filters = [
        { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR_TYPE_URL } },
      ];
    }
    out.listeners.push(listener);
  }
  return out;
}
