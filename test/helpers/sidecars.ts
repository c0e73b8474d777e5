/**
 * Real `shoal sidecar` and `shoal gateway` processes and small apps for tests. Every test process gets its own block of pod
 * addresses (127.1.<block>.<n>), so test files running side by side never share a listener address; each sidecar
 * then uses Shoal's standard ports on its pod address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Readable } from 'node:stream';
import { SHOAL_BIN } from './processes.js';

const BLOCK = (process.pid % 250) + 1;
let next = 1;

/** A fresh pod address for this test process. */
export function podIp(): string {
  const n = next++;
  if (n > 250) throw new Error('out of pod addresses');
  return `127.1.${BLOCK}.${n}`;
}

export interface SidecarProcess {
  proc: ChildProcess;
  podIp: string;
  workload: string;
  /** `http://<pod-ip>:15001`: the outbound listener, as HTTP_PROXY. */
  outbound: string;
  inbound: string;
  admin: string;
  health: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the sidecar printed `ready`. */
  ready: Promise<void>;
  /** SIGTERM (graceful) and wait for exit; resolves the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface SidecarSpec {
  xds: string;
  workload: string;
  appPort: number;
  podIp?: string;
  labels?: Record<string, string>;
  namespace?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/** The command line of `shoal sidecar` or `shoal gateway`: the flags they share, then `own`, then extra args. */
function proxyArgs(
  command: 'sidecar' | 'gateway',
  spec: { xds: string; workload: string; namespace?: string; labels?: Record<string, string>; args?: string[] },
  own: string[],
): string[] {
  const labels = Object.entries(spec.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    SHOAL_BIN,
    command,
    '--control',
    spec.xds,
    '--workload',
    spec.workload,
    '--namespace',
    spec.namespace ?? 'default',
    ...own,
    ...(labels !== '' ? ['--labels', labels] : []),
    ...(spec.args ?? []),
  ];
}

export function startSidecar(spec: SidecarSpec): SidecarProcess {
  const ip = spec.podIp ?? podIp();
  const args = proxyArgs('sidecar', spec, ['--pod-ip', ip, '--app-port', String(spec.appPort)]);
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return {
    ...watch(proc, 'sidecar', spec.workload),
    podIp: ip,
    workload: spec.workload,
    outbound: `http://${ip}:15001`,
    inbound: `http://${ip}:15006`,
    admin: `http://${ip}:15000`,
    health: `http://${ip}:15021`,
  };
}

type Watched = Pick<SidecarProcess, 'proc' | 'stdout' | 'stderr' | 'ready' | 'stop' | 'kill' | 'exited'>;

/** Collects a proxy process's output; `ready` resolves on its `shoal <command>: ready` line. */
function watch(proc: ChildProcess, command: 'sidecar' | 'gateway', name: string): Watched {
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(`shoal ${command}: ready`)) resolve();
    });
    void exited.then((code) => reject(new Error(`${command} ${name} exited ${code}: ${err.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    ready,
    exited,
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

export interface GatewayProcess extends Watched {
  /** The `--bind` address: listeners, health (15021), admin (15000) and stats (15090) are on it. */
  bind: string;
  workload: string;
  admin: string;
  health: string;
}

export interface GatewaySpec {
  xds: string;
  workload: string;
  /** Default: a fresh pod address, so the Gateway's ports and the standard admin ports are free on it. */
  bind?: string;
  labels?: Record<string, string>;
  namespace?: string;
  args?: string[];
}

export function startGateway(spec: GatewaySpec): GatewayProcess {
  const bind = spec.bind ?? podIp();
  const args = proxyArgs('gateway', spec, ['--bind', bind]);
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    ...watch(proc, 'gateway', spec.workload),
    bind,
    workload: spec.workload,
    admin: `http://${bind}:15000`,
    health: `http://${bind}:15021`,
  };
}

/** An app that answers every request with JSON naming itself and echoing what it received. */
export async function startEchoApp(
  host: string,
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (handler?.(req, res) === true) return;
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body = JSON.stringify({
        name,
        method: req.method,
        url: req.url,
        host: req.headers.host,
        bytes,
        headers: req.headers,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    server,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: Record<string, string | undefined>;
  body: Buffer;
  /** The body as UTF-8 text. */
  text: string;
}

/**
 * One HTTP/1.1 request on its own connection (no agent), the whole response collected. `url` names the server (a
 * sidecar's outbound listener, an admin port); `path` overrides its path, for absolute-form targets.
 */
export function send(
  url: string,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | Readable } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? `${u.pathname}${u.search}`,
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            trailers: res.trailers,
            body,
            text: body.toString(),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body instanceof Readable) opts.body.pipe(req);
    else req.end(opts.body);
  });
}
