/**
 * RouteConfigurations.
 *
 * Sidecar, `outbound`: the outbound listener is an explicit HTTP proxy, so the Host header (or the absolute-form
 * request line, or a CONNECT authority) picks the virtual host. One virtual host per (service, port), named
 * `<hostname>:<port>`, whose domains are, each followed by `:<port>`: the FQDN, for a Kubernetes Service the short
 * forms (`name` only from the proxy's own namespace, `name.namespace`, `name.namespace.svc`), and the VIP. An HTTP
 * port also answers without the port when it is port 80 or the service's only HTTP port (what a client sends for
 * `http://reviews/` when the service has one port: the bare name means "the" port). A domain already taken by an
 * earlier service is left out and reported (Envoy rejects duplicates). HTTP ports (HTTP, HTTP2, GRPC, and UNKNOWN,
 * where Istio would sniff HTTP) route by the VirtualService's http rules, else by a default route; ports that are
 * not HTTP (and UNKNOWN ones) get a CONNECT route that tunnels to the cluster, by the VirtualService's tcp rules.
 *
 * Proxyless gRPC: one RouteConfiguration per (service, port) named `<hostname>:<port>`, one virtual host answering
 * the target's authority. Sidecar, `inbound`: everything to `inbound|<appPort>||`.
 */
import type { VirtualService } from '../../../api/kinds/virtual-service.js';
import type { MeshService, MeshServicePort } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import { duration } from '../well-known.js';
import { clusterName, istioMetadata, labelsMatch, namespaceOf, wrapped, type Warnings } from './common.js';
import { isHttpLike } from './cluster-policy.js';
import type { EffectiveRule } from './destination-rules.js';
import { defaultRoute, virtualServiceRoutes } from './http-routes.js';
import type { ProxyType } from './proxy.js';
import { resolveDestination, type RouteEnv } from './route-action.js';
import { gatewayRefs } from './route-match.js';

/** What routing for a set of services needs: the proxy, and the rules selected for each service. */
export interface RoutingInput {
  type: ProxyType;
  namespace: string;
  labels?: Readonly<Record<string, string>>;
  domain: string;
  services: ReadonlyMap<string, MeshService>;
  ruleFor(service: MeshService): EffectiveRule | undefined;
  virtualServiceFor(service: MeshService): VirtualService | undefined;
  warnings: Warnings;
}

export const OUTBOUND_ROUTE_NAME = 'outbound';
export const INBOUND_ROUTE_NAME = 'inbound';

function envFor(input: RoutingInput, port: number): RouteEnv {
  const ctx = { type: input.type, namespace: input.namespace, port, gateways: ['mesh'] };
  return {
    ctx: input.labels !== undefined ? { ...ctx, labels: input.labels } : ctx,
    domain: input.domain,
    services: input.services,
    ruleFor: (s) => input.ruleFor(s),
  };
}

/** The names a service answers to from `namespace`: FQDN, short forms (Kubernetes Services), VIP. */
export function serviceNames(service: MeshService, namespace: string, domain: string, vip = true): string[] {
  const names = [service.hostname];
  if (service.kind === 'Service' && service.hostname === `${service.name}.${service.namespace}.svc.${domain}`) {
    if (service.namespace === namespace) names.push(service.name);
    names.push(`${service.name}.${service.namespace}`, `${service.name}.${service.namespace}.svc`);
  }
  if (vip && service.vip !== undefined) names.push(service.vip.includes(':') ? `[${service.vip}]` : service.vip);
  return names;
}

/** HTTP routes of one (service, port): the VirtualService's, else the default route. */
export function httpRoutes(service: MeshService, port: number, input: RoutingInput): ProtoObject[] {
  const env = envFor(input, port);
  const rule = input.ruleFor(service);
  const vs = input.virtualServiceFor(service);
  const routes = vs !== undefined ? virtualServiceRoutes(vs, env, input.warnings) : [];
  if (routes.length > 0) return routes;
  const warn = (path: string, message: string): void =>
    input.warnings.add(rule?.rule ?? service.hostname, path, message);
  return [defaultRoute(clusterName('outbound', port, '', service.hostname), port, rule, env, warn)];
}

