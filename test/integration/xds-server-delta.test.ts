/**
 * The discovery server, incremental (delta) ADS, on a real socket: wildcard and named subscriptions, only changed
 * resources sent, removed_resources for deletions and for names that do not exist, unsubscribe, reconnect with
 * initial_resource_versions, ACK and NACK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from '../../src/control/xds/ads-service.js';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, type XdsTypeUrl } from '../../src/control/xds/resource-types.js';
import type { TypeStatus } from '../../src/control/xds/type-tracker.js';
import { CLUSTER_NAME, echoCluster, echoEndpoints, echoSnapshot } from '../unit/xds/fixtures.js';
import {
  AdsTestClient,
  deltaRequest,
  startXdsServer,
  testNode,
  waitFor,
  type TestXdsServer,
  typeStatus as typeStatusOf,
} from './xds-test-client.js';

const OTHER = 'outbound|9090||other.default.svc.cluster.local';
const MISSING = 'outbound|1||missing.default.svc.cluster.local';

let t: TestXdsServer;
const clients: AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse>[] = [];

function connect(): AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  const client = AdsTestClient.delta(t.port);
  clients.push(client);
  return client;
}

function typeStatus(nodeId: string, typeUrl: XdsTypeUrl): TypeStatus | undefined {
  return typeStatusOf(t.server, nodeId, typeUrl);
}

function ack(
  client: AdsTestClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
  r: DeltaDiscoveryResponse,
  more: Partial<DeltaDiscoveryRequest> = {},
): void {
  client.send(deltaRequest({ type_url: r.type_url, response_nonce: r.nonce, ...more }));
}

function versions(r: DeltaDiscoveryResponse): Record<string, string> {
  return Object.fromEntries(r.resources.map((x) => [x.name, x.version]));
}

const twoClusters = echoSnapshot([7001]).withResources({ [CLUSTER_TYPE_URL]: [echoCluster(), echoCluster(OTHER)] });

before(async () => {
  t = await startXdsServer();
});

after(async () => {
  for (const client of clients) client.close();
  await t.server.stop(1_000);
});

void describe('xDS server, delta', () => {
  void it('subscribes to the CDS wildcard, then sends only what changed and removes what was deleted', async () => {
    t.cache.set('delta-1', twoClusters);
    const c = connect();
    c.send(deltaRequest({ node: testNode('delta-1'), type_url: CLUSTER_TYPE_URL }));
    const r1 = await c.next();
    assert.equal(r1.type_url, CLUSTER_TYPE_URL);
    assert.deepEqual(versions(r1), {
      [CLUSTER_NAME]: twoClusters.get(CLUSTER_TYPE_URL, CLUSTER_NAME)?.version,
      [OTHER]: twoClusters.get(CLUSTER_TYPE_URL, OTHER)?.version,
    });
    assert.deepEqual(r1.removed_resources, []);
    assert.equal(r1.system_version_info, twoClusters.typeVersion(CLUSTER_TYPE_URL));
    ack(c, r1);
    await waitFor(() => typeStatus('delta-1', CLUSTER_TYPE_URL)?.status === 'SYNCED', 3_000, 'SYNCED');
    assert.equal(typeStatus('delta-1', CLUSTER_TYPE_URL)?.ackedVersion, r1.system_version_info);

    const changed = twoClusters.withResources({
      [CLUSTER_TYPE_URL]: [{ ...echoCluster(), connect_timeout: { seconds: 5 } }, echoCluster(OTHER)],
    });
    t.cache.set('delta-1', changed);
    const r2 = await c.next();
    assert.deepEqual(Object.keys(versions(r2)), [CLUSTER_NAME]);
    assert.deepEqual(r2.removed_resources, []);
    ack(c, r2);

    t.cache.set('delta-1', changed.withResources({ [CLUSTER_TYPE_URL]: [echoCluster(OTHER)] }));
    const r3 = await c.next();
    assert.deepEqual(r3.resources, []);
    assert.deepEqual(r3.removed_resources, [CLUSTER_NAME]);
    ack(c, r3);
    await c.expectNone();
  });

  void it('answers named EDS subscriptions, tells the client which names do not exist, and handles unsubscribe', async () => {
    const snapshot = echoSnapshot([7001]).withResources({
      [ENDPOINT_TYPE_URL]: [echoEndpoints([7001]), echoEndpoints([9001], OTHER)],
    });
    t.cache.set('delta-2', snapshot);
    const c = connect();
    c.send(
      deltaRequest({
        node: testNode('delta-2'),
        type_url: ENDPOINT_TYPE_URL,
        resource_names_subscribe: [CLUSTER_NAME, MISSING],
      }),
    );
    const r1 = await c.next();
    assert.deepEqual(Object.keys(versions(r1)), [CLUSTER_NAME]);
    assert.deepEqual(r1.removed_resources, [MISSING]);
    ack(c, r1);
    await c.expectNone();

    // A spontaneous subscription (no nonce) adds one; only that one is sent.
    c.send(deltaRequest({ type_url: ENDPOINT_TYPE_URL, resource_names_subscribe: [OTHER] }));
    const r2 = await c.next();
    assert.deepEqual(Object.keys(versions(r2)), [OTHER]);
    ack(c, r2);

    // The missing one springs into existence: pushed, because it is still subscribed.
    t.cache.set(
      'delta-2',
      snapshot.withResources({
        [ENDPOINT_TYPE_URL]: [echoEndpoints([7001]), echoEndpoints([9001], OTHER), echoEndpoints([1], MISSING)],
      }),
    );
    const r3 = await c.next();
    assert.deepEqual(Object.keys(versions(r3)), [MISSING]);
    ack(c, r3, { resource_names_unsubscribe: [OTHER] }); // unsubscribing needs no response
    await c.expectNone();
    assert.equal(typeStatus('delta-2', ENDPOINT_TYPE_URL)?.subscribedNames, 2);

    t.cache.set(
      'delta-2',
      snapshot.withResources({
        [ENDPOINT_TYPE_URL]: [echoEndpoints([7001]), echoEndpoints([9002], OTHER), echoEndpoints([1], MISSING)],
      }),
    );
    await c.expectNone(); // OTHER changed, but it is no longer subscribed
    c.send(deltaRequest({ type_url: ENDPOINT_TYPE_URL, resource_names_subscribe: [OTHER, CLUSTER_NAME] }));
    const r4 = await c.next(); // a name subscribed again is resent even if unchanged
    assert.deepEqual(Object.keys(versions(r4)).sort(), [CLUSTER_NAME, OTHER]);
  });

  void it('resumes from initial_resource_versions without resending what the client has', async () => {
    t.cache.set('delta-3', twoClusters);
    const c = connect();
    c.send(
      deltaRequest({
        node: testNode('delta-3'),
        type_url: CLUSTER_TYPE_URL,
        initial_resource_versions: {
          [CLUSTER_NAME]: twoClusters.get(CLUSTER_TYPE_URL, CLUSTER_NAME)?.version ?? '',
          [OTHER]: 'an-old-version',
          [MISSING]: 'gone-since',
        },
      }),
    );
    const r1 = await c.next();
    assert.deepEqual(Object.keys(versions(r1)), [OTHER]);
    assert.deepEqual(r1.removed_resources, [MISSING]);
  });

  void it('answers an initial request even when there is nothing to send', async () => {
    t.cache.set('delta-4', echoSnapshot([7001]).withResources({ [CLUSTER_TYPE_URL]: [] }));
    const c = connect();
    c.send(deltaRequest({ node: testNode('delta-4'), type_url: CLUSTER_TYPE_URL }));
    const r1 = await c.next();
    assert.deepEqual([r1.resources, r1.removed_resources], [[], []]);
  });

  void it('records a NACK with its error and stays quiet until the configuration changes', async () => {
    t.cache.set('delta-5', twoClusters);
    const c = connect();
    c.send(deltaRequest({ node: testNode('delta-5'), type_url: CLUSTER_TYPE_URL }));
    const r1 = await c.next();
    ack(c, r1, { error_detail: { code: 3, message: 'cluster outbound|9090: bad' } });
    await waitFor(() => typeStatus('delta-5', CLUSTER_TYPE_URL)?.status === 'NACKED', 3_000, 'NACKED');
    const status = typeStatus('delta-5', CLUSTER_TYPE_URL);
    assert.equal(status?.lastNack?.message, 'cluster outbound|9090: bad');
    assert.equal(status?.ackedVersion, '');
    await c.expectNone();
    t.cache.set('delta-5', twoClusters.withResources({ [CLUSTER_TYPE_URL]: [echoCluster()] }));
    const r2 = await c.next();
    assert.deepEqual(r2.removed_resources, [OTHER]);
  });

  void it('with a wildcard, unsubscribing from an explicit name resends it or removes it', async () => {
    t.cache.set('delta-6', twoClusters);
    const c = connect();
    c.send(
      deltaRequest({ node: testNode('delta-6'), type_url: CLUSTER_TYPE_URL, resource_names_subscribe: ['*', MISSING] }),
    );
    const r1 = await c.next();
    assert.deepEqual(Object.keys(versions(r1)).sort(), [CLUSTER_NAME, OTHER]);
    assert.deepEqual(r1.removed_resources, [MISSING]);
    ack(c, r1, { resource_names_subscribe: [OTHER] });
    const r2 = await c.next();
    assert.deepEqual(Object.keys(versions(r2)), [OTHER]); // explicitly subscribed: resent
    ack(c, r2, { resource_names_unsubscribe: [OTHER, MISSING] });
    const r3 = await c.next();
    assert.deepEqual(Object.keys(versions(r3)), [OTHER]); // still in the wildcard set: keep it
    assert.deepEqual(r3.removed_resources, [MISSING]); // not in it: drop it
  });
});
