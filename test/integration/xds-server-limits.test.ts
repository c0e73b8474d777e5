/**
 * The discovery server against bad clients: too many names (RESOURCE_EXHAUSTED, logged), garbage bytes, an oversized
 * request, no node id, a client that never ACKs, clients vanishing mid-push, too many streams; each confined to its
 * own stream while a well-behaved client on the same server keeps receiving pushes. Then a graceful stop.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL } from '../../src/control/xds/resource-types.js';
import { CLUSTER_NAME, echoEndpoints, echoSnapshot } from '../unit/xds/fixtures.js';
import {
  AdsTestClient,
  deltaRequest,
  namesOf,
  sotwRequest,
  startXdsServer,
  testNode,
  waitFor,
  type TestXdsServer,
} from './xds-test-client.js';

let t: TestXdsServer;
const closers: (() => void)[] = [];

/** A well-behaved SotW client on EDS for `nodeId`, ACKing everything; returns how to check it still gets pushes. */
async function goodClient(nodeId: string): Promise<(port: number) => Promise<void>> {
  t.cache.set(nodeId, echoSnapshot([7001]));
  const c = AdsTestClient.sotw(t.port);
  closers.push(() => c.close());
  c.send(sotwRequest({ node: testNode(nodeId), type_url: ENDPOINT_TYPE_URL, resource_names: [CLUSTER_NAME] }));
  const first = await c.next();
  c.send(
    sotwRequest({
      type_url: ENDPOINT_TYPE_URL,
      version_info: first.version_info,
      response_nonce: first.nonce,
      resource_names: [CLUSTER_NAME],
    }),
  );
  return async (port: number) => {
    t.cache.set(nodeId, echoSnapshot([7001]).withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([port])] }));
    const r = await c.next();
    assert.deepEqual(namesOf(r.resources), [CLUSTER_NAME]);
    c.send(
      sotwRequest({
        type_url: ENDPOINT_TYPE_URL,
        version_info: r.version_info,
        response_nonce: r.nonce,
        resource_names: [CLUSTER_NAME],
      }),
    );
  };
}

before(async () => {
  t = await startXdsServer({ maxNamesPerType: 100, maxReceiveMessageBytes: 64 * 1024, maxStreams: 50 });
});

after(async () => {
  for (const close of closers) close();
  await t.server.stop(1_000);
});

