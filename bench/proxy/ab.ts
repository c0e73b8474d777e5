/**
 * `npm run bench proxy-ab`: two builds of the sidecar, alternated in one session, compared by their medians.
 *
 * On this 2-core machine a sidecar's CPU per request at 1,000 rps and its wrk throughput move by about ±10% from run
 * to run, as much as one optimisation changes them; so the two builds take turns, in ABBA order (A B, B A, A B, ...),
 * on the same backend, and each figure is reported as the median over the rounds with its min-max and the ratio
 * median(B) / median(A).
 *
 * A build is a dist directory (a built tree with `src/cli/main.js`): BENCH_AB_A (required) and BENCH_AB_B (this
 * checkout's dist unless set), and the Node binary its sidecars run on: BENCH_AB_A_NODE and BENCH_AB_B_NODE (by default
 * BENCH_PROXY_NODE, else this process's Node). When either Node is named, BENCH_AB_A defaults to this checkout's dist
 * too, so one build can be measured on two Node releases. Each turn starts the Shoal path anew with that build's CLI
 * (shoal-path.ts: control plane, `shoal apply`, two sidecars), runs a 2 s wrk warm-up, then wrk -t1 -c50 for
 * BENCH_AB_SECONDS (5), then BENCH_AB_SECONDS at 1,000 rps from the fixed-rate client (after 1 s at that rate; under
 * SCHED_FIFO where allowed, BENCH_PROXY_CLIENT_PRIORITY as in index.ts), sampling both hops' CPU from /proc over each
 * measured window, and stops the path by PID. BENCH_AB_ROUNDS (5) rounds of two turns. The load tools, the fixed-rate
 * client and the backend (one nginx for the whole run, paths.ts) are this checkout's for both builds: only the sidecars
 * and their control plane differ. Markdown on stdout, JSON in bench/results/proxy/ (gitignored).
 *
 * Bounded: every phase has its own time limit, and no turn starts once the run is past its budget. Everything it starts
 * is stopped by PID, on error and on SIGINT too; a build that fails a turn is left out of the later rounds.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTools, runWrk } from './load-tools.js';
import { buildOf, CpuTally, fixedRate, machineOf, percentiles, stopOnInterrupt } from './measure.js';
import { startBackend, type Endpoint } from './paths.js';
import { CLIENT_PRIORITY, clientPriority, machineLoad, Procs, sampleTree, type Managed } from './procs.js';
import {
  HOP_NODE,
  NODE_FLAGS,
  nodeVersion,
  SHOAL_BACKEND_IP,
  SHOAL_CLIENT_IP,
  shoalPath,
  shoalSidecarAvailable,
} from './shoal-path.js';

/** This checkout's dist directory (this file is dist/bench/proxy/ab.js). */
export const THIS_DIST = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const REPO_ROOT = dirname(THIS_DIST);
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results', 'proxy');
const CLI = join('src', 'cli', 'main.js');

const RATE = 1000;
const WRK_CONNECTIONS = 50;
const LATENCY_CONNECTIONS = 16;
const WARM_SECONDS = 2;
const SEGMENT_WARM_MS = 1000;

export type Build = 'A' | 'B';

export interface AbConfig {
  /** Dist directories of the two builds. */
  a: string;
  b: string;
  rounds: number;
  /** Seconds of each measured phase. */
  seconds: number;
  /** SCHED_FIFO priority of the fixed-rate client (0: normal). */
  clientPriority: number;
  /** The Node binary each build's sidecars run on (HOP_NODE, i.e. BENCH_PROXY_NODE or this process's, by default). */
  nodes?: Partial<Record<Build, string>>;
}

/** One turn of one build. CPU is seconds per 1,000 requests, hop 1 (client side) then hop 2. */
export interface Turn {
  build: Build;
  round: number;
  wrk: { rps: number; requests: number; errors: number; cpuPer1000: number[] };
  fixedRate: {
    cpuPer1000: number[];
    p50: number;
    p99: number;
    /** Answered 2xx / anything else (non-2xx, errors, dropped). */
    ok: number;
    failed: number;
    /** Other work on the machine (vCPU) during the measured window. */
    otherVcpu: number;
  };
}

