/**
 * Control-plane push benchmark (issue 3). For each proxy count N (100, 1,000, 2,000):
 *  - a fresh real `shoal control` process with 1,000 Services and 3 WorkloadEntries each, made through the HTTP API;
 *  - a generator process (generator.ts) opening N fake sidecars, each its own ADS stream and connection;
 *  - 50 spaced endpoint changes (a WorkloadEntry's address, patched through the API): time from the write's send to
 *    the last stream's ACK of the new ClusterLoadAssignment;
 *  - CPU and RSS of the control plane at steady state (10 s idle) and over a burst of 100 back-to-back writes;
 *  - the floor: the same 50 changes pushed to N streams by a bare XdsServer + SnapshotCache (floor-server.ts).
 *
 * Knobs (environment): BENCH_XDS_N ("100,1000,2000"), BENCH_XDS_SERVICES (1000), BENCH_XDS_CHANGES (50),
 * BENCH_XDS_CPU_PROF (a directory: the control plane runs with `node --cpu-prof` and writes its profile there),
 * BENCH_XDS_APP_PORT (sent as SHOAL_APP_PORT, as Shoal's sidecars do: each proxy then has its own inbound resources),
 * BENCH_XDS_GEN_PROF (a directory: the load generator runs with `--cpu-prof`, to see what the fake sidecars cost),
 * BENCH_XDS_NODE_ARGS (more Node options for the control plane, e.g. `--trace-gc`) and BENCH_XDS_CP_STDOUT (a file
 * that gets the control plane's standard output).
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir, type RunningControl } from '../../test/helpers/processes.js';
import { summary } from '../lib/stats.js';
import { Child } from './child.js';
import { startBenchControl } from './control.js';
import { BenchMesh, call, closeAgent } from './mesh-setup.js';
import {
  nowMs,
  type FromFloor,
  type FromGenerator,
  type SyncedReport,
  type ToFloor,
  type ToGenerator,
} from './messages.js';
import { measure, sample } from './proc-stats.js';
import { report, type FloorRun, type PushRun } from './report.js';

const PROXY_COUNTS = (process.env.BENCH_XDS_N ?? '100,1000,2000').split(',').map(Number);
const SERVICES = Number(process.env.BENCH_XDS_SERVICES ?? 1000);
const CHANGES = Number(process.env.BENCH_XDS_CHANGES ?? 50);
const CPU_PROF = process.env.BENCH_XDS_CPU_PROF;
const GEN_PROF = process.env.BENCH_XDS_GEN_PROF;
const APP_PORT = process.env.BENCH_XDS_APP_PORT ? Number(process.env.BENCH_XDS_APP_PORT) : undefined;
const REPLICAS = 3;
const BURST = 100;
const IDLE_MS = 10_000;
const SPACING_MS = 200;
const BATCH = 100;
const NAMESPACE = 'bench';
const SYNC_TIMEOUT_MS = 240_000;
const DELIVERY_TIMEOUT_MS = 30_000;

type Generator = Child<ToGenerator, FromGenerator>;

function log(line: string): void {
  process.stderr.write(`[bench xds] ${line}\n`);
}

async function startGenerator(
  target: string,
  streams: number,
  capturePath?: string,
): Promise<[Generator, SyncedReport]> {
  const config = { target, streams, namespace: NAMESPACE, batch: BATCH, capturePath, appPort: APP_PORT };
  const gen = Child.fork<ToGenerator, FromGenerator>('generator', './generator.js', config, {
    execArgv: ['--max-old-space-size=8192', ...(GEN_PROF ? ['--cpu-prof', `--cpu-prof-dir=${GEN_PROF}`] : [])],
  });
  gen.proc.on('message', (m: FromGenerator) => {
    if (m.type === 'progress' && m.opened % 500 === 0) log(`  ${m.synced}/${streams} streams synced`);
  });
  try {
    return [gen, await gen.next('synced', SYNC_TIMEOUT_MS, `sync of ${streams} streams`)];
  } catch (err) {
    await gen.stop({ type: 'stop' });
    throw err;
  }
}

/** The EDS cluster of service i's port 80, as the generator's first stream named it. */
function clusterOf(synced: SyncedReport, mesh: BenchMesh, service: number): string {
  const host = mesh.host(service);
  const found = synced.clusters.find((name) => {
    const [direction, port, subset, fqdn] = name.split('|');
    return direction === 'outbound' && port === '80' && subset === '' && fqdn === host;
  });
  if (found === undefined)
    throw new Error(`no EDS cluster for ${host} among ${synced.clusters.slice(0, 3).join(', ')}...`);
  return found;
}

