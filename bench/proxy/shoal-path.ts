/**
 * The Shoal path of the proxy benchmark: client -> sidecar S1 (outbound) -> sidecar S2 (inbound) -> backend.
 *
 * Written against the CLI contract in SPEC.md ("Sidecar") before the sidecar exists; `shoalSidecarAvailable()` says
 * whether this build has it. What it does:
 *  1. `shoal control --data-dir D --http-port 0 --xds-port 0`, waiting for `api http://H:P xds H:P` on stdout;
 *  2. `shoal apply -f` (SHOAL_CONFIG=D/client-config) of a Service `backend` in `default`, port 80 named http,
 *     targetPort = the backend's port, selector app=backend;
 *  3. sidecar S2: `--workload backend --labels app=backend --pod-ip 127.1.254.2 --app-port <backend port>`; its
 *     inbound cluster `inbound|<port>||` points at 127.1.254.2:<port>, where the backend also listens;
 *  4. sidecar S1: `--workload client --labels app=client --pod-ip 127.1.254.1 --app-port <backend port>` (S1 has no
 *     app of its own; the backend listens on 127.1.254.1 too, so S1's readiness probe passes);
 *  5. waits until `GET /` with `Host: backend.default.svc.cluster.local` to S1's outbound 127.1.254.1:15001 answers
 *     200, i.e. S1 has its configuration and S2's endpoint is registered and healthy.
 * The load goes to 127.1.254.1:15001 with that Host (h2c too: the outbound listener sniffs the HTTP/2 preface).
 * The hops measured are S1 and S2; the control plane is idle during the load and is not counted.
 *
 * Environment: BENCH_PROXY_SHOAL_HOST (the Host header), BENCH_PROXY_SHOAL_ARGS (extra sidecar flags, space separated,
 * e.g. a log level once the sidecar has one), BENCH_PROXY_NODE (the Node binary that runs the sidecars; this process's
 * own unless set), BENCH_PROXY_NODE_FLAGS (node's flags for the sidecars; default `--max-semi-space-size=1`, what
 * `shoal up` starts sidecars with: a 1 MB young generation instead of 16 MB, which saves ~25 MB of RSS at no measured
 * cost in throughput; set it to '' for Node's defaults). The node-floor path's forwarders get the same flags.
 *
 * Which build runs: this checkout's CLI (SHOAL_BIN) unless the caller names another built `src/cli/main.js` (the
 * A/B suite, ab.ts, starts the path with an older build's dist); every process of the path (control plane, `shoal
 * apply`, both sidecars) then runs that build. The sidecars run on `hopNode` (HOP_NODE unless the caller names
 * another Node binary), the control plane and `shoal apply` on the benchmark's own Node.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, Hop, RunningPath } from './paths.js';
import type { Managed, Procs } from './procs.js';

export const SHOAL_BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export const SHOAL_CLIENT_IP = '127.1.254.1';
export const SHOAL_BACKEND_IP = '127.1.254.2';
const OUTBOUND_PORT = 15001;
const INBOUND_PORT = 15006;
const AUTHORITY = process.env.BENCH_PROXY_SHOAL_HOST ?? 'backend.default.svc.cluster.local';
const EXTRA_ARGS = (process.env.BENCH_PROXY_SHOAL_ARGS ?? '').split(' ').filter((a) => a !== '');
/** Node's flags for the sidecars, and for the node-floor forwarders (node-floor-path.ts), so that both run alike. */
export const NODE_FLAGS = (process.env.BENCH_PROXY_NODE_FLAGS ?? '--max-semi-space-size=1')
  .split(' ')
  .filter((a) => a !== '');
/**
 * The Node binary that runs the measured Node hops (the sidecars, the node-floor forwarders and the node-http
 * proxies): BENCH_PROXY_NODE, or the benchmark's own. The control plane, `shoal apply` and the clients stay on the
 * benchmark's Node, so a run can put the data plane on another Node release and change nothing else.
 */
export const HOP_NODE = process.env.BENCH_PROXY_NODE || process.execPath;

/** The version (`node -v`) of the Node binary `node` (`HOP_NODE` unless given); throws, naming it, if it does not run. */
export function nodeVersion(node: string = HOP_NODE): string {
  if (node === process.execPath) return process.version;
  try {
    return execFileSync(node, ['-v'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (err) {
    throw new Error(`${node} is not a Node binary that runs: ${(err as Error).message.split('\n')[0]}`);
  }
}

function node(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  bin: string,
): Promise<{ out: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, out, e) =>
      resolve({ out: out + e, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 }),
    );
  });
}

/**
 * Whether this build has `shoal sidecar`. Commander answers `shoal <unknown> --help` with the program's help and exit
 * code 0, so the test is the command's own usage line and its `--pod-ip` flag.
 */
