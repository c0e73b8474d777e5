/**
 * The action of an Istio HTTPRoute: where the request goes (one cluster, or weighted_clusters for several
 * destinations; subsets name subset clusters; the destination's port, else the service's only port, else the
 * virtual host's port, as Istio's GetDestinationCluster), and what happens on the way (rewrite, timeout, retries,
 * mirrors, hash policy), or a redirect, or a direct response.
 */
import type { HTTPRoute, HTTPRouteDestination } from '../../../api/kinds/http-route.js';
import type { Destination } from '../../../api/kinds/istio-common.js';
import type { MeshService } from '../../../registry/model.js';
import type { ProtoObject } from '../proto-object.js';
import { clusterName, durationOf, wrapped } from './common.js';
import { findSubset, portPolicy, type EffectiveRule } from './destination-rules.js';
import { fractionalPercent, hashPolicy, headerOps, retryPolicy, type RouteWarn } from './route-policies.js';
import { resolveHost } from './scope.js';
import type { MatchContext } from './route-match.js';

/** What route translation needs to know beyond the route itself. */
export interface RouteEnv {
  ctx: MatchContext;
  domain: string;
  /** Services visible to the proxy, by hostname. */
  services: ReadonlyMap<string, MeshService>;
  /** The DestinationRule in force for a service, for this proxy. */
  ruleFor(service: MeshService): EffectiveRule | undefined;
}

export interface ResolvedDestination {
  cluster: string;
  service?: MeshService;
  port: number;
  rule?: EffectiveRule;
  subset?: string;
}

/** A Destination as a cluster name, reporting unknown hosts, ports and subsets. */
export function resolveDestination(
  dest: Destination,
  vsNamespace: string,
  env: RouteEnv,
  path: string,
  warn: RouteWarn,
): ResolvedDestination {
  const host = resolveHost(dest.host, vsNamespace, env.domain);
  const service = env.services.get(host);
  const port = dest.port?.number ?? (service?.ports.length === 1 ? service.ports[0]!.port : env.ctx.port);
  const rule = service !== undefined ? env.ruleFor(service) : undefined;
  if (service === undefined) {
    warn(`${path}.host`, `${host} is not a service visible from namespace ${env.ctx.namespace}; requests will fail`);
  } else if (!service.ports.some((p) => p.port === port)) {
    warn(`${path}.port`, `${host} has no port ${port}; requests will fail`);
  }
  if (dest.subset !== undefined && service !== undefined && findSubset(rule, dest.subset) === undefined) {
    warn(`${path}.subset`, `no DestinationRule defines subset ${dest.subset} of ${host}; requests will fail`);
  }
  return {
    cluster: clusterName('outbound', port, dest.subset ?? '', host),
    port,
    ...(service !== undefined ? { service } : {}),
    ...(rule !== undefined ? { rule } : {}),
    ...(dest.subset !== undefined ? { subset: dest.subset } : {}),
  };
}

const REDIRECT_CODES: Record<number, string> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

export function redirectAction(redirect: NonNullable<HTTPRoute['redirect']>, port: number): ProtoObject {
  const out: ProtoObject = { response_code: REDIRECT_CODES[redirect.redirectCode ?? 301] };
  if (redirect.uri !== undefined) out.path_redirect = redirect.uri;
  if (redirect.authority !== undefined) out.host_redirect = redirect.authority;
  if (redirect.scheme !== undefined) out.scheme_redirect = redirect.scheme;
  if (redirect.port !== undefined) out.port_redirect = redirect.port;
  // Envoy cannot derive the port per request, but routes are built per port: use this one (as Istio does).
  else if (redirect.derivePort === 'FROM_REQUEST_PORT') out.port_redirect = port;
  return out;
}

export function directResponseAction(response: NonNullable<HTTPRoute['directResponse']>): ProtoObject {
  const out: ProtoObject = { status: response.status };
  if (response.body?.string !== undefined) out.body = { inline_string: response.body.string };
  else if (response.body?.bytes !== undefined) out.body = { inline_bytes: response.body.bytes };
  return out;
}