interface Delivery {
  last: number;
  median: number;
  /** How long the trigger (the API write, acknowledged once the store committed it) took. */
  writeMs: number;
}

/** Arms the expectation, runs `trigger` (which sends the change), and waits for every stream's ACK. */
async function deliver(
  gen: Generator,
  id: number,
  cluster: string,
  address: string,
  trigger: () => Promise<unknown>,
): Promise<Delivery> {
  gen.send({ type: 'expect', expectations: [{ id, cluster, address, present: true }] });
  await gen.next('armed', 5_000);
  const t0 = nowMs();
  await trigger();
  const writeMs = nowMs() - t0;
  const done = await gen.next('delivered', DELIVERY_TIMEOUT_MS, `delivery of change ${id}`);
  if (done.id !== id) throw new Error(`expected delivery of ${id}, got ${done.id}`);
  const acks = done.acks.map((t) => t - t0).sort((a, b) => a - b);
  return { last: acks[acks.length - 1]!, median: acks[Math.floor(acks.length / 2)]!, writeMs };
}

/** The push engine's counters: pushes so far, and how long the last one took (translation and snapshots; the server evaluates and writes after it, in its evaluation queue). */
async function pushStatus(cp: RunningControl): Promise<{ pushes: number; lastPushMs: number }> {
  const reply = await call(cp, 'GET', '/debug/push_status');
  return JSON.parse(reply.text) as { pushes: number; lastPushMs: number };
}

const changeTarget = (c: number): [number, number] => [(c * 97 + 13) % SERVICES, c % REPLICAS];

async function runShoal(n: number, capturePath: string): Promise<PushRun> {
  const nodeArgs = (process.env.BENCH_XDS_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const cp = await startBenchControl([...nodeArgs, ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [])]);
  const pid = cp.proc.pid!;
  let gen: Generator | undefined;
  try {
    const mesh = new BenchMesh(cp, SERVICES, REPLICAS, NAMESPACE);
    const setupSeconds = await mesh.create();
    await sleep(1_000); // the registry's batch and the first (empty) push settle
    const idleRssMb = sample(pid).rssMb;
    log(`N=${n}: mesh created in ${setupSeconds.toFixed(1)} s; connecting ${n} sidecars`);
    let synced: SyncedReport;
    [gen, synced] = await startGenerator(cp.xds, n, capturePath);
    log(`N=${n}: synced in ${(synced.ms / 1000).toFixed(1)} s; 10 s idle`);
    await sleep(1_000);
    const steady = measure({ cp: pid, gen: gen.pid });
    await sleep(IDLE_MS);
    const steadyUsage = steady.finish();

    log(`N=${n}: ${CHANGES} spaced changes`);
    const deliveries: Delivery[] = [];
    const loopMs: number[] = [];
    const changing = measure({ cp: pid, gen: gen.pid });
    const changesFrom = nowMs();
    for (let c = 0; c < CHANGES; c++) {
      const [service, replica] = changeTarget(c);
      const address = mesh.take();
      const cluster = clusterOf(synced, mesh, service);
      deliveries.push(await deliver(gen, c, cluster, address, () => mesh.move(service, replica, address)));
      loopMs.push((await pushStatus(cp)).lastPushMs);
      await sleep(SPACING_MS);
    }
    const changesUsage = changing.finish();
    log(`N=${n}: last ACK per change, ms: ${deliveries.map((d) => Math.round(d.last)).join(' ')}`);
    log(`N=${n}: its API write (to the response), ms: ${deliveries.map((d) => Math.round(d.writeMs)).join(' ')}`);
    if (CPU_PROF)
      log(
        `N=${n}: the spaced changes ran from ${changesFrom.toFixed(0)} to ${nowMs().toFixed(0)} ms (profile-top window)`,
      );

    log(`N=${n}: burst of ${BURST} writes`);
    // Distinct WorkloadEntries (a second write to one would replace the first's address before it is seen).
    const burst = Array.from({ length: Math.min(BURST, SERVICES * REPLICAS) }, (_, b) => ({
      id: 10_000 + b,
      service: (500 + b) % SERVICES,
      replica: Math.floor(b / SERVICES) % REPLICAS,
      address: mesh.take(),
    }));
    const expectations = burst.map((b) => ({
      id: b.id,
      cluster: clusterOf(synced, mesh, b.service),
      address: b.address,
      present: true,
    }));
    gen.send({ type: 'expect', expectations });
    await gen.next('armed', 5_000);
    const pushesBefore = (await pushStatus(cp)).pushes;
    const burstUsage = measure({ cp: pid, gen: gen.pid });
    const t0 = nowMs();
    for (const b of burst) await mesh.move(b.service, b.replica, b.address);
    const writesMs = nowMs() - t0;
    let lastAck = 0;
    for (let i = 0; i < burst.length; i++) {
      const done = await gen.next('delivered', DELIVERY_TIMEOUT_MS, 'burst delivery');
      lastAck = Math.max(lastAck, ...done.acks);
    }
    const burstResult = burstUsage.finish();
    const pushes = (await pushStatus(cp)).pushes - pushesBefore;
    return {
      n,
      setupSeconds,
      idleRssMb,
      synced,
      last: deliveries.map((d) => d.last),
      median: deliveries.map((d) => d.median),
      loopMs,
      steady: steadyUsage,
      changes: changesUsage,
      burst: { usage: burstResult, writesMs, totalMs: lastAck - t0, pushes },
    };
  } catch (err) {
    const alive = cp.proc.exitCode === null && cp.proc.signalCode === null;
    log(`N=${n} failed; control plane ${alive ? 'alive' : `exited ${cp.proc.exitCode ?? cp.proc.signalCode}`}`);
    log(`control plane stderr (tail): ${cp.stderr().slice(-2000)}`);
    throw err;
  } finally {
    await gen?.stop({ type: 'stop' });
    await cp.stop();
  }
}

