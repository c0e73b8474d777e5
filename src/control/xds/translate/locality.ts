/**
 * Locality-aware load balancing relative to the proxy's own locality (Istio's ApplyLocalityLoadBalancer):
 *
 * - `distribute`: the first rule whose `from` matches the proxy sets each locality group's weight to its share of
 *   the `to` percentage (split by the groups' own weights when a wildcard covers several); groups no `to` entry
 *   covers are removed.
 * - otherwise, failover (only with outlier detection, which is what lets Envoy fail over at all, and unless
 *   `enabled: false`): groups get priorities by proximity: same region/zone/sub-zone 0, same zone 1, same region 2,
 *   other regions 3, and 4 for regions other than a `failover` rule's `to` when its `from` is the proxy's region;
 *   priorities are then renumbered to be contiguous from 0.
 *
 * Locality strings are `region/zone/subZone`, where `*` (or an absent part) matches anything.
 */
import type { Locality } from '../../../registry/model.js';
import type { LoadBalancerSettings } from './destination-rules.js';

type LocalitySetting = NonNullable<LoadBalancerSettings['localityLbSetting']>;

/** A locality group being assembled for a ClusterLoadAssignment. */
export interface LocalityGroup {
  locality: Locality;
  /** Sum of the endpoints' weights (at least 1), unless `distribute` rewrote it. */
  weight: number;
  priority: number;
  endpoints: unknown[];
}

/** Does a `region/zone/subZone` pattern cover the locality? */
export function localityMatches(locality: Locality, pattern: string): boolean {
  const [region = '', zone = '', subZone = ''] = pattern.split('/');
  return (
    (region === '*' || region === locality.region) &&
    (zone === '*' || zone === '' || zone === locality.zone) &&
    (subZone === '*' || subZone === '' || subZone === locality.subZone)
  );
}

function proximity(proxy: Locality, group: Locality): number {
  if (proxy.region !== group.region) return 3;
  if (proxy.zone !== group.zone) return 2;
  return proxy.subZone === group.subZone ? 0 : 1;
}

/** Does the setting make endpoint assignments depend on the proxy's locality? */
export function localityAware(setting: LocalitySetting | undefined, outlierDetection: boolean): boolean {
  if (setting?.enabled === false) return false;
  return (setting?.distribute !== undefined && setting.distribute.length > 0) || outlierDetection;
}

function distribute(proxy: Locality, groups: LocalityGroup[], rules: LocalitySetting['distribute']): LocalityGroup[] {
  const rule = (rules ?? []).find((r) => localityMatches(proxy, r.from));
  if (rule === undefined) return groups;
  const covered = new Set<LocalityGroup>();
  for (const [pattern, percent] of Object.entries(rule.to)) {
    const matched = groups.filter((g) => !covered.has(g) && localityMatches(g.locality, pattern));
    const total = matched.reduce((sum, g) => sum + g.weight, 0);
    for (const g of matched) {
      covered.add(g);
      const share = total > 0 ? Math.ceil((g.weight * percent) / total) : 0;
      g.weight = share > 0 ? share : 0;
    }
  }
  // Envoy requires load_balancing_weight >= 1: a group given 0% or not covered gets no traffic, so it goes.
  return groups.filter((g) => covered.has(g) && g.weight > 0);
}

function failover(proxy: Locality, groups: LocalityGroup[], rules: LocalitySetting['failover']): LocalityGroup[] {
  const rule = (rules ?? []).find((r) => r.from === proxy.region);
  for (const g of groups) {
    let priority = proximity(proxy, g.locality);
    if (priority === 3 && rule !== undefined && g.locality.region !== rule.to) priority = 4;
    g.priority = priority;
  }
  const used = [...new Set(groups.map((g) => g.priority))].sort((a, b) => a - b);
  for (const g of groups) g.priority = used.indexOf(g.priority);
  return groups;
}

/** Applies the setting for a proxy at `proxy` (groups are modified in place; the kept ones are returned). */
export function applyLocalityLb(
  groups: LocalityGroup[],
  proxy: Locality | undefined,
  setting: LocalitySetting | undefined,
  outlierDetection: boolean,
): LocalityGroup[] {
  if (proxy === undefined || setting?.enabled === false) return groups;
  if (setting?.distribute !== undefined && setting.distribute.length > 0) {
    return distribute(proxy, groups, setting.distribute);
  }
  if (outlierDetection) return failover(proxy, groups, setting?.failover);
  return groups;
}
