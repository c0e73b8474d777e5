/**
 * A VirtualService's `http` list as Envoy routes for one virtual host, in order: one route per applicable match
 * (a route without matches matches everything). Every route is named (the HTTPRoute's name, else
 * `<vs-name>.<index>`; with several matches `.<match name or index>` is appended) and carries
 * `metadata.filter_metadata.istio.config` naming the VirtualService, so proxy-config can say which rule produced it.
 * The default route (no VirtualService) is `default`, to `outbound|<port>||<host>` with Istio's retry policy.
 */
import type { HTTPRoute } from '../../../api/kinds/http-route.js';
import type { VirtualService } from '../../../api/kinds/virtual-service.js';
import type { ProtoObject } from '../proto-object.js';
import { duration } from '../well-known.js';
import { FAULT_FILTER, istioMetadata, namespaceOf, type Warnings } from './common.js';
import { portPolicy, type EffectiveRule } from './destination-rules.js';
import { directResponseAction, redirectAction, routeAction, type RouteEnv } from './route-action.js';
import { gatewayRefs, translateMatch } from './route-match.js';
import {
  faultFilterConfig,
  hashPolicy,
  headerOps,
  retryPolicy,
  type HeaderOps,
  type RouteWarn,
} from './route-policies.js';

/** The route used when no VirtualService routes a host: everything to the service's cluster. */
export function defaultRoute(
  cluster: string,
  port: number,
  rule: EffectiveRule | undefined,
  env: RouteEnv,
  warn: RouteWarn,
): ProtoObject {
  const action: ProtoObject = { cluster, timeout: duration(0) };
  const retry = retryPolicy(undefined, env.ctx.type, warn);
  if (retry !== undefined) action.retry_policy = retry;
  const hash = portPolicy(rule, port).loadBalancer?.consistentHash;
  const policies = hash !== undefined ? hashPolicy(hash, env.ctx.type, warn) : [];
  if (policies.length > 0) action.hash_policy = policies;
  return { name: 'default', match: { prefix: '/' }, route: action };
}

function mergeOps(a: HeaderOps, b: HeaderOps): HeaderOps {
  const out: HeaderOps = {};
  for (const key of [
    'request_headers_to_add',
    'request_headers_to_remove',
    'response_headers_to_add',
    'response_headers_to_remove',
  ] as const) {
    const list = [...(a[key] ?? []), ...(b[key] ?? [])];
    if (list.length > 0) (out as Record<string, unknown>)[key] = list;
  }
  const host = b.hostRewrite ?? a.hostRewrite;
  if (host !== undefined) out.hostRewrite = host;
  return out;
}

/** Everything but the match: the action and the per-route policies shared by all of an HTTPRoute's matches. */
function routeBody(http: HTTPRoute, vs: VirtualService, env: RouteEnv, warn: RouteWarn): ProtoObject | undefined {
  const grpc = env.ctx.type === 'grpc';
  const body: ProtoObject = {};
  let ops: HeaderOps = {};
  if (http.redirect !== undefined || http.directResponse !== undefined) {
    if (grpc) {
      warn(http.redirect !== undefined ? 'redirect' : 'directResponse', 'proxyless gRPC only forwards; route left out');
      return undefined;
    }
    if (http.redirect !== undefined) body.redirect = redirectAction(http.redirect, env.ctx.port);
    else body.direct_response = directResponseAction(http.directResponse!);
    for (const field of ['timeout', 'retries', 'mirror', 'mirrors', 'mirrorPercentage'] as const) {
      if (http[field] !== undefined)
        warn(field, 'has no effect on a route that answers itself (redirect, directResponse)');
    }
  } else {
    const { action, destinationHeaders } = routeAction(http, namespaceOf(vs), env, warn);
    body.route = action;
    ops = destinationHeaders;
  }
  if (http.headers !== undefined && grpc) warn('headers', 'not supported by proxyless gRPC');
  else if (http.headers !== undefined) ops = mergeOps(headerOps(http.headers, 'headers', warn), ops);
  const { hostRewrite, ...headerFields } = ops;
  const action = body.route as ProtoObject | undefined;
  if (hostRewrite !== undefined && action !== undefined && action.host_rewrite_literal === undefined) {
    action.host_rewrite_literal = hostRewrite;
  }
  Object.assign(body, headerFields);
  if (http.fault !== undefined) {
    body.typed_per_filter_config = { [FAULT_FILTER]: faultFilterConfig(http.fault, warn) };
  }
  return body;
}

/** The routes a VirtualService gives one virtual host (empty when none of its matches apply there). */
export function virtualServiceRoutes(vs: VirtualService, env: RouteEnv, warnings: Warnings): ProtoObject[] {
  const ns = namespaceOf(vs);
  const declared = vs.spec?.gateways;
  const vsGateways = gatewayRefs(declared !== undefined && declared.length > 0 ? declared : ['mesh'], ns);
  const metadata = istioMetadata(vs);
  const routes: ProtoObject[] = [];
  (vs.spec?.http ?? []).forEach((http, i) => {
    const warn: RouteWarn = (path, message) => warnings.add(vs, `spec.http[${i}].${path}`, message);
    const matches = http.match !== undefined && http.match.length > 0 ? http.match : [undefined];
    const applicable: { match: ProtoObject; name: string; statPrefix?: string }[] = [];
    const base = http.name ?? `${vs.metadata.name}.${i}`;
    matches.forEach((m, j) => {
      const match = translateMatch(m, env.ctx, vsGateways, ns, (path, message) => warn(`match[${j}].${path}`, message));
      if (match === undefined) return;
      const name = m?.name !== undefined ? `${base}.${m.name}` : matches.length > 1 ? `${base}.${j}` : base;
      applicable.push({ match, name, ...(m?.statPrefix !== undefined ? { statPrefix: m.statPrefix } : {}) });
    });
    if (applicable.length === 0) return;
    const body = routeBody(http, vs, env, warn);
    if (body === undefined) return;
    for (const { match, name, statPrefix } of applicable) {
      const route: ProtoObject = { name, match, ...body, metadata };
      if (statPrefix !== undefined && env.ctx.type !== 'grpc') route.stat_prefix = statPrefix;
      else if (statPrefix !== undefined) warn('match.statPrefix', 'proxyless gRPC keeps no per-route stats; ignored');
      routes.push(route);
    }
  });
  return routes;
}