export interface Stat {
  median: number;
  min: number;
  max: number;
  /** How many finite values went into it. */
  n: number;
}

export interface Compared {
  a: Stat;
  b: Stat;
  /** median(B) / median(A). */
  ratio: number;
}

export interface AbResult {
  date: string;
  /** The benchmark's own Node; each build's sidecars' Node is in `builds`. */
  machine: { cpus: number; node: string };
  settings: {
    rounds: number;
    seconds: number;
    warmSeconds: number;
    wrkConnections: number;
    rate: number;
    latencyConnections: number;
    clientPriority: string;
    nodeFlags: string[];
  };
  /** `node`: the version of the Node the build's sidecars ran on. */
  builds: Record<Build, { dist: string; commit: string; srcDirty: boolean; node: string }>;
  background: { loadavg: string; busyVcpuBefore: number };
  turns: Turn[];
  summary: Record<MeasureKey, Compared>;
  problems: string[];
  /** Every process the run started (backend, control planes, sidecars, fixed-rate clients), by PID. */
  pids: number[];
  wallSeconds: number;
}

/** Median (the mean of the two middle values for an even count), min and max of the finite values. */
export function stat(values: readonly number[]): Stat {
  const v = values.filter(Number.isFinite).sort((x, y) => x - y);
  const n = v.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, n };
  const median = n % 2 === 1 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
  return { median, min: v[0]!, max: v[n - 1]!, n };
}

export function compare(a: readonly number[], b: readonly number[]): Compared {
  const sa = stat(a);
  const sb = stat(b);
  return { a: sa, b: sb, ratio: sa.median > 0 ? sb.median / sa.median : NaN };
}

export const MEASURES = [
  { key: 'wrkRps', label: `wrk -t1 -c${WRK_CONNECTIONS}: rps`, digits: 0, pick: (t: Turn) => t.wrk.rps },
  { key: 'wrkCpuHop1', label: 'wrk: CPU s per 1000 req, hop 1', digits: 3, pick: (t: Turn) => t.wrk.cpuPer1000[0] },
  { key: 'wrkCpuHop2', label: 'wrk: CPU s per 1000 req, hop 2', digits: 3, pick: (t: Turn) => t.wrk.cpuPer1000[1] },
  {
    key: 'rateCpuHop1',
    label: `${RATE} rps: CPU s per 1000 req, hop 1`,
    digits: 3,
    pick: (t: Turn) => t.fixedRate.cpuPer1000[0],
  },
  {
    key: 'rateCpuHop2',
    label: `${RATE} rps: CPU s per 1000 req, hop 2`,
    digits: 3,
    pick: (t: Turn) => t.fixedRate.cpuPer1000[1],
  },
  { key: 'rateP50', label: `${RATE} rps: latency p50 (ms)`, digits: 3, pick: (t: Turn) => t.fixedRate.p50 },
  { key: 'rateP99', label: `${RATE} rps: latency p99 (ms)`, digits: 3, pick: (t: Turn) => t.fixedRate.p99 },
] as const;

export type MeasureKey = (typeof MEASURES)[number]['key'];

/** Every measure compared over the turns: B's values against A's. */
export function summarize(turns: readonly Turn[]): Record<MeasureKey, Compared> {
  const of = (build: Build, pick: (t: Turn) => number | undefined): number[] =>
    turns.filter((t) => t.build === build).map((t) => pick(t) ?? NaN);
  return Object.fromEntries(MEASURES.map((m) => [m.key, compare(of('A', m.pick), of('B', m.pick))])) as Record<
    MeasureKey,
    Compared
  >;
}

