/**
 * One pod's processes: the app (the container's command, run locally) and its `shoal sidecar`, both bound to the
 * pod's own address. The app's output goes to `<log-dir>/<pod>.log`, the sidecar's to
 * `<log-dir>/<pod>.shoal-proxy.log`. Stopping follows Kubernetes + Istio: for a pod that leaves a running mesh
 * (scale down, rollout) the sidecar drains first (its endpoint is withdrawn, in-flight requests finish), then the
 * app gets SIGTERM; when everything stops (`shoal up` exits) the apps stop first, then the sidecars.
 * A process that ignores SIGTERM is killed after its grace period.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Container, Probe } from '../api/kinds/pod-template.js';
import { PROXY_CONTAINER } from '../api/kinds/pod.js';
import { spawnEndingWithParent } from './parent-death.js';

/** The `shoal` entry point this process runs from: sidecars and gateways are started with it. */
export const SHOAL_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** V8 flags for every sidecar: a 1 MB young-generation semi-space saves ~25 MB of RSS per sidecar. */
export const SIDECAR_NODE_FLAGS = ['--max-semi-space-size=1'];

export interface PodProcessSpec {
  name: string;
  namespace: string;
  ip: string;
  labels: Record<string, string>;
  serviceAccount: string;
  container: Container;
  /** The app's working directory. */
  cwd: string;
  /** The control plane's xDS address(es) for the sidecar. */
  xds: string;
  logDir: string;
  /** Extra `shoal sidecar` flags (tests shorten the drain). */
  sidecarArgs?: readonly string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The app's port: the first containerPort, else 8080 (SPEC). */
export function appPort(container: Container): number {
  return container.ports?.[0]?.containerPort ?? 8080;
}

/** The environment SPEC promises the app, over the runner's own (PATH, HOME, ...), then the container's `env`. */
export function appEnvironment(
  spec: Pick<PodProcessSpec, 'name' | 'namespace' | 'ip' | 'container'>,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  // The host's lower-case proxy settings (what curl reads) must not contradict the mesh's.
  const { http_proxy: _httpProxy, no_proxy: _noProxy, ...inherited } = base;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PORT: String(appPort(spec.container)),
    HOST: spec.ip,
    POD_IP: spec.ip,
    POD_NAME: spec.name,
    POD_NAMESPACE: spec.namespace,
    HTTP_PROXY: `http://${spec.ip}:15001`,
    NO_PROXY: `localhost,127.0.0.1,${spec.ip}`,
  };
  for (const e of spec.container.env ?? []) env[e.name] = e.value ?? '';
  return env;
}

