/** Shared fixtures for the load-balancer tests: endpoints, pick counting, share assertions, key movement. */
import assert from 'node:assert/strict';
import { buildHostSet, type HostSet, type HostSetInput, type HostSetOptions } from '../../../src/proxy/lb/host-set.js';
import { murmur3String, seededRandom } from '../../../src/proxy/lb/hash.js';
import type {
  BuildOptions,
  HealthStatus,
  LbEndpoint,
  LoadBalancerFactory,
  Picker,
  PickInput,
} from '../../../src/proxy/lb/types.js';

export interface EndpointSpec {
  weight?: number;
  health?: HealthStatus;
  priority?: number;
  zone?: string;
}

/** Endpoint `i`: key 10.0.<i/256>.<i%256>:8080, zone "a" unless given. */
export function ep(i: number, spec: EndpointSpec = {}): LbEndpoint {
  const address = `10.0.${Math.floor(i / 256)}.${i % 256}`;
  return {
    key: `${address}:8080`,
    address,
    port: 8080,
    weight: spec.weight ?? 1,
    health: spec.health ?? 'HEALTHY',
    locality: { region: 'r1', zone: spec.zone ?? 'a', subZone: '' },
    priority: spec.priority ?? 0,
  };
}

/** Endpoints 0..n-1, each with spec(i). */
export function eps(n: number, spec: (i: number) => EndpointSpec = () => ({})): LbEndpoint[] {
  return Array.from({ length: n }, (_, i) => ep(i, spec(i)));
}

export const key = (i: number): string => ep(i).key;

/** Picks `n` times; counts per endpoint key ('fail' for failures). */
export function countPicks(picker: Picker, n: number, input?: (i: number) => PickInput): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = picker.pick(input?.(i));
    const k = r.type === 'complete' ? r.endpoint.key : 'fail';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Asserts every key's share of `total` is within `tolerance` (absolute) of `expected`; no other key appears. */
export function assertShares(
  counts: Map<string, number>,
  expected: Record<string, number>,
  total: number,
  tolerance: number,
): void {
  for (const k of counts.keys()) assert.ok(k in expected, `unexpected pick ${k}`);
  for (const [k, share] of Object.entries(expected)) {
    const actual = (counts.get(k) ?? 0) / total;
    assert.ok(
      Math.abs(actual - share) <= tolerance,
      `${k}: share ${actual.toFixed(4)}, expected ${share.toFixed(4)} ± ${tolerance}`,
    );
  }
}

/** A picker from endpoints with a seeded random source. */
export function pickerFor<C>(
  factory: LoadBalancerFactory<C>,
  config: C,
  input: HostSetInput | LbEndpoint[],
  options: HostSetOptions = {},
  build: BuildOptions = { random: seededRandom(42) },
): { picker: Picker; hostSet: HostSet } {
  const hostSet = buildHostSet(Array.isArray(input) ? { endpoints: input } : input, options);
  return { picker: factory.build(hostSet, config, build), hostSet };
}

/** Hashes of `n` request keys ("user-0", "user-1", ...), as a header hash policy would compute them. */
export function keyHashes(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => murmur3String(`user-${i}`));
}

/** The endpoint key each hash maps to. */
export function mapKeys(picker: Picker, hashes: Uint32Array): string[] {
  return Array.from(hashes, (hash) => {
    const r = picker.pick({ hash });
    assert.equal(r.type, 'complete');
    return r.type === 'complete' ? r.endpoint.key : '';
  });
}

export interface Movement {
  /** Fraction of all keys that kept their endpoint. */
  kept: number;
  /** Fraction of the keys not on the removed endpoint that kept their endpoint. */
  keptUnaffected: number;
}

export function movement(before: readonly string[], after: readonly string[], removed: string): Movement {
  let kept = 0;
  let unaffected = 0;
  let unaffectedKept = 0;
  before.forEach((k, i) => {
    if (k === after[i]) kept++;
    if (k !== removed) {
      unaffected++;
      if (k === after[i]) unaffectedKept++;
    }
  });
  return { kept: kept / before.length, keptUnaffected: unaffectedKept / unaffected };
}
