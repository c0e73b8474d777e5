/** Envoy's priority arithmetic, exact: the tables from Envoy's priority-levels documentation and the corner cases. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computePriorityLoads, type PriorityCounts } from '../../../src/proxy/lb/priority-load.js';

/** A priority of `hosts` hosts (weight 1 unless given) with `healthy` healthy and `degraded` degraded ones. */
function level(hosts: number, healthy: number, degraded = 0, weights?: PriorityCounts): PriorityCounts {
  return weights ?? { hosts, healthy, degraded, hostsWeight: hosts, healthyWeight: healthy, degradedWeight: degraded };
}
const ENVOY = { overprovisioningFactor: 140, panicThreshold: 50, weightedPriorityHealth: false };
const NO_PANIC = { ...ENVOY, panicThreshold: 0 };
const loads = (levels: PriorityCounts[], options = ENVOY) => {
  const l = computePriorityLoads(levels, options);
  return { healthy: l.healthy, degraded: l.degraded, panic: l.panic };
};

void describe('priority loads', () => {
  void it("P0's health against a healthy P1: Envoy's table (100, 72, 71, 50, 25, 0 percent healthy)", () => {
    const rows: [number, number][] = [
      [100, 100],
      [72, 100],
      [71, 99],
      [50, 70],
      [25, 35],
      [0, 0],
    ];
    for (const [percent, p0] of rows) {
      const l = loads([level(100, percent), level(100, 100)], NO_PANIC);
      assert.deepEqual(l.healthy, [p0, 100 - p0], `P0 ${percent}% healthy`);
    }
  });

  void it('three priorities at 20%, 20%, 100% healthy: 28/28/44', () => {
    assert.deepEqual(loads([level(10, 2), level(10, 2), level(10, 10)], NO_PANIC).healthy, [28, 28, 44]);
  });

  void it('when the total health is under 100 it is normalised, the rounding remainder going to P0', () => {
    // health 28 + 28 + 28 = 84: each gets floor(28 * 100 / 84) = 33, the remaining 1 goes to P0.
    assert.deepEqual(loads([level(10, 2), level(10, 2), level(10, 2)], NO_PANIC).healthy, [34, 33, 33]);
  });

  void it('degraded hosts take what healthy ones leave: 2 healthy + 3 degraded of 5 -> 56 healthy, 44 degraded', () => {
    assert.deepEqual(loads([level(5, 2, 3)]), { healthy: [56], degraded: [44], panic: [false] });
  });

  void it('a degraded P0 comes after a healthy P1', () => {
    // P0: 0 healthy, 5 degraded (health 0, degraded 100); P1: 1 healthy of 2 (health 70).
    assert.deepEqual(loads([level(5, 0, 5), level(2, 1)]), {
      healthy: [0, 70],
      degraded: [30, 0],
      panic: [false, false],
    });
  });

  void it('a priority below the threshold is in panic but keeps its health-based share', () => {
    // P0 1 of 4 healthy: 25% < 50% -> panic; its 35% goes to all four of its hosts. P1 is fine.
    assert.deepEqual(loads([level(4, 1), level(2, 2)]), { healthy: [35, 65], degraded: [0, 0], panic: [true, false] });
  });

  void it('every priority in panic: the load is split by host count, the remainder to the first non-empty one', () => {
    assert.deepEqual(loads([level(4, 1), level(2, 0)]), { healthy: [67, 33], degraded: [0, 0], panic: [true, true] });
    assert.deepEqual(loads([level(0, 0), level(3, 0)]).healthy, [0, 100]);
  });

  void it('panic disabled and nothing available: P0 takes 100% (and its pick fails)', () => {
    assert.deepEqual(loads([level(3, 0), level(2, 0)], NO_PANIC), {
      healthy: [100, 0],
      degraded: [0, 0],
      panic: [false, false],
    });
  });

  void it('the threshold compares exactly: 50% healthy is not in panic at 50, 49% is', () => {
    assert.deepEqual(loads([level(100, 50), level(1, 1)]).panic, [false, false]);
    assert.deepEqual(loads([level(100, 49), level(1, 1)]).panic, [true, false]);
  });

  void it('weighted_priority_health uses host weights: weights 3 and 1, only the 1 healthy -> 35 instead of 70', () => {
    const weighted: PriorityCounts = {
      hosts: 2,
      healthy: 1,
      degraded: 0,
      hostsWeight: 4,
      healthyWeight: 1,
      degradedWeight: 0,
    };
    const options = { ...NO_PANIC, weightedPriorityHealth: true };
    assert.deepEqual(loads([weighted, level(1, 1)], options).healthy, [35, 65]);
    assert.deepEqual(loads([weighted, level(1, 1)], NO_PANIC).healthy, [70, 30]);
  });

  void it('another overprovisioning factor (100) makes health proportional', () => {
    assert.deepEqual(loads([level(4, 3), level(1, 1)], { ...NO_PANIC, overprovisioningFactor: 100 }).healthy, [75, 25]);
  });

  void it('no priorities at all: no load', () => {
    assert.deepEqual(loads([]), { healthy: [], degraded: [], panic: [] });
  });
});