async function runFloor(n: number, capturePath: string, firstAddress: number): Promise<FloorRun> {
  const floor = Child.fork<ToFloor, FromFloor>('floor server', './floor-server.js', { capturePath });
  let gen: Generator | undefined;
  try {
    const { port } = await floor.next('listening', 30_000);
    const mesh = new BenchMesh({ url: '', token: '' }, SERVICES, REPLICAS, NAMESPACE);
    for (let k = 0; k < firstAddress; k++) mesh.take(); // fresh addresses, distinct from the captured ones
    let synced: SyncedReport;
    [gen, synced] = await startGenerator(`127.0.0.1:${port}`, n);
    const changes = Array.from({ length: CHANGES }, (_, c) => ({
      id: c,
      cluster: clusterOf(synced, mesh, changeTarget(c)[0]),
      address: mesh.take(),
    }));
    floor.send({ type: 'prepare', changes });
    await floor.next('prepared', 60_000);
    const deliveries: Delivery[] = [];
    const loopMs: number[] = [];
    const usage = measure({ floor: floor.pid, gen: gen.pid });
    for (const change of changes) {
      deliveries.push(
        await deliver(gen, change.id, change.cluster, change.address, async () => {
          floor.send({ type: 'apply', id: change.id });
          loopMs.push((await floor.next('applied', DELIVERY_TIMEOUT_MS)).ms);
        }),
      );
      await sleep(SPACING_MS);
    }
    return {
      n,
      syncMs: synced.ms,
      last: deliveries.map((d) => d.last),
      median: deliveries.map((d) => d.median),
      loopMs,
      usage: usage.finish(),
    };
  } finally {
    await gen?.stop({ type: 'stop' });
    await floor.stop({ type: 'stop' });
  }
}

export async function benchXds(): Promise<string> {
  const started = nowMs();
  const capturePath = join(tempDir('shoal-bench-xds-'), 'capture.json');
  const shoal: PushRun[] = [];
  const floor: FloorRun[] = [];
  try {
    for (const n of PROXY_COUNTS) {
      const run = await runShoal(n, capturePath);
      shoal.push(run);
      const cp = run.steady.cp!;
      log(
        `N=${n}: last ACK p50 ${Math.round(summary(run.last).p50)} ms, p99 ${Math.round(summary(run.last).p99)} ms; ` +
          `steady ${cp.vcpu.toFixed(2)} vCPU, ${Math.round(cp.rssMb)} MB; peak ${Math.round(run.burst.usage.cp!.hwmMb)} MB`,
      );
      log(`N=${n}: floor (bare XdsServer + SnapshotCache)`);
      floor.push(await runFloor(n, capturePath, 60_000));
    }
  } finally {
    closeAgent();
  }
  log(`done in ${((nowMs() - started) / 1000).toFixed(0)} s`);
  return report({ services: SERVICES, replicas: REPLICAS, changes: CHANGES, burst: BURST, shoal, floor });
}
