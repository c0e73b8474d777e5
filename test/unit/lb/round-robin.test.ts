/** ROUND_ROBIN: exact sequences (equal weights, smooth weighted), the random start, the EDF schedule itself. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SmoothWeightedSchedule } from '../../../src/proxy/lb/edf.js';
import { roundRobin } from '../../../src/proxy/lb/round-robin.js';
import { configureLoadBalancer } from '../../../src/proxy/lb/registry.js';
import type { Picker } from '../../../src/proxy/lb/types.js';
import { eps, key, pickerFor } from './helpers.js';

const names = ['A', 'B', 'C', 'D'];
/** Picks n times and names each endpoint by its index letter. */
function sequence(picker: Picker, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    const r = picker.pick();
    out += r.type === 'complete' ? names[[0, 1, 2, 3].findIndex((j) => key(j) === r.endpoint.key)] : 'x';
  }
  return out;
}
const fixedRandom = (value: number) => ({ random: () => value });

void describe('ROUND_ROBIN', () => {
  void it('equal weights cycle through the endpoints in order', () => {
    const { picker } = pickerFor(roundRobin, {}, eps(3), {}, fixedRandom(0));
    assert.equal(sequence(picker, 9), 'ABCABCABC');
  });

  void it('the starting endpoint is random (here r = 0.5 starts at B), then the order is the same', () => {
    const { picker } = pickerFor(roundRobin, {}, eps(3), {}, fixedRandom(0.5));
    assert.equal(sequence(picker, 7), 'BCABCAB');
  });

  void it('weights 3:1 give the smooth sequence A A B A, repeated', () => {
    const { picker } = pickerFor(
      roundRobin,
      {},
      eps(2, (i) => ({ weight: i === 0 ? 3 : 1 })),
      {},
      fixedRandom(0),
    );
    assert.equal(sequence(picker, 16), 'AABA'.repeat(4));
  });

  void it('weights 5:1:1 spread B and C apart: A A A B C A A, repeated', () => {
    const weights = [5, 1, 1];
    const { picker } = pickerFor(
      roundRobin,
      {},
      eps(3, (i) => ({ weight: weights[i]! })),
      {},
      fixedRandom(0),
    );
    assert.equal(sequence(picker, 21), 'AAABCAA'.repeat(3));
  });

  void it('a weighted picker starts a random number (< endpoints) of picks into the schedule', () => {
    const { picker } = pickerFor(
      roundRobin,
      {},
      eps(2, (i) => ({ weight: i === 0 ? 3 : 1 })),
      {},
      fixedRandom(0.75),
    );
    assert.equal(sequence(picker, 8), 'ABAAABAA');
  });

  void it('weights 2:3:4 over one period give exactly 2, 3 and 4 picks, interleaved', () => {
    const weights = [2, 3, 4];
    const { picker } = pickerFor(
      roundRobin,
      {},
      eps(3, (i) => ({ weight: weights[i]! })),
      {},
      fixedRandom(0),
    );
    const period = sequence(picker, 9);
    assert.deepEqual(
      ['A', 'B', 'C'].map((n) => period.split(n).length - 1),
      [2, 3, 4],
    );
    assert.equal(sequence(picker, 9), period);
    assert.equal(period, 'CBACBCABC');
  });

  void it('the schedule is exact over many periods (deadlines are recomputed, never accumulated)', () => {
    const weights = Float64Array.from([7, 3, 1, 13]);
    const schedule = new SmoothWeightedSchedule(weights);
    const counts = [0, 0, 0, 0];
    const first: number[] = [];
    for (let i = 0; i < 24 * 1000; i++) {
      const position = schedule.next();
      counts[position]!++;
      if (i < 24) first.push(position);
      else assert.equal(position, first[i % 24], `pick ${i}`);
    }
    assert.deepEqual(counts, [7000, 3000, 1000, 13000]);
  });

  void it('a period too long for a table (70000:1) runs the heap: B once, exactly halfway', () => {
    const { picker } = pickerFor(
      roundRobin,
      {},
      eps(2, (i) => ({ weight: i === 0 ? 70_000 : 1 })),
      {},
      fixedRandom(0),
    );
    const period = sequence(picker, 70_001);
    assert.equal(period.indexOf('B'), 35_000);
    assert.equal(period.lastIndexOf('B'), 35_000);
    assert.equal(sequence(picker, 70_001), period);
  });

  void it('parses only an empty config: slow start is not implemented and says so', () => {
    assert.equal(configureLoadBalancer('ROUND_ROBIN', {}).ok, true);
    assert.deepEqual(configureLoadBalancer('ROUND_ROBIN', { slow_start_config: { slow_start_window: '30s' } }), {
      ok: false,
      error: 'round_robin_lb_config.slow_start_config: not supported',
    });
    assert.deepEqual(roundRobin.parseConfig(7), { ok: false, error: 'round_robin_lb_config: must be an object' });
  });
});