void describe('xDS server limits and bad clients', () => {
  void it('ends a SotW stream subscribing to too many names with RESOURCE_EXHAUSTED, and logs it', async () => {
    const stillServed = await goodClient('limits-good-1');
    const c = AdsTestClient.sotw(t.port);
    closers.push(() => c.close());
    const names = Array.from({ length: 101 }, (_, i) => `cluster-${i}`);
    c.send(sotwRequest({ node: testNode('limits-greedy'), type_url: ENDPOINT_TYPE_URL, resource_names: names }));
    const status = await c.closed();
    assert.equal(status.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.match(status.details, /EDS: 101 subscribed resource names exceed the limit of 100/);
    const line = t.logs.find((l) => l.level === 'warn' && l.fields.nodeId === 'limits-greedy');
    assert.ok(line, 'a warn line');
    assert.match(line.message, /xDS client rejected/);
    await stillServed(7002);
  });

  void it('ends a delta stream subscribing to too many names with RESOURCE_EXHAUSTED', async () => {
    const c = AdsTestClient.delta(t.port);
    closers.push(() => c.close());
    c.send(
      deltaRequest({
        node: testNode('limits-greedy-delta'),
        type_url: CLUSTER_TYPE_URL,
        resource_names_subscribe: ['a'],
      }),
    );
    c.send(
      deltaRequest({
        type_url: CLUSTER_TYPE_URL,
        resource_names_subscribe: Array.from({ length: 100 }, (_, i) => `c${i}`),
      }),
    );
    const status = await c.closed();
    assert.equal(status.code, GrpcStatus.RESOURCE_EXHAUSTED);
  });

  void it('ends only the stream that sends garbage bytes', async () => {
    const stillServed = await goodClient('limits-good-2');
    const before = t.server.connections().length;
    // Bytes protobuf cannot parse (a varint running off the end): grpc-js ends the call with INTERNAL.
    const garbage = AdsTestClient.raw(t.port);
    closers.push(() => garbage.close());
    garbage.send(Buffer.from([0xff, 0xff, 0xff]));
    assert.equal((await garbage.closed()).code, GrpcStatus.INTERNAL);
    assert.ok(t.logs.some((l) => l.level === 'warn' && l.message === 'xDS request could not be decoded'));
    // Bytes that parse as nonsense (protobufjs is lenient): no node id, so INVALID_ARGUMENT.
    const nonsense = AdsTestClient.raw(t.port);
    closers.push(() => nonsense.close());
    nonsense.send(Buffer.from([0x0a, 0x05, 0x41, 0x0f, 0x0f]));
    assert.equal((await nonsense.closed()).code, GrpcStatus.INVALID_ARGUMENT);
    await waitFor(() => t.server.connections().length === before, 3_000, 'the garbage stream to be forgotten');
    await stillServed(7003);
  });

  void it('rejects a request larger than the receive limit, and a first request without node.id', async () => {
    const big = AdsTestClient.sotw(t.port);
    closers.push(() => big.close());
    big.send(
      sotwRequest({ node: testNode('limits-big'), type_url: LISTENER_TYPE_URL, resource_names: ['x'.repeat(70_000)] }),
    );
    assert.equal((await big.closed()).code, GrpcStatus.RESOURCE_EXHAUSTED);

    const anonymous = AdsTestClient.sotw(t.port);
    closers.push(() => anonymous.close());
    anonymous.send(sotwRequest({ type_url: LISTENER_TYPE_URL }));
    const status = await anonymous.closed();
    assert.equal(status.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(status.details, /node\.id/);
  });

  void it('sends a client that never ACKs one response per type, however many pushes', async () => {
    t.cache.set('limits-silent', echoSnapshot([7001]));
    const c = AdsTestClient.sotw(t.port);
    closers.push(() => c.close());
    c.send(
      sotwRequest({ node: testNode('limits-silent'), type_url: ENDPOINT_TYPE_URL, resource_names: [CLUSTER_NAME] }),
    );
    c.send(sotwRequest({ type_url: CLUSTER_TYPE_URL }));
    await c.next();
    await c.next();
    for (let i = 0; i < 200; i++) {
      t.cache.set(
        'limits-silent',
        echoSnapshot([7001]).withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([10_000 + i])] }),
      );
    }
    await c.expectNone(300);
    const types = t.server.connections().find((x) => x.nodeId === 'limits-silent')?.types ?? [];
    assert.deepEqual(
      types.map((s) => [s.shortName, s.status]),
      [
        ['CDS', 'STALE'],
        ['EDS', 'STALE'],
      ],
    );
  });

  void it('survives clients that disconnect in the middle of pushes', async () => {
    const stillServed = await goodClient('limits-good-3');
    const big = echoSnapshot([7001]).withResources({
      [ENDPOINT_TYPE_URL]: [echoEndpoints(Array.from({ length: 2_000 }, (_, i) => 20_000 + i))],
    });
    for (let round = 0; round < 5; round++) {
      const ids = Array.from({ length: 8 }, (_, i) => `limits-flaky-${round}-${i}`);
      const flaky = ids.map((id) => {
        t.cache.set(id, echoSnapshot([7001]));
        const c = AdsTestClient.delta(t.port);
        c.send(
          deltaRequest({ node: testNode(id), type_url: ENDPOINT_TYPE_URL, resource_names_subscribe: [CLUSTER_NAME] }),
        );
        return c;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const [i, id] of ids.entries()) {
        t.cache.set(id, big);
        flaky[i]?.close();
      }
    }
    await waitFor(() => !t.server.connections().some((c) => c.nodeId.startsWith('limits-flaky')), 3_000, 'cleanup');
    await stillServed(7004);
  });

  void it('refuses streams beyond maxStreams', async () => {
    const open = t.server.connections().length;
    const extra: AdsTestClient<unknown, unknown>[] = [];
    for (let i = open; i < 50; i++) {
      const c = AdsTestClient.sotw(t.port);
      c.send(sotwRequest({ node: testNode(`limits-many-${i}`), type_url: LISTENER_TYPE_URL }));
      extra.push(c as AdsTestClient<unknown, unknown>);
      closers.push(() => c.close());
    }
    await waitFor(() => t.server.connections().length === 50, 3_000, '50 streams');
    const refused = AdsTestClient.sotw(t.port);
    closers.push(() => refused.close());
    refused.send(sotwRequest({ node: testNode('limits-one-too-many'), type_url: LISTENER_TYPE_URL }));
    assert.equal((await refused.closed()).code, GrpcStatus.RESOURCE_EXHAUSTED);
    for (const c of extra) c.close();
    await waitFor(() => t.server.connections().length === open, 3_000, 'streams to close');
  });
});

void describe('xDS server stop', () => {
  void it('ends open streams with OK and stops within the grace period', async () => {
    const own = await startXdsServer();
    own.cache.set('stop-1', echoSnapshot([7001]));
    const c = AdsTestClient.sotw(own.port);
    closers.push(() => c.close());
    c.send(sotwRequest({ node: testNode('stop-1'), type_url: CLUSTER_TYPE_URL }));
    await c.next();
    const started = Date.now();
    await own.server.stop(2_000);
    assert.ok(Date.now() - started < 1_500, `stop took ${Date.now() - started} ms`);
    assert.equal((await c.closed()).code, GrpcStatus.OK);
    assert.deepEqual(own.server.connections(), []);
  });
});