/** `shoal sidecar` flags for a pod. */
export function sidecarArgs(spec: PodProcessSpec): string[] {
  const c = spec.container;
  const labels = Object.entries(spec.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const named = (c.ports ?? []).filter((p) => p.name !== undefined).map((p) => `${p.name}=${p.containerPort}`);
  const probe: Probe | undefined = c.readinessProbe;
  return [
    'sidecar',
    '--control',
    spec.xds,
    '--namespace',
    spec.namespace,
    '--workload',
    spec.name,
    '--service-account',
    spec.serviceAccount,
    '--pod-ip',
    spec.ip,
    '--app-port',
    String(appPort(c)),
    ...(labels !== '' ? ['--labels', labels] : []),
    ...(named.length > 0 ? ['--ports', named.join(',')] : []),
    ...(probe !== undefined ? ['--readiness-probe', JSON.stringify(probe)] : []),
    ...(spec.sidecarArgs ?? []),
  ];
}

export class PodProcess {
  app?: ChildProcess;
  sidecar?: ChildProcess;
  private appExited?: Promise<ExitInfo>;
  private sidecarExited?: Promise<ExitInfo>;
  private readonly logs: WriteStream[] = [];
  private stopping = false;

  constructor(
    readonly spec: PodProcessSpec,
    private readonly events: {
      sidecarReady: () => void;
      /** The app ended on its own (not because the pod was stopped). */
      appExited: (exit: ExitInfo) => void;
      /** The sidecar ended on its own. */
      sidecarExited: (exit: ExitInfo) => void;
    },
  ) {}

  get appLogFile(): string {
    return join(this.spec.logDir, `${this.spec.name}.log`);
  }

  get sidecarLogFile(): string {
    return join(this.spec.logDir, `${this.spec.name}.${PROXY_CONTAINER}.log`);
  }

  /** Every process id this pod started. */
  pids(): number[] {
    return [this.sidecar?.pid, this.app?.pid].filter((p): p is number => p !== undefined);
  }

  /** Starts the sidecar, then the app. A command that cannot be spawned ends as an app exit (code 127). */
  start(): void {
    const sidecarLog = this.openLog(this.sidecarLogFile);
    const sidecar = (this.sidecar = spawnEndingWithParent(process.execPath, [
      ...SIDECAR_NODE_FLAGS,
      SHOAL_MAIN,
      ...sidecarArgs(this.spec),
    ]));
    let out = '';
    let ready = false;
    sidecar.stdout.on('data', (d: Buffer) => {
      sidecarLog.write(d);
      if (ready) return;
      out += d.toString();
      if (out.includes('shoal sidecar: ready')) {
        ready = true;
        this.events.sidecarReady();
      }
    });
    sidecar.stderr.pipe(sidecarLog, { end: false });
    this.sidecarExited = exitOf(sidecar);
    void this.sidecarExited.then((exit) => {
      if (!this.stopping) this.events.sidecarExited(exit);
    });

    const appLog = this.openLog(this.appLogFile);
    const [command, ...commandArgs] = [...(this.spec.container.command ?? []), ...(this.spec.container.args ?? [])];
    const app = (this.app = spawnEndingWithParent(command!, commandArgs, {
      cwd: this.spec.cwd,
      env: appEnvironment(this.spec),
    }));
    app.stdout.pipe(appLog, { end: false });
    app.stderr.pipe(appLog, { end: false });
    app.once('error', (err) => appLog.write(`shoal up: cannot start ${command}: ${err.message}\n`));
    this.appExited = exitOf(app);
    void this.appExited.then((exit) => {
      if (!this.stopping) this.events.appExited(exit);
    });
  }

  /** Stops the app only (a failed liveness probe): its exit is then reported like a crash. */
  async killApp(graceMs: number): Promise<void> {
    if (this.app && this.appExited) await terminate(this.app, this.appExited, graceMs);
  }

  /** From now on exits are expected: they are no longer reported as crashes. */
  markStopping(): void {
    this.stopping = true;
  }

  async stopApp(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.app && this.appExited) await terminate(this.app, this.appExited, graceMs);
  }

  async stopSidecar(graceMs = 20_000): Promise<void> {
    this.stopping = true;
    if (this.sidecar && this.sidecarExited) await terminate(this.sidecar, this.sidecarExited, graceMs);
  }

  /**
   * Stops both processes. `sidecar-first`: the pod leaves a running mesh (drain, then the app); `app-first`: the
   * app is gone or going anyway.
   */
  async stop(order: 'sidecar-first' | 'app-first'): Promise<void> {
    this.stopping = true;
    if (order === 'sidecar-first') {
      await this.stopSidecar();
      await this.stopApp();
    } else {
      await this.stopApp();
      await this.stopSidecar();
    }
    await this.closeLogs();
  }

  async closeLogs(): Promise<void> {
    await Promise.all(this.logs.map((l) => new Promise<void>((resolve) => l.end(resolve))));
  }

  private openLog(file: string): WriteStream {
    const stream = createWriteStream(file, { flags: 'a' });
    stream.on('error', () => undefined);
    this.logs.push(stream);
    return stream;
  }
}

function exitOf(proc: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (exit: ExitInfo): void => {
      if (done) return;
      done = true;
      resolve(exit);
    };
    proc.once('exit', (code, signal) => finish({ code, signal }));
    // A command that does not exist never spawns: no 'exit' follows the 'error'.
    proc.once('error', () => {
      if (proc.pid === undefined) finish({ code: 127, signal: null });
    });
  });
}

/** SIGTERM, then SIGKILL after the grace period; resolves when the process is gone. */
export async function terminate(proc: ChildProcess, exited: Promise<ExitInfo>, graceMs: number): Promise<ExitInfo> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return exited;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
