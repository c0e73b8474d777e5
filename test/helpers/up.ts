/** A real `shoal up` process for e2e tests: its own data dir, client config, ports and pod address block. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHOAL_BIN, tempDir } from './processes.js';

/** The compiled test app (test/fixtures/up-app.ts). */
export const UP_APP = fileURLToPath(new URL('../fixtures/up-app.js', import.meta.url));

/** A /24 of pod addresses for this test process (the runner skips addresses someone else has bound). */
export function testPodCidr(): string {
  return `127.1.${(process.pid % 250) + 1}.0/24`;
}

export interface RunningUp {
  proc: ChildProcess;
  dataDir: string;
  /** SHOAL_CONFIG points at this run's client config. */
  env: NodeJS.ProcessEnv;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the API URL once `shoal up: ready` was printed; rejects if the process exits first. */
  ready: Promise<string>;
  exited: Promise<number | null>;
  /** Every PID the runner logged as started (apps, sidecars, gateways). */
  pids(): number[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startUp(paths: string[], args: string[] = []): RunningUp {
  const dataDir = tempDir('shoal-up-');
  const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_CONFIG: join(dataDir, 'client-config') };
  delete env.SHOAL_SERVER;
  delete env.SHOAL_TOKEN;
  const proc = spawn(
    process.execPath,
    [
      SHOAL_BIN,
      'up',
      ...paths.flatMap((p) => ['-f', p]),
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--xds-port',
      '0',
      '--dns-port',
      '0',
      '--pod-cidr',
      testPodCidr(),
      ...args,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /shoal up: ready\n(?:.*\n)*?shoal up: api (\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`shoal up exited ${code}: ${err.slice(-3000)}`)));
  });
  ready.catch(() => undefined);
  return {
    proc,
    dataDir,
    env,
    stdout: () => out,
    stderr: () => err,
    ready,
    exited,
    pids() {
      const pids: number[] = [];
      for (const line of err.split('\n')) {
        if (!line.startsWith('{')) continue;
        const rec = JSON.parse(line) as { msg?: string; appPid?: number; sidecarPid?: number; pid?: number };
        if (rec.msg === 'pod started') pids.push(rec.appPid!, rec.sidecarPid!);
        if (rec.msg === 'gateway started' && rec.pid !== undefined) pids.push(rec.pid);
      }
      return pids;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Whether a process is still running (a zombie is gone for this purpose: it runs nothing). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // `pid (comm) S ...`: a zombie (Z) has exited and waits only to be reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` every 100 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
