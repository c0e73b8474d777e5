/**
 * SqliteStore throughput on this machine, beside a raw better-sqlite3 baseline in the same run:
 * writes with synchronous=FULL vs NORMAL, one write in flight (one transaction each) vs many in flight
 * (group commit), raw inserts one per transaction vs 100 per transaction; then reads at 10,000 objects.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/store/write-throughput.js [seconds-per-case]
 *
 * Prints a markdown table (docs/store.md quotes it).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '../../src/api/resource.js';
import { parseLabelSelector } from '../../src/store/label-selector.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

type Mode = 'FULL' | 'NORMAL';
const SECONDS = Number(process.argv[2] ?? '3');
const root = mkdtempSync(join(tmpdir(), 'shoal-bench-store-'));
let dirs = 0;
const fresh = (): string => join(root, `d${dirs++}`, 'store.db');

function obj(i: number): Resource {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: `ns-${i % 10}`, labels: { app: `app-${i % 100}`, tier: 'web' } },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], selector: { app: `app-${i % 100}` } },
  };
}

/** Runs `step` (which performs `perStep` writes) until the time is up; returns writes per second. */
async function rate(perStep: number, step: (i: number) => Promise<void> | void): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() < end) await step(n++);
  return (n * perStep) / ((performance.now() - start) / 1000);
}

async function storeWrites(mode: Mode, inFlight: number): Promise<number> {
  const store = SqliteStore.open({ path: fresh(), synchronous: mode });
  const r = await rate(inFlight, async (n) => {
    await Promise.all(Array.from({ length: inFlight }, (_, j) => store.create(obj(n * inFlight + j))));
  });
  await store.close();
  return r;
}

function rawInserts(mode: Mode, perTxn: number): Promise<number> {
  const path = fresh();
  const store = SqliteStore.open({ path });
  void store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${mode}`);
  const ins = db.prepare('INSERT INTO resources (kind, namespace, name, rv, object) VALUES (?, ?, ?, ?, ?)');
  const txn = db.transaction((base: number) => {
    for (let j = 0; j < perTxn; j++) {
      const i = base + j;
      ins.run('Service', `ns-${i % 10}`, `svc-${i}`, i, JSON.stringify(obj(i)));
    }
  });
  return rate(perTxn, (n) => txn(n * perTxn)).finally(() => db.close());
}

async function time(fn: () => Promise<unknown>, runs = 20): Promise<string> {
  await fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  const ms = (performance.now() - start) / runs;
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(1)} ms`;
}

async function reads(): Promise<[string, string][]> {
  const store = SqliteStore.open({ path: fresh(), synchronous: 'NORMAL' });
  for (let i = 0; i < 10_000; i += 500)
    await Promise.all(Array.from({ length: 500 }, (_, j) => store.create(obj(i + j))));
  const sel = parseLabelSelector('app=app-7');
  const out: [string, string][] = [
    ['list 10,000 objects, all namespaces', await time(() => store.list('Service'))],
    ['list one namespace (1,000 of 10,000)', await time(() => store.list('Service', { namespace: 'ns-3' }))],
    ['list with label selector (100 of 10,000)', await time(() => store.list('Service', { labelSelector: sel }))],
    ['get one object', await time(() => store.get('Service', 'ns-5', 'svc-5'), 10_000)],
    [
      'watch replay of 9,999 events (from rv 1)',
      await time(async () => (await store.watch({ resourceVersion: '1' }, () => undefined)).close(), 5),
    ],
  ];
  await store.close();
  return out;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const rows: string[] = [];
for (const mode of ['FULL', 'NORMAL'] as const) {
  const seq = await storeWrites(mode, 1);
  const batched = await storeWrites(mode, 64);
  const raw1 = await rawInserts(mode, 1);
  const raw100 = await rawInserts(mode, 100);
  rows.push(`| ${mode} | ${fmt(seq)} | ${fmt(batched)} | ${fmt(raw1)} | ${fmt(raw100)} |`);
}
console.log(`writes/s, ${SECONDS}s per case, node ${process.version}\n`);
console.log(
  '| synchronous | SqliteStore, 1 in flight | SqliteStore, 64 in flight (group commit) | raw insert, 1/txn | raw insert, 100/txn |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
console.log('\n| read (10,000 Services in the store) | mean |\n| --- | ---: |');
for (const [what, t] of await reads()) console.log(`| ${what} | ${t} |`);
rmSync(root, { recursive: true, force: true });
