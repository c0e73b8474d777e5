/**
 * MAGLEV: stable mapping, even and weighted table shares, key movement when one of 10 endpoints goes and comes
 * back.
 *
 * What Maglev guarantees: the table is a function of the endpoint set, so adding an endpoint back restores every
 * key; each of n equal endpoints owns floor(M/n) or ceil(M/n) entries, so shares are even to 1/M; when one goes,
 * its keys move and a few others do too (the paper's disruption): with 10 endpoints and M = 65537 at least 99% of
 * the keys not on the removed endpoint keep theirs (measured 99.6% worst case over the 10 removals), so a single
 * removal keeps at least 88.5% of all keys and the average over the 10 removals is at least 89.5%.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHostSet } from '../../../src/proxy/lb/host-set.js';
import { seededRandom } from '../../../src/proxy/lb/hash.js';
import type { MaglevPicker } from '../../../src/proxy/lb/maglev.js';
import { isPrime, maglev, type MaglevConfig } from '../../../src/proxy/lb/maglev.js';
import type { LbEndpoint } from '../../../src/proxy/lb/types.js';
import { N, TOLERANCE } from './conformance.js';
import { assertShares, countPicks, eps, keyHashes, mapKeys, movement } from './helpers.js';

const DEFAULT: MaglevConfig = { tableSize: 65537 };
const KEYS = keyHashes(10_000);

function table(endpoints: LbEndpoint[], config = DEFAULT): MaglevPicker {
  return maglev.build(buildHostSet({ endpoints }), config, { random: seededRandom(1) }) as MaglevPicker;
}

/** Entries per endpoint key. */
function entries(p: MaglevPicker, endpoints: LbEndpoint[]): number[] {
  const counts = new Array<number>(endpoints.length).fill(0);
  for (const host of p.tables[0]!) counts[host]!++;
  return counts;
}

void describe('MAGLEV', () => {
  void it('the same hash always gives the same endpoint, whatever the input order', () => {
    const endpoints = eps(10);
    const a = mapKeys(table(endpoints), KEYS);
    assert.deepEqual(mapKeys(table(endpoints), KEYS), a);
    assert.deepEqual(mapKeys(table([...endpoints].reverse()), KEYS), a);
  });

  void it('equal endpoints own floor(M/n) or ceil(M/n) entries each; every entry is filled', () => {
    for (const n of [1, 3, 10, 17]) {
      const endpoints = eps(n);
      const counts = entries(table(endpoints), endpoints);
      assert.equal(
        counts.reduce((s, c) => s + c, 0),
        65537,
      );
      for (const c of counts) assert.ok(c === Math.floor(65537 / n) || c === Math.ceil(65537 / n), `${n}: ${c}`);
    }
  });

  void it('weights 1:2:5 share the table 1/8, 2/8, 5/8 to within 0.1%', () => {
    const weights = [1, 2, 5];
    const endpoints = eps(3, (i) => ({ weight: weights[i]! }));
    entries(table(endpoints), endpoints).forEach((c, i) =>
      assert.ok(Math.abs(c / 65537 - weights[i]! / 8) < 0.001, `${i}: ${c}`),
    );
  });

  void it('one of 10 endpoints goes: >= 99% of the other keys stay, >= 88.5% of all, >= 89.5% on average', () => {
    const all = eps(10);
    const before = mapKeys(table(all), KEYS);
    let sum = 0;
    for (let removed = 0; removed < 10; removed++) {
      const gone = all[removed]!.key;
      const m = movement(before, mapKeys(table(all.filter((_, i) => i !== removed)), KEYS), gone);
      assert.ok(m.keptUnaffected >= 0.99, `removing ${gone}: ${m.keptUnaffected}`);
      assert.ok(m.kept >= 0.885, `removing ${gone}: kept ${m.kept}`);
      sum += m.kept;
    }
    assert.ok(sum / 10 >= 0.895, `mean kept ${sum / 10}`);
  });

  void it('adding the endpoint back restores every key', () => {
    const all = eps(10);
    const before = mapKeys(table(all), KEYS);
    mapKeys(table(all.slice(1)), KEYS);
    assert.deepEqual(mapKeys(table(all), KEYS), before);
  });

  void it('a hash and its signed form are the same hash', () => {
    const p = table(eps(10));
    for (const h of keyHashes(1000)) assert.equal(p.pick({ hash: h }), p.pick({ hash: h | 0 }));
  });

  void it('spreads 100k random hashes over 10 endpoints within ±1 point of 10%', () => {
    const random = seededRandom(11);
    const counts = countPicks(table(eps(10)), N, () => ({ hash: (random() * 2 ** 32) >>> 0 }));
    assertShares(counts, Object.fromEntries(eps(10).map((e) => [e.key, 0.1])), N, TOLERANCE);
  });

  void it('a small prime table works (tableSize 7, 3 endpoints)', () => {
    const endpoints = eps(3);
    const counts = entries(table(endpoints, { tableSize: 7 }), endpoints);
    assert.deepEqual(
      [...counts].sort((a, b) => a - b),
      [2, 2, 3],
    );
    assert.equal(table(endpoints, { tableSize: 7 }).pick({ hash: 7 * 1000 + 3 }).type, 'complete');
  });

  void it('parses maglev_lb_config: table_size must be a prime up to 5000011', () => {
    assert.deepEqual(maglev.parseConfig(undefined), { ok: true, value: DEFAULT });
    assert.deepEqual(maglev.parseConfig({ table_size: { value: 5000011 } }), {
      ok: true,
      value: { tableSize: 5000011 },
    });
    assert.deepEqual(maglev.parseConfig({ table_size: 65536 }), {
      ok: false,
      error: 'maglev_lb_config.table_size: 65536 is not prime',
    });
    assert.equal(maglev.parseConfig({ table_size: 5000012 }).ok, false);
    assert.deepEqual([2, 3, 65537, 5000011].map(isPrime), [true, true, true, true]);
    assert.deepEqual([1, 4, 65535, 5000013].map(isPrime), [false, false, false, false]);
  });
});
