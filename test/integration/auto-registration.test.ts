/**
 * WorkloadEntries registered by sidecars and owned by their xDS connection: created when the proxy connects, health
 * from `istio.io/health` reports, removed at once on a graceful close, after the grace period when the connection is
 * lost, and kept when the proxy reconnects in time. A real control plane, a real ADS stream.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredResource } from '../../src/api/resource.js';
import { ControlPlane } from '../../src/control/control-plane.js';
import type { NodeMessage } from '../../src/control/xds/ads-service.js';
import { CLUSTER_TYPE_URL } from '../../src/control/xds/resource-types.js';
import { toStruct } from '../../src/control/xds/well-known.js';
import { silentLogger } from '../../src/core/logger.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import { tempDir } from '../helpers/processes.js';
import { AdsTestClient, sotwRequest } from './xds-test-client.js';

const GRACE_MS = 1_500;
let cp: ControlPlane;
let xdsPort: number;

before(async () => {
  cp = new ControlPlane({
    dataDir: tempDir(),
    httpPort: 0,
    xdsPort: 0,
    workloadEntryGraceMs: GRACE_MS,
    logger: silentLogger(),
  });
  xdsPort = (await cp.start()).xds.port;
});

after(async () => {
  await cp.stop();
});

function sidecarNode(pod: string, ip: string): NodeMessage {
  return {
    id: `sidecar~${ip}~${pod}.default~default.svc.cluster.local`,
    cluster: 'reviews.default',
    metadata: toStruct({
      NAMESPACE: 'default',
      LABELS: { app: 'reviews', version: 'v1' },
      WORKLOAD_NAME: pod,
      SERVICE_ACCOUNT: 'reviews',
      INSTANCE_IPS: ip,
      SHOAL_INBOUND_PORT: '15006',
      SHOAL_APP_PORT: '9080',
      SHOAL_PORTS: { http: 9080 },
      SHOAL_HEALTH_CHECKS: 'true',
    }),
    locality: { region: 'local', zone: 'a', sub_zone: '' },
    user_agent_name: 'shoal-test',
    client_features: [],
  };
}

function connect(pod: string, ip: string): AdsTestClient<any, any> {
  const client = AdsTestClient.sotw(xdsPort);
  client.send(sotwRequest({ type_url: CLUSTER_TYPE_URL, node: sidecarNode(pod, ip) }));
  return client;
}

function entry(name: string): Promise<StoredResource | undefined> {
  return cp.storeInstance.get('WorkloadEntry', 'default', name);
}

function healthOf(we: StoredResource | undefined): string | undefined {
  return (we?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find(
    (c) => c.type === 'Healthy',
  )?.status;
}

test('a connecting sidecar registers its WorkloadEntry, and health reports update it', async () => {
  const client = connect('reviews-a', '127.1.0.5');
  await client.next();
  await waitUntil(async () => (await entry('reviews-a')) !== undefined, 3_000, 'the WorkloadEntry');
  const we = (await entry('reviews-a'))!;
  assert.deepEqual(we.spec, {
    address: '127.1.0.5',
    labels: { app: 'reviews', version: 'v1' },
    ports: { http: 9080 },
    serviceAccount: 'reviews',
    locality: 'local/a',
  });
  assert.equal(we.metadata.annotations?.['sidecar.shoal.io/inbound-port'], '15006');
  assert.equal(healthOf(we), 'False', 'unhealthy until the first readiness report');

  client.send(sotwRequest({ type_url: 'istio.io/health' }));
  await waitUntil(async () => healthOf(await entry('reviews-a')) === 'True', 3_000, 'Healthy=True');
  client.send(
    sotwRequest({ type_url: 'istio.io/health', error_detail: { code: 14, message: 'readiness probe failed' } }),
  );
  await waitUntil(async () => healthOf(await entry('reviews-a')) === 'False', 3_000, 'Healthy=False');

  // A graceful close (the proxy half-closes its stream) removes the entry at once, well inside the grace period.
  const t0 = Date.now();
  client.end();
  await waitUntil(async () => (await entry('reviews-a')) === undefined, GRACE_MS - 500, 'removal on graceful close');
  assert.ok(Date.now() - t0 < GRACE_MS);
  client.close();
});

test('a lost connection keeps the entry for the grace period, then removes it', async () => {
  const client = connect('reviews-b', '127.1.0.6');
  await client.next();
  await waitUntil(async () => (await entry('reviews-b')) !== undefined, 3_000, 'the WorkloadEntry');
  const t0 = Date.now();
  client.close(); // cancel: the connection is lost, not closed on purpose
  await new Promise((r) => setTimeout(r, GRACE_MS / 2));
  assert.ok((await entry('reviews-b')) !== undefined, 'still there within the grace period');
  await waitUntil(async () => (await entry('reviews-b')) === undefined, GRACE_MS * 2, 'removal after the grace period');
  assert.ok(Date.now() - t0 >= GRACE_MS - 50, `removed after ${Date.now() - t0} ms`);
});

test('a proxy that reconnects within the grace period keeps its entry', async () => {
  const first = connect('reviews-c', '127.1.0.7');
  await first.next();
  await waitUntil(async () => (await entry('reviews-c')) !== undefined, 3_000, 'the WorkloadEntry');
  const uid = (await entry('reviews-c'))!.metadata.uid;
  first.close();
  await new Promise((r) => setTimeout(r, GRACE_MS / 3));
  const second = connect('reviews-c', '127.1.0.7');
  await second.next();
  await new Promise((r) => setTimeout(r, GRACE_MS * 1.5));
  const we = await entry('reviews-c');
  assert.equal(we?.metadata.uid, uid, 'the same entry, never deleted');
  second.end();
  await waitUntil(async () => (await entry('reviews-c')) === undefined, 1_000, 'removal on graceful close');
  second.close();
});
