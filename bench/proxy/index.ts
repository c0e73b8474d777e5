/**
 * Sidecar data-plane benchmark (issue 4): one backend, six paths, the same load tools, one run.
 *
 * Paths (paths.ts, node-floor-path.ts, node-http-path.ts, shoal-path.ts): direct; two nginx hops; two HAProxy hops;
 * two minimal Node TCP forwarders (node-floor: not a proxy, the least a Node process costs per request and hop,
 * started with the sidecars' node flags); two minimal Node HTTP/1.1 proxies (node-http: each head parsed and written
 * again, a keep-alive upstream pool: the least an HTTP-aware Node hop costs; same flags; no h2c); two Shoal sidecars.
 * Each hop is one single-threaded worker (nginx `worker_processes 1`, HAProxy `nbthread 1`, Node), all on loopback,
 * keep-alive everywhere. Every path is started first (an idle path costs nothing), then the phases run path after
 * path, so that the paths' figures are taken as close together in time as possible on a machine that is not quiet:
 *  1. warm-up: wrk for 2 s on each path (connections, caches, the JIT of a Node sidecar);
 *  2. latency at a fixed rate (1,000 rps; fixed-rate-client.ts: open loop, coordinated-omission corrected): two
 *     rounds of half the phase each, in the order direct, nginx, haproxy, node-floor, node-http, shoal and then back
 *     (ABBA, so that a drift in the machine's background load falls on every path alike), each after 1 s at the same
 *     rate; every hop's CPU is sampled over the measured windows;
 *  3. maximum throughput, HTTP/1.1: wrk -t1 -c50, one phase per path (hop CPU sampled too);
 *  4. maximum throughput, h2c to the first hop: h2load -t1 -c10 -m10, one phase (+1 s warm-up) per path that has an
 *     h2c endpoint (node-http has none: n/a in the report);
 *  5. memory of every hop: VmRSS, VmHWM, RssAnon and PSS (procs.ts) after all the load.
 * Reported: max rps and Shoal/nginx, Shoal/HAProxy ratios; Shoal/node-floor and Shoal/node-http for max rps and for
 * CPU per request and hop; latency added over direct at p50/p90/p99; CPU seconds per 1,000 requests per hop (= vCPU
 * per 1,000 rps); RSS, RssAnon and PSS. Markdown on stdout, JSON (with the tools' raw output) in bench/results/proxy/
 * (gitignored).
 *
 * Knobs (environment): BENCH_PROXY_PATHS ("direct,nginx,haproxy,node-floor,node-http,shoal"), BENCH_PROXY_SECONDS (10,
 * each phase), BENCH_PROXY_RATE (1000), BENCH_PROXY_WRK_CONNECTIONS (50), BENCH_PROXY_H2 ("10x10": clients x streams),
 * BENCH_PROXY_LATENCY_CONNECTIONS (16), BENCH_PROXY_QUIET (seconds to wait, at most, for the machine's other work to
 * drop under 0.25 vCPU before starting; 0), BENCH_PROXY_NODE_FLAGS (shoal-path.ts: node's flags for the sidecars, the
 * node-floor forwarders and the node-http proxies), BENCH_PROXY_NODE (shoal-path.ts: the Node binary those hops run
 * on), BENCH_PROXY_CLIENT_PRIORITY (the fixed-rate client's SCHED_FIFO priority, 20; 0 runs it at normal priority).
 * Everything it starts is stopped by PID, on error and on SIGINT too.
 *
 * The fixed-rate client runs under SCHED_FIFO (`chrt`) where the user may raise priorities (root, CAP_SYS_NICE): at
 * normal priority, on 2 cores shared with both hops and the backend, its own sends fell 0.4-0.9 ms behind schedule
 * at p99, more than the p99 goal itself, so no p99 could be judged. At real-time priority the client is woken on
 * time (lateness p99 about 0.1 ms) and uses about 0.1 vCPU at 1,000 rps, so it takes little from the hops. The
 * priority it ran at is in the result.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FixedRateResult } from './fixed-rate-client.js';
import { checkTools, runH2load, runWrk } from './load-tools.js';
import { buildOf, CpuTally, fixedRate, machineOf, percentiles, stopOnInterrupt } from './measure.js';
import {
  directPath,
  haproxyPath,
  nginxPath,
  startBackend,
  type Backend,
  type Endpoint,
  type RunningPath,
} from './paths.js';
import { nodeFloorPath } from './node-floor-path.js';
import { nodeHttpPath } from './node-http-path.js';
import { CLIENT_PRIORITY, clientPriority, machineLoad, Procs, sampleTree, type TreeSample } from './procs.js';
import { report, type HopResult, type PathResult, type RunResult } from './report.js';
import { SHOAL_BACKEND_IP, SHOAL_CLIENT_IP, shoalPath, shoalSidecarAvailable } from './shoal-path.js';

const ALL_PATHS = ['direct', 'nginx', 'haproxy', 'node-floor', 'node-http', 'shoal'] as const;
type PathName = (typeof ALL_PATHS)[number];

const env = process.env;
const PATHS = (env.BENCH_PROXY_PATHS ?? ALL_PATHS.join(','))
  .split(',')
  .filter((p): p is PathName => (ALL_PATHS as readonly string[]).includes(p));
const SECONDS = Number(env.BENCH_PROXY_SECONDS ?? 10);
const RATE = Number(env.BENCH_PROXY_RATE ?? 1000);
const WRK_CONNECTIONS = Number(env.BENCH_PROXY_WRK_CONNECTIONS ?? 50);
const [H2_CLIENTS, H2_STREAMS] = (env.BENCH_PROXY_H2 ?? '10x10').split('x').map(Number) as [number, number];
const LATENCY_CONNECTIONS = Number(env.BENCH_PROXY_LATENCY_CONNECTIONS ?? 16);
/** Wait up to this long (s) before starting for the machine's other work to drop under QUIET_VCPU. */
const QUIET_WAIT_S = Number(env.BENCH_PROXY_QUIET ?? 0);
const QUIET_VCPU = 0.25;
const LATENCY_ROUNDS = 2;
const WARM_SECONDS = 2;
const SEGMENT_WARM_MS = 1000;
/** No phase starts after this (each phase is bounded on its own, so the run ends soon after). */
const RUN_BUDGET_MS = 5 * 60_000;

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// bench/results/ is in the root .gitignore, which prettier honours too (a nested .gitignore it would not read).
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results', 'proxy');

