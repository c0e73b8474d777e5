/**
 * The external tools of the proxy benchmark: which are installed, and wrk / h2load runs with their output parsed.
 * Each run is bounded in time (its own duration plus a margin, then SIGKILL by PID).
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';

/** wrk and h2load processes running now, so that an interrupted benchmark can stop them by PID. */
const running = new Set<ChildProcess>();

/** SIGKILL, by PID, every load tool still running (for SIGINT). */
export function killLoadTools(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

export const TOOLS = [
  { command: 'wrk', debian: 'wrk' },
  { command: 'h2load', debian: 'nghttp2-client' },
  { command: 'nginx', debian: 'nginx-light' },
  { command: 'haproxy', debian: 'haproxy' },
] as const;

export type Tool = (typeof TOOLS)[number]['command'];

/** Absolute path of a command on PATH (or in /usr/sbin, where Debian puts nginx and haproxy), else undefined. */
export function findTool(command: string): string | undefined {
  const path = `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin:/sbin`;
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: path },
    })
      .trim()
      .split('\n')[0];
  } catch {
    return undefined;
  }
}

export interface ToolCheck {
  found: Partial<Record<Tool, string>>;
  missing: Tool[];
  /** The apt-get command that installs the missing tools, or undefined when nothing is missing. */
  install?: string;
}

export function checkTools(): ToolCheck {
  const found: Partial<Record<Tool, string>> = {};
  const missing: Tool[] = [];
  for (const t of TOOLS) {
    const at = findTool(t.command);
    if (at) found[t.command] = at;
    else missing.push(t.command);
  }
  const debs = TOOLS.filter((t) => missing.includes(t.command)).map((t) => t.debian);
  return {
    found,
    missing,
    install: debs.length > 0 ? `sudo apt-get install -y ${debs.join(' ')}` : undefined,
  };
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // execFile's timeout kills its own child, by PID, with killSignal.
    execFile(
      command,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args.join(' ')}: ${err.message} ${stderr.slice(-500)}`));
        else resolve(stdout + stderr);
      },
    );
  });
}

export interface LoadRun {
  tool: 'wrk' | 'h2load';
  args: string[];
  rps: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors (wrk) or failed + errored requests (h2load). */
  errors: number;
  seconds: number;
  raw: string;
}

/** wrk, HTTP/1.1, one thread, `connections` keep-alive connections, for `seconds`. */
export async function runWrk(
  wrk: string,
  url: string,
  authority: string,
  connections: number,
  seconds: number,
): Promise<LoadRun> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '-H', `Host: ${authority}`, url];
  const raw = await run(wrk, args, (seconds + 15) * 1000);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(raw)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(raw)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const socketErrors = sock ? sock.slice(1).reduce((s, n) => s + Number(n), 0) : 0;
  return { tool: 'wrk', args, rps, requests, errors: non2xx + socketErrors, seconds, raw };
}

/** h2load over h2c (prior knowledge), one thread, `clients` connections x `streams` concurrent streams. */
export async function runH2load(
  h2load: string,
  url: string,
  authority: string,
  clients: number,
  streams: number,
  seconds: number,
): Promise<LoadRun> {
  const args = [
    '-t1',
    `-c${clients}`,
    `-m${streams}`,
    `-D${seconds}`,
    '--warm-up-time=1',
    '-H',
    `:authority: ${authority}`,
    url,
  ];
  const raw = await run(h2load, args, (seconds + 20) * 1000);
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(raw)?.[1] ?? NaN);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
    raw,
  );
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(raw);
  const requests = req ? Number(req[3]) : NaN;
  // h2load counts a 4xx/5xx answer as failed too; the larger of the two counts is the number of bad requests.
  const failed = req ? Number(req[5]) + Number(req[6]) : 0;
  const non2xx = status ? Number(status[3]) + Number(status[4]) : 0;
  // A run in which nothing succeeded is no measurement.
  const noSuccess = req !== null && Number(req[4]) === 0;
  return { tool: 'h2load', args, rps: noSuccess ? 0 : rps, requests, errors: Math.max(failed, non2xx), seconds, raw };
}
