/**
 * The proxy A/B suite (bench/proxy/ab.ts): its summary (median, min-max, ratio) on fixed numbers, the check of a
 * build's dist directory, and one short real run with A = B = this checkout's dist (1 round, 1-second phases, real
 * nginx, wrk, control plane and sidecars): both builds are measured and every process of the run is gone afterwards,
 * checked by PID. Behaviour only, no timings. The real run is skipped only where nginx or wrk is not installed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abReport, compare, distDir, runAb, stat, summarize, THIS_DIST, type Turn } from '../../bench/proxy/ab.js';
import { checkTools } from '../../bench/proxy/load-tools.js';
import { isAlive } from '../../bench/proxy/procs.js';
import { nodeVersion } from '../../bench/proxy/shoal-path.js';

function turn(build: 'A' | 'B', round: number, rps: number, hop1: number, p99: number): Turn {
  return {
    build,
    round,
    wrk: { rps, requests: rps, errors: 0, cpuPer1000: [hop1 / 4, NaN] },
    fixedRate: { cpuPer1000: [hop1, hop1 / 2], p50: 0.3, p99, ok: 1000, failed: 0, otherVcpu: 0 },
  };
}

describe('bench proxy-ab: summary', () => {
  test('median of an odd and of an even count, min and max', () => {
    assert.deepEqual(stat([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
    assert.deepEqual(stat([10, 40, 20, 30]), { median: 25, min: 10, max: 40, n: 4 });
    assert.deepEqual(stat([7]), { median: 7, min: 7, max: 7, n: 1 });
  });

  test('values that are not numbers are left out; none at all gives n/a', () => {
    assert.deepEqual(stat([NaN, 5, Infinity, 1]), { median: 3, min: 1, max: 5, n: 2 });
    assert.deepEqual(stat([]), { median: NaN, min: NaN, max: NaN, n: 0 });
    assert.deepEqual(stat([NaN]), { median: NaN, min: NaN, max: NaN, n: 0 });
  });

  test('the ratio is median(B) / median(A), n/a when A has no positive median', () => {
    const c = compare([100, 120, 80, 90, 110], [150, 120, 130]);
    assert.deepEqual(c.a, { median: 100, min: 80, max: 120, n: 5 });
    assert.deepEqual(c.b, { median: 130, min: 120, max: 150, n: 3 });
    assert.equal(c.ratio, 1.3);
    assert.ok(Number.isNaN(compare([], [1]).ratio));
    assert.ok(Number.isNaN(compare([0], [1]).ratio));
  });

  test('every measure compares B with A over the turns (ABBA order does not matter)', () => {
    const turns = [
      turn('A', 0, 1000, 0.2, 2),
      turn('B', 0, 1100, 0.1, 1),
      turn('B', 1, 1300, 0.3, 3),
      turn('A', 1, 1200, 0.4, 4),
      turn('A', 2, 1100, 0.6, 6),
      turn('B', 2, 1200, 0.2, 2),
    ];
    const s = summarize(turns);
    assert.deepEqual(s.wrkRps, {
      a: { median: 1100, min: 1000, max: 1200, n: 3 },
      b: { median: 1200, min: 1100, max: 1300, n: 3 },
      ratio: 1200 / 1100,
    });
    assert.deepEqual(s.rateCpuHop1.a, { median: 0.4, min: 0.2, max: 0.6, n: 3 });
    assert.deepEqual(s.rateCpuHop1.b, { median: 0.2, min: 0.1, max: 0.3, n: 3 });
    assert.equal(s.rateCpuHop1.ratio, 0.5);
    assert.equal(s.rateCpuHop2.ratio, 0.5);
    assert.equal(s.rateP99.ratio, 0.5);
    assert.equal(s.rateP50.ratio, 1);
    assert.equal(s.wrkCpuHop2.a.n, 0);
    assert.ok(Number.isNaN(s.wrkCpuHop2.ratio));
  });
});

describe('bench proxy-ab: builds', () => {
  test('a dist directory must be given and hold src/cli/main.js', () => {
    assert.throws(() => distDir('BENCH_AB_A', undefined), /BENCH_AB_A is not set: .*git worktree add/);
    assert.throws(() => distDir('BENCH_AB_A', ''), /BENCH_AB_A is not set/);
    const empty = mkdtempSync(join(tmpdir(), 'shoal-ab-test-'));
    try {
      assert.throws(() => distDir('BENCH_AB_A', empty), /BENCH_AB_A=.*: there is no src\/cli\/main\.js in /);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    assert.equal(distDir('BENCH_AB_B', THIS_DIST), THIS_DIST);
  });

  test("a build's Node is named by its version, and one that does not run is refused by name", () => {
    assert.equal(nodeVersion(process.execPath), process.version);
    assert.throws(() => nodeVersion('/nonexistent/node'), /\/nonexistent\/node is not a Node binary that runs/);
  });
});

const tools = checkTools();
const missing = (['nginx', 'wrk'] as const).filter((t) => !tools.found[t]);
const skip = missing.length > 0 ? `${missing.join(' and ')} not installed (${tools.install})` : false;

describe('bench proxy-ab: a short real run', { timeout: 180_000 }, () => {
  test(
    'A = B = this dist, 1 round of 1 s phases: both measured, B on its own Node, nothing left running',
    { skip },
    async () => {
      const lines: string[] = [];
      // B's Node is a wrapper that notes each command line, then runs this Node: only B's sidecars may go through it.
      const dir = mkdtempSync(join(tmpdir(), 'shoal-ab-node-'));
      const wrapper = join(dir, 'node');
      const calls = join(dir, 'calls');
      writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
      const run = await runAb(
        { a: THIS_DIST, b: THIS_DIST, rounds: 1, seconds: 1, clientPriority: 20, nodes: { B: wrapper } },
        (l) => lines.push(l),
      ).finally(() => undefined);
      const started = readFileSync(calls, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(
        started
          .filter((l) => l !== '-v')
          .map((l) => / sidecar .*--workload (\S+)/.exec(l)?.[1])
          .sort(),
        ['backend', 'client'],
        `the wrapper ran: ${started.join(' | ')}`,
      );
      assert.equal(run.builds.B.node, process.version);
      assert.equal(run.builds.A.node, process.version);
      assert.deepEqual(run.problems, [], lines.join('\n'));
      assert.deepEqual(
        run.turns.map((t) => [t.round, t.build]),
        [
          [0, 'A'],
          [0, 'B'],
        ],
      );
      for (const t of run.turns) {
        assert.ok(t.wrk.rps > 0, `${t.build}: wrk rps ${t.wrk.rps}`);
        assert.equal(t.wrk.errors, 0);
        for (const cpu of [t.wrk.cpuPer1000, t.fixedRate.cpuPer1000]) {
          assert.equal(cpu.length, 2, `${t.build}: one figure per hop`);
          for (const c of cpu) assert.ok(Number.isFinite(c) && c > 0, `${t.build}: CPU per 1000 requests ${c}`);
        }
        assert.ok(t.fixedRate.ok > 0);
        assert.ok(Number.isFinite(t.fixedRate.p50) && Number.isFinite(t.fixedRate.p99));
      }
      assert.equal(run.summary.wrkRps.a.n, 1);
      assert.equal(run.summary.wrkRps.b.n, 1);
      assert.equal(run.builds.A.dist, THIS_DIST);
      // Backend (nginx master + worker), then per turn a control plane, two sidecars and a fixed-rate client.
      assert.ok(run.pids.length >= 2 + 2 * 4, `pids: ${run.pids.join(' ')}`);
      assert.deepEqual(
        run.pids.filter((p) => isAlive(p)),
        [],
      );
      const report = abReport(run);
      assert.match(report, /\| wrk -t1 -c50: rps \| \d+ \(\d+-\d+\) \| \d+ \(\d+-\d+\) \| [\d.]+ \|/);
    },
  );
});