function log(line: string): void {
  process.stderr.write(`[bench proxy] ${line}\n`);
}

class Skip extends Error {}

interface Live {
  path: RunningPath;
  result: PathResult;
  latency: FixedRateResult[];
  /** The hops right after start, before any load. */
  idle: TreeSample[];
  /** A step failed: the path's later steps are not run (its earlier figures stand). */
  broken: boolean;
  /** Other work on the machine (vCPU) during each latency segment. */
  otherVcpu: number[];
  atRate: CpuTally[];
  atMax: CpuTally[];
}

const url = (e: Endpoint): string => `http://${e.host}:${e.port}/`;

async function startPath(
  name: PathName,
  procs: Procs,
  dir: string,
  backend: Backend,
  found: ReturnType<typeof checkTools>,
): Promise<RunningPath> {
  if (name === 'direct') return directPath(backend);
  if (name === 'nginx') return nginxPath(procs, found.found.nginx!, dir, backend);
  if (name === 'haproxy') {
    if (!found.found.haproxy) throw new Skip(`haproxy is not installed (${found.install})`);
    return haproxyPath(procs, found.found.haproxy, dir, backend);
  }
  if (name === 'node-floor') return nodeFloorPath(procs, dir, backend);
  if (name === 'node-http') return nodeHttpPath(procs, dir, backend);
  const available = await shoalSidecarAvailable();
  if (!available.ok) throw new Skip(available.reason);
  return shoalPath(procs, dir, backend);
}

