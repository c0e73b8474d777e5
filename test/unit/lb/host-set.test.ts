/**
 * HostSet: how a pick's source is chosen (priorities, panic, localities), measured exactly by sweeping r over
 * [0, 1) in 100,000 even steps instead of sampling; endpoint states across rebuilds; input validation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHostSet, type HostSet, type HostSetInput, type HostSetOptions } from '../../../src/proxy/lb/host-set.js';
import { EndpointStates, type Locality } from '../../../src/proxy/lb/types.js';
import { ep, eps, key } from './helpers.js';

const STEPS = 100_000;
const zone = (z: string): Locality => ({ region: 'r1', zone: z, subZone: '' });

/** The share of r in [0, 1) that lands on each source, described as "P<priority>/<availability>[/<zone>]". */
function sourceShares(hostSet: HostSet): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < STEPS; i++) {
    const id = hostSet.chooseSource(Math.floor(((i + 0.5) / STEPS) * 2 ** 32) | 0);
    const s = hostSet.sources[id];
    const name =
      s === undefined ? 'none' : `P${s.priority}/${s.availability}${s.locality ? `/${s.locality.zone}` : ''}`;
    out[name] = (out[name] ?? 0) + 1 / STEPS;
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]! * 10_000) / 10_000;
  return out;
}

const build = (input: HostSetInput, options?: HostSetOptions) => buildHostSet(input, options);

