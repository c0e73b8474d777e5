/**
 * NACKs against a bare discovery server (XdsServer + SnapshotCache): a response with a resource the sidecar cannot
 * use is rejected whole with an error naming the resource and field, the server records it, and the sidecar keeps
 * serving its last good configuration until a usable one comes. Also: a listener whose routes never come is warm
 * after the initial fetch timeout.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProtoObject } from '../../src/control/xds/proto-object.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
} from '../../src/control/xds/resource-types.js';
import { Snapshot } from '../../src/control/xds/snapshot.js';
import { outboundListener } from '../../src/control/xds/translate/listeners.js';
import { XdsClient, sidecarNode } from '../../src/proxy/xds-client/index.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import { startXdsServer, type TestXdsServer } from './xds-test-client.js';
import { assignment, cluster } from './xds-client-fixtures.js';

const IDENTITY = { podIp: '127.0.0.1', workload: 'web-1', namespace: 'default', serviceAccount: 'web', appPort: 9080 };
const NODE = sidecarNode(IDENTITY);
let xds: TestXdsServer;
const clients: XdsClient[] = [];

function routes(regex = '/.*'): ProtoObject {
  return {
    name: 'outbound',
    virtual_hosts: [
      { name: 'a', domains: ['a'], routes: [{ name: 'r', match: { safe_regex: { regex } }, route: { cluster: 'a' } }] },
    ],
  };
}

const listener = outboundListener({ type: 'sidecar', id: NODE.id, namespace: 'default', labels: {}, ip: '127.0.0.1' });

function good(): Snapshot {
  return Snapshot.fromResources({
    [LISTENER_TYPE_URL]: [listener],
    [ROUTE_TYPE_URL]: [routes()],
    [CLUSTER_TYPE_URL]: [cluster('a')],
    [ENDPOINT_TYPE_URL]: [assignment('a', '10.0.0.1')],
  });
}

function start(initialFetchTimeoutMs?: number): XdsClient {
  const c = new XdsClient({
    servers: [`127.0.0.1:${xds.port}`],
    node: NODE,
    ...(initialFetchTimeoutMs ? { initialFetchTimeoutMs } : {}),
  });
  clients.push(c);
  c.start();
  return c;
}

function serverType(short: string) {
  return xds.server
    .connections()
    .find((c) => c.nodeId === NODE.id)
    ?.types.find((t) => t.shortName === short);
}

before(async () => {
  xds = await startXdsServer();
});

after(async () => {
  await Promise.all(clients.map((c) => c.close({ graceful: false })));
  await xds.server.stop(100);
});

test('an unsupported cluster type NACKs the whole CDS response; the last good config stays', async () => {
  xds.cache.set(NODE.id, good());
  const c = start();
  const before = await c.whenReady();
  const goodVersion = before.versions.clusters;
  await waitUntil(() => serverType('CDS')?.status === 'SYNCED', 3_000, 'CDS SYNCED');

  // A valid new cluster and an invalid one in the same response: nothing of it is taken.
  xds.cache.set(
    NODE.id,
    good().withResources({ [CLUSTER_TYPE_URL]: [cluster('a', { type: 'ORIGINAL_DST' }), cluster('b')] }),
  );
  await waitUntil(() => serverType('CDS')?.status === 'NACKED', 3_000, 'CDS NACKED');
  const cds = serverType('CDS')!;
  const error = 'Cluster "a": type: ORIGINAL_DST is not supported (STATIC, STRICT_DNS, LOGICAL_DNS, EDS)';
  assert.equal(cds.lastNack?.message, error);
  assert.equal(cds.lastNack?.code, 3);
  assert.equal(cds.ackedVersion, goodVersion, 'the server knows the client runs the last good version');
  assert.equal(c.config, before, 'the same configuration is still in force');
  assert.deepEqual([...c.config.clusters.keys()], ['a']);
  assert.equal(c.config.clusters.get('a')?.type, 'EDS');
  assert.deepEqual(c.status().types.CDS.lastNack?.message, error);
  assert.equal(c.status().types.CDS.version, goodVersion);

  // A usable configuration is taken again.
  xds.cache.set(
    NODE.id,
    good().withResources({
      [CLUSTER_TYPE_URL]: [cluster('a'), cluster('b')],
      [ENDPOINT_TYPE_URL]: [assignment('a', '10.0.0.1'), assignment('b', '10.0.0.2')],
    }),
  );
  await waitUntil(() => c.config?.clusters.has('b') === true, 3_000, 'cluster b');
  await waitUntil(() => serverType('CDS')?.status === 'SYNCED', 3_000, 'CDS SYNCED again');
  assert.deepEqual(
    c.config.endpoints.get('b')?.endpoints.map((e) => e.key),
    ['10.0.0.2:80'],
  );
  await c.close();
});

test('a malformed regex NACKs RDS; the previous route table keeps routing', async () => {
  xds.cache.set(NODE.id, good());
  const c = start();
  const before = await c.whenReady();
  xds.cache.set(NODE.id, good().withResources({ [ROUTE_TYPE_URL]: [routes('/(unclosed')] }));
  await waitUntil(() => serverType('RDS')?.status === 'NACKED', 3_000, 'RDS NACKED');
  assert.equal(
    serverType('RDS')?.lastNack?.message,
    'RouteConfiguration "outbound": virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex "/(unclosed": Invalid regular expression: /^(?:/(unclosed)$/: Unterminated group',
  );
  assert.equal(c.config!.routes.get('outbound'), before.routes.get('outbound'));
  await c.close();
});

test('a listener whose route configuration never comes is warm after the initial fetch timeout', async () => {
  xds.cache.set(NODE.id, good().withResources({ [ROUTE_TYPE_URL]: [] }));
  const c = start(300);
  const t0 = Date.now();
  const config = await c.whenReady();
  assert.ok(Date.now() - t0 >= 250, `ready after ${Date.now() - t0} ms`);
  assert.deepEqual([...config.listeners.keys()], ['outbound']);
  assert.equal(config.routes.size, 0, 'no route table: requests get 404 NR');
  // When it does come, it is used.
  xds.cache.set(NODE.id, good());
  await waitUntil(() => c.config?.routes.has('outbound') === true, 3_000, 'the route table');
  await c.close();
});
