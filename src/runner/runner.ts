/**
 * `shoal up`, assembled: load and check the manifests (nothing starts if one is invalid), start the control plane
 * in this process (or use `--server`), apply every document, then run the Deployment controller and the gateways
 * until stop(). Stop order: the gateways and the pods' apps, then their sidecars, then the control plane.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatDocumentError, loadPaths, type DocumentError, type LoadedDocument } from '../api/load.js';
import type { Deployment } from '../api/kinds/deployment.js';
import { DEFAULT_NAMESPACE } from '../api/resource.js';
import { applyOne } from '../cli/apply.js';
import { ApiClient } from '../cli/client.js';
import { kindByName } from '../api/registry.js';
import { typeName } from '../cli/output.js';
import type { ControlPlane } from '../control/control-plane.js';
import { ShoalError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { AddressAllocator, parseCidr } from './address-allocator.js';
import { DeploymentController } from './deployment-controller.js';
import { GatewayController } from './gateways.js';
import { LiveView } from './live-view.js';

export interface RunnerOptions {
  paths: string[];
  dataDir: string;
  /** Use this control plane instead of starting one. */
  server?: string;
  token?: string;
  /** xDS address of `server` (default: its host, port 15010). */
  xds?: string;
  host: string;
  httpPort: number;
  xdsPort: number;
  dnsPort: number;
  podCidr: string;
  serviceCidr: string;
  logger: Logger;
  out: NodeJS.WritableStream;
  tty: boolean;
  /** Writes the client config (server, token, data dir) once the API is known. */
  writeClientConfig: (config: { server: string; token?: string; dataDir: string }) => void;
}

/** Problems `shoal up` has with documents the API accepts: a Deployment needs a command to run. */
export function runnerProblems(documents: readonly LoadedDocument[]): DocumentError[] {
  const errors: DocumentError[] = [];
  for (const doc of documents) {
    if (doc.object.kind !== 'Deployment') continue;
    const spec = (doc.object as Deployment).spec;
    const container = spec?.template.spec.containers[0];
    if (container && (container.command ?? []).length === 0) {
      errors.push({
        source: doc.source,
        index: doc.index,
        line: doc.line,
        kind: 'Deployment',
        name: doc.object.metadata.name,
        namespace: doc.object.metadata.namespace ?? DEFAULT_NAMESPACE,
        field: 'spec.template.spec.containers[0].command',
        message: 'required: shoal up runs the command as a local process (an image alone cannot run)',
      });
    }
  }
  return errors;
}

export class Runner {
  private control?: ControlPlane;
  private deployments?: DeploymentController;
  private gateways?: GatewayController;
  private view?: LiveView;
  private summarized = false;
  private server = '';
  /** The embedded control plane's DNS address (none with --server). */
  private dns?: string;
  private stopped?: Promise<void>;
  private readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(private readonly opts: RunnerOptions) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  /** Every process the runner started (pods' apps and sidecars, gateways). */
  pids(): number[] {
    return [...(this.deployments?.startedPids ?? []), ...(this.gateways?.startedPids ?? [])];
  }

  /** Resolves when every Deployment first has all its replicas ready (and the summary was printed). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /**
   * Everything up to running the pods. Bad manifests and flags reject with a ShoalError (BadRequest or Invalid)
   * whose message is the line(s) to print, before anything starts.
   */
  async start(): Promise<void> {
    const { opts } = this;
    const allocator = new AddressAllocator(parseCidr(opts.podCidr));
    const { documents, errors } = await loadPaths(opts.paths);
    errors.push(...runnerProblems(documents));
    if (errors.length > 0) throw new ShoalError('Invalid', errors.map((e) => formatDocumentError(e)).join('\n'));
    if (documents.length === 0) throw new ShoalError('BadRequest', `no objects found in ${opts.paths.join(', ')}`);

    const dataDir = resolve(opts.dataDir);
    const logDir = join(dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const log = opts.logger;

    let server: string;
    let token: string | undefined;
    let xds: string;
    if (opts.server !== undefined) {
      server = opts.server;
      token = opts.token;
      xds = opts.xds ?? `${new URL(server).hostname}:15010`;
    } else {
      const { ControlPlane } = await import('../control/control-plane.js');
      this.control = new ControlPlane({
        dataDir,
        host: opts.host,
        httpPort: opts.httpPort,
        xdsPort: opts.xdsPort,
        dnsPort: opts.dnsPort,
        serviceCidr: opts.serviceCidr,
        logger: log.child({ component: 'control' }, { level: 'warn' }),
      });
      const addresses = await this.control.start();
      server = addresses.http.url;
      token = this.control.adminToken;
      xds = addresses.xds.address;
      this.dns = addresses.dns?.address;
    }
    this.server = server;
    const client = new ApiClient({ server, ...(token !== undefined ? { token } : {}) }, {});
    opts.writeClientConfig({ server, ...(token !== undefined ? { token } : {}), dataDir });
    opts.out.write(`shoal up: api ${server} xds ${xds}\n`);

    const manifestDirs = new Map<string, string>();
    for (const doc of documents) {
      const obj = doc.object;
      const ns = obj.metadata.namespace ?? DEFAULT_NAMESPACE;
      obj.metadata.namespace = ns;
      if (obj.kind === 'Deployment') {
        manifestDirs.set(
          `${ns}/${obj.metadata.name}`,
          doc.source === '<stdin>' ? process.cwd() : dirname(resolve(doc.source)),
        );
      }
      const outcome = await applyOne(client, obj);
      opts.out.write(`${typeName(kindByName(obj.kind)!)}/${obj.metadata.name} ${outcome}\n`);
    }

    const view = (this.view = new LiveView(opts.out, opts.tty));
    this.gateways = new GatewayController({
      client,
      xds,
      logDir,
      logger: log.child({ component: 'gateways' }),
      onChange: (g) => {
        view.gateway(g);
        if (g.state === 'starting' && g.urls.length > 0) log.info({ gateway: g.name }, 'gateway starting');
        this.checkReady();
      },
    });
    this.deployments = new DeploymentController({
      client,
      xds,
      logDir,
      logger: log.child({ component: 'deployments' }),
      allocator,
      manifestDirs,
      defaultCwd: process.cwd(),
      onChange: (p) => {
        view.pod(p);
        this.checkReady();
      },
    });
    await this.deployments.start();
    await this.gateways.start();
    this.checkReady();
  }

  private checkReady(): void {
    if (this.summarized || !this.deployments || !this.gateways || !this.view) return;
    if (!this.deployments.allReady() || !this.gateways.settled()) return;
    this.summarized = true;
    this.view.settle();
    this.printSummary();
    this.markReady();
  }

  private printSummary(): void {
    const out = this.opts.out;
    out.write('shoal up: ready\n');
    for (const g of this.gateways?.views() ?? []) {
      for (const url of g.urls) out.write(`shoal up: ingress ${url} (gateway/${g.name})\n`);
    }
    out.write(`shoal up: api ${this.server}\n`);
    if (this.dns) out.write(`shoal up: dns ${this.dns} (udp, tcp)\n`);
    out.write(`shoal up: logs ${join(resolve(this.opts.dataDir), 'logs')}\n`);
  }

  /** Stops gateways and the pods (apps, then sidecars), then the control plane. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.view?.close();
      // Gateways drain while the apps stop: nothing needs the ingress once everything is going.
      await Promise.all([this.gateways?.stop() ?? Promise.resolve(), this.deployments?.stop() ?? Promise.resolve()]);
      await this.control?.stop();
    })();
    return this.stopped;
  }
}