export async function benchProxy(): Promise<string> {
  let started = performance.now();
  const overBudget = (): boolean => performance.now() - started > RUN_BUDGET_MS;
  const check = checkTools();
  if (check.install) log(`missing: ${check.missing.join(', ')}; install with: ${check.install}`);
  const nginx = check.found.nginx;
  if (!nginx) {
    throw new Error(`the proxy benchmark needs nginx for its backend; install the tools with: ${check.install}`);
  }
  const { wrk, h2load } = check.found;
  const priority = clientPriority(CLIENT_PRIORITY);
  log(`fixed-rate client priority: ${priority.label}`);

  let background = await machineLoad(2000);
  const quietDeadline = performance.now() + QUIET_WAIT_S * 1000;
  while (background.busyVcpu > QUIET_VCPU && performance.now() < quietDeadline) {
    log(`waiting for a quieter machine: ${background.busyVcpu.toFixed(2)} vCPU busy with other work`);
    background = await machineLoad(2000);
  }
  log(
    `before the run: ${background.busyVcpu.toFixed(2)} vCPU busy with other work, load average ${background.loadavg}`,
  );
  // The budget counts from here: the wait for a quiet machine is not part of the run.
  started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-proxy-'));
  const procs = new Procs();
  const unguard = stopOnInterrupt(procs, dir, log);

  const results: PathResult[] = [];
  const live: Live[] = [];
  /** Runs one step of one path; a failure takes that path out of the later phases, not the others. */
  const step = async (l: Live, what: string, fn: () => Promise<void>): Promise<void> => {
    if (l.broken) return;
    if (overBudget()) {
      l.result.problems.push(`${what}: not run, the run went over its ${RUN_BUDGET_MS / 60_000}-minute budget`);
      return;
    }
    log(`${l.path.name}: ${what}`);
    try {
      await fn();
    } catch (err) {
      log(`${l.path.name}: ${what} failed: ${(err as Error).message}`);
      l.broken = true;
      l.result.problems.push(`${what} failed (later phases not run): ${(err as Error).message.slice(0, 1000)}`);
    }
  };
  try {
    const backend = await startBackend(procs, nginx, dir, [SHOAL_CLIENT_IP, SHOAL_BACKEND_IP]);
    const backendPids = (): number[] => procs.tree(backend.managed.pid);
    log(`backend: nginx on ${backend.http1.host}:${backend.http1.port} (h2c ${backend.h2c.port}), files in ${dir}`);
    for (const name of PATHS) {
      try {
        const path = await startPath(name, procs, dir, backend, check);
        const result: PathResult = { name, status: 'ok', notes: path.notes, problems: [], hops: [] };
        const tallies = (): CpuTally[] => path.hops.map(() => new CpuTally());
        live.push({
          path,
          result,
          idle: path.hops.map((h) => sampleTree(h.pids())),
          broken: false,
          latency: [],
          otherVcpu: [],
          atRate: tallies(),
          atMax: tallies(),
        });
        results.push(result);
        log(`${name}: started`);
      } catch (err) {
        const skipped = err instanceof Skip;
        log(`${name}: ${skipped ? 'skipped' : 'failed to start'}: ${(err as Error).message}`);
        const reason = (err as Error).message.slice(0, 2000);
        results.push({ name, status: skipped ? 'skipped' : 'failed', reason, notes: [], problems: [], hops: [] });
      }
    }

    if (wrk) {
      for (const l of live) {
        await step(l, `warm-up (wrk ${WARM_SECONDS} s)`, async () => {
          const warm = await runWrk(wrk, url(l.path.http1), l.path.authority, WRK_CONNECTIONS, WARM_SECONDS);
          if (!(warm.rps > 0) || warm.errors > 0) throw new Error(`warm-up: ${warm.raw.slice(-1000)}`);
        });
      }
    }

    const segment = SECONDS / LATENCY_ROUNDS;
    for (let round = 0; round < LATENCY_ROUNDS; round++) {
      const order = round % 2 === 0 ? live : [...live].reverse();
      for (const l of order) {
        await step(l, `${RATE} rps for ${segment} s, round ${round + 1}/${LATENCY_ROUNDS}`, async () => {
          const { result, before, after, otherVcpu } = await fixedRate(
            procs,
            dir,
            l.path,
            { rate: RATE, seconds: segment, warmupMs: SEGMENT_WARM_MS, connections: LATENCY_CONNECTIONS },
            backendPids,
            priority.command,
          );
          l.latency.push(result);
          l.otherVcpu.push(otherVcpu);
          l.atRate.forEach((t, i) => t.add(before[i], after[i], result.latencyMs.length));
        });
      }
    }

    if (wrk) {
      for (const l of live) {
        await step(l, `wrk -t1 -c${WRK_CONNECTIONS} for ${SECONDS} s`, async () => {
          const before = l.path.hops.map((h) => sampleTree(h.pids()));
          l.result.wrk = await runWrk(wrk, url(l.path.http1), l.path.authority, WRK_CONNECTIONS, SECONDS);
          const after = l.path.hops.map((h) => sampleTree(h.pids()));
          l.atMax.forEach((t, i) => t.add(before[i], after[i], l.result.wrk!.requests));
        });
      }
    }
    if (h2load) {
      for (const l of live) {
        const h2c = l.path.h2c;
        if (!h2c) continue;
        await step(l, `h2load -c${H2_CLIENTS} -m${H2_STREAMS} for ${SECONDS} s (h2c)`, async () => {
          l.result.h2load = await runH2load(h2load, url(h2c), l.path.authority, H2_CLIENTS, H2_STREAMS, SECONDS);
        });
      }
    }

    for (const l of live) {
      const memory = l.path.hops.map((h) => sampleTree(h.pids()));
      l.result.hops = l.path.hops.map((h, i): HopResult => ({
        name: h.name,
        pids: memory[i]!.pids,
        cpuPer1000AtRate: l.atRate[i]!.per1000,
        vcpuAtRate: l.atRate[i]!.vcpu,
        cpuPer1000AtMax: l.atMax[i]!.per1000,
        vcpuAtMax: l.atMax[i]!.vcpu,
        rssIdleMb: l.idle[i]?.rssMb ?? NaN,
        rssMb: memory[i]!.rssMb,
        hwmMb: memory[i]!.hwmMb,
        anonIdleMb: l.idle[i]?.anonMb ?? NaN,
        anonMb: memory[i]!.anonMb,
        pssIdleMb: l.idle[i]?.pssMb ?? NaN,
        pssMb: memory[i]!.pssMb,
      }));
      if (l.latency.length > 0) {
        const sum = (k: 'sent' | 'ok' | 'bad' | 'errors' | 'dropped'): number =>
          l.latency.reduce((s, r) => s + r[k], 0);
        const merged = (k: 'latencyMs' | 'serviceMs' | 'lateMs'): number[] =>
          l.latency.flatMap((r) => r[k]).sort((a, b) => a - b);
        l.result.latency = {
          rate: RATE,
          seconds: SECONDS,
          sent: sum('sent'),
          ok: sum('ok'),
          bad: sum('bad'),
          errors: sum('errors'),
          dropped: sum('dropped'),
          samples: l.latency.reduce((s, r) => s + r.latencyMs.length, 0),
          fromIntended: percentiles(merged('latencyMs')),
          fromSend: percentiles(merged('serviceMs')),
          lateness: percentiles(merged('lateMs')),
          firstError: l.latency.find((r) => r.firstError !== undefined)?.firstError,
          otherVcpu: Math.max(...l.otherVcpu),
        };
      }
    }
  } finally {
    for (const l of [...live].reverse()) {
      try {
        await l.path.stop();
      } catch (err) {
        log(`${l.path.name}: stop failed: ${(err as Error).message}`);
      }
    }
    await procs.stopAll();
    unguard();
  }

  const run: RunResult = {
    date: new Date().toISOString(),
    machine: machineOf(),
    settings: {
      seconds: SECONDS,
      rate: RATE,
      latencyRounds: LATENCY_ROUNDS,
      wrkConnections: WRK_CONNECTIONS,
      h2Clients: H2_CLIENTS,
      h2Streams: H2_STREAMS,
      latencyConnections: LATENCY_CONNECTIONS,
      clientPriority: priority.label,
    },
    tools: check.found,
    build: buildOf(REPO_ROOT),
    background: { loadavg: background.loadavg, busyVcpuBefore: background.busyVcpu },
    paths: results,
    wallSeconds: (performance.now() - started) / 1000,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `proxy-${run.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
  log(`results in ${file}; the run took ${run.wallSeconds.toFixed(0)} s`);
  if (results.some((r) => r.status === 'failed' || r.problems.length > 0))
    log(`configurations and logs kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return report(run);
}
