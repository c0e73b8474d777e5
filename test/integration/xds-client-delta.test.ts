/**
 * The sidecar's xDS client over incremental (delta) ADS: against a bare discovery server (XdsServer + SnapshotCache)
 * a change arrives as only the changed resource, a removed resource disappears, a NACK keeps the previous state and
 * the server records it, and a reconnect listing the versions held is answered with nothing resent; `auto` falls back
 * to state of the world against a server that implements only StreamAggregatedResources; and against the real
 * control plane: a complete configuration, health reports and a graceful close on a delta stream.
 */
import assert from 'node:assert/strict';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { after, before, test } from 'node:test';
import type { Resource } from '../../src/api/resource.js';
import { ControlPlane, type ControlPlaneAddresses } from '../../src/control/control-plane.js';
import type { ProtoObject } from '../../src/control/xds/proto-object.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
} from '../../src/control/xds/resource-types.js';
import { XdsServer } from '../../src/control/xds/server.js';
import { SnapshotCache } from '../../src/control/xds/snapshot-cache.js';
import { Snapshot } from '../../src/control/xds/snapshot.js';
import { outboundListener } from '../../src/control/xds/translate/listeners.js';
import { silentLogger } from '../../src/core/logger.js';
import { XdsClient, sidecarNode, type XdsClientOptions } from '../../src/proxy/xds-client/index.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import { tempDir } from '../helpers/processes.js';
import { startXdsServer, type TestXdsServer } from './xds-test-client.js';
import { assignment, cluster, healthOf } from './xds-client-fixtures.js';

const NODE = sidecarNode({
  podIp: '127.0.0.1',
  workload: 'web-d',
  namespace: 'default',
  serviceAccount: 'web',
  appPort: 9080,
});
const BACKOFF = { baseMs: 50, maxMs: 200 };
const cleanup: (() => Promise<unknown>)[] = [];
let xds: TestXdsServer;

before(async () => {
  xds = await startXdsServer();
});

after(async () => {
  for (const fn of cleanup.reverse()) await fn();
  await xds.server.stop(100);
});

function routes(): ProtoObject {
  return {
    name: 'outbound',
    virtual_hosts: [
      { name: 'a', domains: ['a'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'a' } }] },
    ],
  };
}

const listener = outboundListener({ type: 'sidecar', id: NODE.id, namespace: 'default', labels: {}, ip: '127.0.0.1' });

function snapshot(clusters: Record<string, string>): Snapshot {
  return Snapshot.fromResources({
    [LISTENER_TYPE_URL]: [listener],
    [ROUTE_TYPE_URL]: [routes()],
    [CLUSTER_TYPE_URL]: Object.keys(clusters).map((name) => cluster(name)),
    [ENDPOINT_TYPE_URL]: Object.entries(clusters).map(([name, ip]) => assignment(name, ip)),
  });
}

function start(servers: string[], options: Partial<XdsClientOptions> = {}): XdsClient {
  const c = new XdsClient({ servers, node: NODE, backoff: BACKOFF, mode: 'delta', ...options });
  cleanup.push(() => c.close({ graceful: false }));
  c.start();
  return c;
}

function serverType(server: XdsServer, short: string) {
  return server
    .connections()
    .find((c) => c.nodeId === NODE.id)
    ?.types.find((t) => t.shortName === short);
}

function keys(c: XdsClient, cluster: string): string[] | undefined {
  return c.config?.endpoints.get(cluster)?.endpoints.map((e) => e.key);
}