void describe('HostSet', () => {
  void it('one healthy priority is a fixed source: no draw needed', () => {
    const hs = build({ endpoints: eps(3) });
    assert.equal(hs.fixedSource, 0);
    assert.equal(hs.fixedHashSource, 0);
    assert.deepEqual(Array.from(hs.sources[0]!.hosts), [0, 1, 2]);
    assert.equal(build({ endpoints: [] }).fixedSource, -1);
  });

  void it('priorities split 70/30 when P0 has 2 of 4 healthy; hash sources split the same way by hash % 100', () => {
    const endpoints = eps(6, (i) => ({
      priority: i < 4 ? 0 : 1,
      health: i === 1 || i === 2 ? 'UNHEALTHY' : 'HEALTHY',
    }));
    const hs = build({ endpoints });
    assert.equal(hs.fixedSource, undefined);
    assert.deepEqual(sourceShares(hs), { 'P0/healthy': 0.7, 'P1/healthy': 0.3 });
    assert.deepEqual(Array.from(hs.sources[0]!.hosts), [0, 3]);
    const hashShare = Array.from({ length: 100 }, (_, h) => hs.hashSources[hs.chooseHashSource(h)]!.priority);
    assert.equal(hashShare.filter((p) => p === 0).length, 70);
    assert.equal(hs.chooseHashSource(4_294_967_295), hs.chooseHashSource(95));
  });

  void it('the priority table is exposed for /clusters', () => {
    const endpoints = eps(5, (i) => ({ priority: i < 4 ? 0 : 2, health: i === 0 ? 'UNHEALTHY' : 'HEALTHY' }));
    assert.deepEqual(build({ endpoints }).priorities, [
      { priority: 0, hosts: 4, healthy: 3, degraded: 0, health: 100, healthyLoad: 100, degradedLoad: 0, panic: false },
      { priority: 1, hosts: 0, healthy: 0, degraded: 0, health: 0, healthyLoad: 0, degradedLoad: 0, panic: true },
      { priority: 2, hosts: 1, healthy: 1, degraded: 0, health: 100, healthyLoad: 0, degradedLoad: 0, panic: false },
    ]);
  });

  void it('a priority in panic uses all its hosts and ignores localities', () => {
    const endpoints = eps(4, (i) => ({ zone: i < 2 ? 'a' : 'b', health: i === 0 ? 'HEALTHY' : 'UNHEALTHY' }));
    const priorities = [
      [
        { locality: zone('a'), weight: 1 },
        { locality: zone('b'), weight: 1 },
      ],
    ];
    const hs = build({ endpoints, priorities }, { localityWeighted: true });
    assert.deepEqual(sourceShares(hs), { 'P0/all': 1 });
    assert.deepEqual(Array.from(hs.hashSources[0]!.hosts), [0, 1, 2, 3]);
  });

  void it("locality weights are scaled by each locality's availability: 1 * min(1, 1.4 * 1/2) against 1", () => {
    const endpoints = eps(4, (i) => ({ zone: i < 2 ? 'a' : 'b', health: i === 0 ? 'UNHEALTHY' : 'HEALTHY' }));
    const priorities = [
      [
        { locality: zone('a'), weight: 1 },
        { locality: zone('b'), weight: 1 },
      ],
    ];
    const hs = build({ endpoints, priorities }, { localityWeighted: true });
    // 0.7 / 1.7 = 0.41176: the sweep resolves the locality draw to 1/1000.
    assert.deepEqual(sourceShares(hs), { 'P0/healthy/a': 0.412, 'P0/healthy/b': 0.588 });
  });

  void it('hash sources fold the raw locality weights into host weights (Envoy ring hash / maglev)', () => {
    const endpoints = eps(4, (i) => ({ zone: i < 3 ? 'a' : 'b', weight: i === 1 ? 2 : 1 }));
    const priorities = [
      [
        { locality: zone('a'), weight: 1 },
        { locality: zone('b'), weight: 3 },
      ],
    ];
    const hs = build({ endpoints, priorities }, { localityWeighted: true });
    const source = hs.hashSources[0]!;
    assert.deepEqual(Array.from(source.hosts), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(source.weights), [1 / 16, 2 / 16, 1 / 16, 3 / 4]);
  });

  void it('a locality without a weight gets no load; without locality weighting the weights are not read', () => {
    const endpoints = eps(4, (i) => ({ zone: i < 2 ? 'a' : 'b' }));
    const priorities = [[{ locality: zone('b'), weight: 5 }]];
    assert.deepEqual(sourceShares(build({ endpoints, priorities }, { localityWeighted: true })), { 'P0/healthy/b': 1 });
    assert.deepEqual(sourceShares(build({ endpoints, priorities })), { 'P0/healthy': 1 });
    assert.deepEqual(sourceShares(build({ endpoints }, { localityWeighted: true })), { 'P0/healthy': 1 });
  });

  void it('degraded endpoints form their own source after the healthy ones', () => {
    const endpoints = eps(5, (i) => ({ health: i < 2 ? 'HEALTHY' : 'DEGRADED' }));
    assert.deepEqual(sourceShares(build({ endpoints })), { 'P0/healthy': 0.56, 'P0/degraded': 0.44 });
  });

  void it("the CLA's overprovisioning factor and weighted priority health are honoured", () => {
    const endpoints = eps(5, (i) => ({
      priority: i < 4 ? 0 : 1,
      health: i === 3 ? 'UNHEALTHY' : 'HEALTHY',
      weight: i === 3 ? 5 : 1,
    }));
    assert.deepEqual(sourceShares(build({ endpoints, overprovisioningFactor: 100 })), {
      'P0/healthy': 0.75,
      'P1/healthy': 0.25,
    });
    assert.deepEqual(sourceShares(build({ endpoints, weightedPriorityHealth: true })), {
      'P0/healthy': 0.52,
      'P1/healthy': 0.48,
    });
  });

  void it('endpoint states survive rebuilds; a departed endpoint is forgotten once nothing is in flight', () => {
    const states = new EndpointStates();
    const first = build({ endpoints: eps(3) }, { states });
    first.states[0]!.activeRequests = 2;
    first.states[1]!.activeRequests = 1;
    const second = build({ endpoints: [ep(0), ep(2), ep(5)] }, { states });
    assert.equal(second.states[0], first.states[0]);
    assert.equal(second.states[1], first.states[2]);
    assert.equal(states.get(key(1))?.activeRequests, 1);
    first.states[1]!.activeRequests = 0;
    build({ endpoints: [ep(0)] }, { states });
    assert.deepEqual(
      [key(0), key(1), key(2), key(5)].map((k) => states.get(k) !== undefined),
      [true, false, false, false],
    );
    assert.equal(states.size, 1);
  });

  void it('the input array is copied and frozen; results are frozen and carry the state', () => {
    const endpoints = eps(2);
    const hs = build({ endpoints });
    endpoints.pop();
    assert.equal(hs.endpoints.length, 2);
    assert.ok(Object.isFrozen(hs.endpoints) && Object.isFrozen(hs.results[1]));
    assert.deepEqual(hs.results[1], { type: 'complete', endpoint: ep(1), state: { activeRequests: 0 } });
  });

  void it('invalid endpoints are a bug in the caller: RangeError', () => {
    assert.throws(() => build({ endpoints: [ep(0), ep(0)] }), RangeError);
    assert.throws(() => build({ endpoints: [ep(0, { weight: 0 })] }), RangeError);
    assert.throws(() => build({ endpoints: [ep(0, { weight: 1.5 })] }), RangeError);
    assert.throws(() => build({ endpoints: [ep(0, { priority: -1 })] }), RangeError);
  });
});