function hashPolicies(dests: readonly ResolvedDestination[], env: RouteEnv, warn: RouteWarn): ProtoObject[] {
  let chosen: ProtoObject[] | undefined;
  for (const d of dests) {
    const subset = d.subset !== undefined ? findSubset(d.rule, d.subset) : undefined;
    const hash = portPolicy(d.rule, d.port, subset).loadBalancer?.consistentHash;
    const policy = hash !== undefined ? hashPolicy(hash, env.ctx.type, warn) : [];
    if (chosen === undefined) chosen = policy;
    else if (JSON.stringify(chosen) !== JSON.stringify(policy)) {
      warn('route', 'destinations hash requests differently; the first destination’s consistent hash is used');
    }
  }
  return chosen ?? [];
}

/** The RouteAction (and route-level header operations from a single destination's headers). */
export function routeAction(
  http: HTTPRoute,
  vsNamespace: string,
  env: RouteEnv,
  warn: RouteWarn,
): { action: ProtoObject; destinationHeaders: ReturnType<typeof headerOps> } {
  const grpc = env.ctx.type === 'grpc';
  const routes: readonly HTTPRouteDestination[] = http.route ?? [];
  const dests = routes.map((r, i) =>
    resolveDestination(r.destination, vsNamespace, env, `route[${i}].destination`, warn),
  );
  const action: ProtoObject = {};
  let destinationHeaders = {};
  if (routes.length === 1) {
    action.cluster = dests[0]!.cluster;
    if (!grpc) destinationHeaders = headerOps(routes[0]!.headers, 'route[0].headers', warn);
    else if (routes[0]!.headers !== undefined) warn('route[0].headers', 'not supported by proxyless gRPC');
  } else {
    const clusters: ProtoObject[] = [];
    routes.forEach((r, i) => {
      if ((r.weight ?? 0) === 0) return;
      const weighted: ProtoObject = { name: dests[i]!.cluster, weight: wrapped(r.weight ?? 0) };
      if (!grpc) {
        const { hostRewrite, ...ops } = headerOps(r.headers, `route[${i}].headers`, warn);
        Object.assign(weighted, ops);
        if (hostRewrite !== undefined) weighted.host_rewrite_literal = hostRewrite;
      } else if (r.headers !== undefined) warn(`route[${i}].headers`, 'not supported by proxyless gRPC');
      clusters.push(weighted);
    });
    action.weighted_clusters = { clusters };
  }
  if (http.rewrite !== undefined && grpc) warn('rewrite', 'not supported by proxyless gRPC');
  else if (http.rewrite !== undefined) {
    if (http.rewrite.uri !== undefined) action.prefix_rewrite = http.rewrite.uri;
    const regex = http.rewrite.uriRegexRewrite;
    if (regex !== undefined) action.regex_rewrite = { pattern: { regex: regex.match }, substitution: regex.rewrite };
    if (http.rewrite.authority !== undefined) action.host_rewrite_literal = http.rewrite.authority;
  }
  const timeout = durationOf(http.timeout ?? '0s');
  action.timeout = timeout;
  if (grpc && http.timeout !== undefined) action.max_stream_duration = { max_stream_duration: timeout };
  const retry = retryPolicy(http.retries, env.ctx.type, warn);
  if (retry !== undefined) action.retry_policy = retry;
  const mirrors = mirrorPolicies(http, vsNamespace, env, warn);
  if (mirrors.length > 0) action.request_mirror_policies = mirrors;
  const hash = hashPolicies(dests, env, warn);
  if (hash.length > 0) action.hash_policy = hash;
  return { action, destinationHeaders };
}

function mirrorPolicies(http: HTTPRoute, vsNamespace: string, env: RouteEnv, warn: RouteWarn): ProtoObject[] {
  const list: { dest: Destination; percent: number; path: string }[] = [];
  if (http.mirror !== undefined)
    list.push({ dest: http.mirror, percent: http.mirrorPercentage?.value ?? 100, path: 'mirror' });
  (http.mirrors ?? []).forEach((m, i) =>
    list.push({ dest: m.destination, percent: m.percentage?.value ?? 100, path: `mirrors[${i}].destination` }),
  );
  if (list.length === 0) return [];
  if (env.ctx.type === 'grpc') {
    warn(http.mirror !== undefined ? 'mirror' : 'mirrors', 'not supported by proxyless gRPC');
    return [];
  }
  return list
    .filter((m) => m.percent > 0)
    .map((m) => ({
      cluster: resolveDestination(m.dest, vsNamespace, env, m.path, warn).cluster,
      runtime_fraction: { default_value: fractionalPercent(m.percent) },
    }));
}
