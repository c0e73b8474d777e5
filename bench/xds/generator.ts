/**
 * The xDS load generator, a child process of the benchmark (so the control plane's CPU is measured apart from the
 * generator's): opens N fake sidecars (fake-sidecar.ts), each on its own ADS stream and connection, in batches, and
 * reports over IPC when they are synced and when every stream has ACKed an expected ClusterLoadAssignment.
 *
 * Run by the parent as `node dist/bench/xds/generator.js '<GeneratorConfig JSON>'` with an IPC channel.
 */
import { writeFileSync } from 'node:fs';
import type { AnyMessage } from '../../src/control/xds/protos.js';
import { FakeSidecar, sidecarNode } from './fake-sidecar.js';
import type { CallStatus } from './raw-call.js';
import { nowMs, type Capture, type Expectation, type FromGenerator, type GeneratorConfig } from './messages.js';
import { assignmentAddresses } from './wire.js';

const config = JSON.parse(process.argv[2] ?? '{}') as GeneratorConfig;

function send(message: FromGenerator): void {
  process.send?.(message);
}

function fail(message: string): void {
  send({ type: 'failed', message });
  setTimeout(() => process.exit(1), 100).unref();
}

interface Pending {
  exp: Expectation;
  /** ACK time per stream index; NaN until that stream has it. */
  acks: number[];
  left: number;
}

const sidecars: FakeSidecar[] = [];
const pendingByCluster = new Map<string, Pending[]>();
const captured = new Map<string, Map<string, string>>();
let synced = 0;
let stopping = false;
let firstOpenedAt = 0;

function finish(p: Pending): void {
  const list = pendingByCluster.get(p.exp.cluster) ?? [];
  const rest = list.filter((q) => q !== p);
  if (rest.length > 0) pendingByCluster.set(p.exp.cluster, rest);
  else pendingByCluster.delete(p.exp.cluster);
  send({ type: 'delivered', id: p.exp.id, acks: p.acks });
}

function onAssignment(sidecar: FakeSidecar, name: string, resource: AnyMessage): (() => void) | undefined {
  const list = pendingByCluster.get(name);
  if (list === undefined) return undefined;
  const addresses = assignmentAddresses(resource);
  const hits = list.filter(
    (p) => Number.isNaN(p.acks[sidecar.index]) && addresses.includes(p.exp.address) === p.exp.present,
  );
  if (hits.length === 0) return undefined;
  return () => {
    const at = nowMs();
    for (const p of hits) {
      p.acks[sidecar.index] = at;
      if (--p.left === 0) finish(p);
    }
  };
}

function onSynced(sidecar: FakeSidecar): void {
  synced++;
  if (sidecar.index === 0 && config.capturePath !== undefined) {
    const capture: Capture = {};
    for (const [typeUrl, byName] of captured) {
      capture[typeUrl] = [...byName].map(([name, value]) => ({ name, value }));
    }
    writeFileSync(config.capturePath, JSON.stringify(capture));
  }
  if (synced === config.streams) {
    const first = sidecars[0]!;
    send({
      type: 'synced',
      streams: synced,
      ms: nowMs() - firstOpenedAt,
      clusters: [...first.edsNames],
      listeners: first.listeners,
      routes: first.routeNames.length,
      bytes: sidecars.reduce((sum, s) => sum + s.bytes, 0),
    });
  }
}

function onEnded(sidecar: FakeSidecar, status: CallStatus): void {
  if (!stopping) fail(`stream ${sidecar.index} ended: ${status.code} ${status.details}`);
}

function onReceived(typeUrl: string, name: string, resource: AnyMessage): void {
  let byName = captured.get(typeUrl);
  if (byName === undefined) captured.set(typeUrl, (byName = new Map()));
  byName.set(name, Buffer.from(resource.value).toString('base64'));
}

async function openAll(): Promise<void> {
  firstOpenedAt = nowMs();
  for (let start = 0; start < config.streams && !stopping; start += config.batch) {
    const end = Math.min(config.streams, start + config.batch);
    for (let i = start; i < end; i++) {
      const hooks = { synced: onSynced, assignment: onAssignment, ended: onEnded };
      const capturing = i === 0 && config.capturePath !== undefined;
      const node = sidecarNode(i, config.namespace, config.appPort);
      sidecars.push(new FakeSidecar(i, config.target, node, capturing ? { ...hooks, received: onReceived } : hooks));
    }
    const deadline = Date.now() + 120_000;
    while (synced < end && !stopping) {
      if (Date.now() > deadline) return fail(`only ${synced} of ${end} streams synced within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    send({ type: 'progress', opened: end, synced });
  }
}

function stop(): void {
  stopping = true;
  for (const s of sidecars) s.close();
  setTimeout(() => process.exit(0), 200).unref();
}

process.on('message', (message: unknown) => {
  const m = message as { type: string; expectations?: Expectation[] };
  if (m.type === 'stop') return stop();
  if (m.type === 'expect') {
    for (const exp of m.expectations ?? []) {
      const p: Pending = { exp, acks: new Array<number>(config.streams).fill(NaN), left: config.streams };
      pendingByCluster.set(exp.cluster, [...(pendingByCluster.get(exp.cluster) ?? []), p]);
    }
    send({ type: 'armed', ids: (m.expectations ?? []).map((e) => e.id) });
  }
});
process.on('disconnect', stop); // the parent is gone: never outlive it

openAll().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
