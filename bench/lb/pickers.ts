/**
 * Load-balancer micro-benchmark: picks per second of every policy over 10, 100 and 1000 endpoints (equal and
 * mixed weights), beside two baselines measured in the same run (a bare `array[i++ % n]` and a bare
 * `array[Math.random() * n | 0]`), picker build times, request hash cost, and a check that picks allocate nothing
 * (no minor GC during 10M picks). Entry point: `benchLb()` (a `bench/run.ts` suite signature), or run directly:
 * `node dist/bench/lb/pickers.js`.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { computeRequestHash, parseHashPolicies, type HashRequestView } from '../../src/proxy/lb/hash-policy.js';
import { murmur3String } from '../../src/proxy/lb/hash.js';
import { buildHostSet, type HostSet } from '../../src/proxy/lb/host-set.js';
import { configureLoadBalancer, registeredLoadBalancers } from '../../src/proxy/lb/registry.js';
import type { LbEndpoint, Picker } from '../../src/proxy/lb/types.js';
import { fmt } from '../lib/stats.js';

const RUN_MS = Number(process.env.BENCH_LB_MS ?? 300);
const SIZES = [10, 100, 1000];
// The signed form, as computeRequestHash returns it (V8 keeps int32 unboxed).
const HASHES = Int32Array.from({ length: 1 << 16 }, (_, i) => murmur3String(`user-${i}`) | 0);

type Shape = 'equal' | 'weights 1-4' | '2 priorities, 4 zones';
const SHAPES: readonly Shape[] = ['equal', 'weights 1-4', '2 priorities, 4 zones'];

/**
 * n endpoints: equal weights; weights 1..4; or weights 1..4 over 4 zones (locality-weighted 1:2:3:4) in two
 * priorities, every third P0 endpoint unhealthy (at 100 endpoints P0 keeps 92% of the load, P1 takes 8%).
 */
function hostSet(n: number, shape: Shape): HostSet {
  const split = shape === '2 priorities, 4 zones';
  const endpoints = Array.from({ length: n }, (_, i): LbEndpoint => {
    const address = `10.1.${i >> 8}.${i & 255}`;
    const weight = shape === 'equal' ? 1 : 1 + (i % 4);
    const priority = split && i >= n / 2 ? 1 : 0;
    const health = split && priority === 0 && i % 3 === 0 ? 'UNHEALTHY' : 'HEALTHY';
    const locality = { region: 'r', zone: split ? `z${i % 4}` : 'z', subZone: '' };
    return { key: `${address}:8080`, address, port: 8080 + (i & 7), weight, health, locality, priority };
  });
  const zones = [0, 1, 2, 3].map((z) => ({ locality: { region: 'r', zone: `z${z}`, subZone: '' }, weight: z + 1 }));
  return buildHostSet({ endpoints, priorities: [zones, zones] }, { localityWeighted: split });
}

let sink = 0;

/**
 * Calls `step` after a warm-up in 5 windows of RUN_MS / 5 each; returns the median window's operations per
 * second (the median resists bursts of other work on a shared machine).
 */
function rate(step: (i: number) => number): number {
  for (let i = 0; i < 200_000; i++) sink ^= step(i);
  const windows: number[] = [];
  let ops = 0;
  for (let w = 0; w < 5; w++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < RUN_MS / 5) {
      for (let i = 0; i < 20_000; i++) sink ^= step(ops + i);
      ops += 20_000;
      n += 20_000;
      now = performance.now();
    }
    windows.push((n * 1000) / (now - start));
  }
  return windows.sort((a, b) => a - b)[2]!;
}

function pickRate(picker: Picker, hashed: boolean): number {
  const input = { hash: 0 };
  if (!hashed) {
    return rate(() => {
      const r = picker.pick();
      return r.type === 'complete' ? r.endpoint.port : 0;
    });
  }
  return rate((i) => {
    input.hash = HASHES[i & 0xffff]!;
    const r = picker.pick(input);
    return r.type === 'complete' ? r.endpoint.port : 0;
  });
}