export async function shoalSidecarAvailable(bin: string = SHOAL_BIN): Promise<{ ok: boolean; reason: string }> {
  const { out, code } = await node(['sidecar', '--help'], process.env, 15_000, bin);
  if (code === 0 && /Usage: shoal sidecar/.test(out) && out.includes('--pod-ip')) return { ok: true, reason: '' };
  return { ok: false, reason: 'not available yet: `shoal sidecar` is not a command of this build' };
}

async function waitForLog(m: Managed, log: string, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pattern.exec(readFileSync(log, 'utf8'));
    if (found) return found;
    if (!m.alive()) throw new Error(`${m.name} exited: ${m.logTail()}`);
    if (Date.now() > deadline) throw new Error(`${m.name}: no ${String(pattern)} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function get(host: string, port: number, authority: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', headers: { host: authority }, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * Starts the control plane, the Service and both sidecars, all with the CLI at `bin`; resolves once a request through
 * both answers 200.
 */
export async function shoalPath(
  procs: Procs,
  dir: string,
  backend: Backend,
  bin: string = SHOAL_BIN,
  hopNode: string = HOP_NODE,
): Promise<RunningPath> {
  const dataDir = join(dir, 'shoal-control');
  mkdirSync(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_CONFIG: join(dataDir, 'client-config') };
  delete env.SHOAL_SERVER;
  delete env.SHOAL_TOKEN;
  const started: Managed[] = [];
  const stop = async (): Promise<void> => {
    for (const m of started.reverse()) await procs.stop(m);
  };
  try {
    const controlLog = join(dir, 'shoal-control.log');
    const control = procs.spawn(
      'shoal-control',
      process.execPath,
      [bin, 'control', '--data-dir', dataDir, '--http-port', '0', '--xds-port', '0', '--dns-port', '0'],
      controlLog,
      { env },
    );
    started.push(control);
    const [, , xds] = await waitForLog(control, controlLog, /api (http:\/\/\S+) xds (\S+)/, 30_000);

    const appPort = backend.http1.port;
    const service = join(dir, 'backend-service.yaml');
    writeFileSync(
      service,
      `apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: default
spec:
  selector:
    app: backend
  ports:
    - name: http
      port: 80
      targetPort: ${appPort}
      protocol: TCP
`,
    );
    const applied = await node(['apply', '-f', service], env, 30_000, bin);
    if (applied.code !== 0) throw new Error(`shoal apply failed: ${applied.out}`);

    const sidecar = (name: string, ip: string, labels: string): Managed => {
      const m = procs.spawn(
        `shoal-sidecar-${name}`,
        hopNode,
        [
          ...NODE_FLAGS,
          bin,
          'sidecar',
          '--control',
          xds!,
          '--namespace',
          'default',
          '--workload',
          name,
          '--service-account',
          name,
          '--pod-ip',
          ip,
          '--app-port',
          String(appPort),
          '--labels',
          labels,
          '--outbound-port',
          String(OUTBOUND_PORT),
          '--inbound-port',
          String(INBOUND_PORT),
          '--admin-port',
          '0',
          '--stats-port',
          '0',
          '--health-port',
          '0',
          ...EXTRA_ARGS,
        ],
        join(dir, `shoal-sidecar-${name}.log`),
        { env },
      );
      started.push(m);
      return m;
    };
    const s2 = sidecar('backend', SHOAL_BACKEND_IP, 'app=backend');
    const s1 = sidecar('client', SHOAL_CLIENT_IP, 'app=client');

    const deadline = Date.now() + 60_000;
    let status = 0;
    while ((status = await get(SHOAL_CLIENT_IP, OUTBOUND_PORT, AUTHORITY)) !== 200) {
      for (const m of [control, s2, s1]) if (!m.alive()) throw new Error(`${m.name} exited: ${m.logTail()}`);
      if (Date.now() > deadline) {
        throw new Error(
          `no 200 through the sidecars within 60 s (last status ${status}); S1 log: ${s1.logTail()} S2 log: ${s2.logTail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const hop = (m: Managed, name: string): Hop => ({ name, pids: () => procs.tree(m.pid) });
    return {
      name: 'shoal',
      http1: { host: SHOAL_CLIENT_IP, port: OUTBOUND_PORT },
      h2c: { host: SHOAL_CLIENT_IP, port: OUTBOUND_PORT },
      authority: AUTHORITY,
      hops: [hop(s1, 'shoal-sidecar-client'), hop(s2, 'shoal-sidecar-backend')],
      notes: ['two `shoal sidecar` processes (single-threaded Node); S1 outbound -> S2 inbound -> backend'],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