/** The absolute dist directory named by `value`; throws a message saying what to set when it is not a build. */
export function distDir(variable: string, value: string | undefined): string {
  const how =
    'a dist directory of a build, e.g. of an older commit: git worktree add /tmp/shoal-a <rev> --detach && ' +
    'cd /tmp/shoal-a && ln -s <repo>/node_modules node_modules && npx tsc -p . && node scripts/build-protos.mjs, ' +
    'then ' +
    `${variable}=/tmp/shoal-a/dist`;
  if (value === undefined || value === '') throw new Error(`${variable} is not set: it names ${how}`);
  const dist = resolve(value);
  if (!existsSync(join(dist, CLI)))
    throw new Error(`${variable}=${value}: there is no ${CLI} in ${dist}; it names ${how}`);
  return dist;
}

/** Procs that remember every PID they started or saw as a child, so that a test can check none is left. */
class RecordingProcs extends Procs {
  readonly seen = new Set<number>();
  override spawn(...args: Parameters<Procs['spawn']>): Managed {
    const m = super.spawn(...args);
    this.seen.add(m.pid);
    return m;
  }
  override tree(pid: number): number[] {
    const all = super.tree(pid);
    for (const p of all) this.seen.add(p);
    return all;
  }
}

const url = (e: Endpoint): string => `http://${e.host}:${e.port}/`;

