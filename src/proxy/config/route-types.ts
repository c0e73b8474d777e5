/**
 * The sidecar's route tables: an Envoy RouteConfiguration decoded and compiled for the hot path. Domains are indexed
 * the way Envoy selects a virtual host (exact map, then the longest suffix wildcard, then the longest prefix
 * wildcard, then `*`); matchers are compiled (matchers.ts); weighted clusters carry cumulative weights; durations
 * are milliseconds; header mutations of the route, its virtual host and the route configuration are merged per
 * route in the order Envoy applies them; a virtual host's retry policy and fault are folded into its routes.
 */
import type { JsonObject } from '../../control/xds/well-known.js';
import type { HeaderMatcher, QueryParameterMatcher } from './matchers.js';

export type AppendAction =
  'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';

export interface HeaderToAdd {
  /** Lowercase. */
  readonly name: string;
  readonly value: string;
  readonly action: AppendAction;
  readonly keepEmptyValue: boolean;
}

/** Header operations, in application order (Envoy's): every `remove` entry, then `add`. */
export interface HeaderMutations {
  readonly add: readonly HeaderToAdd[];
  /** Lowercase names. */
  readonly remove: readonly string[];
}

export type PathMatch =
  | {
      readonly kind: 'prefix' | 'exact' | 'path_separated_prefix';
      readonly value: string;
      readonly caseSensitive: boolean;
    }
  | { readonly kind: 'regex'; readonly regex: RegExp; readonly source: string }
  | { readonly kind: 'connect' };

export interface RouteMatch {
  readonly path: PathMatch;
  readonly headers: readonly HeaderMatcher[];
  readonly queryParameters: readonly QueryParameterMatcher[];
  /** Only gRPC requests (content-type application/grpc*). */
  readonly grpc: boolean;
  /** runtime_fraction: the share of matching requests, per million (1,000,000 when unset). */
  readonly fractionPerMillion: number;
}

export interface RetryBackOff {
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
}

export interface RetryPolicy {
  /** Envoy's HTTP and gRPC retry conditions (`5xx`, `connect-failure`, `unavailable`, ...). */
  readonly retryOn: ReadonlySet<string>;
  /** Conditions Envoy does not know; ignored, as Envoy ignores them. */
  readonly ignoredRetryOn: readonly string[];
  readonly numRetries: number;
  /** 0: no per-try timeout (the route timeout applies). */
  readonly perTryTimeoutMs: number;
  readonly perTryIdleTimeoutMs: number;
  readonly retriableStatusCodes: readonly number[];
  readonly backOff: RetryBackOff;
  /** Avoid hosts already tried (envoy.retry_host_predicates.previous_hosts). */
  readonly previousHosts: boolean;
  readonly hostSelectionRetryMaxAttempts: number;
  /** envoy.retry_priorities.previous_priorities: `update_frequency`, when set. */
  readonly previousPrioritiesUpdateFrequency?: number;
  /** Retry when the response has one of these headers (retriable-headers). */
  readonly retriableHeaders: readonly HeaderMatcher[];
}

/** Kept in Envoy's shape for src/proxy/lb/hash-policy.ts; `cookie.ttl` is in milliseconds. */
export interface HashPolicy {
  readonly header?: { readonly header_name: string };
  readonly cookie?: { readonly name: string; readonly ttl?: number; readonly path?: string };
  readonly connection_properties?: { readonly source_ip: boolean };
  readonly query_parameter?: { readonly name: string };
  readonly filter_state?: { readonly key: string };
  readonly terminal: boolean;
}

export interface FaultConfig {
  readonly delay?: { readonly fixedDelayMs: number; readonly perMillion: number };
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: number; readonly perMillion: number };
  /** Faults apply only to requests matching every one of these. */
  readonly headers: readonly HeaderMatcher[];
  /** Faults apply only when the request goes to this cluster (unset: any). */
  readonly upstreamCluster?: string;
  /** Concurrent faults allowed (unset: no limit). */
  readonly maxActiveFaults?: number;
}

