/**
 * What the proxy benchmarks (index.ts, ab.ts) measure with, shared: one fixed-rate segment with the hops' CPU
 * sampled over its measured window, CPU tallies per hop, exact percentiles, the build a figure comes from, and the
 * SIGINT/SIGTERM guard that stops by PID everything a run started.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FixedRateConfig, FixedRateResult } from './fixed-rate-client.js';
import { killLoadTools } from './load-tools.js';
import type { RunningPath } from './paths.js';
import { machineBusySeconds, sampleTree, type Procs, type TreeSample } from './procs.js';
import { nodeVersion } from './shoal-path.js';
import type { Percentiles } from './report.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./fixed-rate-client.js', import.meta.url));

/** The load of one fixed-rate segment. */
export interface FixedRateLoad {
  rate: number;
  /** Measured seconds (after the warm-up). */
  seconds: number;
  warmupMs: number;
  connections: number;
}

/** One fixed-rate segment: a forked client process; hop CPU sampled from its `measuring` message to its result. */
export async function fixedRate(
  procs: Procs,
  dir: string,
  path: RunningPath,
  load: FixedRateLoad,
  backendPids: () => number[],
  priority: string[],
): Promise<{ result: FixedRateResult; before: TreeSample[]; after: TreeSample[]; otherVcpu: number }> {
  const config: FixedRateConfig = {
    host: path.http1.host,
    port: path.http1.port,
    authority: path.authority,
    path: '/',
    rate: load.rate,
    warmupMs: load.warmupMs,
    durationMs: load.seconds * 1000,
    connections: load.connections,
    drainMs: 5_000,
  };
  const [command, ...prefix] = [...priority, process.execPath];
  const m = procs.spawn(
    `fixed-rate-${path.name}`,
    command,
    [...prefix, CLIENT_SCRIPT, JSON.stringify(config)],
    join(dir, `fixed-rate-${path.name}.log`),
    { ipc: true },
  );
  let before: TreeSample[] = [];
  // Everything of this benchmark that works during the segment; the machine's busy time minus theirs is other work.
  const ours = (): number[] => [
    process.pid,
    ...procs.tree(m.pid),
    ...backendPids(),
    ...path.hops.flatMap((h) => h.pids()),
  ];
  let machineBefore = 0;
  let oursBefore: TreeSample | undefined;
  const timeoutMs = config.warmupMs + config.durationMs + config.drainMs + 20_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await new Promise<FixedRateResult>((resolve, reject) => {
      m.proc.on('message', (msg: { type: string; message?: string }) => {
        if (msg.type === 'measuring') {
          before = path.hops.map((h) => sampleTree(h.pids()));
          machineBefore = machineBusySeconds();
          oursBefore = sampleTree(ours());
        } else if (msg.type === 'result') resolve(msg as FixedRateResult);
        else if (msg.type === 'failed') reject(new Error(`fixed-rate client: ${msg.message}`));
      });
      void m.exited.then((code) => reject(new Error(`fixed-rate client exited (${code}): ${m.logTail()}`)));
      timer = setTimeout(() => reject(new Error(`fixed-rate client: no result within ${timeoutMs} ms`)), timeoutMs);
    });
    const after = path.hops.map((h) => sampleTree(h.pids()));
    const machine = machineBusySeconds() - machineBefore;
    const oursAfter = sampleTree(ours());
    const wall = oursBefore ? (oursAfter.at - oursBefore.at) / 1000 : NaN;
    const otherVcpu = oursBefore ? (machine - (oursAfter.cpuSeconds - oursBefore.cpuSeconds)) / wall : NaN;
    return { result, before, after, otherVcpu };
  } finally {
    clearTimeout(timer);
    await procs.stop(m);
  }
}

export function percentiles(sorted: readonly number[]): Percentiles {
  const at = (p: number): number =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] ?? NaN };
}

/** CPU seconds, wall seconds and requests of one hop, summed over measured windows. */
export class CpuTally {
  cpu = 0;
  wall = 0;
  requests = 0;
  add(before: TreeSample | undefined, after: TreeSample | undefined, requests: number): void {
    if (!before || !after) return;
    this.cpu += after.cpuSeconds - before.cpuSeconds;
    this.wall += (after.at - before.at) / 1000;
    this.requests += requests;
  }
  get per1000(): number {
    return this.requests > 0 ? this.cpu / (this.requests / 1000) : NaN;
  }
  get vcpu(): number {
    return this.wall > 0 ? this.cpu / this.wall : NaN;
  }
}

/** The commit checked out at `root`, and whether its src/ had uncommitted changes (built into its dist too). */
export function buildOf(root: string): { commit: string; srcDirty: boolean } {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '';
    }
  };
  return {
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    srcDirty: git(['status', '--porcelain', 'src']) !== '',
  };
}

/**
 * Until the returned function is called: on SIGINT or SIGTERM, SIGKILL by PID every process `procs` started and
 * every load tool still running, remove `dir` and exit 130; on exit, the same kills.
 *
 * The signal listeners stay installed until then (`on`, not `once`): removing the last SIGINT listener gives the
 * signal back its default action, and a second SIGINT (`timeout` sends one to its child and one to the process
 * group; Ctrl-C twice) would then end this process in the middle of the kills, leaving the sidecars running.
 */
export function stopOnInterrupt(procs: Procs, dir: string, log: (line: string) => void): () => void {
  const onSignal = (): void => {
    log('interrupted: stopping everything this benchmark started');
    killLoadTools();
    procs.killAllNow();
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      log(`could not remove ${dir}: ${(err as Error).message}`);
    }
    process.exit(130);
  };
  const onExit = (): void => {
    killLoadTools();
    procs.killAllNow();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('exit', onExit);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}

/**
 * The machine a run measured on: its cores, the benchmark's Node and, with `withHopNode`, the hops' Node when
 * BENCH_PROXY_NODE makes it another release (proxy-ab names each build's Node instead).
 */
export function machineOf(withHopNode = true): { cpus: number; node: string; hopNode?: string } {
  const machine = { cpus: availableParallelism(), node: process.version };
  const hopNode = withHopNode ? nodeVersion() : process.version;
  return hopNode === process.version ? machine : { ...machine, hopNode };
}

/** "v20.20.2", or "v20.20.2 (Node hops on v24.21.0)" when the hops ran on another release. */
export function nodeLabel(machine: { node: string; hopNode?: string }): string {
  return machine.hopNode === undefined ? machine.node : `${machine.node} (Node hops on ${machine.hopNode})`;
}
