/**
 * When the control plane goes away: the sidecar keeps its last good configuration, reconnects with backoff when the
 * control plane comes back (a new ControlPlane process on the same data dir and ports), and fails over across the
 * addresses of `--control`.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { ControlPlane } from '../../src/control/control-plane.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
} from '../../src/control/xds/resource-types.js';
import { Snapshot } from '../../src/control/xds/snapshot.js';
import { inboundCluster } from '../../src/control/xds/translate/clusters.js';
import { inboundListener, outboundListener } from '../../src/control/xds/translate/listeners.js';
import { inboundRoutes } from '../../src/control/xds/translate/routes.js';
import { silentLogger } from '../../src/core/logger.js';
import { XdsClient, sidecarNode } from '../../src/proxy/xds-client/index.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import { tempDir } from '../helpers/processes.js';
import { startXdsServer, type TestXdsServer } from './xds-test-client.js';

const BACKOFF = { baseMs: 50, maxMs: 400 };
const ECHO = 'outbound|8080||echo.default.svc.cluster.local';
const cleanup: (() => Promise<unknown>)[] = [];

after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

function controlPlane(dataDir: string, httpPort = 0, xdsPort = 0): ControlPlane {
  return new ControlPlane({
    dataDir,
    httpPort,
    xdsPort,
    logger: silentLogger(),
    debounceQuietMs: 10,
    debounceMaxMs: 50,
  });
}

function node(workload: string, podIp = '127.0.0.1') {
  return sidecarNode({
    podIp,
    workload,
    namespace: 'default',
    serviceAccount: 'web',
    appPort: 9080,
    healthChecks: true,
  });
}

async function health(cp: ControlPlane, name: string): Promise<{ status?: string; message?: string } | undefined> {
  const we = await cp.storeInstance.get('WorkloadEntry', 'default', name);
  return (we?.status as { conditions?: { status: string; message?: string }[] } | undefined)?.conditions?.[0];
}

function client(servers: string[], workload: string): XdsClient {
  const c = new XdsClient({ servers, node: node(workload), backoff: BACKOFF });
  cleanup.push(() => c.close({ graceful: false }));
  c.start();
  return c;
}

/** An address where nothing listens. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

test('control plane down: the last good config stays; the client reconnects when it returns', async () => {
  const dataDir = tempDir();
  const first = controlPlane(dataDir);
  const addresses = await first.start();
  await first.storeInstance.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'default' },
    spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080 }] },
  });
  const c = client([addresses.xds.address], 'web-r');
  const config = await c.whenReady();
  assert.deepEqual(config.endpoints.get(ECHO)?.endpoints, []);
  c.reportHealth(true);
  await waitUntil(async () => (await health(first, 'web-r'))?.status === 'True', 3_000, 'Healthy=True');

  await first.stop();
  await waitUntil(() => c.status().state !== 'connected', 3_000, 'the stream to end');
  await new Promise((r) => setTimeout(r, 500)); // several failed attempts
  assert.ok(c.status().failures >= 1, `failures: ${c.status().failures}`);
  assert.match(c.status().lastError ?? '', /^UNAVAILABLE/);
  assert.equal(c.ready, true, 'still ready');
  assert.equal(c.config, config, 'still serving the last good configuration');
  c.reportHealth(false, 'app stopped answering'); // while disconnected: sent when the stream is back

  const second = controlPlane(dataDir, addresses.http.port, addresses.xds.port);
  await second.start();
  cleanup.push(() => second.stop());
  await second.storeInstance.create({
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name: 'echo-1', namespace: 'default' },
    spec: { address: '127.1.0.60', labels: { app: 'echo' } },
  });
  await waitUntil(
    () => (c.config?.endpoints.get(ECHO)?.endpoints.length ?? 0) === 1,
    5_000,
    'config from the new control plane',
  );
  assert.equal(c.status().state, 'connected');
  assert.equal(c.status().failures, 0);
  assert.deepEqual(
    c.config.endpoints.get(ECHO)!.endpoints.map((e) => e.key),
    ['127.1.0.60:8080'],
  );
});

test('fails over to the next address when the first is unreachable', async () => {
  const cp = controlPlane(tempDir());
  const addresses = await cp.start();
  cleanup.push(() => cp.stop());
  const dead = await deadAddress();
  const c = client([dead, addresses.xds.address], 'web-f');
  await c.whenReady();
  assert.equal(c.status().server, addresses.xds.address);
  assert.equal(c.status().state, 'connected');
});

test('when its server goes away, a connected client moves to the next one and keeps its config', async () => {
  const id = node('web-m').id;
  const resources = (appPort: number) =>
    Snapshot.fromResources({
      [LISTENER_TYPE_URL]: [
        outboundListener({ type: 'sidecar', id, namespace: 'default', labels: {}, ip: '127.0.0.1' }),
        inboundListener({ type: 'sidecar', id, namespace: 'default', labels: {}, ip: '127.0.0.1' }),
      ],
      [ROUTE_TYPE_URL]: [{ name: 'outbound', virtual_hosts: [] }, inboundRoutes(appPort)],
      [CLUSTER_TYPE_URL]: [
        inboundCluster({ type: 'sidecar', id, namespace: 'default', labels: {}, ip: '127.0.0.1' }, appPort),
      ],
      [ENDPOINT_TYPE_URL]: [],
    });
  const servers: TestXdsServer[] = [await startXdsServer(), await startXdsServer()];
  for (const s of servers) s.cache.set(id, resources(9080));
  cleanup.push(() => servers[1]!.server.stop(100));
  const [a, b] = servers.map((s) => `127.0.0.1:${s.port}`) as [string, string];
  const c = client([a, b], 'web-m');
  const config = await c.whenReady();
  assert.equal(c.status().server, a);

  await servers[0]!.server.stop(100);
  await waitUntil(
    () => c.status().server === b && c.status().state === 'connected',
    5_000,
    'failover to the second server',
  );
  assert.equal(c.config, config, 'the same content from the second server publishes nothing new');
  servers[1]!.cache.set(id, resources(9090));
  await waitUntil(() => c.config?.clusters.has('inbound|9090||') === true, 3_000, 'an update from the second server');
});
