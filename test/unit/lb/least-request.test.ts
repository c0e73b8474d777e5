/**
 * LEAST_REQUEST: power of two choices under skewed active requests (exact expected shares, ±1 point over 100k
 * seeded picks), weighted EDF with Envoy's weight / (active + 1)^bias, and the data path's counts across rebuilds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointStates } from '../../../src/proxy/lb/types.js';
import { seededRandom } from '../../../src/proxy/lb/hash.js';
import { buildHostSet } from '../../../src/proxy/lb/host-set.js';
import { leastRequest, type LeastRequestConfig } from '../../../src/proxy/lb/least-request.js';
import type { LbEndpoint } from '../../../src/proxy/lb/types.js';
import { N, TOLERANCE } from './conformance.js';
import { assertShares, countPicks, eps, key } from './helpers.js';

const DEFAULT: LeastRequestConfig = { choiceCount: 2, activeRequestBias: 1 };

/** A picker over `endpoints` whose active request counts are `active`. */
function withActive(endpoints: LbEndpoint[], active: number[], config = DEFAULT) {
  const states = new EndpointStates();
  endpoints.forEach((e, i) => (states.acquire(e.key).activeRequests = active[i]!));
  const hostSet = buildHostSet({ endpoints }, { states });
  return { picker: leastRequest.build(hostSet, config, { random: seededRandom(3) }), states };
}

void describe('LEAST_REQUEST', () => {
  void it('two endpoints, one busy: the busy one is picked only when both choices land on it (25%)', () => {
    const { picker } = withActive(eps(2), [5, 0]);
    assertShares(countPicks(picker, N), { [key(0)]: 0.25, [key(1)]: 0.75 }, N, TOLERANCE);
  });

  void it('active 0, 5, 10 of three: shares 5/9, 3/9, 1/9 (the min of two uniform draws)', () => {
    const { picker } = withActive(eps(3), [0, 5, 10]);
    assertShares(countPicks(picker, N), { [key(0)]: 5 / 9, [key(1)]: 3 / 9, [key(2)]: 1 / 9 }, N, TOLERANCE);
  });

  void it('choice_count 3 makes the idle one win more often: 1 - (1/2)^3 = 87.5%', () => {
    const { picker } = withActive(eps(2), [1, 0], { choiceCount: 3, activeRequestBias: 1 });
    assertShares(countPicks(picker, N), { [key(0)]: 0.125, [key(1)]: 0.875 }, N, TOLERANCE);
  });

  void it('equal active counts tie to the first draw: uniform', () => {
    const { picker } = withActive(eps(4), [3, 3, 3, 3]);
    assertShares(countPicks(picker, N), Object.fromEntries([0, 1, 2, 3].map((i) => [key(i), 0.25])), N, TOLERANCE);
  });

  void it('weights 2:1 with active 3 and 0: effective 2/4 against 1/1, so shares 1/3 and 2/3', () => {
    const { picker } = withActive(
      eps(2, (i) => ({ weight: i === 0 ? 2 : 1 })),
      [3, 0],
    );
    assertShares(countPicks(picker, N), { [key(0)]: 1 / 3, [key(1)]: 2 / 3 }, N, TOLERANCE);
  });

  void it('active_request_bias 0 ignores the counts: plain weighted round robin (2:1)', () => {
    const { picker } = withActive(
      eps(2, (i) => ({ weight: i === 0 ? 2 : 1 })),
      [3, 0],
      {
        choiceCount: 2,
        activeRequestBias: 0,
      },
    );
    assertShares(countPicks(picker, N), { [key(0)]: 2 / 3, [key(1)]: 1 / 3 }, N, TOLERANCE);
  });

  void it('bias 2 weighs the counts more: 2/(3+1)^2 against 1 -> shares 1/9 and 8/9', () => {
    const { picker } = withActive(
      eps(2, (i) => ({ weight: i === 0 ? 2 : 1 })),
      [3, 0],
      {
        choiceCount: 2,
        activeRequestBias: 2,
      },
    );
    assertShares(countPicks(picker, N), { [key(0)]: 1 / 9, [key(1)]: 8 / 9 }, N, TOLERANCE);
  });

  void it('with the data path counting, requests that never finish stay balanced within 2 per endpoint', () => {
    const { picker, states } = withActive(eps(10), new Array<number>(10).fill(0));
    for (let i = 0; i < 10_000; i++) {
      const r = picker.pick();
      assert.equal(r.type, 'complete');
      if (r.type === 'complete') r.state.activeRequests++;
    }
    const active = Array.from({ length: 10 }, (_, i) => states.get(key(i))!.activeRequests);
    assert.ok(Math.max(...active) - Math.min(...active) <= 2, `active ${active.join(' ')}`);
  });

  void it('the counts survive a rebuild: a slow endpoint that stays is still avoided by the new picker', () => {
    const states = new EndpointStates();
    const first = buildHostSet({ endpoints: eps(2) }, { states });
    const r = leastRequest.build(first, DEFAULT, {}).pick();
    assert.equal(r.type, 'complete');
    if (r.type === 'complete') r.state.activeRequests += 100;
    const second = buildHostSet({ endpoints: eps(3) }, { states });
    const busy = r.type === 'complete' ? r.endpoint.key : '';
    assert.equal(states.get(busy)!.activeRequests, 100);
    const counts = countPicks(leastRequest.build(second, DEFAULT, { random: seededRandom(5) }), N);
    assert.ok((counts.get(busy) ?? 0) / N <= 1 / 9 + TOLERANCE, `busy endpoint share ${counts.get(busy)}`);
  });

  void it('parses choice_count and active_request_bias (plain, wrapped or RuntimeDouble) and rejects the rest', () => {
    assert.deepEqual(leastRequest.parseConfig(undefined), { ok: true, value: DEFAULT });
    assert.deepEqual(
      leastRequest.parseConfig({ choice_count: { value: 4 }, active_request_bias: { default_value: 1.5 } }),
      { ok: true, value: { choiceCount: 4, activeRequestBias: 1.5 } },
    );
    assert.deepEqual(leastRequest.parseConfig({ choiceCount: 3 }), {
      ok: true,
      value: { choiceCount: 3, activeRequestBias: 1 },
    });
    assert.deepEqual(leastRequest.parseConfig({ choice_count: 1 }), {
      ok: false,
      error: 'least_request_lb_config.choice_count: must be 2..100',
    });
    assert.deepEqual(leastRequest.parseConfig({ slow_start_config: {} }), {
      ok: false,
      error: 'least_request_lb_config.slow_start_config: not supported',
    });
  });
});