function build(name: string, hosts: HostSet): { picker: Picker; ms: number } {
  const lb = configureLoadBalancer(name);
  if (!lb.ok) throw new Error(lb.error);
  const start = performance.now();
  const picker = lb.value.build(hosts, { seed: 1 });
  return { picker, ms: performance.now() - start };
}

/** GCs seen while picking 10M times: 0 means the pick path allocates nothing (16 bytes a pick would be ~40). */
async function minorGcs(picker: Picker, hashed: boolean): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => (count += list.getEntries().length));
  observer.observe({ entryTypes: ['gc'] });
  const input = { hash: 0 };
  for (let i = 0; i < 10_000_000; i++) {
    input.hash = HASHES[i & 0xffff]!;
    const r = hashed ? picker.pick(input) : picker.pick();
    if (r.type === 'complete') sink ^= r.endpoint.port;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return count;
}

function baselines(): string[] {
  const rows: string[] = [];
  for (const n of SIZES) {
    const list = hostSet(n, 'equal').endpoints;
    let next = 0;
    const rr = rate(() => {
      const e = list[next]!;
      next = next + 1 === n ? 0 : next + 1;
      return e.port;
    });
    const rnd = rate(() => list[(Math.random() * n) | 0]!.port);
    rows.push(`| baseline: array[i++ % n] | ${n} | equal | ${fmt(rr / 1e6, 1)} | |`);
    rows.push(`| baseline: array[Math.random() * n] | ${n} | equal | ${fmt(rnd / 1e6, 1)} | |`);
  }
  return rows;
}

export async function benchLb(): Promise<string> {
  const rows = baselines();
  const gcRows: string[] = [];
  for (const name of registeredLoadBalancers().sort()) {
    const hashed = name === 'ring_hash' || name === 'maglev';
    const gcs: number[] = [];
    for (const n of SIZES) {
      for (const shape of SHAPES) {
        const { picker, ms } = build(name, hostSet(n, shape));
        const picks = pickRate(picker, hashed);
        const label = `${name}${hashed ? ' (hash given)' : ''}`;
        rows.push(`| ${label} | ${n} | ${shape} | ${fmt(picks / 1e6, 1)} | ${fmt(ms, 2)} |`);
        if (n === 100) gcs.push(await minorGcs(picker, hashed));
      }
    }
    gcRows.push(`| ${name} | ${gcs.join(' / ')} |`);
  }
  const policies = parseHashPolicies([{ header: { header_name: 'x-user' } }, { cookie: { name: 'session' } }]);
  if (!policies.ok) throw new Error(policies.error);
  const header: HashRequestView = {
    header: (h) => (h === 'x-user' ? 'user-1234' : undefined),
    sourceIp: '',
    query: () => undefined,
  };
  const cookie: HashRequestView = {
    header: (h) => (h === 'cookie' ? 'theme=dark; session=0a1b2c3d4e5f; lang=en' : undefined),
    sourceIp: '',
    query: () => undefined,
  };
  const headerRate = rate(() => computeRequestHash(policies.value, header) ?? 0);
  const cookieRate = rate(() => computeRequestHash(policies.value, cookie) ?? 0);
  return [
    `## Load balancers (bench/lb/pickers.ts)`,
    '',
    `Node ${process.version}, one thread, ${RUN_MS} ms per row after a warm-up (median of 5 windows); M picks/s = millions per second.`,
    '',
    '| picker | endpoints | host set | M picks/s | build ms |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| request hash (hash-policy.ts) | M hashes/s |',
    '| --- | --- |',
    `| header \`x-user: user-1234\` | ${fmt(headerRate / 1e6, 1)} |`,
    `| cookie \`session\` in a 3-cookie header (header policy absent first) | ${fmt(cookieRate / 1e6, 1)} |`,
    '',
    '| policy, 100 endpoints | GC events during 10M picks (equal / weights / 2 priorities, 4 zones) |',
    '| --- | --- |',
    ...gcRows,
    '',
    `<!-- sink ${sink & 1} -->`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write((await benchLb()) + '\n');
}
