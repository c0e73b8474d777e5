/**
 * The floor of the xDS benchmark, a child process: a bare XdsServer over a SnapshotCache (src/control/xds/server.ts,
 * snapshot-cache.ts) serving the very resources a sidecar received from the real control plane (captured by the
 * generator), with every change's snapshot built in advance. Applying a change is only `cache.set(node, snapshot)`
 * for every connected node: what remains is the discovery server's own cost (version comparison, response
 * encoding, gRPC/HTTP/2 writes), with no store, registry, debounce or translation in front of it.
 *
 * Run by the parent as `node dist/bench/xds/floor-server.js '<FloorConfig JSON>'` with an IPC channel.
 */
import { readFileSync } from 'node:fs';
import { getXdsProtos, type AnyMessage } from '../../src/control/xds/protos.js';
import { ENDPOINT_TYPE_URL, isXdsTypeUrl } from '../../src/control/xds/resource-types.js';
import { XdsServer } from '../../src/control/xds/server.js';
import { SnapshotCache } from '../../src/control/xds/snapshot-cache.js';
import { Snapshot, type SnapshotEncoded } from '../../src/control/xds/snapshot.js';
import { nowMs, type Capture, type FloorChange, type FloorConfig, type FromFloor } from './messages.js';

const config = JSON.parse(process.argv[2] ?? '{}') as FloorConfig;

function send(message: FromFloor): void {
  process.send?.(message);
}

function loadCapture(path: string): { snapshot: Snapshot; assignments: Map<string, AnyMessage> } {
  const capture = JSON.parse(readFileSync(path, 'utf8')) as Capture;
  const encoded: SnapshotEncoded = {};
  const assignments = new Map<string, AnyMessage>();
  for (const [typeUrl, list] of Object.entries(capture)) {
    if (!isXdsTypeUrl(typeUrl)) continue;
    encoded[typeUrl] = list.map(({ name, value }) => {
      const resource: AnyMessage = { type_url: typeUrl, value: Buffer.from(value, 'base64') };
      if (typeUrl === ENDPOINT_TYPE_URL) assignments.set(name, resource);
      return { name, resource };
    });
  }
  return { snapshot: Snapshot.fromEncoded(encoded), assignments };
}

/** The assignment with its first endpoint moved to `address`. */
function moved(assignment: AnyMessage, address: string): AnyMessage {
  const protos = getXdsProtos();
  const cla = protos.decode(ENDPOINT_TYPE_URL, assignment.value) as {
    endpoints?: { lb_endpoints?: { endpoint?: { address?: { socket_address?: { address?: string } } } }[] }[];
  };
  const socket = cla.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address;
  if (socket === undefined) throw new Error('assignment without an endpoint to move');
  socket.address = address;
  return protos.toAny(ENDPOINT_TYPE_URL, cla);
}

const base = loadCapture(config.capturePath);
const assignments = base.assignments;
const prepared = new Map<number, Snapshot>();
let current = base.snapshot;
let last = base.snapshot;

const cache: SnapshotCache = new SnapshotCache({ onWatch: (node) => cache.set(node.id, current) });
const server = new XdsServer({ provider: cache, controlPlaneId: 'shoal-bench-floor' });

function prepare(changes: readonly FloorChange[]): void {
  const started = nowMs();
  for (const change of changes) {
    const assignment = assignments.get(change.cluster);
    if (assignment === undefined) throw new Error(`no assignment named ${change.cluster}`);
    assignments.set(change.cluster, moved(assignment, change.address));
    const entries = [...assignments].map(([name, resource]) => ({ name, resource }));
    last = last.withEncoded({ [ENDPOINT_TYPE_URL]: entries });
    prepared.set(change.id, last);
  }
  send({ type: 'prepared', ms: nowMs() - started });
}

function apply(id: number): void {
  const snapshot = prepared.get(id);
  if (snapshot === undefined) throw new Error(`change ${id} was not prepared`);
  const started = nowMs();
  current = snapshot;
  const nodes = cache.connectedNodes();
  for (const node of nodes) cache.set(node.id, snapshot);
  send({ type: 'applied', id, nodes: nodes.length, ms: nowMs() - started });
}

process.on('message', (message: unknown) => {
  const m = message as { type: string; changes?: FloorChange[]; id?: number };
  try {
    if (m.type === 'prepare') prepare(m.changes ?? []);
    else if (m.type === 'apply') apply(m.id ?? -1);
    else if (m.type === 'stop') {
      void server.stop(500).finally(() => process.exit(0));
    }
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));

server
  .start({ port: 0, host: '127.0.0.1' })
  .then((port) => send({ type: 'listening', port }))
  .catch((err: unknown) => send({ type: 'failed', message: err instanceof Error ? err.message : String(err) }));
