/**
 * The discovery server, state of the world, on a real socket: initial response, ACK, NACK (version kept, error
 * recorded, nothing resent), pushes, named RDS/EDS subscriptions sending only what changed, deletion by absence,
 * stale nonces ignored, pushes coalesced while a response awaits its ACK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DiscoveryRequest, DiscoveryResponse } from '../../src/control/xds/ads-service.js';
import { changeStats } from '../../src/control/xds/change-set.js';
import { getXdsProtos } from '../../src/control/xds/protos.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type XdsTypeUrl,
} from '../../src/control/xds/resource-types.js';
import type { TypeStatus } from '../../src/control/xds/type-tracker.js';
import {
  CLUSTER_NAME,
  echoCluster,
  echoEndpoints,
  echoListener,
  echoSnapshot,
  LISTENER_NAME,
} from '../unit/xds/fixtures.js';
import {
  AdsTestClient,
  namesOf,
  sotwRequest,
  startXdsServer,
  testNode,
  waitFor,
  type TestXdsServer,
  typeStatus as typeStatusOf,
} from './xds-test-client.js';

const OTHER_CLUSTER = 'outbound|9090||other.default.svc.cluster.local';

let t: TestXdsServer;
const clients: AdsTestClient<DiscoveryRequest, DiscoveryResponse>[] = [];

function connect(): AdsTestClient<DiscoveryRequest, DiscoveryResponse> {
  const client = AdsTestClient.sotw(t.port);
  clients.push(client);
  return client;
}

function typeStatus(nodeId: string, typeUrl: XdsTypeUrl): TypeStatus | undefined {
  return typeStatusOf(t.server, nodeId, typeUrl);
}

function ack(
  client: AdsTestClient<DiscoveryRequest, DiscoveryResponse>,
  r: DiscoveryResponse,
  names: string[] = [],
): void {
  client.send(
    sotwRequest({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names }),
  );
}

before(async () => {
  t = await startXdsServer({ controlPlaneId: 'shoal-test' });
});

after(async () => {
  for (const client of clients) client.close();
  await t.server.stop(1_000);
});

void describe('xDS server, state of the world', () => {
  void it('answers a wildcard LDS request with every listener, and records the ACK', async () => {
    t.cache.set(
      'sotw-1',
      echoSnapshot([7001]).withResources({ [LISTENER_TYPE_URL]: [echoListener(), echoListener('b:80', 'b')] }),
    );
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-1'), type_url: LISTENER_TYPE_URL }));
    const r1 = await c.next();
    assert.equal(r1.type_url, LISTENER_TYPE_URL);
    assert.deepEqual(namesOf(r1.resources).sort(), ['b:80', LISTENER_NAME]);
    assert.match(r1.version_info, /^[0-9a-f]{16}$/);
    assert.notEqual(r1.nonce, '');
    assert.deepEqual(r1.control_plane, { identifier: 'shoal-test' });
    assert.equal(typeStatus('sotw-1', LISTENER_TYPE_URL)?.status, 'STALE');

    ack(c, r1);
    await waitFor(() => typeStatus('sotw-1', LISTENER_TYPE_URL)?.status === 'SYNCED', 3_000, 'SYNCED');
    const status = typeStatus('sotw-1', LISTENER_TYPE_URL);
    assert.equal(status?.ackedVersion, r1.version_info);
    assert.equal(status?.sentNonce, r1.nonce);
    assert.equal(status?.wildcard, true);
    const connection = t.server.connections().find((x) => x.nodeId === 'sotw-1');
    assert.equal(connection?.protocol, 'sotw');
    assert.equal(connection?.node?.namespace, 'default');
    assert.deepEqual(connection?.node?.labels, { app: 'test' });
    await c.expectNone();
  });

  void it('records a NACK, keeps the ACKed version, resends nothing, then recovers on the next push', async () => {
    t.cache.set('sotw-2', echoSnapshot([7001]));
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-2'), type_url: CLUSTER_TYPE_URL }));
    const r1 = await c.next();
    ack(c, r1);
    t.cache.set(
      'sotw-2',
      echoSnapshot([7001]).withResources({ [CLUSTER_TYPE_URL]: [{ ...echoCluster(), lb_policy: 'LEAST_REQUEST' }] }),
    );
    const r2 = await c.next();
    assert.notEqual(r2.version_info, r1.version_info);
    c.send(
      sotwRequest({
        type_url: CLUSTER_TYPE_URL,
        version_info: r1.version_info,
        response_nonce: r2.nonce,
        error_detail: { code: 3, message: 'unsupported lb_policy: LEAST_REQUEST' },
      }),
    );
    await waitFor(() => typeStatus('sotw-2', CLUSTER_TYPE_URL)?.status === 'NACKED', 3_000, 'NACKED');
    const nacked = typeStatus('sotw-2', CLUSTER_TYPE_URL);
    assert.equal(nacked?.ackedVersion, r1.version_info);
    assert.equal(nacked?.sentVersion, r2.version_info);
    assert.equal(nacked?.lastNack?.rejectedVersion, r2.version_info);
    assert.equal(nacked?.lastNack?.message, 'unsupported lb_policy: LEAST_REQUEST');
    assert.ok(
      t.logs.some((l) => l.level === 'warn' && l.message.includes('NACKed CDS') && l.fields.nodeId === 'sotw-2'),
    );
    await c.expectNone();

    t.cache.set('sotw-2', echoSnapshot([7001]));
    const r3 = await c.next();
    assert.equal(r3.version_info, r1.version_info); // same content, same version
    ack(c, r3);
    await waitFor(() => typeStatus('sotw-2', CLUSTER_TYPE_URL)?.status === 'SYNCED', 3_000, 'SYNCED');
  });

  void it('pushes when the provider changes, and stays quiet when a new snapshot has equal content', async () => {
    t.cache.set('sotw-3', echoSnapshot([7001]));
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-3'), type_url: CLUSTER_TYPE_URL }));
    ack(c, await c.next());
    t.cache.set('sotw-3', echoSnapshot([7001])); // a new object, the same bytes
    await c.expectNone();
    t.cache.set(
      'sotw-3',
      echoSnapshot([7001]).withResources({ [CLUSTER_TYPE_URL]: [echoCluster(), echoCluster(OTHER_CLUSTER)] }),
    );
    const r = await c.next();
    assert.deepEqual(namesOf(r.resources).sort(), [CLUSTER_NAME, OTHER_CLUSTER]);
  });

  void it('serves named EDS subscriptions, sending only new and changed resources', async () => {
    const snapshot = echoSnapshot([7001]).withResources({
      [ENDPOINT_TYPE_URL]: [echoEndpoints([7001]), echoEndpoints([9001], OTHER_CLUSTER)],
    });
    t.cache.set('sotw-4', snapshot);
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-4'), type_url: ENDPOINT_TYPE_URL, resource_names: [CLUSTER_NAME] }));
    const r1 = await c.next();
    assert.deepEqual(namesOf(r1.resources), [CLUSTER_NAME]);
    ack(c, r1, [CLUSTER_NAME, OTHER_CLUSTER]); // ACK and subscribe to one more
    const r2 = await c.next();
    assert.deepEqual(namesOf(r2.resources), [OTHER_CLUSTER]);
    assert.notEqual(r2.version_info, r1.version_info);
    ack(c, r2, [CLUSTER_NAME, OTHER_CLUSTER]);
    await c.expectNone();

    t.cache.set(
      'sotw-4',
      snapshot.withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([7002]), echoEndpoints([9001], OTHER_CLUSTER)] }),
    );
    const r3 = await c.next();
    assert.deepEqual(namesOf(r3.resources), [CLUSTER_NAME]);
    ack(c, r3, [OTHER_CLUSTER]); // unsubscribe from the first: nothing to send
    await c.expectNone();
    assert.equal(typeStatus('sotw-4', ENDPOINT_TYPE_URL)?.subscribedNames, 1);
    t.cache.set(
      'sotw-4',
      snapshot.withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([7003]), echoEndpoints([9001], OTHER_CLUSTER)] }),
    );
    await c.expectNone(); // the changed one is no longer subscribed
    ack(c, r3, [OTHER_CLUSTER, CLUSTER_NAME]); // subscribing again: sent again
    assert.deepEqual(namesOf((await c.next()).resources), [CLUSTER_NAME]);
  });

  void it('signals deletion of a Cluster by its absence from the full set', async () => {
    const two = echoSnapshot([7001]).withResources({ [CLUSTER_TYPE_URL]: [echoCluster(), echoCluster(OTHER_CLUSTER)] });
    t.cache.set('sotw-5', two);
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-5'), type_url: CLUSTER_TYPE_URL }));
    const r1 = await c.next();
    assert.equal(r1.resources.length, 2);
    ack(c, r1);
    t.cache.set('sotw-5', two.withResources({ [CLUSTER_TYPE_URL]: [echoCluster()] }));
    const r2 = await c.next();
    assert.deepEqual(namesOf(r2.resources), [CLUSTER_NAME]); // the unchanged one is resent: SotW CDS is the full set
    ack(c, r2);
    t.cache.set('sotw-5', two.withResources({ [CLUSTER_TYPE_URL]: [] }));
    const r3 = await c.next();
    assert.equal(r3.resources.length, 0);
  });

  void it('serves a named LDS subscription (as gRPC clients use it): the named listener only, deletion by absence', async () => {
    const snapshot = echoSnapshot([7001]).withResources({
      [LISTENER_TYPE_URL]: [echoListener(), echoListener('b:80', 'b')],
    });
    t.cache.set('sotw-6', snapshot);
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-6'), type_url: LISTENER_TYPE_URL, resource_names: [LISTENER_NAME] }));
    const r1 = await c.next();
    assert.deepEqual(namesOf(r1.resources), [LISTENER_NAME]);
    ack(c, r1, [LISTENER_NAME]);
    t.cache.set('sotw-6', snapshot.withResources({ [LISTENER_TYPE_URL]: [echoListener('b:80', 'b')] }));
    assert.equal((await c.next()).resources.length, 0);
  });

  void it('ignores stale nonces and coalesces pushes while a response awaits its ACK', async () => {
    const base = echoSnapshot([7001]);
    t.cache.set('sotw-7', base);
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-7'), type_url: ENDPOINT_TYPE_URL, resource_names: [CLUSTER_NAME] }));
    const r1 = await c.next();
    for (const port of [7002, 7003, 7004])
      t.cache.set('sotw-7', base.withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([port])] }));
    await c.expectNone(); // r1 is unanswered: the three pushes wait
    assert.equal(typeStatus('sotw-7', ENDPOINT_TYPE_URL)?.status, 'STALE');
    c.send(sotwRequest({ type_url: ENDPOINT_TYPE_URL, response_nonce: 'not-a-nonce', resource_names: ['x'] }));
    c.send(sotwRequest({ type_url: ENDPOINT_TYPE_URL, response_nonce: '', resource_names: ['y'] }));
    await c.expectNone();
    assert.equal(typeStatus('sotw-7', ENDPOINT_TYPE_URL)?.staleRequests, 2);
    assert.equal(typeStatus('sotw-7', ENDPOINT_TYPE_URL)?.subscribedNames, 1); // stale requests changed nothing
    ack(c, r1, [CLUSTER_NAME]);
    const r2 = await c.next();
    assert.deepEqual(namesOf(r2.resources), [CLUSTER_NAME]);
    assert.match(JSON.stringify(getXdsProtos().fromAny(r2.resources[0]!)), /"port_value":7004/); // the latest
    const latest = base.withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([7004])] });
    assert.equal(r2.version_info, latest.typeVersion(ENDPOINT_TYPE_URL)); // the same set has the same version
    ack(c, r2, [CLUSTER_NAME]);
    await c.expectNone(); // one response for three pushes
  });

  void it('waits for the provider when a node has no snapshot yet', async () => {
    const c = connect();
    c.send(sotwRequest({ node: testNode('sotw-8'), type_url: CLUSTER_TYPE_URL }));
    await c.expectNone();
    assert.equal(typeStatus('sotw-8', CLUSTER_TYPE_URL)?.status, 'NOT_SENT');
    t.cache.set('sotw-8', echoSnapshot([7001]));
    assert.deepEqual(namesOf((await c.next()).resources), [CLUSTER_NAME]);
  });

  void it('pushes one change to many streams sharing a long subscription: computed once, only the changed resource', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `outbound|80||svc-${i}.default.svc.cluster.local`);
    const snapshot = (changedPort: number): ReturnType<typeof echoSnapshot> =>
      echoSnapshot([7001]).withResources({
        [ENDPOINT_TYPE_URL]: names.map((n, i) => echoEndpoints([i === 7 ? changedPort : 7000 + i], n)),
      });
    const before = snapshot(9000);
    const ids = Array.from({ length: 5 }, (_, i) => `sotw-many-${i}`);
    const clients = ids.map((id) => {
      t.cache.set(id, before);
      const c = connect();
      c.send(sotwRequest({ node: testNode(id), type_url: ENDPOINT_TYPE_URL, resource_names: names }));
      return c;
    });
    for (const c of clients) {
      const r = await c.next();
      assert.equal(r.resources.length, 20);
      ack(c, r, names); // every ACK repeats the whole subscription, as Envoy's do
    }
    for (const id of ids) {
      await waitFor(() => typeStatus(id, ENDPOINT_TYPE_URL)?.status === 'SYNCED', 3_000, `${id} SYNCED`);
    }

    const computed = changeStats.computed;
    const after = snapshot(9001);
    for (const id of ids) t.cache.set(id, after);
    const pushed = await Promise.all(clients.map((c) => c.next()));
    assert.equal(changeStats.computed - computed, 1, 'one difference for the five streams');
    for (const r of pushed) {
      assert.deepEqual(namesOf(r.resources), [names[7]]);
      assert.equal(r.version_info, pushed[0]!.version_info);
    }
    clients.forEach((c, i) => ack(c, pushed[i]!, names));
    for (const id of ids) {
      await waitFor(() => typeStatus(id, ENDPOINT_TYPE_URL)?.status === 'SYNCED', 3_000, `${id} SYNCED again`);
      assert.equal(typeStatus(id, ENDPOINT_TYPE_URL)?.subscribedNames, 20);
    }
    for (const c of clients) await c.expectNone();
  });
});
