/**
 * The bookstore example (examples/bookstore) in tests: its apps started from deployments.yaml the way `shoal up`
 * starts a pod (the container's command, with the working directory = the manifest's directory and the pod
 * environment), its load generator, and a small forward proxy that stands in for the mesh (absolute-form requests
 * routed by host name, as a sidecar's outbound listener routes them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, type CliResult } from './processes.js';

export const BOOKSTORE_DIR = join(REPO_ROOT, 'examples', 'bookstore');

interface Container {
  command: string[];
  env?: { name: string; value: string }[];
}

/** The container of each Deployment in deployments.yaml, by Deployment name. */
export function bookstoreContainers(): Map<string, Container> {
  const out = new Map<string, Container>();
  const text = readFileSync(join(BOOKSTORE_DIR, 'deployments.yaml'), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const d = doc.toJS() as { metadata: { name: string }; spec: { template: { spec: { containers: Container[] } } } };
    out.set(d.metadata.name, d.spec.template.spec.containers[0]!);
  }
  return out;
}

export interface BookstoreApp {
  deployment: string;
  pod: string;
  /** `http://<ip>:<port>`, from the line the app prints when it listens. */
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
  /** SIGTERM and wait; resolves the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts one Deployment's app as `shoal up` would start its pod: the container's command from `examples/bookstore`,
 * with the pod environment (PORT, HOST, POD_IP, POD_NAME, POD_NAMESPACE, HTTP_PROXY, NO_PROXY) and the container's
 * env, then `env` on top (PORT defaults to 0 here: a free port on the pod address). Nothing else of this process's
 * environment is passed on, so no stray HTTP_PROXY changes what the app does.
 */
export async function startBookstoreApp(
  deployment: string,
  opts: { ip: string; pod?: string; proxy?: string; env?: Record<string, string> },
): Promise<BookstoreApp> {
  const container = bookstoreContainers().get(deployment);
  if (container === undefined) throw new Error(`deployments.yaml has no Deployment ${deployment}`);
  const [command, ...args] = container.command;
  const pod = opts.pod ?? `${deployment}-0`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PORT: '0',
    HOST: opts.ip,
    POD_IP: opts.ip,
    POD_NAME: pod,
    POD_NAMESPACE: 'default',
    ...(opts.proxy !== undefined ? { HTTP_PROXY: opts.proxy, NO_PROXY: `localhost,127.0.0.1,${opts.ip}` } : {}),
    ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value])),
    ...opts.env,
  };
  const proc = spawn(command === 'node' ? process.execPath : command!, args, {
    cwd: BOOKSTORE_DIR,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = / listening on (http:\/\/\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`${deployment} exited ${code}: ${err}`)));
  });
  return {
    deployment,
    pod,
    url,
    proc,
    stderr: () => err,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs an app's compiled file with exactly `env` (plus PATH) and collects its output: for bad-environment cases. */
export function runBookstoreApp(file: string, env: Record<string, string>): Promise<CliResult> {
  return runNode([join(REPO_ROOT, 'dist', 'examples', 'bookstore', `${file}.js`)], env);
}

/** Runs the load generator (dist/examples/bookstore/load.js) with `args`. */
export function runLoad(args: string[]): Promise<CliResult> {
  return runNode([join(REPO_ROOT, 'dist', 'examples', 'bookstore', 'load.js'), ...args], {});
}

function runNode(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end();
  });
}

export interface ProxiedRequest {
  method: string;
  /** The absolute-form target's host, e.g. `catalog.default.svc.cluster.local`. */
  host: string;
  /** Path and query. */
  path: string;
  headers: IncomingHttpHeaders;
}

export interface MeshStandIn {
  /** `http://<ip>:<port>`, for HTTP_PROXY. */
  url: string;
  /** Every absolute-form request, in arrival order. */
  seen: ProxiedRequest[];
  /** CONNECT targets (an app that tunnels instead of proxying shows here; they are refused). */
  connects: string[];
  /**
   * Host -> app base URLs; several are taken in turn (round robin). A host without a route gets 404 with
   * `x-shoal-response-flags: NR`; an app that does not accept the connection, 503 `UF`, as from a sidecar.
   */
  routes: Map<string, string[]>;
  close(): Promise<void>;
}

/** A forward HTTP proxy routing absolute-form requests by host: what an app's sidecar does, without the mesh. */
export async function startMeshStandIn(ip: string): Promise<MeshStandIn> {
  const seen: ProxiedRequest[] = [];
  const connects: string[] = [];
  const routes = new Map<string, string[]>();
  const turns = new Map<string, number>();
  const server = createServer((req, res) => {
    const fail = (status: number, flags: string, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain', 'x-shoal-response-flags': flags });
      res.end(text);
    };
    if (!(req.url ?? '').startsWith('http://')) return fail(400, 'DPE', 'not an absolute-form request');
    const target = new URL(req.url!);
    seen.push({
      method: req.method!,
      host: target.host,
      path: `${target.pathname}${target.search}`,
      headers: req.headers,
    });
    const bases = routes.get(target.host) ?? [];
    if (bases.length === 0) return fail(404, 'NR', 'no route');
    const turn = turns.get(target.host) ?? 0;
    turns.set(target.host, turn + 1);
    const base = new URL(bases[turn % bases.length]!);
    const upstream = request(
      { host: base.hostname, port: base.port, method: req.method, path: target.pathname + target.search, agent: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    for (const [name, value] of Object.entries(req.headers)) {
      if (name !== 'connection' && name !== 'proxy-connection' && value !== undefined) upstream.setHeader(name, value);
    }
    upstream.on('error', () => {
      if (!res.headersSent) fail(503, 'UF', 'upstream connect error');
      else res.destroy();
    });
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    connects.push(req.url ?? '');
    socket.end('HTTP/1.1 404 Not Found\r\nx-shoal-response-flags: NR\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://${ip}:${port}`,
    seen,
    connects,
    routes,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