/** The CONNECT route of a (service, port): the first applicable tcp rule of its VirtualService, else its cluster. */
function connectRoute(service: MeshService, port: number, input: RoutingInput): ProtoObject {
  const vs = input.virtualServiceFor(service);
  const env = envFor(input, port);
  const upgrade = { upgrade_type: 'CONNECT', connect_config: {} };
  const fallback = { cluster: clusterName('outbound', port, '', service.hostname) };
  if (vs === undefined) {
    return {
      name: 'connect',
      match: { connect_matcher: {} },
      route: { ...fallback, upgrade_configs: [upgrade], timeout: duration(0) },
    };
  }
  const ns = namespaceOf(vs);
  const vsGateways = gatewayRefs(vs.spec?.gateways?.length ? vs.spec.gateways : ['mesh'], ns);
  if ((vs.spec?.tls ?? []).length > 0) {
    input.warnings.add(vs, 'spec.tls', 'routing by SNI is not translated: the explicit proxy sees CONNECT host:port');
  }
  const rules = vs.spec?.tcp ?? [];
  const index = rules.findIndex((r, i) => {
    const matches = r.match ?? [];
    if (matches.length === 0) return true;
    return matches.some((m, j) => {
      if (m.destinationSubnets !== undefined) {
        input.warnings.add(
          vs,
          `spec.tcp[${i}].match[${j}].destinationSubnets`,
          'not translated; this match is left out',
        );
        return false;
      }
      const gateways = m.gateways !== undefined ? gatewayRefs(m.gateways, ns) : vsGateways;
      return (
        (m.port === undefined || m.port === port) &&
        (m.sourceNamespace === undefined || m.sourceNamespace === input.namespace) &&
        (m.sourceLabels === undefined || (input.labels !== undefined && labelsMatch(m.sourceLabels, input.labels))) &&
        gateways.includes('mesh')
      );
    });
  });
  const tcp = rules[index];
  if (tcp === undefined) {
    return {
      name: 'connect',
      match: { connect_matcher: {} },
      route: { ...fallback, upgrade_configs: [upgrade], timeout: duration(0) },
    };
  }
  const warn = (path: string, message: string): void => input.warnings.add(vs, `spec.tcp[${index}].${path}`, message);
  const dests = tcp.route.map((r, i) => ({
    cluster: resolveDestination(r.destination, ns, env, `route[${i}].destination`, warn).cluster,
    weight: r.weight ?? 0,
  }));
  const target =
    dests.length === 1
      ? { cluster: dests[0]!.cluster }
      : {
          weighted_clusters: {
            clusters: dests.filter((d) => d.weight > 0).map((d) => ({ name: d.cluster, weight: wrapped(d.weight) })),
          },
        };
  return {
    name: `${vs.metadata.name}.tcp.${index}`,
    match: { connect_matcher: {} },
    route: { ...target, upgrade_configs: [upgrade], timeout: duration(0) },
    metadata: istioMetadata(vs),
  };
}

function withPort(names: readonly string[], port: number, bare: boolean): string[] {
  return names.flatMap((n) => (bare ? [n, `${n}:${port}`] : [`${n}:${port}`]));
}

/** The sidecar's `outbound` RouteConfiguration over the services in `order`. */
export function sidecarOutboundRoutes(order: readonly MeshService[], input: RoutingInput): ProtoObject {
  const taken = new Map<string, string>();
  const virtualHosts: ProtoObject[] = [];
  for (const service of order) {
    const httpPorts = service.ports.filter((p) => isHttpLike(p.protocol));
    for (const port of service.ports) {
      if (port.protocol === 'UDP') continue;
      const name = `${service.hostname}:${port.port}`;
      const http = isHttpLike(port.protocol);
      const bare = http && (port.port === 80 || (httpPorts.length === 1 && httpPorts[0] === port));
      const domains = withPort(serviceNames(service, input.namespace, input.domain), port.port, bare).filter((d) => {
        const owner = taken.get(d);
        if (owner === undefined) taken.set(d, name);
        else
          input.warnings.add(
            `${service.kind} ${service.namespace}/${service.name}`,
            '',
            `domain ${d} of ${name} is already used by ${owner}; left out`,
          );
        return owner === undefined;
      });
      if (domains.length === 0) continue;
      const routes = routesFor(service, port, http, input);
      virtualHosts.push({ name, domains, routes });
    }
  }
  return { name: OUTBOUND_ROUTE_NAME, virtual_hosts: virtualHosts, validate_clusters: wrapped(false) };
}

function routesFor(service: MeshService, port: MeshServicePort, http: boolean, input: RoutingInput): ProtoObject[] {
  const routes: ProtoObject[] = [];
  if (!http || port.protocol === 'UNKNOWN') routes.push(connectRoute(service, port.port, input));
  if (http) routes.push(...httpRoutes(service, port.port, input));
  return routes;
}

/** Proxyless gRPC: the RouteConfiguration `<hostname>:<port>` its listener of that name points to. */
export function grpcRouteConfig(service: MeshService, port: number, input: RoutingInput): ProtoObject {
  const name = `${service.hostname}:${port}`;
  const names = serviceNames(service, input.namespace, input.domain, false);
  const domains = names.flatMap((n) => [`${n}:${port}`, n]);
  return { name, virtual_hosts: [{ name, domains, routes: httpRoutes(service, port, input) }] };
}

/** The sidecar's `inbound` RouteConfiguration: every request to its app. */
export function inboundRoutes(appPort: number): ProtoObject {
  const cluster = clusterName('inbound', appPort);
  return {
    name: INBOUND_ROUTE_NAME,
    virtual_hosts: [
      {
        name: `inbound|http|${appPort}`,
        domains: ['*'],
        routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: duration(0) } }],
      },
    ],
    validate_clusters: wrapped(false),
  };
}