/** Runs the A/B session; `log` gets progress lines. Throws, having started nothing, when a tool or a build is missing. */
export async function runAb(config: AbConfig, log: (line: string) => void): Promise<AbResult> {
  const check = checkTools();
  const { nginx, wrk } = check.found;
  if (!nginx || !wrk) {
    throw new Error(`the proxy A/B benchmark needs nginx and wrk; install them with: ${check.install}`);
  }
  const dists: Record<Build, string> = { A: resolve(config.a), B: resolve(config.b) };
  const bins: Record<Build, string> = { A: join(dists.A, CLI), B: join(dists.B, CLI) };
  const nodes: Record<Build, string> = { A: config.nodes?.A ?? HOP_NODE, B: config.nodes?.B ?? HOP_NODE };
  const nodeVersions: Record<Build, string> = { A: nodeVersion(nodes.A), B: nodeVersion(nodes.B) };
  for (const build of ['A', 'B'] as const) {
    const available = await shoalSidecarAvailable(bins[build]);
    if (!available.ok) throw new Error(`build ${build} (${bins[build]}): ${available.reason}`);
  }
  const priority = clientPriority(config.clientPriority);
  log(`fixed-rate client priority: ${priority.label}`);
  const background = await machineLoad(2000);
  log(
    `before the run: ${background.busyVcpu.toFixed(2)} vCPU busy with other work, load average ${background.loadavg}`,
  );

  const started = performance.now();
  // A turn normally takes 2 x seconds + about 10 s; no turn starts past this.
  const budgetMs = 2 * config.rounds * (2 * config.seconds + 30) * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-proxy-ab-'));
  const procs = new RecordingProcs();
  const unguard = stopOnInterrupt(procs, dir, log);
  const turns: Turn[] = [];
  const problems: string[] = [];
  const broken = new Set<Build>();
  try {
    const backend = await startBackend(procs, nginx, dir, [SHOAL_CLIENT_IP, SHOAL_BACKEND_IP]);
    const backendPids = (): number[] => procs.tree(backend.managed.pid);
    log(`backend: nginx on ${backend.http1.host}:${backend.http1.port}, files in ${dir}`);
    const turn = async (build: Build, round: number): Promise<Turn> => {
      const turnDir = join(dir, `round${round + 1}-${build}`);
      mkdirSync(turnDir, { recursive: true });
      const path = await shoalPath(procs, turnDir, backend, bins[build], nodes[build]);
      try {
        const target = url(path.http1);
        const warm = await runWrk(wrk, target, path.authority, WRK_CONNECTIONS, WARM_SECONDS);
        if (!(warm.rps > 0) || warm.errors > 0) throw new Error(`warm-up: ${warm.raw.slice(-1000)}`);

        const atMax = path.hops.map(() => new CpuTally());
        const before = path.hops.map((h) => sampleTree(h.pids()));
        const load = await runWrk(wrk, target, path.authority, WRK_CONNECTIONS, config.seconds);
        const after = path.hops.map((h) => sampleTree(h.pids()));
        atMax.forEach((t, i) => t.add(before[i], after[i], load.requests));

        const atRate = path.hops.map(() => new CpuTally());
        const segment = await fixedRate(
          procs,
          turnDir,
          path,
          { rate: RATE, seconds: config.seconds, warmupMs: SEGMENT_WARM_MS, connections: LATENCY_CONNECTIONS },
          backendPids,
          priority.command,
        );
        const r = segment.result;
        atRate.forEach((t, i) => t.add(segment.before[i], segment.after[i], r.latencyMs.length));
        const latency = percentiles(r.latencyMs);
        return {
          build,
          round,
          wrk: { rps: load.rps, requests: load.requests, errors: load.errors, cpuPer1000: atMax.map((t) => t.per1000) },
          fixedRate: {
            cpuPer1000: atRate.map((t) => t.per1000),
            p50: latency.p50,
            p99: latency.p99,
            ok: r.ok,
            failed: r.bad + r.errors + r.dropped,
            otherVcpu: segment.otherVcpu,
          },
        };
      } finally {
        await path.stop();
      }
    };

    for (let round = 0; round < config.rounds; round++) {
      const order: Build[] = round % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
      for (const build of order) {
        if (broken.has(build)) continue;
        if (performance.now() - started > budgetMs) {
          problems.push(`round ${round + 1}, ${build}: not run, the run went over its ${budgetMs / 1000} s budget`);
          continue;
        }
        log(`round ${round + 1}/${config.rounds}: build ${build}`);
        try {
          const t = await turn(build, round);
          turns.push(t);
          log(
            `round ${round + 1} ${build}: wrk ${Math.round(t.wrk.rps)} rps, CPU per 1000 req at ${RATE} rps ` +
              `${t.fixedRate.cpuPer1000.map((c) => c.toFixed(3)).join(', ')}`,
          );
        } catch (err) {
          const message = (err as Error).message;
          log(`round ${round + 1} ${build} failed: ${message}`);
          problems.push(`round ${round + 1}, ${build} failed (its later turns not run): ${message.slice(0, 1000)}`);
          broken.add(build);
        }
      }
    }
  } finally {
    await procs.stopAll();
    unguard();
  }
  if (problems.length > 0) log(`configurations and logs kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });

  return {
    date: new Date().toISOString(),
    machine: machineOf(false),
    settings: {
      rounds: config.rounds,
      seconds: config.seconds,
      warmSeconds: WARM_SECONDS,
      wrkConnections: WRK_CONNECTIONS,
      rate: RATE,
      latencyConnections: LATENCY_CONNECTIONS,
      clientPriority: priority.label,
      nodeFlags: NODE_FLAGS,
    },
    builds: {
      A: { dist: dists.A, ...buildOf(dirname(dists.A)), node: nodeVersions.A },
      B: { dist: dists.B, ...buildOf(dirname(dists.B)), node: nodeVersions.B },
    },
    background: { loadavg: background.loadavg, busyVcpuBefore: background.busyVcpu },
    turns,
    summary: summarize(turns),
    problems,
    pids: [...procs.seen],
    wallSeconds: (performance.now() - started) / 1000,
  };
}

const f = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const cell = (s: Stat, digits: number): string =>
  s.n === 0 ? 'n/a' : `${f(s.median, digits)} (${f(s.min, digits)}-${f(s.max, digits)})`;

export function abReport(run: AbResult): string {
  const s = run.settings;
  const build = (b: Build): string => {
    const x = run.builds[b];
    const dirty = x.srcDirty ? ' with uncommitted changes in src/' : '';
    return `${b} = \`${x.dist}\` (Shoal at ${x.commit}${dirty}; sidecars on Node ${x.node})`;
  };
  const lines: string[] = [];
  lines.push(
    `\`npm run bench proxy-ab\` (measured ${run.date.slice(0, 10)}, ${run.machine.cpus} cores, Node ${run.machine.node}): ` +
      `${build('A')}, ${build('B')}.`,
  );
  lines.push('');
  lines.push(
    `${s.rounds} round${s.rounds === 1 ? '' : 's'} in ABBA order (A B, B A, ...); every turn starts the Shoal path anew with its build ` +
      `(control plane + 2 sidecars, node flags \`${s.nodeFlags.join(' ')}\`), then wrk for ${s.warmSeconds} s ` +
      `(warm-up), wrk -t1 -c${s.wrkConnections} for ${s.seconds} s, and ${s.seconds} s at ${s.rate} rps from the ` +
      `open-loop client over ${s.latencyConnections} connections (latency from the intended send time; client ` +
      `scheduling: ${s.clientPriority}). One nginx backend for the whole run. Before the run the machine was busy ` +
      `with ${f(run.background.busyVcpuBefore, 2)} vCPU of other work (load average ${run.background.loadavg}).`,
  );
  lines.push('');
  lines.push('| measure | A: median (min-max) | B: median (min-max) | B/A |');
  lines.push('| --- | --- | --- | --- |');
  for (const m of MEASURES) {
    const c = run.summary[m.key];
    lines.push(`| ${m.label} | ${cell(c.a, m.digits)} | ${cell(c.b, m.digits)} | ${f(c.ratio, 3)} |`);
  }
  lines.push('');
  lines.push(
    `Hop 1 is the client-side sidecar, hop 2 the backend-side one; CPU seconds per 1000 requests at ${s.rate} rps ` +
      `equal vCPU per 1000 rps. Each turn, in the order run:`,
  );
  lines.push('');
  lines.push(
    `| round | build | wrk rps (errors) | wrk CPU per 1000, hop 1, hop 2 | ${s.rate} rps CPU per 1000, hop 1, hop 2 | p50 / p99 (ms) | answered / failed | other work (vCPU) |`,
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const t of run.turns) {
    const r = t.fixedRate;
    lines.push(
      `| ${t.round + 1} | ${t.build} | ${Math.round(t.wrk.rps)} (${t.wrk.errors}) | ` +
        `${t.wrk.cpuPer1000.map((c) => f(c, 3)).join(', ')} | ${r.cpuPer1000.map((c) => f(c, 3)).join(', ')} | ` +
        `${f(r.p50, 3)} / ${f(r.p99, 3)} | ${r.ok} / ${r.failed} | ${f(r.otherVcpu, 2)} |`,
    );
  }
  if (run.problems.length > 0) lines.push('', ...run.problems.map((p) => `- ${p}`));
  return lines.join('\n');
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${name}=${raw}: a whole number above 0 is expected`);
  return n;
}

export async function benchProxyAb(): Promise<string> {
  const log = (line: string): void => void process.stderr.write(`[bench proxy-ab] ${line}\n`);
  let config: AbConfig;
  try {
    const { BENCH_AB_A: a, BENCH_AB_B: b, BENCH_AB_A_NODE: aNode, BENCH_AB_B_NODE: bNode } = process.env;
    // Two Node releases under one build need no second dist: A is then this checkout's too, unless named.
    const nodes = { ...(aNode ? { A: aNode } : {}), ...(bNode ? { B: bNode } : {}) };
    config = {
      a: a || Object.keys(nodes).length === 0 ? distDir('BENCH_AB_A', a) : THIS_DIST,
      b: b ? distDir('BENCH_AB_B', b) : THIS_DIST,
      nodes,
      rounds: envNumber('BENCH_AB_ROUNDS', 5),
      seconds: envNumber('BENCH_AB_SECONDS', 5),
      clientPriority: CLIENT_PRIORITY,
    };
  } catch (err) {
    log((err as Error).message);
    process.exit(2);
  }
  const run = await runAb(config, log);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `proxy-ab-${run.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
  log(`results in ${file}; the run took ${run.wallSeconds.toFixed(0)} s`);
  return abReport(run);
}
