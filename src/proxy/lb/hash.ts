/**
 * Non-cryptographic hashing and seeded randomness for the load balancers.
 *
 * The hash is MurmurHash3 x86_32 (Austin Appleby's public-domain reference) over the UTF-8 bytes of a string. Why
 * this one: the sidecar hashes short values (a header, a cookie, an IP) on every request, and in JavaScript a
 * 32-bit hash runs on Math.imul with no BigInt and no allocation, while xxHash64 (Envoy's) would need BigInt or
 * hand-split 64-bit arithmetic. MurmurHash3 has full avalanche, passes SMHasher, and its finaliser doubles as the
 * mixer when several hash policies combine. 32 bits are enough for rings of up to 8M points and Maglev tables of
 * up to 5M entries; values are not compatible with Envoy's xxHash64, which only matters if Shoal and Envoy
 * sidecars must agree on which endpoint a key maps to (they cannot anyway: their ring layouts differ).
 *
 * The string variant encodes UTF-8 on the fly (a lone surrogate becomes U+FFFD, as TextEncoder does), so
 * `murmur3String(s)` equals `murmur3Bytes(Buffer.from(s, 'utf8'))` without creating the buffer.
 */
import type { RandomSource } from './types.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finaliser: a full-avalanche bijection on 32 bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function finish(h: number, k: number, pending: number, length: number): number {
  if (pending > 0) h ^= mixK(k);
  return fmix32(h ^ length);
}

/** MurmurHash3 x86_32 of `bytes[0, length)`. */
export function murmur3Bytes(bytes: Uint8Array, length = bytes.length, seed = 0): number {
  let h = seed | 0;
  let k = 0;
  let pending = 0;
  for (let i = 0; i < length; i++) {
    k |= bytes[i]! << (pending << 3);
    if (++pending === 4) {
      h = mixH(h, k);
      k = 0;
      pending = 0;
    }
  }
  return finish(h, k, pending, length);
}

// Streaming state for murmur3String: module-level so that pushing a byte needs no closure and no object.
let sH = 0;
let sK = 0;
let sPending = 0;
let sLength = 0;

function push(byte: number): void {
  sK |= byte << (sPending << 3);
  sLength++;
  if (++sPending === 4) {
    sH = mixH(sH, sK);
    sK = 0;
    sPending = 0;
  }
}

/** MurmurHash3 x86_32 of the UTF-8 encoding of `text.slice(start, end)`, without allocating. */
export function murmur3String(text: string, seed = 0, start = 0, end = text.length): number {
  sH = seed | 0;
  sK = 0;
  sPending = 0;
  sLength = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      push(c);
      continue;
    }
    if (c < 0x800) {
      push(0xc0 | (c >>> 6));
      push(0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        push(0xf0 | (c >>> 18));
        push(0x80 | ((c >>> 12) & 0x3f));
        push(0x80 | ((c >>> 6) & 0x3f));
        push(0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    push(0xe0 | (c >>> 12));
    push(0x80 | ((c >>> 6) & 0x3f));
    push(0x80 | (c & 0x3f));
  }
  return finish(sH, sK, sPending, sLength);
}

/** Envoy's way to fold another hash policy's value into the hash so far: rotate left by one, then xor. */
export function combineHashes(previous: number, next: number): number {
  return (((previous << 1) | (previous >>> 31)) ^ next) >>> 0;
}

/** A deterministic RandomSource (mulberry32): 32 random bits per call, scaled to [0, 1). For tests and benchmarks. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The pickers' random numbers: uniform 32-bit integers in signed form. Integers, not doubles, because V8 (64-bit,
 * no pointer compression, as Node ships) keeps an int32 unboxed when it crosses a call, while a double returned
 * or passed through a call that is not inlined becomes a new heap number: one allocation per pick.
 */
export interface Draws {
  next(): number;
}

/** mulberry32 as a Draws: the default, seeded from Math.random unless a seed is given. */
class Mulberry32 implements Draws {
  private a: number;

  constructor(seed: number) {
    this.a = seed | 0;
  }

  next(): number {
    const a = (this.a = (this.a + 0x6d2b79f5) | 0);
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return t ^ (t >>> 14);
  }
}

/** An injected RandomSource as Draws (tests): r in [0, 1) becomes r * 2^32, signed. */
class FromRandom implements Draws {
  constructor(private readonly random: RandomSource) {}

  next(): number {
    return (this.random() * 4294967296) | 0;
  }
}

/**
 * The Draws for a picker: from `random` when given (so `seededRandom(s)` and `() => 0.5` drive it), else mulberry32
 * seeded with `seed`, else with a seed from Math.random (which itself allocates on every call in Node 20).
 */
export function drawsFor(options: { readonly random?: RandomSource; readonly seed?: number } | undefined): Draws {
  if (options?.random !== undefined) return new FromRandom(options.random);
  return new Mulberry32(options?.seed ?? (Math.random() * 4294967296) | 0);
}

/** A draw as a fraction in [0, 1). */
export function unit(draw: number): number {
  return (draw >>> 0) / 4294967296;
}
