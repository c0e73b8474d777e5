/**
 * CPU and memory of a process from Linux's /proc: utime+stime from /proc/<pid>/stat (clock ticks, every thread of
 * the process), VmRSS and VmHWM (peak RSS) from /proc/<pid>/status.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { nowMs } from './messages.js';

let ticks: number | undefined;

/** getconf CLK_TCK (100 on Linux almost everywhere). */
export function clockTicks(): number {
  if (ticks === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticks = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return ticks;
}

export interface ProcSample {
  at: number;
  cpuSeconds: number;
  rssMb: number;
  hwmMb: number;
}

function kbField(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

export function sample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which is in parentheses and may hold spaces): state is [0], utime [11], stime [12].
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(rest[11]) + Number(rest[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    at: nowMs(),
    cpuSeconds: cpuTicks / clockTicks(),
    rssMb: kbField(status, 'VmRSS'),
    hwmMb: kbField(status, 'VmHWM'),
  };
}

export interface Usage {
  wallSeconds: number;
  /** CPU seconds per wall second: 1.0 is one core busy. */
  vcpu: number;
  rssMb: number;
  hwmMb: number;
}

/** What a process used between two samples (RSS as of the second). */
export function usage(before: ProcSample, after: ProcSample): Usage {
  const wallSeconds = (after.at - before.at) / 1000;
  return {
    wallSeconds,
    vcpu: wallSeconds > 0 ? (after.cpuSeconds - before.cpuSeconds) / wallSeconds : NaN,
    rssMb: after.rssMb,
    hwmMb: after.hwmMb,
  };
}

/** Samples several processes at once; `finish()` gives each one's usage since. */
export function measure(pids: Record<string, number>): { finish(): Record<string, Usage> } {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sample(pid)]));
  return {
    finish() {
      return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, usage(before[k]!, sample(pid))]));
    },
  };
}
