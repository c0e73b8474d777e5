/**
 * The Deployment controller and kubelet of `shoal up`, in one: it watches Deployments, Pods and WorkloadEntries
 * through the API and keeps each Deployment's pods running as local processes.
 * - Desired state is the API's: `shoal scale` PATCHes `spec.replicas`, `shoal rollout restart` the template
 *   annotation `kubectl.kubernetes.io/restartedAt`; a changed template is rolled out with surge 1 (rollout-plan.ts).
 * - Each pod gets a name (`<deployment>-<template hash>-<5 chars>`), an address, a Pod object (owned by its
 *   Deployment), its processes (pod-process.ts), a liveness prober if the container has one, and a status.
 * - A pod is Ready when its sidecar has its configuration and listeners, and the mesh sees its app healthy (the
 *   sidecar's readiness probe, reported on its WorkloadEntry): the same moment peers start sending it requests.
 * - A pod whose app exits (or fails its liveness probe) is replaced by a new pod (new name, new address), started
 *   after an exponential back-off (restart-backoff.ts); the replacement carries the restart count on.
 * - A Pod deleted through the API is stopped and replaced, as in Kubernetes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Container } from '../api/kinds/pod-template.js';
import { podKind, PROXY_CONTAINER, type ContainerStatus, type PodStatus } from '../api/kinds/pod.js';
import { deploymentKind, type Deployment } from '../api/kinds/deployment.js';
import { workloadEntryKind } from '../api/kinds/workload-entry.js';
import type { Resource } from '../api/resource.js';
import type { ApiClient } from '../cli/client.js';
import { ShoalError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { probeCheck } from '../proxy/agent/probe-checks.js';
import { Prober, probeTiming } from '../proxy/agent/prober.js';
import { canonicalJson, rfc3339 } from '../store/object-rules.js';
import type { AddressAllocator } from './address-allocator.js';
import { Informer, type InformerEvent } from './informer.js';
import { PodProcess, type ExitInfo } from './pod-process.js';
import { nextCrashCount, restartDelayMs, type RestartBackoffOptions } from './restart-backoff.js';
import { planReplicas, rollingLimits } from './rollout-plan.js';

export const TEMPLATE_HASH_LABEL = 'pod-template-hash';

export type PodPhase = 'pending' | 'starting' | 'ready' | 'terminating';

/** What the live view shows of one pod. */
export interface PodView {
  name: string;
  namespace: string;
  deployment: string;
  ip?: string;
  state: PodPhase | 'crashed' | 'gone';
  restarts: number;
  message?: string;
}

interface PodState {
  name: string;
  namespace: string;
  deployment: string;
  hash: string;
  labels: Record<string, string>;
  template: NonNullable<Deployment['spec']>['template'];
  ownerUid: string;
  ip?: string;
  process?: PodProcess;
  terminating: boolean;
  started: boolean;
  sidecarReady: boolean;
  meshHealthy: boolean;
  restartCount: number;
  createdAt: number;
  startedAt?: number;
  /** Set while waiting out a crash back-off. */
  backoffMs?: number;
  startTimer?: NodeJS.Timeout;
  liveness?: Prober;
  livenessFailure?: string;
  statusWrites: Promise<void>;
  created: Promise<void>;
}

interface DeploymentState {
  crashes: number;
  /** Restart records for replacements still to be created: their restart count and earliest start. */
  restarts: { restartCount: number; notBefore: number }[];
  lastStatus?: string;
}

export interface DeploymentControllerOptions {
  client: ApiClient;
  /** xDS address(es) for the sidecars. */
  xds: string;
  logDir: string;
  logger: Logger;
  allocator: AddressAllocator;
  /** `<namespace>/<name>` -> the directory of the manifest that declared the Deployment (the app's cwd). */
  manifestDirs: ReadonlyMap<string, string>;
  /** The cwd of apps whose Deployment came from elsewhere. */
  defaultCwd: string;
  onChange: (pod: PodView) => void;
  sidecarArgs?: readonly string[];
  backoff?: RestartBackoffOptions;
}

function isReady(p: PodState): boolean {
  return p.started && !p.terminating && p.sidecarReady && p.meshHealthy;
}

/** Kubernetes' pod-template-hash: a short hash of the template in an alphabet without vowels. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(canonicalJson(template)).digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...digest.subarray(0, 10)].map((b) => alphabet[b % alphabet.length]).join('');
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * Whether nobody else listens on the pod's outbound port at `ip` (another runner, a test sidecar). An address this
 * machine does not have (macOS has only 127.0.0.1 on its loopback) is an error that says so.
 */
