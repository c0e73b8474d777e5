/** murmur3_32 against the reference vectors, the allocation-free UTF-8 string variant against Buffer bytes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  combineHashes,
  fmix32,
  murmur3Bytes,
  murmur3String,
  drawsFor,
  unit,
  seededRandom,
} from '../../../src/proxy/lb/hash.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

void describe('murmur3_32', () => {
  void it('matches the reference implementation (SMHasher vectors)', () => {
    const vectors: [string, number, number][] = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['hello', 0, 0x248bfa47],
      ['aaaa', 0x9747b28c, 0x5a97808a],
      ['Hello, world!', 0x9747b28c, 0x24884cba],
      ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ];
    for (const [text, seed, expected] of vectors) {
      assert.equal(murmur3String(text, seed), expected, `"${text}" seed ${seed}`);
      assert.equal(murmur3Bytes(bytes(text), undefined, seed), expected, `"${text}" seed ${seed} (bytes)`);
    }
    assert.equal(murmur3Bytes(new Uint8Array(4)), 0x2362f9de);
  });

  void it('hashes strings as their UTF-8 bytes: 1 to 4 byte characters, lone surrogates as U+FFFD', () => {
    for (const text of [
      'a',
      'é',
      'ü-x',
      '€uro',
      'ключ',
      '日本語のキー',
      '🦈 shoal',
      'x\ud800y',
      '\udc00',
      'end\ud83e',
    ]) {
      assert.equal(murmur3String(text), murmur3Bytes(bytes(text)), JSON.stringify(text));
      assert.equal(murmur3String(text, 42), murmur3Bytes(bytes(text), undefined, 42), JSON.stringify(text));
    }
  });

  void it('hashes a range of a string in place', () => {
    const header = 'a=1; session=abc123; z=9';
    assert.equal(murmur3String(header, 0, 13, 19), murmur3String('abc123'));
    assert.equal(murmur3Bytes(bytes('abc123xyz'), 6), murmur3String('abc123'));
  });

  void it('fmix32 is a bijection on a sample and combineHashes is rotate-left-1 xor (Envoy)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(fmix32(i));
    assert.equal(seen.size, 100_000);
    assert.equal(combineHashes(0x80000001, 0x0f), (0x00000003 ^ 0x0f) >>> 0);
    assert.equal(combineHashes(5, 5), (10 ^ 5) >>> 0);
  });
});

void describe('seededRandom', () => {
  void it('is deterministic per seed, in [0, 1), and roughly uniform', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const n of buckets) assert.ok(Math.abs(n - 10_000) < 400, `bucket ${n}`);
    assert.notEqual(seededRandom(2)(), seededRandom(1)());
  });

  void it('drawsFor: an injected source, a seed, or a seed from Math.random; unit() maps draws to [0, 1)', () => {
    assert.equal(drawsFor({ random: () => 0.5 }).next(), -(2 ** 31));
    assert.equal(unit(drawsFor({ random: () => 0.5 }).next()), 0.5);
    assert.equal(unit(drawsFor({ random: () => 0 }).next()), 0);
    const a = drawsFor({ seed: 9 });
    const b = drawsFor({ seed: 9 });
    const c = drawsFor({ random: seededRandom(9) });
    for (let i = 0; i < 1000; i++) {
      const x = a.next();
      assert.ok(Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31);
      assert.equal(x, b.next());
      assert.equal(x, c.next(), 'mulberry32 as Draws and as a RandomSource agree');
    }
    assert.notEqual(drawsFor(undefined).next(), drawsFor(undefined).next());
  });
});
