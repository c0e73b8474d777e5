/** Real processes for integration and e2e tests: `shoal control` on port 0 and the CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHOAL_BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function tempDir(prefix = 'shoal-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunningControl {
  proc: ChildProcess;
  url: string;
  /** host:port of the plaintext xDS server. */
  xds: string;
  /** host:port of the DNS server (UDP and TCP). */
  dns: string;
  token: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  stderr: () => string;
  /** SIGTERM and wait; resolves the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/** Starts `shoal control --http-port 0` on a data dir (a new temp dir unless given) and waits for its URL. */
export async function startControl(
  opts: { dataDir?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {},
): Promise<RunningControl> {
  const dataDir = opts.dataDir ?? tempDir();
  const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_CONFIG: join(dataDir, 'client-config'), ...opts.env };
  delete env.SHOAL_SERVER;
  delete env.SHOAL_TOKEN;
  const proc = spawn(
    process.execPath,
    [
      SHOAL_BIN,
      'control',
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--xds-port',
      '0',
      '--dns-port',
      '0',
      ...(opts.args ?? []),
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let dns = '';
  const [url, xds] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /api (http:\/\/\S+) xds (\S+)\n/.exec(out);
      if (m) {
        dns = /dns (\S+) \(udp, tcp\)\n/.exec(out)?.[1] ?? '';
        proc.stdout.off('data', onData);
        resolve([m[1]!, m[2]!]);
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`shoal control exited ${code} before it was ready: ${err}`)));
  });
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    url,
    xds,
    dns,
    token,
    dataDir,
    env,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `shoal` CLI as a user would; `input` is written to its stdin. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SHOAL_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading its input (a usage error, now that it starts quickly) closes the pipe:
    // EPIPE here is not the test's failure; the exit code and output say what happened.
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(input ?? '');
  });
}
