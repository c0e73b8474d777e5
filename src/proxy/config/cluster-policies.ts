/**
 * A Cluster's policies, decoded with Envoy's defaults filled in: the load-balancing policy (legacy `lb_policy` with
 * its `*_lb_config`, or `load_balancing_policy` extensions, first supported one wins, `wrr_locality` unwrapped),
 * circuit-breaker thresholds (DEFAULT priority), outlier detection, and upstream HTTP protocol options.
 * Policy names follow Envoy's extension names (`round_robin`, `least_request`, `ring_hash`, `maglev`, `random`),
 * the keys of src/proxy/lb/'s registry, which checks each decoded policy: what it cannot balance by is NACKed here.
 */
import { configureLoadBalancer } from '../lb/registry.js';
import {
  at,
  durationMs,
  enumOf,
  extensionConfig,
  fail,
  messages,
  num,
  obj,
  unsupported,
  wrapped,
  type Json,
} from './read.js';

export interface SlowStart {
  readonly windowMs: number;
  /** Envoy's default 1.0 (linear). */
  readonly aggression: number;
  /** Envoy's default 10. */
  readonly minWeightPercent: number;
}

export type LbPolicy =
  | { readonly name: 'round_robin'; readonly config: { readonly slowStart?: SlowStart } }
  | {
      readonly name: 'least_request';
      readonly config: {
        readonly choiceCount: number;
        readonly activeRequestBias: number;
        readonly slowStart?: SlowStart;
      };
    }
  | { readonly name: 'random'; readonly config: Readonly<Record<string, never>> }
  | {
      readonly name: 'ring_hash';
      readonly config: {
        readonly minimumRingSize: number;
        readonly maximumRingSize: number;
        readonly hashFunction: 'XX_HASH' | 'MURMUR_HASH_2';
      };
    }
  | { readonly name: 'maglev'; readonly config: { readonly tableSize: number } };

export interface LbSettings {
  readonly policy: LbPolicy;
  /** common_lb_config.healthy_panic_threshold (Envoy's default 50; 0 disables panic mode). */
  readonly panicThresholdPercent: number;
  /** Locality-weighted balancing (locality_weighted_lb_config, or a wrr_locality policy). */
  readonly localityWeighted: boolean;
}