export function addressIsFree(ip: string, port = 15001): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRNOTAVAIL') return resolve(false);
      reject(
        new ShoalError(
          'ServiceUnavailable',
          `pod address ${ip} is not an address of this machine: shoal up needs the whole --pod-cidr on the loopback ` +
            `interface (Linux has all of 127.0.0.0/8; elsewhere add aliases, e.g. "ifconfig lo0 alias ${ip}")`,
        ),
      );
    });
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export class DeploymentController {
  private readonly pods = new Map<string, PodState>();
  private readonly deployments = new Map<string, DeploymentState>();
  private readonly dirty = new Set<string>();
  private readonly statusTimers = new Map<string, NodeJS.Timeout>();
  private readonly deploymentInformer: Informer;
  private readonly podInformer: Informer;
  private readonly entryInformer: Informer;
  private reconciling = false;
  private stopping = false;
  /** Every process id any pod started (tests check they are all gone). */
  readonly startedPids: number[] = [];

  constructor(private readonly opts: DeploymentControllerOptions) {
    const { client, logger } = opts;
    this.deploymentInformer = new Informer(client, deploymentKind, (e) => this.onDeployment(e), logger);
    this.podInformer = new Informer(client, podKind, (e) => this.onPod(e), logger);
    this.entryInformer = new Informer(client, workloadEntryKind, (e) => this.onWorkloadEntry(e), logger);
  }

  async start(): Promise<void> {
    this.podInformer.start();
    await this.podInformer.hasSynced;
    // Pods left by a runner that did not stop cleanly: their processes are gone.
    await Promise.all(
      this.podInformer
        .list()
        .filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'Deployment'))
        .map((p) => this.deleteObject(p.metadata.namespace ?? 'default', p.metadata.name)),
    );
    this.entryInformer.start();
    await this.entryInformer.hasSynced;
    this.deploymentInformer.start();
    await this.deploymentInformer.hasSynced;
  }

  /** Stops every pod (apps first, then sidecars), deletes their Pod objects, stops watching. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.statusTimers.values()) clearTimeout(t);
    await Promise.all([this.deploymentInformer.stop(), this.podInformer.stop(), this.entryInformer.stop()]);
    const pods = [...this.pods.values()];
    for (const p of pods) {
      p.terminating = true;
      clearTimeout(p.startTimer);
      p.liveness?.stop();
      p.process?.markStopping();
    }
    await Promise.all(pods.map((p) => p.process?.stopApp() ?? Promise.resolve()));
    await Promise.all(pods.map((p) => p.process?.stopSidecar() ?? Promise.resolve()));
    await Promise.all(pods.map((p) => p.process?.closeLogs() ?? Promise.resolve()));
    await Promise.all(pods.map((p) => p.created.then(() => this.deleteObject(p.namespace, p.name))));
    for (const p of pods) this.view(p, 'gone');
    this.pods.clear();
  }

  /** Pods of every Deployment, for the live view. */
  podViews(): PodView[] {
    return [...this.pods.values()].map((p) => this.viewOf(p, this.phaseOf(p)));
  }

  /** Whether every Deployment has its desired number of ready, updated pods and nothing else. */
  allReady(): boolean {
    for (const d of this.deploymentInformer.list()) {
      const desired = (d.spec as Deployment['spec'])?.replicas ?? 1;
      const key = keyOf(d);
      const pods = [...this.pods.values()].filter((p) => p.deployment === key && !p.terminating);
      if (pods.length !== desired || !pods.every(isReady)) return false;
    }
    return true;
  }

  get hasDeployments(): boolean {
    return this.deploymentInformer.list().length > 0;
  }

  // ---- events ------------------------------------------------------------------------------------------

  private onDeployment(event: InformerEvent): void {
    const key = keyOf(event.object);
    if (event.type === 'DELETED') this.deployments.delete(key);
    this.schedule(key);
  }

  private onPod(event: InformerEvent): void {
    if (event.type !== 'DELETED') return;
    const p = this.pods.get(podKey(event.object));
    if (!p || p.terminating) return;
    this.opts.logger.info({ pod: p.name }, 'pod deleted through the API: stopping it');
    void this.stopPod(p, 'sidecar-first', false);
  }

  private onWorkloadEntry(event: InformerEvent): void {
    const p = this.pods.get(podKey(event.object));
    if (!p) return;
    const healthy = event.type !== 'DELETED' && entryHealthy(event.object);
    if (healthy === p.meshHealthy) return;
    p.meshHealthy = healthy;
    this.changed(p);
  }

  // ---- reconcile ---------------------------------------------------------------------------------------

  private schedule(key: string): void {
    if (this.stopping) return;
    this.dirty.add(key);
    if (this.reconciling) return;
    this.reconciling = true;
    queueMicrotask(() => {
      try {
        while (this.dirty.size > 0 && !this.stopping) {
          const next = this.dirty.values().next().value as string;
          this.dirty.delete(next);
          this.reconcile(next);
        }
      } catch (err) {
        this.opts.logger.error({ err: errorMessage(err), stack: (err as Error).stack }, 'reconcile failed');
      } finally {
        this.reconciling = false;
      }
    });
  }

  private reconcile(key: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    const d = this.deploymentInformer.get(namespace, name) as Deployment | undefined;
    const pods = [...this.pods.values()].filter((p) => p.deployment === key && !p.terminating);
    if (!d?.spec) {
      for (const p of pods) void this.stopPod(p, 'sidecar-first', false);
      return;
    }
    let state = this.deployments.get(key);
    if (!state) this.deployments.set(key, (state = { crashes: 0, restarts: [] }));
    const hash = templateHash(d.spec.template);
    const desired = d.spec.replicas ?? 1;
    const rolling = d.spec.strategy?.rollingUpdate;
    const plan = planReplicas(
      desired,
      pods.map((p) => ({ name: p.name, updated: p.hash === hash, ready: isReady(p), createdAt: p.createdAt })),
      rollingLimits(desired, rolling?.maxSurge, rolling?.maxUnavailable),
    );
    for (const podName of plan.remove)
      void this.stopPod(this.pods.get(`${namespace}/${podName}`)!, 'sidecar-first', false);
    for (let i = 0; i < plan.create; i++) this.createPod(d, hash, state);
    this.scheduleStatus(key);
  }

  private createPod(d: Deployment, hash: string, state: DeploymentState): void {
    const namespace = d.metadata.namespace ?? 'default';
    const key = keyOf(d);
    const template = d.spec!.template;
    const restart = state.restarts.shift();
    const now = Date.now();
    const p: PodState = {
      name: `${d.metadata.name}-${hash}-${randomSuffix()}`,
      namespace,
      deployment: key,
      hash,
      labels: { ...(template.metadata?.labels ?? {}), [TEMPLATE_HASH_LABEL]: hash },
      template,
      ownerUid: d.metadata.uid ?? '',
      terminating: false,
      started: false,
      sidecarReady: false,
      meshHealthy: false,
      restartCount: restart?.restartCount ?? 0,
      createdAt: now,
      ...(restart && restart.notBefore > now ? { backoffMs: restart.notBefore - now } : {}),
      statusWrites: Promise.resolve(),
      created: Promise.resolve(),
    };
    this.pods.set(`${namespace}/${p.name}`, p);
    this.view(p, 'pending');
    p.created = this.createObject(p);
    const launch = (): void => {
      p.startTimer = undefined;
      void this.launch(p);
    };
    if (p.backoffMs !== undefined) p.startTimer = setTimeout(launch, p.backoffMs);
    else launch();
  }

  private async launch(p: PodState): Promise<void> {
    if (p.terminating) return;
    p.backoffMs = undefined;
    const container = p.template.spec.containers[0]!;
    try {
      p.ip = await this.opts.allocator.allocate((ip) => addressIsFree(ip));
    } catch (err) {
      this.opts.logger.error({ pod: p.name, err: errorMessage(err) }, 'no address for the pod');
      this.view(p, 'pending', errorMessage(err));
      return;
    }
    if (p.terminating) {
      this.opts.allocator.release(p.ip);
      return;
    }
    const dir = this.opts.manifestDirs.get(p.deployment) ?? this.opts.defaultCwd;
    const proc = (p.process = new PodProcess(
      {
        name: p.name,
        namespace: p.namespace,
        ip: p.ip,
        labels: p.labels,
        serviceAccount: p.template.spec.serviceAccountName ?? 'default',
        container,
        cwd: container.workingDir !== undefined ? resolve(dir, container.workingDir) : dir,
        xds: this.opts.xds,
        logDir: this.opts.logDir,
        ...(this.opts.sidecarArgs ? { sidecarArgs: this.opts.sidecarArgs } : {}),
      },
      {
        sidecarReady: () => {
          p.sidecarReady = true;
          this.changed(p);
        },
        appExited: (exit) => this.crashed(p, describeExit(exit, p.livenessFailure)),
        sidecarExited: (exit) => this.crashed(p, `sidecar ${describeExit(exit)}`),
      },
    ));
    proc.start();
    this.startedPids.push(...proc.pids());
    this.opts.logger.info(
      { pod: p.name, ip: p.ip, appPid: proc.app?.pid, sidecarPid: proc.sidecar?.pid, restartCount: p.restartCount },
      'pod started',
    );
    p.started = true;
    p.startedAt = Date.now();
    this.startLiveness(p, container);
    this.changed(p);
  }

  private startLiveness(p: PodState, container: Container): void {
    const probe = container.livenessProbe;
    if (!probe || !p.ip) return;
    const ports = Object.fromEntries(
      (container.ports ?? []).filter((x) => x.name).map((x) => [x.name!, x.containerPort]),
    );
    const prober = (p.liveness = new Prober(probeCheck(probe, { host: p.ip, ports }), probeTiming(probe)));
    // A liveness probe starts out passing: only failureThreshold failures in a row restart the app.
    prober.ready = true;
    prober.onChange((alive, outcome) => {
      if (alive || p.terminating) return;
      p.livenessFailure = `liveness probe failed: ${outcome.message}`;
      this.opts.logger.warn({ pod: p.name, reason: outcome.message }, 'liveness probe failed: restarting');
      void p.process?.killApp(5_000);
    });
    prober.start();
  }

  /** The app (or its sidecar) ended on its own: the pod is replaced after a back-off. */
  private crashed(p: PodState, reason: string): void {
    if (p.terminating || this.stopping) return;
    const state = this.deployments.get(p.deployment);
    const ran = Date.now() - (p.startedAt ?? Date.now());
    if (state) {
      state.crashes = nextCrashCount(state.crashes, ran, this.opts.backoff);
      state.restarts.push({
        restartCount: p.restartCount + 1,
        notBefore: Date.now() + restartDelayMs(state.crashes, this.opts.backoff),
      });
    }
    this.opts.logger.warn({ pod: p.name, reason }, 'pod crashed: replacing it');
    this.view(p, 'crashed', reason);
    void this.stopPod(p, 'app-first', true);
  }

  /** Stops a pod's processes, frees its address and deletes its Pod object; the Deployment is reconciled. */
  private async stopPod(p: PodState, order: 'sidecar-first' | 'app-first', crashed: boolean): Promise<void> {
    if (p.terminating) return;
    p.terminating = true;
    clearTimeout(p.startTimer);
    p.liveness?.stop();
    if (!crashed) this.view(p, 'terminating');
    this.schedule(p.deployment);
    this.writeStatus(p);
    await p.process?.stop(order);
    if (p.ip) this.opts.allocator.release(p.ip);
    await p.created;
    await this.deleteObject(p.namespace, p.name);
    if (this.stopping) return;
    this.pods.delete(`${p.namespace}/${p.name}`);
    this.view(p, 'gone');
    this.schedule(p.deployment);
  }

  private changed(p: PodState): void {
    this.view(p, this.phaseOf(p));
    this.writeStatus(p);
    this.schedule(p.deployment);
  }

  private phaseOf(p: PodState): PodPhase {
    if (p.terminating) return 'terminating';
    if (isReady(p)) return 'ready';
    return p.started ? 'starting' : 'pending';
  }

  private viewOf(p: PodState, state: PodView['state'], message?: string): PodView {
    return {
      name: p.name,
      namespace: p.namespace,
      deployment: p.deployment,
      ...(p.ip ? { ip: p.ip } : {}),
      state,
      restarts: p.restartCount,
      ...(message !== undefined ? { message } : {}),
    };
  }

  private view(p: PodState, state: PodView['state'], message?: string): void {
    this.opts.onChange(this.viewOf(p, state, message));
  }

  // ---- API writes --------------------------------------------------------------------------------------

  private async createObject(p: PodState): Promise<void> {
    const [, deploymentName] = p.deployment.split('/') as [string, string];
    const obj: Resource = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace: p.namespace,
        labels: p.labels,
        ...(p.template.metadata?.annotations ? { annotations: p.template.metadata.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: deploymentName,
            uid: p.ownerUid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: p.template.spec,
      status: this.statusOf(p),
    };
    try {
      await this.opts.client.create(podKind, obj);
    } catch (err) {
      this.opts.logger.warn({ pod: p.name, err: errorMessage(err) }, 'could not create the Pod object');
    }
  }

  /** Writes the pod's status (merge patch), one write at a time per pod. */
  private writeStatus(p: PodState): void {
    p.statusWrites = p.statusWrites
      .then(() => p.created)
      .then(async () => {
        if (this.stopping) return;
        await this.opts.client.patch(podKind, p.namespace, p.name, { status: this.statusOf(p) });
      })
      .catch((err: unknown) => {
        if (err instanceof ShoalError && err.reason === 'NotFound') return;
        this.opts.logger.warn({ pod: p.name, err: errorMessage(err) }, 'could not update the Pod status');
      });
  }

  private statusOf(p: PodState): PodStatus {
    const ready = isReady(p);
    const time = rfc3339(new Date());
    const container = p.template.spec.containers[0]!;
    const startedAt = p.startedAt !== undefined ? rfc3339(new Date(p.startedAt)) : undefined;
    const waiting =
      p.backoffMs !== undefined
        ? {
            reason: 'CrashLoopBackOff',
            message: `back-off ${Math.round(p.backoffMs / 1000)}s restarting failed container`,
          }
        : { reason: 'ContainerCreating' };
    const app: ContainerStatus = {
      name: container.name,
      ready,
      started: p.started,
      restartCount: p.restartCount,
      state: p.started ? { running: startedAt ? { startedAt } : {} } : { waiting },
    };
    const proxy: ContainerStatus = {
      name: PROXY_CONTAINER,
      ready: p.sidecarReady && !p.terminating,
      started: p.started,
      restartCount: 0,
      state: p.started ? { running: startedAt ? { startedAt } : {} } : { waiting: { reason: 'ContainerCreating' } },
    };
    const cond = (type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready', ok: boolean) => ({
      type,
      status: ok ? ('True' as const) : ('False' as const),
      lastTransitionTime: time,
    });
    return {
      phase: p.started ? 'Running' : 'Pending',
      ...(p.terminating ? { reason: 'Terminating' } : {}),
      ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }], hostIP: '127.0.0.1' } : {}),
      ...(startedAt ? { startTime: startedAt } : {}),
      conditions: [
        cond('PodScheduled', true),
        cond('Initialized', true),
        cond('ContainersReady', p.started && p.sidecarReady && !p.terminating),
        cond('Ready', ready),
      ],
      containerStatuses: [app, proxy],
    };
  }

  private scheduleStatus(key: string): void {
    if (this.stopping || this.statusTimers.has(key)) return;
    this.statusTimers.set(
      key,
      setTimeout(() => {
        this.statusTimers.delete(key);
        void this.writeDeploymentStatus(key);
      }, 50),
    );
  }

  private async writeDeploymentStatus(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const d = this.deploymentInformer.get(namespace, name) as Deployment | undefined;
    const state = this.deployments.get(key);
    if (!d?.spec || !state || this.stopping) return;
    const hash = templateHash(d.spec.template);
    const pods = [...this.pods.values()].filter((p) => p.deployment === key && !p.terminating);
    const ready = pods.filter(isReady).length;
    const status = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: pods.length,
      updatedReplicas: pods.filter((p) => p.hash === hash).length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, (d.spec.replicas ?? 1) - ready),
    };
    const text = JSON.stringify(status);
    if (text === state.lastStatus) return;
    state.lastStatus = text;
    try {
      await this.opts.client.patch(deploymentKind, namespace, name, { status });
    } catch (err) {
      state.lastStatus = undefined;
      if (!(err instanceof ShoalError && err.reason === 'NotFound')) {
        this.opts.logger.warn({ deployment: key, err: errorMessage(err) }, 'could not update the Deployment status');
      }
    }
  }

  private async deleteObject(namespace: string, name: string): Promise<void> {
    try {
      await this.opts.client.delete(podKind, namespace, name);
    } catch (err) {
      if (err instanceof ShoalError && err.reason === 'NotFound') return;
      this.opts.logger.warn({ pod: name, err: errorMessage(err) }, 'could not delete the Pod object');
    }
  }
}

function keyOf(obj: Resource): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

const podKey = keyOf;

/** A WorkloadEntry's `Healthy` condition; an entry without one (no health checks) counts as healthy. */
function entryHealthy(entry: Resource): boolean {
  const conditions = (entry.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
  const healthy = conditions?.find((c) => c.type === 'Healthy');
  return healthy === undefined || healthy.status === 'True';
}

function describeExit(exit: ExitInfo, livenessFailure?: string): string {
  if (livenessFailure) return livenessFailure;
  if (exit.signal) return `app killed by ${exit.signal}`;
  if (exit.code === 127) return 'app command not found (exit code 127)';
  return `app exited with code ${exit.code}`;
}
