/**
 * The processes the proxy benchmark starts, and what they cost. Every process is spawned through `Procs`, which
 * remembers its PID (and, for a master that forks workers, such as nginx, the PIDs of its children) and stops each
 * one by that PID: SIGTERM, then SIGKILL after a grace period. `killAllNow()` is the synchronous last resort for a
 * SIGINT. Nothing is ever killed by name.
 *
 * CPU and memory come from Linux's /proc: utime+stime from /proc/<pid>/stat (clock ticks, every thread); VmRSS, VmHWM
 * (peak RSS) and RssAnon from /proc/<pid>/status and Pss from /proc/<pid>/smaps_rollup, summed over a process and its
 * children. RSS counts every page the process maps, the executable's too (for Node, about 34 MB of the node binary,
 * shared by every Node process); RssAnon is the process's own memory (heap, stacks, malloc); PSS divides each shared
 * page among the processes that map it (so it depends on what else is running).
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';

export interface Managed {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has gone. */
  exited: Promise<number | string>;
  alive(): boolean;
  /** The last few KB of the log file (stdout and stderr go there). */
  logTail(): string;
}

const GRACE_MS = 3_000;

export class Procs {
  private readonly started: Managed[] = [];
  /** PIDs of children of started processes (nginx workers), seen by `tree()`; killed by PID too. */
  private readonly descendants = new Set<number>();

  /**
   * Spawns `command` with stdout and stderr appended to `logFile` (never a pipe: a proxy that logs every request
   * must not be slowed by, or block on, a reader). `ipc` adds a Node IPC channel (for a Node script).
   */
  spawn(
    name: string,
    command: string,
    args: readonly string[],
    logFile: string,
    options: SpawnOptions & { ipc?: boolean } = {},
  ): Managed {
    const fd = openSync(logFile, 'a');
    let proc: ChildProcess;
    try {
      const { ipc, ...rest } = options;
      proc = spawn(command, args, { ...rest, stdio: ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    const exited = new Promise<number | string>((resolve) => {
      proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      proc.once('error', (err) => resolve(err.message));
    });
    const managed: Managed = {
      name,
      proc,
      pid: proc.pid,
      exited,
      alive: () => proc.exitCode === null && proc.signalCode === null,
      logTail: () => tail(logFile),
    };
    this.started.push(managed);
    return managed;
  }

  /** `pid` and its live descendants; remembers them so `stop` and `killAllNow` reach them. */
  tree(pid: number): number[] {
    const all = [pid, ...descendantsOf(pid)];
    for (const p of all.slice(1)) this.descendants.add(p);
    return all;
  }

  /** SIGTERM by PID, SIGKILL after the grace period, then SIGKILL any child it left behind. */
  async stop(m: Managed): Promise<void> {
    const children = descendantsOf(m.pid);
    for (const c of children) this.descendants.add(c);
    if (m.alive()) signal(m.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      m.exited,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (m.alive()) signal(m.pid, 'SIGKILL');
          resolve();
        }, GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    await m.exited;
    // A worker normally exits with its master; one that has not within a moment is killed by its PID.
    for (let i = 0; i < 20 && children.some(isAlive); i++) await new Promise((r) => setTimeout(r, 50));
    for (const c of children) {
      if (isAlive(c)) signal(c, 'SIGKILL');
      this.descendants.delete(c);
    }
    const index = this.started.indexOf(m);
    if (index >= 0) this.started.splice(index, 1);
  }

  async stopAll(): Promise<void> {
    for (const m of [...this.started].reverse()) await this.stop(m);
  }

  /** Synchronous: SIGKILL every process started here and every child seen, by PID (for SIGINT and exit). */
  killAllNow(): void {
    for (const m of this.started) {
      for (const c of descendantsOf(m.pid)) this.descendants.add(c);
      if (m.alive()) signal(m.pid, 'SIGKILL');
    }
    for (const c of this.descendants) if (isAlive(c)) signal(c, 'SIGKILL');
    this.started.length = 0;
    this.descendants.clear();
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

/** Live descendants of `pid`, by scanning /proc for parent PIDs. */
export function descendantsOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) parent.set(Number(entry), stat.ppid);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, ppid] of parent) {
      if (ppid === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

let ticks: number | undefined;

/** getconf CLK_TCK (100 on Linux almost everywhere). */
function clockTicks(): number {
  if (ticks === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticks = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return ticks;
}

function readStat(pid: number): { ppid: number; cpuTicks: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // After the command name (in parentheses, may hold spaces): state [0], ppid [1], utime [11], stime [12].
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
}

function kbField(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

export interface TreeSample {
  at: number;
  cpuSeconds: number;
  rssMb: number;
  hwmMb: number;
  /** RssAnon: resident anonymous memory, the process's own. */
  anonMb: number;
  /** Proportional set size (NaN where /proc/<pid>/smaps_rollup cannot be read). */
  pssMb: number;
  pids: number[];
}

/** CPU seconds and memory of a set of processes (a hop: one process, or nginx's master and worker). */
export function sampleTree(pids: readonly number[]): TreeSample {
  let cpuTicks = 0;
  let rssMb = 0;
  let hwmMb = 0;
  let anonMb = 0;
  let pssMb = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (!stat) continue;
    cpuTicks += stat.cpuTicks;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rssMb += kbField(status, 'VmRSS');
      hwmMb += kbField(status, 'VmHWM');
      anonMb += kbField(status, 'RssAnon');
    } catch {
      // gone between the two reads
    }
    try {
      pssMb += kbField(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
    } catch {
      pssMb = NaN; // gone meanwhile, or a kernel without smaps_rollup (before 4.14): unknown rather than too small
    }
  }
  return { at: performance.now(), cpuSeconds: cpuTicks / clockTicks(), rssMb, hwmMb, anonMb, pssMb, pids: [...pids] };
}

/** Busy CPU of the whole machine (all but idle and iowait) in seconds, from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is already in user)
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return busy / clockTicks();
}

/** The machine's busy vCPU (cores' worth) over `ms`, and its load average: what else is running. */
export async function machineLoad(ms: number): Promise<{ loadavg: string; busyVcpu: number }> {
  const before = machineBusySeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const busyVcpu = (machineBusySeconds() - before) / ((performance.now() - t0) / 1000);
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return { loadavg, busyVcpu };
}

/** The fixed-rate client's SCHED_FIFO priority: BENCH_PROXY_CLIENT_PRIORITY, 20 unless set (0: normal priority). */
export const CLIENT_PRIORITY = Number(process.env.BENCH_PROXY_CLIENT_PRIORITY ?? 20);

/**
 * How a latency client is started: its command prefix, `chrt -f <priority>` when that works here (tried by running
 * `true` that way), else none (normal priority), and a label saying which, and why.
 */
export function clientPriority(priority: number): { command: string[]; label: string } {
  if (!(priority > 0)) return { command: [], label: 'normal (BENCH_PROXY_CLIENT_PRIORITY=0)' };
  try {
    execFileSync('chrt', ['-f', String(priority), 'true'], { stdio: 'ignore' });
    return { command: ['chrt', '-f', String(priority)], label: `SCHED_FIFO ${priority}` };
  } catch (err) {
    return { command: [], label: `normal (chrt -f ${priority} failed: ${(err as Error).message.split('\n')[0]})` };
  }
}