export interface CircuitBreakers {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

export interface OutlierDetection {
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  readonly consecutive5xx: number;
  readonly enforcingConsecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly enforcingConsecutiveGatewayFailure: number;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly consecutiveLocalOriginFailure: number;
  readonly enforcingConsecutiveLocalOriginFailure: number;
  readonly enforcingSuccessRate: number;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  readonly successRateStdevFactor: number;
  readonly enforcingFailurePercentage: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
}

const LB_PREFIX = 'envoy.extensions.load_balancing_policies.';

function slowStart(value: unknown, path: string): SlowStart | undefined {
  const o = obj(value, path);
  if (o === undefined) return undefined;
  return {
    windowMs: durationMs(o.slow_start_window, at(path, 'slow_start_window')) ?? 0,
    aggression:
      num(obj(o.aggression, at(path, 'aggression'))?.default_value, at(path, 'aggression.default_value')) ?? 1,
    minWeightPercent:
      num(obj(o.min_weight_percent, at(path, 'min_weight_percent'))?.value, at(path, 'min_weight_percent.value')) ?? 10,
  };
}

function withSlowStart(value: unknown, path: string): { slowStart?: SlowStart } {
  const s = slowStart(value, path);
  return s !== undefined ? { slowStart: s } : {};
}

function leastRequest(o: Json, path: string): LbPolicy {
  const choiceCount = wrapped(o.choice_count, at(path, 'choice_count')) ?? 2;
  if (choiceCount < 2) fail(at(path, 'choice_count'), 'must be at least 2');
  const bias = num(
    obj(o.active_request_bias, at(path, 'active_request_bias'))?.default_value,
    at(path, 'active_request_bias.default_value'),
  );
  return {
    name: 'least_request',
    config: {
      choiceCount,
      activeRequestBias: bias ?? 1,
      ...withSlowStart(o.slow_start_config, at(path, 'slow_start_config')),
    },
  };
}

function ringHash(o: Json, path: string, hashDefault: 'DEFAULT_HASH' | 'XX_HASH'): LbPolicy {
  const min = wrapped(o.minimum_ring_size, at(path, 'minimum_ring_size')) ?? 1024;
  const max = wrapped(o.maximum_ring_size, at(path, 'maximum_ring_size')) ?? 8_388_608;
  if (min < 1 || max > 8_388_608 || min > max) {
    fail(path, `ring sizes must satisfy 1 <= minimum (${min}) <= maximum (${max}) <= 8388608`);
  }
  const names =
    hashDefault === 'XX_HASH'
      ? (['XX_HASH', 'MURMUR_HASH_2'] as const)
      : (['DEFAULT_HASH', 'XX_HASH', 'MURMUR_HASH_2'] as const);
  const fn = enumOf(o.hash_function, at(path, 'hash_function'), names);
  return {
    name: 'ring_hash',
    config: {
      minimumRingSize: min,
      maximumRingSize: max,
      hashFunction: fn === 'MURMUR_HASH_2' ? 'MURMUR_HASH_2' : 'XX_HASH',
    },
  };
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function maglev(o: Json, path: string): LbPolicy {
  const tableSize = wrapped(o.table_size, at(path, 'table_size')) ?? 65537;
  if (!isPrime(tableSize) || tableSize > 5_000_011)
    fail(at(path, 'table_size'), `${tableSize} must be a prime no larger than 5000011`);
  return { name: 'maglev', config: { tableSize } };
}

/** One `load_balancing_policy` extension, or undefined when the sidecar does not implement it. */
function extensionPolicy(value: unknown, path: string): { policy: LbPolicy; localityWeighted: boolean } | undefined {
  const ext = extensionConfig(value, path);
  if (!ext.type.startsWith(LB_PREFIX)) return undefined;
  const kind = ext.type.slice(LB_PREFIX.length).split('.')[0];
  const config = ext.config ?? {};
  if (ext.config === undefined && kind !== 'random')
    fail(path, `${ext.type} could not be read (send it as a TypedStruct)`);
  switch (kind) {
    case 'round_robin':
      return {
        policy: { name: 'round_robin', config: withSlowStart(config.slow_start_config, at(path, 'slow_start_config')) },
        localityWeighted: false,
      };
    case 'least_request':
      return { policy: leastRequest(config, path), localityWeighted: false };
    case 'random':
      return { policy: { name: 'random', config: {} }, localityWeighted: false };
    case 'ring_hash':
      return { policy: ringHash(config, path, 'DEFAULT_HASH'), localityWeighted: false };
    case 'maglev':
      return { policy: maglev(config, path), localityWeighted: false };
    case 'wrr_locality': {
      const inner = loadBalancingPolicy(config.endpoint_picking_policy, at(path, 'endpoint_picking_policy'));
      return { policy: inner.policy, localityWeighted: true };
    }
    default:
      return undefined;
  }
}

/** envoy.config.cluster.v3.LoadBalancingPolicy: the first policy the sidecar implements. */
function loadBalancingPolicy(value: unknown, path: string): { policy: LbPolicy; localityWeighted: boolean } {
  const policies = messages(obj(value, path)?.policies, at(path, 'policies'));
  for (const { item, path: p } of policies) {
    const ext = obj(item.typed_extension_config, at(p, 'typed_extension_config')) ?? {};
    const found = extensionPolicy(ext.typed_config, at(p, 'typed_extension_config.typed_config'));
    if (found !== undefined) return found;
  }
  fail(
    at(path, 'policies'),
    'no supported policy (round_robin, least_request, random, ring_hash, maglev, wrr_locality)',
  );
}

/** lb_policy / load_balancing_policy and common_lb_config. */
export function lbSettings(o: Json): LbSettings {
  unsupported(o, '', ['lb_subset_config', 'original_dst_lb_config']);
  const common = obj(o.common_lb_config, 'common_lb_config') ?? {};
  unsupported(common, 'common_lb_config', ['consistent_hashing_lb_config', 'override_host_status']);
  const panic = obj(common.healthy_panic_threshold, 'common_lb_config.healthy_panic_threshold');
  const panicThresholdPercent =
    panic === undefined ? 50 : (num(panic.value, 'common_lb_config.healthy_panic_threshold.value') ?? 0);
  let localityWeighted =
    obj(common.locality_weighted_lb_config, 'common_lb_config.locality_weighted_lb_config') !== undefined;
  let policy: LbPolicy;
  if (o.load_balancing_policy !== undefined) {
    const found = loadBalancingPolicy(o.load_balancing_policy, 'load_balancing_policy');
    policy = found.policy;
    localityWeighted ||= found.localityWeighted;
  } else {
    const legacy = enumOf(o.lb_policy, 'lb_policy', [
      'ROUND_ROBIN',
      'LEAST_REQUEST',
      'RING_HASH',
      'RANDOM',
      'MAGLEV',
    ] as const);
    if (legacy === 'ROUND_ROBIN') {
      const rr = obj(o.round_robin_lb_config, 'round_robin_lb_config') ?? {};
      policy = {
        name: 'round_robin',
        config: withSlowStart(rr.slow_start_config, 'round_robin_lb_config.slow_start_config'),
      };
    } else if (legacy === 'LEAST_REQUEST')
      policy = leastRequest(obj(o.least_request_lb_config, 'least_request_lb_config') ?? {}, 'least_request_lb_config');
    else if (legacy === 'RING_HASH')
      policy = ringHash(obj(o.ring_hash_lb_config, 'ring_hash_lb_config') ?? {}, 'ring_hash_lb_config', 'XX_HASH');
    else if (legacy === 'MAGLEV')
      policy = maglev(obj(o.maglev_lb_config, 'maglev_lb_config') ?? {}, 'maglev_lb_config');
    else policy = { name: 'random', config: {} };
  }
  // The load balancers decide what they can do with a config (src/proxy/lb/registry.ts): their "no" is a NACK.
  const configured = configureLoadBalancer(policy.name, policy.config);
  if (!configured.ok) {
    fail(o.load_balancing_policy !== undefined ? 'load_balancing_policy' : 'lb_policy', configured.error);
  }
  return { policy, panicThresholdPercent, localityWeighted };
}

/** circuit_breakers: the DEFAULT-priority thresholds (Envoy's defaults 1024 / 1024 / 1024 / 3). */
export function circuitBreakers(value: unknown): CircuitBreakers {
  const path = 'circuit_breakers';
  const thresholds = messages(obj(value, path)?.thresholds, at(path, 'thresholds'));
  const found = thresholds.find(
    ({ item, path: p }) => enumOf(item.priority, at(p, 'priority'), ['DEFAULT', 'HIGH'] as const) === 'DEFAULT',
  );
  const t = found?.item ?? {};
  const p = found?.path ?? at(path, 'thresholds[0]');
  unsupported(t, p, ['retry_budget']);
  return {
    maxConnections: wrapped(t.max_connections, at(p, 'max_connections')) ?? 1024,
    maxPendingRequests: wrapped(t.max_pending_requests, at(p, 'max_pending_requests')) ?? 1024,
    maxRequests: wrapped(t.max_requests, at(p, 'max_requests')) ?? 1024,
    maxRetries: wrapped(t.max_retries, at(p, 'max_retries')) ?? 3,
  };
}

/** outlier_detection with Envoy's defaults for every field left unset. */
export function outlierDetection(value: unknown): OutlierDetection | undefined {
  const path = 'outlier_detection';
  const o = obj(value, path);
  if (o === undefined) return undefined;
  const w = (field: string, fallback: number): number => wrapped(o[field], at(path, field)) ?? fallback;
  const d = (field: string, fallback: number): number => durationMs(o[field], at(path, field)) ?? fallback;
  const pct = (field: string, fallback: number): number => {
    const v = w(field, fallback);
    if (v > 100) fail(at(path, field), 'must be at most 100');
    return v;
  };
  return {
    intervalMs: d('interval', 10_000),
    baseEjectionTimeMs: d('base_ejection_time', 30_000),
    maxEjectionTimeMs: d('max_ejection_time', 300_000),
    maxEjectionPercent: pct('max_ejection_percent', 10),
    consecutive5xx: w('consecutive_5xx', 5),
    enforcingConsecutive5xx: pct('enforcing_consecutive_5xx', 100),
    consecutiveGatewayFailure: w('consecutive_gateway_failure', 5),
    enforcingConsecutiveGatewayFailure: pct('enforcing_consecutive_gateway_failure', 0),
    splitExternalLocalOriginErrors: o.split_external_local_origin_errors === true,
    consecutiveLocalOriginFailure: w('consecutive_local_origin_failure', 5),
    enforcingConsecutiveLocalOriginFailure: pct('enforcing_consecutive_local_origin_failure', 100),
    enforcingSuccessRate: pct('enforcing_success_rate', 100),
    successRateMinimumHosts: w('success_rate_minimum_hosts', 5),
    successRateRequestVolume: w('success_rate_request_volume', 100),
    successRateStdevFactor: w('success_rate_stdev_factor', 1900),
    enforcingFailurePercentage: pct('enforcing_failure_percentage', 0),
    failurePercentageThreshold: pct('failure_percentage_threshold', 85),
    failurePercentageMinimumHosts: w('failure_percentage_minimum_hosts', 5),
    failurePercentageRequestVolume: w('failure_percentage_request_volume', 50),
  };
}
