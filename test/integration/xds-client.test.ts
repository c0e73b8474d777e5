/**
 * The sidecar's xDS client against the real control plane (in process, temp data dir, real sockets): a complete
 * configuration and readiness, changes arriving (a new WorkloadEntry, a VirtualService), health reports flipping
 * the sidecar's own WorkloadEntry, and a graceful close deregistering it at once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Resource } from '../../src/api/resource.js';
import { ControlPlane, type ControlPlaneAddresses } from '../../src/control/control-plane.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ProxyConfig } from '../../src/proxy/config/index.js';
import { XdsClient, sidecarNode, type SidecarIdentity } from '../../src/proxy/xds-client/index.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import { tempDir } from '../helpers/processes.js';
import { healthOf } from './xds-client-fixtures.js';

const ECHO = 'outbound|8080||echo.default.svc.cluster.local';
let cp: ControlPlane;
let addresses: ControlPlaneAddresses;
const clients: XdsClient[] = [];

function workloadEntry(name: string, address: string, labels: Record<string, string> = { app: 'echo' }): Resource {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name, namespace: 'default' },
    spec: { address, labels, ports: { http: 9000 } },
  };
}

function identity(workload: string, podIp: string): SidecarIdentity {
  return {
    podIp,
    workload,
    namespace: 'default',
    serviceAccount: 'web',
    labels: { app: 'web' },
    appPort: 9080,
    healthChecks: true,
  };
}

function client(workload: string, podIp: string): XdsClient {
  const c = new XdsClient({ servers: [addresses.xds.address], node: sidecarNode(identity(workload, podIp)) });
  c.start();
  clients.push(c);
  return c;
}

async function entry(name: string): Promise<Resource | undefined> {
  return cp.storeInstance.get('WorkloadEntry', 'default', name);
}

before(async () => {
  cp = new ControlPlane({
    dataDir: tempDir(),
    httpPort: 0,
    xdsPort: 0,
    logger: silentLogger(),
    debounceQuietMs: 10,
    debounceMaxMs: 50,
    workloadEntryGraceMs: 60_000, // only a graceful close can remove an entry within these tests
  });
  addresses = await cp.start();
  await cp.storeInstance.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'default' },
    spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080 }] },
  });
  await cp.storeInstance.create(workloadEntry('echo-1', '127.1.0.50'));
});

after(async () => {
  await Promise.all(clients.map((c) => c.close({ graceful: false })));
  await cp.stop();
});

test('a sidecar gets its complete configuration, becomes ready, and the control plane sees every type ACKed', async () => {
  const c = client('web-1', '127.1.0.9');
  assert.equal(c.ready, false);
  const config = await c.whenReady();
  assert.equal(c.ready, true);
  assert.deepEqual(
    [...config.listeners.values()].map((l) => [l.name, l.kind, l.address, l.port, l.routeConfigName]),
    [
      ['outbound', 'outbound', '127.1.0.9', 15001, 'outbound'],
      ['inbound', 'inbound', '127.1.0.9', 15006, 'inbound'],
    ],
  );
  assert.deepEqual([...config.routes.keys()].sort(), ['inbound', 'outbound']);
  const vh = config.routes.get('outbound')!.domains.exact.get('echo:8080');
  assert.equal(vh?.name, 'echo.default.svc.cluster.local:8080');
  assert.deepEqual(
    vh?.routes.map((r) => [r.name, r.action.type === 'cluster' ? r.action.cluster : '']),
    [['default', ECHO]],
  );
  assert.deepEqual([...config.clusters.keys()].sort(), ['inbound|9080||', ECHO]);
  assert.deepEqual(
    config.endpoints.get(ECHO)?.endpoints.map((e) => [e.key, e.health]),
    [['127.1.0.50:9000', 'HEALTHY']],
  );
  assert.deepEqual(
    config.endpoints.get('inbound|9080||')?.endpoints.map((e) => e.key),
    ['127.1.0.9:9080'],
  );
  assert.deepEqual(config.warming, { listeners: [], clusters: [] });

  const syncz = (await (await fetch(`${addresses.http.url}/debug/syncz`)).json()) as {
    proxyId: string;
    userAgent?: string;
    types: { type: string; status: string; acked?: string }[];
  }[];
  const mine = syncz.find((s) => s.proxyId === 'sidecar~127.1.0.9~web-1.default~default.svc.cluster.local');
  assert.match(mine?.userAgent ?? '', /^shoal-sidecar \d/);
  const acked = Object.fromEntries(mine!.types.map((t) => [t.type, [t.status, t.acked]]));
  assert.deepEqual(acked, {
    CDS: ['SYNCED', config.versions.clusters],
    EDS: ['SYNCED', config.versions.endpoints],
    LDS: ['SYNCED', config.versions.listeners],
    RDS: ['SYNCED', config.versions.routes],
  });
  await c.close();
});

test('changes arrive: a new WorkloadEntry joins the EndpointSet, a VirtualService fault reaches the route', async () => {
  const c = client('web-2', '127.1.0.10');
  const first = await c.whenReady();
  const seen: ProxyConfig[] = [];
  c.subscribe((config) => seen.push(config));
  assert.equal(seen[0], first, 'subscribers get the current config at once');

  await cp.storeInstance.create(workloadEntry('echo-2', '127.1.0.51'));
  await waitUntil(() => (c.config?.endpoints.get(ECHO)?.endpoints.length ?? 0) === 2, 5_000, 'the second endpoint');
  const second = c.config!;
  assert.deepEqual(
    second.endpoints.get(ECHO)?.endpoints.map((e) => e.key),
    ['127.1.0.50:9000', '127.1.0.51:9000'],
  );
  assert.equal(
    second.listeners.get('outbound'),
    first.listeners.get('outbound'),
    'unchanged resources keep their identity',
  );
  assert.equal(second.clusters.get(ECHO), first.clusters.get(ECHO));

  await cp.storeInstance.create({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'echo', namespace: 'default' },
    spec: {
      hosts: ['echo'],
      http: [
        {
          fault: { abort: { httpStatus: 503, percentage: { value: 10 } } },
          route: [{ destination: { host: 'echo' } }],
        },
      ],
    },
  });
  await waitUntil(
    () => c.config?.routes.get('outbound')?.domains.exact.get('echo:8080')?.routes[0]?.fault !== undefined,
    5_000,
    'the fault on the echo route',
  );
  const route = c.config!.routes.get('outbound')!.domains.exact.get('echo:8080')!.routes[0]!;
  assert.equal(route.istioConfig, '/apis/networking.istio.io/v1/namespaces/default/virtual-service/echo');
  assert.deepEqual(route.fault?.abort, { httpStatus: 503, perMillion: 100_000 });
  assert.ok(seen.length >= 3 && seen.every((s, i) => i === 0 || s !== seen[i - 1]), 'each publish is a new snapshot');
  await c.close();
});

test("health reports flip the sidecar's WorkloadEntry Healthy condition, and survive as the last word", async () => {
  const c = client('web-3', '127.1.0.11');
  await c.whenReady();
  await waitUntil(
    async () => healthOf(await entry('web-3'))?.status === 'False',
    3_000,
    'the entry, unhealthy at first',
  );
  c.reportHealth(true);
  await waitUntil(async () => healthOf(await entry('web-3'))?.status === 'True', 3_000, 'Healthy=True');
  c.reportHealth(false, 'readiness probe failed: connection refused');
  await waitUntil(async () => healthOf(await entry('web-3'))?.status === 'False', 3_000, 'Healthy=False');
  assert.equal(healthOf(await entry('web-3'))?.message, 'readiness probe failed: connection refused');
  await c.close();
});

test('a graceful close removes the WorkloadEntry at once', async () => {
  const c = client('web-4', '127.1.0.12');
  await c.whenReady();
  await waitUntil(async () => (await entry('web-4')) !== undefined, 3_000, 'the registered entry');
  const t0 = Date.now();
  await c.close({ graceful: true });
  assert.equal(c.status().state, 'closed');
  await waitUntil(async () => (await entry('web-4')) === undefined, 2_000, 'removal on a graceful close');
  assert.ok(Date.now() - t0 < 2_000, `removed after ${Date.now() - t0} ms (the grace period is 60 s)`);
});
