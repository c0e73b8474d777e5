/**
 * Gateways under `shoal up`: one `shoal gateway` process per Gateway resource, started with the Gateway's
 * selector as its labels (so the Gateway selects it), its namespace, `--workload <gateway-name>`, bound on
 * 127.0.0.1 (the ingress URL is http://127.0.0.1:<server port>) and free admin/health/stats ports. A gateway that
 * exits is restarted with the pods' back-off; a changed selector restarts it; a deleted Gateway stops it. Output
 * goes to `<log-dir>/gateway-<name>.log`.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { gatewayKind, type Gateway } from '../api/kinds/gateway.js';
import type { Resource } from '../api/resource.js';
import type { ApiClient } from '../cli/client.js';
import type { Logger } from '../core/logger.js';
import { Informer, type InformerEvent } from './informer.js';
import { spawnEndingWithParent } from './parent-death.js';
import { SHOAL_MAIN, SIDECAR_NODE_FLAGS, terminate, type ExitInfo } from './pod-process.js';
import { nextCrashCount, restartDelayMs, type RestartBackoffOptions } from './restart-backoff.js';

export const GATEWAY_BIND = '127.0.0.1';

/** `shoal gateway` flags for a Gateway (the interface agreed with the gateway command). */
export function gatewayArgs(gateway: Resource, xds: string): string[] {
  const selector = (gateway.spec as Gateway['spec'] | undefined)?.selector ?? {};
  const labels = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    'gateway',
    '--control',
    xds,
    '--namespace',
    gateway.metadata.namespace ?? 'default',
    '--workload',
    gateway.metadata.name,
    '--labels',
    labels,
    '--bind',
    GATEWAY_BIND,
    '--admin-port',
    '0',
    '--health-port',
    '0',
    '--stats-port',
    '0',
    '--log-format',
    'json',
  ];
}

/** The ingress URLs a Gateway will serve: one per distinct server port, http or https by protocol. */
export function ingressUrls(gateway: Resource): string[] {
  const servers = (gateway.spec as Gateway['spec'] | undefined)?.servers ?? [];
  const urls = servers.map((s) => {
    const scheme = s.port.protocol === 'HTTPS' ? 'https' : s.port.protocol === 'HTTP' ? 'http' : 'tcp';
    return `${scheme}://${GATEWAY_BIND}:${s.port.number}`;
  });
  return [...new Set(urls)];
}

export interface GatewayProcess {
  proc: ChildProcess;
  exited: Promise<ExitInfo>;
}

/** Starts one `shoal gateway`; `onReady` gets the addresses of its `ready` line. */
export function spawnGateway(
  gateway: Resource,
  xds: string,
  logFile: string,
  onReady: (addresses: string[]) => void,
): GatewayProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  log.on('error', () => undefined);
  const proc = spawnEndingWithParent(process.execPath, [
    ...SIDECAR_NODE_FLAGS,
    SHOAL_MAIN,
    ...gatewayArgs(gateway, xds),
  ]);
  let out = '';
  let ready = false;
  proc.stdout.on('data', (d: Buffer) => {
    log.write(d);
    if (ready) return;
    out += d.toString();
    const m = /shoal gateway: ready ([^\n]*)\n/.exec(out);
    if (m) {
      ready = true;
      onReady(m[1]!.split(' ').filter((s) => s !== ''));
    }
  });
  proc.stderr.pipe(log, { end: false });
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once('exit', (code, signal) => {
      log.end();
      resolve({ code, signal });
    });
    proc.once('error', () => {
      if (proc.pid === undefined) resolve({ code: 127, signal: null });
    });
  });
  return { proc, exited };
}

export interface GatewayView {
  name: string;
  namespace: string;
  state: 'starting' | 'ready' | 'crashed' | 'gone';
  urls: string[];
  message?: string;
}

interface GatewayState {
  gateway: Resource;
  process?: GatewayProcess;
  crashes: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
  ready: boolean;
  /** Crashed at least once since it was last ready. */
  failed: boolean;
}

