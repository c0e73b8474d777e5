/** RANDOM: uniform and weighted (Vose alias table) draws, and the alias table's exact probabilities. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { random, AliasTable } from '../../../src/proxy/lb/random.js';
import { N, TOLERANCE } from './conformance.js';
import { assertShares, countPicks, eps, key, pickerFor } from './helpers.js';

/** The probability of each position implied by an alias table. */
function probabilities(table: AliasTable): number[] {
  const n = table.prob.length;
  const p = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    p[i]! += table.prob[i]! / n;
    p[table.alias[i]!]! += (1 - table.prob[i]!) / n;
  }
  return p;
}

void describe('RANDOM', () => {
  void it('equal weights: each of 10 endpoints gets 10% ± 1 point', () => {
    const { picker } = pickerFor(random, {}, eps(10));
    assertShares(countPicks(picker, N), Object.fromEntries(eps(10).map((e) => [e.key, 0.1])), N, TOLERANCE);
  });

  void it('the alias table reproduces the weights exactly', () => {
    for (const weights of [
      [1, 2, 5],
      [1, 1, 1, 97],
      [3, 3, 3],
      [10, 1],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ]) {
      const total = weights.reduce((s, w) => s + w, 0);
      const p = probabilities(new AliasTable(Float64Array.from(weights), total));
      p.forEach((x, i) => assert.ok(Math.abs(x - weights[i]! / total) < 1e-12, `${weights.join(':')} at ${i}: ${x}`));
    }
  });

  void it('the alias pick maps every r in [0, 1) to a valid position, the share of each matching its weight', () => {
    const table = new AliasTable(Float64Array.from([1, 3]), 4);
    const counts = [0, 0];
    for (let i = 0; i < 1000; i++) counts[table.pick(Math.floor((i / 1000) * 2 ** 32) | 0)]!++;
    assert.deepEqual(counts, [250, 750]);
  });

  void it('a skewed weight (1:1:1:97) keeps the small ones at 1% each', () => {
    const weights = [1, 1, 1, 97];
    const { picker } = pickerFor(
      random,
      {},
      eps(4, (i) => ({ weight: weights[i]! })),
    );
    const expected = Object.fromEntries(weights.map((w, i) => [key(i), w / 100]));
    assertShares(countPicks(picker, N), expected, N, 0.002);
  });

  void it('has no config of its own', () => {
    assert.deepEqual(random.parseConfig(undefined), { ok: true, value: {} });
    assert.deepEqual(random.parseConfig({ x: 1 }), { ok: false, error: 'random_lb_config.x: not supported' });
  });
});
