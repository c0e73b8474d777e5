/**
 * Which DestinationRule applies to a service for a proxy, and the traffic policy in force for one (port, subset).
 *
 * Precedence, as Istio's: a rule in the proxy's namespace whose workloadSelector matches the proxy, then a rule in
 * the proxy's namespace without selector, then one in the service's namespace, then any other visible rule (a rule
 * with a workloadSelector applies only to workloads in its own namespace). Within a level the most specific host
 * wins, then the first. Rules of the same level, namespace and host are merged as Istio merges them: the first
 * traffic policy, and the union of subsets (the first of a name wins).
 *
 * Traffic policy merging (Istio's MergeTrafficPolicy): a port-level setting replaces the four policies (load
 * balancer, connection pool, outlier detection, TLS) as a whole, without inheriting; a subset's policy overrides the
 * rule's field by field, then its own port-level settings apply.
 */
import type { DestinationRule, Subset } from '../../../api/kinds/destination-rule.js';
import type { TrafficPolicy } from '../../../api/kinds/traffic-policy.js';
import type { MeshService } from '../../../registry/model.js';
import { labelsMatch, namespaceOf, type Warnings } from './common.js';
import { claimsOn, resolveHost, type OutboundScope } from './scope.js';

export type LoadBalancerSettings = NonNullable<TrafficPolicy['loadBalancer']>;
export type ConnectionPoolSettings = NonNullable<TrafficPolicy['connectionPool']>;
export type OutlierDetectionSettings = NonNullable<TrafficPolicy['outlierDetection']>;
export type ClientTlsSettings = NonNullable<TrafficPolicy['tls']>;
export type ConsistentHashSettings = NonNullable<LoadBalancerSettings['consistentHash']>;

/** The policies in force for one cluster. */
export interface PortPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetectionSettings;
  tls?: ClientTlsSettings;
}

export interface EffectiveRule {
  /** The rule that won (its path goes into cluster metadata, its name into warnings). */
  readonly rule: DestinationRule;
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets: readonly Subset[];
}

interface Candidate {
  rule: DestinationRule;
  level: number;
  rank: number;
  host: string;
}

function candidates(
  scope: OutboundScope,
  service: MeshService,
  labels?: Readonly<Record<string, string>>,
): Candidate[] {
  const out: Candidate[] = [];
  for (const { item: rule, rank } of claimsOn(scope.destinationRules, service.hostname)) {
    const ns = namespaceOf(rule);
    const selector = rule.spec?.workloadSelector;
    if (selector !== undefined && ns !== scope.namespace) continue;
    if (selector !== undefined && (labels === undefined || !labelsMatch(selector.matchLabels, labels))) continue;
    const host = resolveHost(rule.spec?.host ?? '', ns, scope.view.domain);
    const level = selector !== undefined ? 0 : ns === scope.namespace ? 1 : ns === service.namespace ? 2 : 3;
    out.push({ rule, level, rank, host });
  }
  return out;
}

/**
 * Does the rule for this service depend on the proxy's labels (a workloadSelector rule in the proxy's namespace
 * claims it)? Such services are translated per proxy, not shared.
 */
export function ruleDependsOnLabels(scope: OutboundScope, service: MeshService): boolean {
  return claimsOn(scope.destinationRules, service.hostname).some(
    ({ item }) => item.spec?.workloadSelector !== undefined && namespaceOf(item) === scope.namespace,
  );
}

/** The (merged) DestinationRule for a service as seen by a proxy with `labels` (undefined: selectors never match). */
export function selectDestinationRule(
  scope: OutboundScope,
  service: MeshService,
  warnings: Warnings,
  labels?: Readonly<Record<string, string>>,
): EffectiveRule | undefined {
  const found = candidates(scope, service, labels);
  let best: Candidate | undefined;
  for (const c of found) {
    if (best === undefined || c.level < best.level || (c.level === best.level && c.rank > best.rank)) best = c;
  }
  if (best === undefined) return undefined;
  const winner = best;
  const merged = found.filter(
    (c) => c.level === winner.level && c.host === winner.host && namespaceOf(c.rule) === namespaceOf(winner.rule),
  );
  let trafficPolicy: TrafficPolicy | undefined;
  const subsets: Subset[] = [];
  const names = new Set<string>();
  for (const c of merged) {
    trafficPolicy ??= c.rule.spec?.trafficPolicy;
    for (const subset of c.rule.spec?.subsets ?? []) {
      if (names.has(subset.name)) {
        if (c.rule !== winner.rule) {
          warnings.add(c.rule, 'spec.subsets', `subset "${subset.name}" of ${service.hostname} is defined earlier`);
        }
        continue;
      }
      names.add(subset.name);
      subsets.push(subset);
    }
  }
  return { rule: winner.rule, ...(trafficPolicy !== undefined ? { trafficPolicy } : {}), subsets };
}

function policyOf(source: PortPolicy): PortPolicy {
  const out: PortPolicy = {};
  if (source.loadBalancer !== undefined) out.loadBalancer = source.loadBalancer;
  if (source.connectionPool !== undefined) out.connectionPool = source.connectionPool;
  if (source.outlierDetection !== undefined) out.outlierDetection = source.outlierDetection;
  if (source.tls !== undefined) out.tls = source.tls;
  return out;
}

/** A policy's port-level setting for `port`, replacing the four policies whole; else the policy itself. */
function atPort(policy: TrafficPolicy, port: number): PortPolicy {
  const level = policy.portLevelSettings?.find((p) => p.port.number === port);
  return policyOf(level ?? policy);
}

/** The policies in force for a port of the service, optionally in a subset. */
export function portPolicy(rule: EffectiveRule | undefined, port: number, subset?: Subset): PortPolicy {
  const base = rule?.trafficPolicy !== undefined ? atPort(rule.trafficPolicy, port) : {};
  const own = subset?.trafficPolicy;
  if (own === undefined) return base;
  const merged: PortPolicy = { ...base, ...policyOf(own) };
  const level = own.portLevelSettings?.find((p) => p.port.number === port);
  return level !== undefined ? policyOf(level) : merged;
}

/** The subset of that name, if the rule defines it. */
export function findSubset(rule: EffectiveRule | undefined, name: string): Subset | undefined {
  return rule?.subsets.find((s) => s.name === name);
}
