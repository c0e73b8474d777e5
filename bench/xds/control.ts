/**
 * A real `shoal control` process for the xDS benchmark: test/helpers/processes.ts' startControl, plus Node options
 * of the benchmark's choosing (`--cpu-prof` is not allowed in NODE_OPTIONS, so a profiled control plane has to be
 * spawned with it on the command line). Ports 0; resolves once the process prints its addresses.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHOAL_BIN, tempDir, type RunningControl } from '../../test/helpers/processes.js';

export async function startBenchControl(execArgv: readonly string[] = []): Promise<RunningControl> {
  const dataDir = tempDir('shoal-bench-xds-control-');
  const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_CONFIG: join(dataDir, 'client-config') };
  delete env.SHOAL_SERVER;
  delete env.SHOAL_TOKEN;
  const args = [...execArgv, SHOAL_BIN, 'control', '--data-dir', dataDir, '--http-port', '0', '--xds-port', '0'];
  args.push('--dns-port', '0');
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Diagnostics (e.g. BENCH_XDS_NODE_ARGS=--trace-gc): the control plane's stdout, copied to a file.
  if (process.env.BENCH_XDS_CP_STDOUT) proc.stdout.pipe(createWriteStream(process.env.BENCH_XDS_CP_STDOUT));
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => (err = (err + d).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let dns = '';
  const [url, xds] = await new Promise<[string, string]>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`shoal control printed no addresses within 30 s: ${err}`));
    }, 30_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => {
      out += d;
      const m = /api (http:\/\/\S+) xds (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        dns = /dns (\S+) \(udp, tcp\)/.exec(out)?.[1] ?? '';
        resolve([m[1]!, m[2]!]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`shoal control exited ${code} before it was ready: ${err}`));
    });
  });
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    url,
    xds,
    dns,
    token: readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(),
    dataDir,
    env,
    stderr: () => err,
    async stop() {
      if (alive()) proc.kill('SIGTERM');
      const timer = setTimeout(() => alive() && proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (alive()) proc.kill('SIGKILL');
      await exited;
    },
  };
}
