/**
 * The xDS client's pure parts: the node the control plane reads, the reconnect policy (fake timers, scripted
 * randomness) and Envoy-style warming of listeners and clusters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryFor } from '../../../src/control/auto-registration.js';
import { parseNode } from '../../../src/control/xds/node.js';
import { proxyContextOf } from '../../../src/control/xds/translate/proxy.js';
import type { ClusterConfig, EndpointSet, ListenerConfig, RouteTable } from '../../../src/proxy/config/index.js';
import { gatewayNode, parseControlAddresses, Reconnector, sidecarNode } from '../../../src/proxy/xds-client/index.js';
import { assemble, assignmentNames, routeNames, type AcceptedConfig } from '../../../src/proxy/xds-client/warming.js';
import { FakeTimers } from '../../helpers/fake-timers.js';

void describe('sidecarNode', () => {
  const node = sidecarNode({
    podIp: '127.1.0.5',
    workload: 'reviews-7f9c',
    namespace: 'shop',
    serviceAccount: 'reviews',
    labels: { app: 'reviews', version: 'v1' },
    appPort: 9080,
    healthChecks: true,
    locality: { region: 'eu', zone: 'eu-a', subZone: '' },
  });

  void it('has Istio’s sidecar id and the metadata the control plane reads', () => {
    assert.equal(node.id, 'sidecar~127.1.0.5~reviews-7f9c.shop~shop.svc.cluster.local');
    assert.equal(node.cluster, 'reviews.shop');
    const parsed = parseNode(node);
    assert.deepEqual(proxyContextOf(parsed), {
      type: 'sidecar',
      id: node.id,
      namespace: 'shop',
      labels: { app: 'reviews', version: 'v1' },
      workloadName: 'reviews-7f9c',
      ip: '127.1.0.5',
      inboundPort: 15006,
      outboundPort: 15001,
      appPort: 9080,
      serviceAccount: 'reviews',
      locality: { region: 'eu', zone: 'eu-a', subZone: '' },
    });
    const entry = entryFor(parsed, proxyContextOf(parsed));
    assert.deepEqual(entry?.spec, {
      address: '127.1.0.5',
      labels: { app: 'reviews', version: 'v1' },
      ports: { http: 9080 },
      serviceAccount: 'reviews',
      locality: 'eu/eu-a',
    });
    assert.equal((entry?.status as { conditions: { status: string }[] }).conditions[0]!.status, 'False');
  });

  void it('parses --control lists', () => {
    assert.deepEqual(parseControlAddresses(' a:15010, 10.0.0.2:15010 ,'), {
      ok: true,
      value: ['a:15010', '10.0.0.2:15010'],
    });
    assert.deepEqual(parseControlAddresses('a'), { ok: false, error: '--control: a is not host:port' });
    assert.deepEqual(parseControlAddresses(''), { ok: false, error: '--control: at least one host:port is required' });
  });
});

void describe('gatewayNode', () => {
  void it('has Istio’s router id, Istio’s metadata keys only, and is read as a gateway that registers nothing', () => {
    const node = gatewayNode({
      type: 'gateway',
      bind: '127.0.0.1',
      workload: 'bookstore-gateway',
      namespace: 'shop',
      labels: { istio: 'ingressgateway' },
      clusterId: 'east',
    });
    assert.equal(node.id, 'router~127.0.0.1~bookstore-gateway.shop~shop.svc.cluster.local');
    assert.equal(node.cluster, 'bookstore-gateway.shop');
    assert.equal(node.user_agent_name, 'shoal-gateway');
    assert.equal(node.locality, null);
    const parsed = parseNode(node);
    assert.deepEqual(parsed.metadata, {
      NAMESPACE: 'shop',
      LABELS: { istio: 'ingressgateway' },
      INSTANCE_IPS: '127.0.0.1',
      WORKLOAD_NAME: 'bookstore-gateway',
      SERVICE_ACCOUNT: 'default',
      CLUSTER_ID: 'east',
    });
    const proxy = proxyContextOf(parsed);
    assert.deepEqual(proxy, {
      type: 'gateway',
      id: node.id,
      namespace: 'shop',
      labels: { istio: 'ingressgateway' },
      workloadName: 'bookstore-gateway',
      ip: '127.0.0.1',
      serviceAccount: 'default',
    });
    assert.equal(entryFor(parsed, proxy), undefined);
  });

  void it('takes the app label for its cluster and a domain for its id', () => {
    const node = gatewayNode({
      type: 'gateway',
      bind: '10.0.0.7',
      workload: 'ingress-1',
      namespace: 'edge',
      labels: { app: 'ingress' },
      serviceAccount: 'ingress-sa',
      domain: 'example.internal',
    });
    assert.equal(node.id, 'router~10.0.0.7~ingress-1.edge~edge.svc.example.internal');
    assert.equal(node.cluster, 'ingress.edge');
    assert.equal(proxyContextOf(parseNode(node)).serviceAccount, 'ingress-sa');
  });
});

void describe('Reconnector', () => {
  void it('backs off exponentially with equal jitter from 0.5 s to 30 s, failing over on each failure', () => {
    const timers = new FakeTimers();
    let r = 0;
    const rec = new Reconnector(['a:1', 'b:1', 'c:1'], timers, () => r);
    const delays: number[] = [];
    const addresses: string[] = [];
    for (let i = 0; i < 9; i++) {
      delays.push(rec.schedule(false, () => addresses.push(rec.address)));
      timers.advance(60_000);
    }
    assert.deepEqual(delays, [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    assert.deepEqual(addresses, ['b:1', 'c:1', 'a:1', 'b:1', 'c:1', 'a:1', 'b:1', 'c:1', 'a:1']);
    r = 0.999;
    assert.ok(rec.delayMs(10) > 29_900 && rec.delayMs(10) < 30_000);
  });

  void it('after a healthy stream: the same address, base delay, failures reset', () => {
    const timers = new FakeTimers();
    const rec = new Reconnector(['a:1', 'b:1'], timers, () => 0.5);
    rec.schedule(false, () => {});
    rec.schedule(false, () => {});
    assert.equal(rec.failureCount, 2);
    let connected = '';
    assert.equal(
      rec.schedule(true, () => (connected = rec.address)),
      375,
    );
    timers.advance(374);
    assert.equal(connected, '');
    timers.advance(1);
    assert.equal(connected, 'a:1');
    assert.equal(rec.failureCount, 0);
  });
});

const cluster = (name: string, version = 1, eds = name): ClusterConfig =>
  ({ name, type: 'EDS', edsServiceName: eds, version }) as unknown as ClusterConfig;
const listener = (name: string, routes: string): ListenerConfig =>
  ({ name, routeConfigName: routes }) as unknown as ListenerConfig;
const routes = (name: string): RouteTable => ({ name }) as unknown as RouteTable;
const endpoints = (name: string): EndpointSet => ({ clusterName: name, endpoints: [] }) as unknown as EndpointSet;

function accepted(parts: Partial<AcceptedConfig>): AcceptedConfig {
  return {
    versions: { listeners: '1', routes: '1', clusters: '1', endpoints: '1' },
    listeners: new Map(),
    routes: new Map(),
    clusters: new Map(),
    assignments: new Map(),
    timedOut: new Set(),
    ...parts,
  };
}

void describe('warming', () => {
  void it('an EDS cluster is active once its assignment arrives; a listener once its routes arrive', () => {
    const a = cluster('a');
    const b = cluster('b');
    const first = assemble(
      accepted({
        clusters: new Map([
          ['a', a],
          ['b', b],
        ]),
        assignments: new Map([['a', endpoints('a')]]),
        listeners: new Map([['outbound', listener('outbound', 'outbound')]]),
      }),
      undefined,
    );
    assert.deepEqual([...first.clusters.keys()], ['a']);
    assert.deepEqual(first.warming, { listeners: ['outbound'], clusters: ['b'] });
    assert.equal(first.listeners.size, 0);
  });

  void it('a changed cluster waiting for a new assignment keeps its previous version serving', () => {
    const v1 = cluster('a', 1, 'a');
    const previous = assemble(
      accepted({ clusters: new Map([['a', v1]]), assignments: new Map([['a', endpoints('a')]]) }),
      undefined,
    );
    const v2 = cluster('a', 2, 'a-new');
    const input = accepted({ clusters: new Map([['a', v2]]), assignments: new Map([['a', endpoints('a')]]) });
    const next = assemble(input, previous);
    assert.equal(next.clusters.get('a'), v1);
    assert.deepEqual(next.warming.clusters, ['a']);
    assert.deepEqual([...assignmentNames(input, next)].sort(), ['a', 'a-new'], 'both stay subscribed');
  });

  void it('timed-out resources count as empty; removed ones go at once', () => {
    const input = accepted({
      clusters: new Map([['a', cluster('a')]]),
      listeners: new Map([['l', listener('l', 'r')]]),
      timedOut: new Set(['eds:a', 'rds:r']),
    });
    const out = assemble(input, undefined);
    assert.deepEqual(out.endpoints.get('a')?.endpoints, []);
    assert.deepEqual(out.warming, { listeners: [], clusters: [] });
    assert.equal(out.routes.size, 0, 'no table: requests get 404 NR');
    const gone = assemble(accepted({ routes: new Map([['r', routes('r')]]) }), out);
    assert.equal(gone.clusters.size + gone.listeners.size, 0);
    assert.deepEqual([...routeNames(accepted({}), gone)], []);
  });
});
