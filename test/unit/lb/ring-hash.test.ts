/**
 * RING_HASH: stable mapping, key movement when one of 10 endpoints goes and comes back, ring sizes and the
 * default ring's distribution.
 *
 * What the ring guarantees: a key whose endpoint is still there keeps it (100%) as long as the points per unit
 * of weight do not change (ring-hash.ts); so removing one of 10 equal endpoints moves exactly the keys it had,
 * 1 - its share stays in place, and over the 10 possible removals exactly 90% of the keys stay on average — the
 * best any scheme can do, since the removed endpoint's keys must move. The default ring (1024 -> 128 points per
 * endpoint) gives shares within ±2.5 points of 10%, so a single removal keeps at least 87.5% of the keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHostSet } from '../../../src/proxy/lb/host-set.js';
import { seededRandom } from '../../../src/proxy/lb/hash.js';
import type { RingHashPicker } from '../../../src/proxy/lb/ring-hash.js';
import { ringHash, MAX_RING_SIZE, type RingHashConfig } from '../../../src/proxy/lb/ring-hash.js';
import type { LbEndpoint } from '../../../src/proxy/lb/types.js';
import { N } from './conformance.js';
import { assertShares, countPicks, ep, eps, keyHashes, mapKeys, movement } from './helpers.js';

const DEFAULT: RingHashConfig = { minimumRingSize: 1024, maximumRingSize: MAX_RING_SIZE };
const KEYS = keyHashes(10_000);

function ring(endpoints: LbEndpoint[], config = DEFAULT): RingHashPicker {
  return ringHash.build(buildHostSet({ endpoints }), config, { random: seededRandom(1) }) as RingHashPicker;
}

void describe('RING_HASH', () => {
  void it('the same hash always gives the same endpoint, whatever the input order', () => {
    const endpoints = eps(10);
    const a = mapKeys(ring(endpoints), KEYS);
    assert.deepEqual(mapKeys(ring(endpoints), KEYS), a);
    assert.deepEqual(mapKeys(ring([...endpoints].reverse()), KEYS), a);
  });

  void it('one of 10 endpoints goes: every other key stays, 1 - its share of all keys stays, 90% on average', () => {
    const all = eps(10);
    const before = mapKeys(ring(all), KEYS);
    let sum = 0;
    for (let removed = 0; removed < 10; removed++) {
      const gone = all[removed]!.key;
      const after = mapKeys(ring(all.filter((_, i) => i !== removed)), KEYS);
      const m = movement(before, after, gone);
      const share = before.filter((k) => k === gone).length / KEYS.length;
      assert.equal(m.keptUnaffected, 1, `removing ${gone}`);
      assert.ok(Math.abs(m.kept - (1 - share)) < 1e-12);
      assert.ok(m.kept >= 0.875, `removing ${gone} kept ${m.kept}`);
      sum += m.kept;
    }
    assert.ok(Math.abs(sum / 10 - 0.9) < 1e-9, `mean kept ${sum / 10}`);
  });

  void it('adding the endpoint back restores every key; an unhealthy endpoint counts as removed', () => {
    const all = eps(10);
    const before = mapKeys(ring(all), KEYS);
    assert.deepEqual(mapKeys(ring(all), KEYS), before);
    const unhealthy = all.map((e, i) => (i === 3 ? ep(3, { health: 'UNHEALTHY' }) : e));
    assert.deepEqual(mapKeys(ring(unhealthy), KEYS), mapKeys(ring(all.filter((_, i) => i !== 3)), KEYS));
  });

  void it('ring sizes: 128 points per endpoint for 8 to 15 equal endpoints at 1024, weights scale the points', () => {
    const size = (p: RingHashPicker) => p.rings[0]!.hashes.length;
    assert.equal(size(ring(eps(10))), 1280);
    assert.equal(size(ring(eps(9))), 1152);
    assert.equal(size(ring(eps(8))), 1024);
    assert.equal(size(ring(eps(7))), 1792);
    assert.equal(size(ring(eps(2, (i) => ({ weight: i === 0 ? 1 : 3 })))), 1024);
    assert.equal(size(ring(eps(10), { minimumRingSize: 1024, maximumRingSize: 100 })), 80);
    assert.equal(size(ring([ep(0)])), 1024);
  });

  void it('the ring is sorted and the lookup wraps past the last point to the first', () => {
    const p = ring(eps(3));
    const { hashes, hosts } = p.rings[0]!;
    for (let i = 1; i < hashes.length; i++) assert.ok(hashes[i - 1]! <= hashes[i]!);
    const first = p.pick({ hash: hashes[0]! });
    assert.equal(p.pick({ hash: hashes[hashes.length - 1]! + 1 }), first);
    assert.equal(first.type === 'complete' ? first.endpoint.key : '', eps(3)[hosts[0]!]!.key);
  });

  void it('the bucket index finds what a linear scan finds, at the edges and at every point', () => {
    for (const p of [ring(eps(3)), ring(eps(10), { minimumRingSize: 65536, maximumRingSize: MAX_RING_SIZE })]) {
      const { hashes, hosts } = p.rings[0]!;
      const linear = (h: number) => {
        const i = hashes.findIndex((x) => x >= h);
        return hosts[i < 0 ? 0 : i]!;
      };
      const random = seededRandom(5);
      const step = Math.ceil(hashes.length / 500);
      const points = Array.from(hashes).filter((_, i) => i % step === 0);
      const probes = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, ...points.flatMap((x) => [x, x + 1])];
      for (let i = 0; i < 2000; i++) probes.push((random() * 2 ** 32) >>> 0);
      for (const h of probes) assert.equal(p.rings[0]!.find(h), linear(h), `hash ${h}`);
    }
  });

  void it('a hash and its signed form are the same hash', () => {
    const p = ring(eps(10));
    for (const h of keyHashes(1000)) assert.equal(p.pick({ hash: h }), p.pick({ hash: h | 0 }));
  });

  void it('the default ring spreads 100k random hashes over 10 endpoints within ±2.5 points of 10%', () => {
    const random = seededRandom(11);
    const counts = countPicks(ring(eps(10)), N, () => ({ hash: (random() * 2 ** 32) >>> 0 }));
    assertShares(counts, Object.fromEntries(eps(10).map((e) => [e.key, 0.1])), N, 0.025);
  });

  void it('parses ring_hash_lb_config like Envoy (wrapped sizes, hash_function accepted) and rejects bad sizes', () => {
    assert.deepEqual(ringHash.parseConfig(undefined), { ok: true, value: DEFAULT });
    assert.deepEqual(ringHash.parseConfig({ minimum_ring_size: { value: 4096 }, hash_function: 'XX_HASH' }), {
      ok: true,
      value: { minimumRingSize: 4096, maximumRingSize: MAX_RING_SIZE },
    });
    assert.deepEqual(ringHash.parseConfig({ minimumRingSize: '2048', maximumRingSize: 1024 }), {
      ok: false,
      error: 'ring_hash_lb_config: minimum_ring_size 2048 > maximum_ring_size 1024',
    });
    assert.deepEqual(ringHash.parseConfig({ maximum_ring_size: 8_388_609 }), {
      ok: false,
      error: 'ring_hash_lb_config.maximum_ring_size: must be 1..8388608',
    });
    assert.equal(ringHash.parseConfig({ hash_function: 'CITY' }).ok, false);
  });
});