export interface RequestMirror {
  readonly cluster: string;
  readonly perMillion: number;
  readonly traceSampled?: boolean;
}

export interface WeightedClusterEntry {
  readonly name: string;
  readonly weight: number;
  readonly requestHeaders: HeaderMutations;
  readonly responseHeaders: HeaderMutations;
  readonly hostRewrite?: string;
}

export interface WeightedClusters {
  readonly clusters: readonly WeightedClusterEntry[];
  /** cumulative[i] = sum of weights 0..i; pick with a random integer in [0, totalWeight). */
  readonly cumulative: readonly number[];
  readonly totalWeight: number;
}

export type RedirectCode = 301 | 302 | 303 | 307 | 308;

export interface RedirectAction {
  readonly type: 'redirect';
  readonly scheme?: string;
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly prefixRewrite?: string;
  readonly regexRewrite?: { readonly regex: RegExp; readonly substitution: string };
  readonly responseCode: RedirectCode;
  readonly stripQuery: boolean;
}

export interface DirectResponseAction {
  readonly type: 'direct_response';
  readonly status: number;
  readonly body?: string | Uint8Array;
}

/** What every forwarding action has, whether to one cluster or to weighted clusters. */
export interface ForwardOptions {
  /** Request timeout; 0 disables it (Envoy's default when unset is 15 s). */
  readonly timeoutMs: number;
  /** Stream idle timeout override; undefined: the listener's. */
  readonly idleTimeoutMs?: number;
  /** max_stream_duration.max_stream_duration (0: none). */
  readonly maxStreamDurationMs: number;
  readonly prefixRewrite?: string;
  readonly regexRewrite?: { readonly regex: RegExp; readonly substitution: string };
  readonly hostRewrite?: string;
  readonly autoHostRewrite: boolean;
  readonly retry?: RetryPolicy;
  readonly mirrors: readonly RequestMirror[];
  readonly hashPolicy: readonly HashPolicy[];
  /** Upgrades enabled on this route (lowercase: `websocket`, `connect`), beyond the listener's. */
  readonly upgrades: readonly string[];
}

export interface ClusterAction extends ForwardOptions {
  readonly type: 'cluster';
  readonly cluster: string;
}

export interface WeightedClustersAction extends ForwardOptions {
  readonly type: 'weighted_clusters';
  readonly weightedClusters: WeightedClusters;
}

export type ForwardAction = ClusterAction | WeightedClustersAction;

export type RouteAction = ForwardAction | RedirectAction | DirectResponseAction;

export interface Route {
  readonly name: string;
  readonly match: RouteMatch;
  readonly action: RouteAction;
  /** The per-route (or virtual host) HTTPFault for envoy.filters.http.fault. */
  readonly fault?: FaultConfig;
  /** Route, then virtual host, then route configuration operations. */
  readonly requestHeaders: HeaderMutations;
  readonly responseHeaders: HeaderMutations;
  readonly statPrefix?: string;
  /** filter_metadata.istio.config: the Istio resource this route came from. */
  readonly istioConfig?: string;
  readonly metadata: Readonly<Record<string, JsonObject>>;
}

export interface VirtualHost {
  readonly name: string;
  /** Lowercase, as configured. */
  readonly domains: readonly string[];
  readonly routes: readonly Route[];
  readonly requireTls: 'NONE' | 'EXTERNAL_ONLY' | 'ALL';
}

/** Envoy's virtual host selection index over lowercase domains. */
export interface DomainIndex {
  readonly exact: ReadonlyMap<string, VirtualHost>;
  /** `*.example.com`: the suffix (`.example.com`), longest first. */
  readonly suffixes: readonly { readonly suffix: string; readonly host: VirtualHost }[];
  /** `example.*`: the prefix (`example.`), longest first. */
  readonly prefixes: readonly { readonly prefix: string; readonly host: VirtualHost }[];
  readonly any?: VirtualHost;
}

export interface RouteTable {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHost[];
  readonly domains: DomainIndex;
  /** Response headers that only the mesh may set (stripped from external requests). */
  readonly internalOnlyHeaders: readonly string[];
}