export class GatewayController {
  private readonly gateways = new Map<string, GatewayState>();
  private readonly informer: Informer;
  private stopping = false;
  readonly startedPids: number[] = [];

  constructor(
    private readonly opts: {
      client: ApiClient;
      xds: string;
      logDir: string;
      logger: Logger;
      onChange: (view: GatewayView) => void;
      backoff?: RestartBackoffOptions;
    },
  ) {
    this.informer = new Informer(opts.client, gatewayKind, (e) => this.onEvent(e), opts.logger);
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.hasSynced;
  }

  /** Every Gateway is ready, or has failed (a gateway that cannot start must not hold up the summary). */
  settled(): boolean {
    return [...this.gateways.values()].every((g) => g.ready || g.failed);
  }

  views(): GatewayView[] {
    return [...this.gateways.values()].map((g) => this.viewOf(g, g.ready ? 'ready' : 'starting'));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.informer.stop();
    await Promise.all([...this.gateways.values()].map((g) => this.halt(g)));
    this.gateways.clear();
  }

  private onEvent(event: InformerEvent): void {
    if (this.stopping) return;
    const key = `${event.object.metadata.namespace ?? 'default'}/${event.object.metadata.name}`;
    const current = this.gateways.get(key);
    if (event.type === 'DELETED') {
      if (!current) return;
      this.gateways.delete(key);
      void this.halt(current).then(() => this.opts.onChange(this.viewOf(current, 'gone')));
      return;
    }
    if (current) {
      const before = JSON.stringify(gatewayArgs(current.gateway, this.opts.xds));
      current.gateway = event.object;
      if (before === JSON.stringify(gatewayArgs(event.object, this.opts.xds))) return;
      void this.halt(current).then(() => this.launch(current));
      return;
    }
    const state: GatewayState = { gateway: event.object, crashes: 0, startedAt: 0, ready: false, failed: false };
    this.gateways.set(key, state);
    this.launch(state);
  }

  private launch(g: GatewayState): void {
    if (this.stopping) return;
    g.ready = false;
    g.startedAt = Date.now();
    const { name } = g.gateway.metadata;
    const proc = spawnGateway(g.gateway, this.opts.xds, join(this.opts.logDir, `gateway-${name}.log`), () => {
      g.ready = true;
      g.failed = false;
      this.opts.onChange(this.viewOf(g, 'ready'));
    });
    g.process = proc;
    if (proc.proc.pid !== undefined) this.startedPids.push(proc.proc.pid);
    this.opts.logger.info({ gateway: name, pid: proc.proc.pid }, 'gateway started');
    this.opts.onChange(this.viewOf(g, 'starting'));
    void proc.exited.then((exit) => {
      if (g.process !== proc || this.stopping) return;
      g.process = undefined;
      g.ready = false;
      g.failed = true;
      g.crashes = nextCrashCount(g.crashes, Date.now() - g.startedAt, this.opts.backoff);
      const delay = restartDelayMs(g.crashes, this.opts.backoff);
      const message = `exited with ${exit.signal ?? `code ${exit.code}`}; restarting in ${Math.round(delay / 1000)}s`;
      this.opts.logger.warn({ gateway: name, exit }, 'gateway exited: restarting');
      this.opts.onChange(this.viewOf(g, 'crashed', message));
      g.timer = setTimeout(() => this.launch(g), delay);
    });
  }

  private async halt(g: GatewayState): Promise<void> {
    clearTimeout(g.timer);
    const proc = g.process;
    g.process = undefined;
    if (proc) await terminate(proc.proc, proc.exited, 20_000);
  }

  private viewOf(g: GatewayState, state: GatewayView['state'], message?: string): GatewayView {
    return {
      name: g.gateway.metadata.name,
      namespace: g.gateway.metadata.namespace ?? 'default',
      state,
      urls: ingressUrls(g.gateway),
      ...(message !== undefined ? { message } : {}),
    };
  }
}