test('delta: a change arrives as only that resource, a removed one disappears', async () => {
  xds.cache.set(NODE.id, snapshot({ a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' }));
  const c = start([`127.0.0.1:${xds.port}`]);
  const first = await c.whenReady();
  assert.equal(c.status().protocol, 'delta');
  assert.equal(xds.server.connections().find((s) => s.nodeId === NODE.id)?.protocol, 'delta');
  assert.deepEqual([...first.clusters.keys()].sort(), ['a', 'b', 'c']);
  assert.deepEqual(keys(c, 'b'), ['10.0.0.2:80']);
  assert.equal(serverType(xds.server, 'EDS')?.sentResources, 3);
  assert.equal(c.status().types.EDS.subscribed, 3);
  assert.equal(c.status().types.CDS.version, first.versions.clusters);
  await waitUntil(() => serverType(xds.server, 'EDS')?.status === 'SYNCED', 3_000, 'EDS SYNCED');

  // One endpoint changes: the response carries that assignment only; the others keep their identity.
  xds.cache.set(NODE.id, snapshot({ a: '10.0.0.1', b: '10.0.0.22', c: '10.0.0.3' }));
  await waitUntil(() => keys(c, 'b')?.[0] === '10.0.0.22:80', 3_000, 'the new endpoint of b');
  await waitUntil(() => serverType(xds.server, 'EDS')?.status === 'SYNCED', 3_000, 'EDS SYNCED');
  assert.equal(serverType(xds.server, 'EDS')?.sentResources, 1, 'only the changed assignment');
  assert.equal(serverType(xds.server, 'EDS')?.ackedVersion, c.config!.versions.endpoints);
  assert.equal(c.config!.endpoints.get('a'), first.endpoints.get('a'));
  assert.equal(c.config!.clusters.get('a'), first.clusters.get('a'));

  // Cluster c goes: removed from CDS (a removal only), its assignment unsubscribed and dropped.
  xds.cache.set(NODE.id, snapshot({ a: '10.0.0.1', b: '10.0.0.22' }));
  await waitUntil(() => c.config?.clusters.has('c') === false, 3_000, 'cluster c removed');
  await waitUntil(() => serverType(xds.server, 'CDS')?.status === 'SYNCED', 3_000, 'CDS SYNCED');
  assert.equal(serverType(xds.server, 'CDS')?.sentResources, 1, 'one removal');
  assert.deepEqual([...c.config!.clusters.keys()].sort(), ['a', 'b']);
  assert.equal(c.config!.endpoints.has('c'), false);
  await waitUntil(() => c.status().types.EDS.subscribed === 2, 3_000, 'EDS unsubscribed from c');
  await waitUntil(() => serverType(xds.server, 'EDS')?.subscribedNames === 2, 3_000, 'the server sees 2 EDS names');
  await c.close();
});

test('delta: a NACK keeps the previous state, the server records it, and a usable change is taken whole', async () => {
  xds.cache.set(NODE.id, snapshot({ a: '10.0.0.1' }));
  const c = start([`127.0.0.1:${xds.port}`]);
  const before = await c.whenReady();
  const goodVersion = before.versions.clusters;
  await waitUntil(() => serverType(xds.server, 'CDS')?.status === 'SYNCED', 3_000, 'CDS SYNCED');

  const bad = snapshot({ a: '10.0.0.1' }).withResources({
    [CLUSTER_TYPE_URL]: [cluster('a', { type: 'ORIGINAL_DST' }), cluster('b')],
  });
  xds.cache.set(NODE.id, bad);
  await waitUntil(() => serverType(xds.server, 'CDS')?.status === 'NACKED', 3_000, 'CDS NACKED');
  const error = 'Cluster "a": type: ORIGINAL_DST is not supported (STATIC, STRICT_DNS, LOGICAL_DNS, EDS)';
  assert.equal(serverType(xds.server, 'CDS')?.lastNack?.message, error);
  assert.equal(serverType(xds.server, 'CDS')?.ackedVersion, goodVersion);
  assert.equal(c.config, before, 'the same configuration is still in force');
  assert.equal(c.status().types.CDS.lastNack?.message, error);
  assert.equal(c.status().types.CDS.version, goodVersion);

  // Cluster b is unchanged from the NACKed response, yet the client never took it: it comes with the next change.
  xds.cache.set(NODE.id, snapshot({ a: '10.0.0.1', b: '10.0.0.2' }));
  await waitUntil(() => keys(c, 'b')?.[0] === '10.0.0.2:80', 3_000, 'cluster b and its endpoints');
  await waitUntil(() => serverType(xds.server, 'CDS')?.status === 'SYNCED', 3_000, 'CDS SYNCED again');
  assert.equal(c.config.clusters.get('a')?.type, 'EDS');
  await c.close();
});

test('delta: a reconnect lists the versions held; nothing unchanged is resent and no state is lost', async () => {
  const first = await startXdsServer();
  const port = first.port;
  first.cache.set(NODE.id, snapshot({ a: '10.0.0.1', b: '10.0.0.2' }));
  const c = start([`127.0.0.1:${port}`]);
  const config = await c.whenReady();
  await first.server.stop(100);
  await waitUntil(() => c.status().state !== 'connected', 3_000, 'the stream to end');

  const cache = new SnapshotCache();
  const server = new XdsServer({ provider: cache, logger: silentLogger() });
  cache.set(NODE.id, snapshot({ a: '10.0.0.1', b: '10.0.0.2' }));
  await server.start({ port, host: '127.0.0.1' });
  cleanup.push(() => server.stop(100));
  await waitUntil(() => c.status().state === 'connected', 5_000, 'reconnected');
  for (const type of ['CDS', 'LDS', 'EDS', 'RDS']) {
    await waitUntil(() => serverType(server, type)?.status === 'SYNCED', 3_000, `${type} SYNCED`);
    assert.equal(serverType(server, type)?.sentResources, 0, `${type}: nothing resent`);
  }
  assert.equal(c.config, config, 'the same configuration, nothing republished');

  // And changes keep arriving on the new stream.
  cache.set(NODE.id, snapshot({ a: '10.0.0.1', b: '10.0.0.3' }));
  await waitUntil(() => keys(c, 'b')?.[0] === '10.0.0.3:80', 3_000, 'the change after the reconnect');
  assert.equal(serverType(server, 'EDS')?.sentResources, 1);
  assert.deepEqual(keys(c, 'a'), ['10.0.0.1:80']);
  await c.close();
});

test('auto: falls back to state of the world on a server without delta, and remembers it', async () => {
  const cache = new SnapshotCache();
  cache.set(NODE.id, snapshot({ a: '10.0.0.1' }));
  const sotwOnly = new XdsServer({ provider: cache, logger: silentLogger() });
  const grpc = new Server();
  // Only StreamAggregatedResources: DeltaAggregatedResources answers UNIMPLEMENTED.
  sotwOnly.addTo({
    addService(service: ServiceDefinition, implementation: UntypedServiceImplementation) {
      grpc.addService(
        { StreamAggregatedResources: service.StreamAggregatedResources! },
        { StreamAggregatedResources: implementation.StreamAggregatedResources! },
      );
    },
  } as unknown as Server);
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  cleanup.push(() => new Promise<void>((resolve) => grpc.tryShutdown(() => resolve())));

  const strict = start([`127.0.0.1:${port}`], { mode: 'delta' });
  await waitUntil(() => /^UNIMPLEMENTED/.test(strict.status().lastError ?? ''), 3_000, 'delta refused');
  assert.equal(strict.ready, false);
  await strict.close({ graceful: false });

  const c = start([`127.0.0.1:${port}`], { mode: 'auto' });
  const config = await c.whenReady();
  assert.deepEqual(keys(c, 'a'), ['10.0.0.1:80']);
  assert.equal(c.status().protocol, 'sotw');
  assert.equal(c.status().failures, 0, 'the fallback is not a failure');
  assert.equal(c.status().lastError, undefined);
  assert.equal(sotwOnly.connections().find((s) => s.nodeId === NODE.id)?.protocol, 'sotw');
  assert.equal(config.clusters.size, 1);

  // After the stream ends the client goes straight back to state of the world for that address.
  await sotwOnly.stop(100);
  await waitUntil(() => c.status().state !== 'connected', 3_000, 'the stream to end');
  assert.equal(c.status().protocol, 'sotw');
  await c.close();
});

// Against the real control plane (auto-registration, health, graceful end).

let cp: ControlPlane;
let addresses: ControlPlaneAddresses;

async function entry(name: string): Promise<Resource | undefined> {
  return cp.storeInstance.get('WorkloadEntry', 'default', name);
}

function sidecar(workload: string, podIp: string, mode: XdsClientOptions['mode'] = 'delta'): XdsClient {
  const node = sidecarNode({
    podIp,
    workload,
    namespace: 'default',
    serviceAccount: 'web',
    labels: { app: 'web' },
    appPort: 9080,
    healthChecks: true,
  });
  const c = new XdsClient({ servers: [addresses.xds.address], node, ...(mode ? { mode } : {}) });
  cleanup.push(() => c.close({ graceful: false }));
  c.start();
  return c;
}

test('control plane, delta: complete configuration, health reports, and a graceful close', async () => {
  cp = new ControlPlane({
    dataDir: tempDir(),
    httpPort: 0,
    xdsPort: 0,
    logger: silentLogger(),
    debounceQuietMs: 10,
    debounceMaxMs: 50,
    workloadEntryGraceMs: 60_000,
  });
  addresses = await cp.start();
  cleanup.push(() => cp.stop());
  await cp.storeInstance.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'default' },
    spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080 }] },
  });
  const ECHO = 'outbound|8080||echo.default.svc.cluster.local';
  await cp.storeInstance.create({
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name: 'echo-1', namespace: 'default' },
    spec: { address: '127.1.0.50', labels: { app: 'echo' }, ports: { http: 9000 } },
  });

  const c = sidecar('web-d1', '127.1.0.21', undefined); // the default: auto, i.e. delta here
  const config = await c.whenReady();
  assert.equal(c.status().protocol, 'delta');
  assert.deepEqual([...config.listeners.keys()], ['outbound', 'inbound']);
  assert.deepEqual([...config.routes.keys()].sort(), ['inbound', 'outbound']);
  assert.deepEqual([...config.clusters.keys()].sort(), ['inbound|9080||', ECHO]);
  assert.deepEqual(keys(c, ECHO), ['127.1.0.50:9000']);

  const syncz = (await (await fetch(`${addresses.http.url}/debug/syncz`)).json()) as {
    proxyId: string;
    types: { type: string; status: string; acked?: string }[];
  }[];
  const mine = syncz.find((s) => s.proxyId === 'sidecar~127.1.0.21~web-d1.default~default.svc.cluster.local');
  assert.deepEqual(Object.fromEntries(mine!.types.map((t) => [t.type, [t.status, t.acked]])), {
    CDS: ['SYNCED', config.versions.clusters],
    EDS: ['SYNCED', config.versions.endpoints],
    LDS: ['SYNCED', config.versions.listeners],
    RDS: ['SYNCED', config.versions.routes],
  });

  // A new endpoint arrives as a delta.
  await cp.storeInstance.create({
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name: 'echo-2', namespace: 'default' },
    spec: { address: '127.1.0.51', labels: { app: 'echo' }, ports: { http: 9000 } },
  });
  await waitUntil(() => keys(c, ECHO)?.length === 2, 5_000, 'the second endpoint');
  assert.equal(c.config!.clusters.get(ECHO), config.clusters.get(ECHO));

  // Health reports on the delta stream set the entry's Healthy condition.
  await waitUntil(async () => healthOf(await entry('web-d1'))?.status === 'False', 3_000, 'unhealthy at first');
  c.reportHealth(true);
  await waitUntil(async () => healthOf(await entry('web-d1'))?.status === 'True', 3_000, 'Healthy=True');
  c.reportHealth(false, 'readiness probe failed');
  await waitUntil(async () => healthOf(await entry('web-d1'))?.status === 'False', 3_000, 'Healthy=False');
  assert.equal(healthOf(await entry('web-d1'))?.message, 'readiness probe failed');

  // A graceful close (half-close) of the delta stream removes the entry at once.
  const t0 = Date.now();
  await c.close({ graceful: true });
  assert.equal(c.status().state, 'closed');
  await waitUntil(async () => (await entry('web-d1')) === undefined, 2_000, 'removal on a graceful close');
  assert.ok(Date.now() - t0 < 2_000, `removed after ${Date.now() - t0} ms (the grace period is 60 s)`);

  // The same with state of the world, for comparison: both protocols end the same way.
  const s = sidecar('web-d2', '127.1.0.22', 'sotw');
  await s.whenReady();
  assert.equal(s.status().protocol, 'sotw');
  await waitUntil(async () => (await entry('web-d2')) !== undefined, 3_000, 'the registered entry');
  await s.close({ graceful: true });
  await waitUntil(async () => (await entry('web-d2')) === undefined, 2_000, 'removal on a graceful close (SotW)');
});
