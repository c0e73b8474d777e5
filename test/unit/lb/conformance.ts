/**
 * The load-balancer conformance suite: every policy runs it unchanged through `lbConformance(name, factory,
 * config)`. Distributions are measured over N = 100,000 picks with a seeded random source (so every run sees the
 * same numbers) and must be within TOLERANCE = ±1 percentage point of the stated share; sampling noise at this N
 * is at most 0.16 points (one standard deviation at a 50% share). Hash policies get no hash here, so they pick a
 * random point as Envoy does; their own tests cover hashing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointStates } from '../../../src/proxy/lb/types.js';
import { seededRandom } from '../../../src/proxy/lb/hash.js';
import { buildHostSet } from '../../../src/proxy/lb/host-set.js';
import type { LoadBalancerFactory, PickResult } from '../../../src/proxy/lb/types.js';
import { assertShares, countPicks, ep, eps, key, pickerFor } from './helpers.js';

export const N = 100_000;
export const TOLERANCE = 0.01;

const even = (keys: number[], total = 1): Record<string, number> =>
  Object.fromEntries(keys.map((i) => [key(i), total / keys.length]));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export function lbConformance<C>(name: string, factory: LoadBalancerFactory<C>, config: C): void {
  const picker = (...args: Parameters<typeof pickerFor<C>> extends [unknown, unknown, ...infer R] ? R : never) =>
    pickerFor(factory, config, ...args).picker;

  void describe(`LB conformance: ${name}`, () => {
    void it('an empty host set fails every pick with no_healthy_upstream', () => {
      const p = picker([]);
      assert.deepEqual(p.pick(), { type: 'fail', reason: 'no_healthy_upstream' });
      assert.deepEqual(p.pick({ hash: 12345 }), { type: 'fail', reason: 'no_healthy_upstream' });
    });

    void it('all unhealthy with panic disabled (threshold 0, what Istio sends) fails', () => {
      const p = picker(
        eps(4, () => ({ health: 'UNHEALTHY' })),
        { panicThresholdPercent: 0 },
      );
      assert.deepEqual(countPicks(p, 1000), new Map([['fail', 1000]]));
    });

    void it('all unhealthy under the default 50% threshold is panic: every endpoint takes its share', () => {
      const counts = countPicks(picker(eps(4, () => ({ health: 'UNHEALTHY' }))), N);
      assertShares(counts, even(range(4)), N, TOLERANCE);
    });

    void it('below the panic threshold (4 of 10 healthy < 50%) picks among all, healthy or not', () => {
      const counts = countPicks(picker(eps(10, (i) => ({ health: i < 4 ? 'HEALTHY' : 'UNHEALTHY' }))), N);
      assertShares(counts, even(range(10)), N, TOLERANCE);
    });

    void it('with enough healthy endpoints (7 of 10) the unhealthy ones are never picked', () => {
      const counts = countPicks(picker(eps(10, (i) => ({ health: i < 7 ? 'HEALTHY' : 'UNHEALTHY' }))), N);
      assertShares(counts, even(range(7)), N, TOLERANCE);
    });

    void it('UNKNOWN counts as healthy; DEGRADED endpoints take only what the healthy ones cannot (56/44)', () => {
      // 2 healthy of 5: health 140*2/5 = 56; degraded 3 of 5: 84 -> the remaining 44% go to the degraded ones.
      const health = ['HEALTHY', 'UNKNOWN', 'DEGRADED', 'DEGRADED', 'DEGRADED'] as const;
      const counts = countPicks(picker(eps(5, (i) => ({ health: health[i]! }))), N);
      assertShares(counts, { ...even([0, 1], 0.56), ...even([2, 3, 4], 0.44) }, N, TOLERANCE);
    });

    void it('endpoint weights 1:2:5 give shares 12.5%, 25%, 62.5%', () => {
      const weights = [1, 2, 5];
      const counts = countPicks(picker(eps(3, (i) => ({ weight: weights[i]! }))), N);
      assertShares(counts, { [key(0)]: 1 / 8, [key(1)]: 2 / 8, [key(2)]: 5 / 8 }, N, TOLERANCE);
    });

    void it('priority failover: all of P0 unhealthy sends everything to P1', () => {
      const endpoints = eps(5, (i) => (i < 2 ? { priority: 0, health: 'UNHEALTHY' } : { priority: 1 }));
      assertShares(countPicks(picker(endpoints), N), even([2, 3, 4]), N, TOLERANCE);
    });

    void it('priority failover: P0 at 2 of 4 healthy keeps 140% * 2/4 = 70%, P1 takes 30%', () => {
      const spec = (i: number) =>
        i < 4 ? { priority: 0, health: i < 2 ? ('HEALTHY' as const) : ('UNHEALTHY' as const) } : { priority: 1 };
      const endpoints = eps(7, spec);
      const { hostSet } = pickerFor(factory, config, endpoints);
      assert.deepEqual(
        hostSet.priorities.map((p) => [p.healthyLoad, p.panic]),
        [
          [70, false],
          [30, false],
        ],
      );
      assertShares(countPicks(picker(endpoints), N), { ...even([0, 1], 0.7), ...even([4, 5, 6], 0.3) }, N, TOLERANCE);
    });

    void it('locality weights 1:3 split the load 25/75 across zones, evenly inside each', () => {
      const endpoints = eps(4, (i) => ({ zone: i < 2 ? 'a' : 'b' }));
      const locality = (zone: string) => ({ region: 'r1', zone, subZone: '' });
      const priorities = [
        [
          { locality: locality('a'), weight: 1 },
          { locality: locality('b'), weight: 3 },
        ],
      ];
      const counts = countPicks(picker({ endpoints, priorities }, { localityWeighted: true }), N);
      assertShares(counts, { ...even([0, 1], 0.25), ...even([2, 3], 0.75) }, N, TOLERANCE);
    });

    void it('a picker is immutable: building and using a new one leaves the old one unchanged', () => {
      const states = new EndpointStates();
      const first = buildHostSet({ endpoints: eps(4, (i) => ({ weight: i + 1 })) }, { states });
      const old = factory.build(first, config, { random: seededRandom(7) });
      const twin = factory.build(first, config, { random: seededRandom(7) });
      const replaced = buildHostSet({ endpoints: [ep(2), ep(3, { health: 'UNHEALTHY' }), ep(8), ep(9)] }, { states });
      const next = factory.build(replaced, config, { random: seededRandom(8) });
      const nextKeys = new Set<string>();
      for (let i = 0; i < 1000; i++) {
        const r = next.pick({ hash: i * 2654435761 });
        if (r.type === 'complete') nextKeys.add(r.endpoint.key);
      }
      assert.deepEqual([...nextKeys].sort(), [key(2), key(8), key(9)]);
      const keysOf = (results: PickResult[]) => results.map((r) => (r.type === 'complete' ? r.endpoint.key : 'fail'));
      const picks = (p: typeof old) => keysOf(Array.from({ length: 2000 }, (_, i) => p.pick({ hash: i * 40503 })));
      assert.deepEqual(picks(old), picks(twin));
      assert.ok(picks(old).every((k) => [0, 1, 2, 3].map(key).includes(k)));
    });

    void it('results are precomputed: the same endpoint yields the same frozen object with its EndpointState', () => {
      const states = new EndpointStates();
      const p = factory.build(buildHostSet({ endpoints: [ep(0)] }, { states }), config, {});
      const a = p.pick();
      const b = p.pick({ hash: 99 });
      assert.equal(a, b);
      assert.ok(Object.isFrozen(a));
      assert.equal(a.type === 'complete' ? a.state : undefined, states.get(key(0)));
    });
  });
}
