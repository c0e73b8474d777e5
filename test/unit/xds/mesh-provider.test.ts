/**
 * The push engine over a real registry and store: changes are debounced into one push; an endpoint-only change
 * re-encodes only the changed ClusterLoadAssignments and leaves every other type's set untouched (so the server
 * sends EDS only); proxies of one namespace share their outbound sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshSnapshotProvider } from '../../../src/control/xds/mesh-provider.js';
import { getXdsProtos } from '../../../src/control/xds/protos.js';
import type { XdsNode } from '../../../src/control/xds/node.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
} from '../../../src/control/xds/resource-types.js';
import type { Snapshot } from '../../../src/control/xds/snapshot.js';
import { FakeTimers } from '../../helpers/fake-timers.js';
import { Harness, istio, service, serviceEntry, settle, workloadEntry } from '../registry/helpers.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function sidecar(pod: string, ip: string): XdsNode {
  return {
    id: `sidecar~${ip}~${pod}.default~default.svc.cluster.local`,
    cluster: pod,
    metadata: { NAMESPACE: 'default', INSTANCE_IPS: ip, SHOAL_APP_PORT: '8080', SHOAL_INBOUND_PORT: '15006' },
    namespace: 'default',
    labels: { app: pod },
    clientFeatures: [],
  };
}

async function setup(): Promise<{ h: Harness; timers: FakeTimers; provider: MeshSnapshotProvider }> {
  const objects = [
    service('reviews', {
      selector: { app: 'reviews' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      clusterIP: '127.2.0.1',
    }),
    service('ratings', {
      selector: { app: 'ratings' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      clusterIP: '127.2.0.2',
    }),
  ];
  for (let i = 1; i <= 3; i++)
    objects.push(workloadEntry(`reviews-${i}`, { address: `127.1.0.${i}`, labels: { app: 'reviews' } }));
  for (let i = 1; i <= 2; i++)
    objects.push(workloadEntry(`ratings-${i}`, { address: `127.1.1.${i}`, labels: { app: 'ratings' } }));
  const h = await Harness.open(objects);
  const timers = new FakeTimers();
  const provider = new MeshSnapshotProvider({ registry: h.registry, logger: silent, timers });
  return { h, timers, provider };
}

test('changes are debounced into one push that touches EDS only', async () => {
  const { h, timers, provider } = await setup();
  const got: Snapshot[] = [];
  const cancel = provider.watch(sidecar('productpage', '127.1.9.1'), (s) => got.push(s));
  assert.equal(got.length, 1, 'the first snapshot is delivered at once');
  const first = got[0]!;
  assert.deepEqual([...first.resources(ENDPOINT_TYPE_URL).keys()].sort(), [
    'outbound|80||ratings.default.svc.cluster.local',
    'outbound|80||reviews.default.svc.cluster.local',
  ]);

  await h.store.update({
    ...(await h.store.get('WorkloadEntry', 'default', 'reviews-1'))!,
    spec: { address: '127.1.0.9', labels: { app: 'reviews' } },
  });
  await settle();
  await h.store.update({
    ...(await h.store.get('WorkloadEntry', 'default', 'ratings-1'))!,
    spec: { address: '127.1.1.9', labels: { app: 'ratings' } },
  });
  await settle();
  assert.equal(got.length, 1, 'nothing pushed during the quiet period');
  timers.advance(99);
  assert.equal(got.length, 1);
  timers.advance(1);
  assert.equal(got.length, 2, 'one push for both changes');
  const second = got[1]!;
  for (const type of [CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL] as const) {
    assert.equal(second.typeSet(type), first.typeSet(type), `${type} set unchanged (same object)`);
  }
  const changed = [...second.resources(ENDPOINT_TYPE_URL).values()]
    .filter((r) => first.get(ENDPOINT_TYPE_URL, r.name)?.version !== r.version)
    .map((r) => r.name)
    .sort();
  assert.deepEqual(changed, [
    'outbound|80||ratings.default.svc.cluster.local',
    'outbound|80||reviews.default.svc.cluster.local',
  ]);
  cancel({ graceful: true });
  provider.stop();
  await h.close();
});

test("a change that leaves a proxy's configuration equal pushes nothing to it", async () => {
  const { h, timers, provider } = await setup();
  const got: Snapshot[] = [];
  provider.watch(sidecar('productpage', '127.1.9.1'), (s) => got.push(s));
  const we = (await h.store.get('WorkloadEntry', 'default', 'reviews-2'))!;
  await h.store.update({ ...we, metadata: { ...we.metadata, annotations: { note: 'not routing-relevant' } } });
  await settle();
  timers.advance(1000);
  assert.equal(got.length, 1);
  provider.stop();
  await h.close();
});

test('proxies of one namespace share their outbound sets; each has its own inbound listener', async () => {
  const { h, provider } = await setup();
  let a: Snapshot | undefined;
  let b: Snapshot | undefined;
  provider.watch(sidecar('web-1', '127.1.9.1'), (s) => (a = s));
  provider.watch(sidecar('web-2', '127.1.9.2'), (s) => (b = s));
  assert.equal(a!.typeSet(ENDPOINT_TYPE_URL), b!.typeSet(ENDPOINT_TYPE_URL), 'one shared EDS set');
  const inboundA = a!.get(LISTENER_TYPE_URL, 'inbound');
  const inboundB = b!.get(LISTENER_TYPE_URL, 'inbound');
  assert.ok(inboundA && inboundB);
  assert.notEqual(inboundA.version, inboundB.version, 'each inbound listener binds its own pod address');
  provider.stop();
  await h.close();
});

test("a sidecar's own resources are kept while they depend on it alone, and follow the view once they do not", async () => {
  const { h, timers, provider } = await setup();
  const got: Snapshot[] = [];
  provider.watch(sidecar('productpage', '127.1.9.1'), (s) => got.push(s));
  const inbound = got[0]!.get(LISTENER_TYPE_URL, 'inbound');
  assert.ok(inbound);
  const we = (await h.store.get('WorkloadEntry', 'default', 'reviews-1'))!;
  await h.store.update({ ...we, spec: { address: '127.1.0.9', labels: { app: 'reviews' } } });
  await settle();
  timers.advance(100);
  assert.equal(got.length, 2);
  assert.equal(got[1]!.get(LISTENER_TYPE_URL, 'inbound'), inbound, 'the very resource object: not translated again');

  // A DestinationRule selecting this proxy by its labels makes reviews' cluster its own, and per view.
  const reviews = 'outbound|80||reviews.default.svc.cluster.local';
  const lbPolicy = (s: Snapshot): unknown => {
    const r = s.get(CLUSTER_TYPE_URL, reviews);
    return r === undefined ? undefined : getXdsProtos().fromAny(r.resource).lb_policy;
  };
  await h.store.create(
    istio('DestinationRule', 'mine', {
      host: 'reviews',
      workloadSelector: { matchLabels: { app: 'productpage' } },
      trafficPolicy: { loadBalancer: { simple: 'RANDOM' } },
    }),
  );
  await settle();
  timers.advance(100);
  assert.equal(got.length, 3);
  assert.equal(lbPolicy(got[2]!), 'RANDOM');
  const dr = (await h.store.get('DestinationRule', 'default', 'mine'))!;
  const spec = {
    ...(dr.spec as Record<string, unknown>),
    trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
  };
  await h.store.update({ ...dr, spec });
  await settle();
  timers.advance(100);
  assert.equal(got.length, 4);
  assert.equal(lbPolicy(got[3]!), 'LEAST_REQUEST');
  provider.stop();
  await h.close();
});

test('an endpoint change that makes a cluster appear (a NONE ServiceEntry gets its first endpoint) pushes CDS too', async () => {
  const { h, timers, provider } = await setup();
  await h.store.create(
    serviceEntry('legacy', {
      hosts: ['legacy.example.internal'],
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      resolution: 'NONE',
      location: 'MESH_INTERNAL',
      workloadSelector: { labels: { app: 'legacy' } },
    }),
  );
  await settle();
  timers.advance(100);
  const got: Snapshot[] = [];
  provider.watch(sidecar('productpage', '127.1.9.1'), (s) => got.push(s));
  const cluster = 'outbound|80||legacy.example.internal';
  assert.equal(got[0]!.get(CLUSTER_TYPE_URL, cluster), undefined, 'no endpoints: no cluster');

  // An endpoint-only change for the registry (same shape), but it decides whether the cluster exists.
  await h.store.create(workloadEntry('legacy-1', { address: '127.1.5.1', labels: { app: 'legacy' } }));
  await settle();
  timers.advance(100);
  assert.equal(got.length, 2);
  assert.ok(got[1]!.get(CLUSTER_TYPE_URL, cluster), 'the cluster appears with its first endpoint');
  assert.ok(got[1]!.get(ENDPOINT_TYPE_URL, cluster));
  provider.stop();
  await h.close();
});
