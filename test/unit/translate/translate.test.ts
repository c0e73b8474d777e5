/** translate = sharedOutbound + proxyOwn: disjoint halves, visibility (exportTo), per-proxy parts (labels, locality). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  type XdsTypeUrl,
} from '../../../src/control/xds/resource-types.js';
import { onlyEndpointsChange, proxyOwn, sharedOutbound, translate } from '../../../src/control/xds/translate/index.js';
import type { ProxyContext } from '../../../src/control/xds/translate/proxy.js';
import { bookinfoView, reviews } from './bookinfo.js';
import {
  assertEncodes,
  destinationRule,
  endpoint,
  find,
  grpcClient,
  names,
  port,
  service,
  sidecar,
  view,
  virtualService,
} from './fixtures.js';

const TYPES: XdsTypeUrl[] = [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL];

function outboundHosts(resources: Partial<Record<XdsTypeUrl, readonly ProtoObject[]>>): string[] {
  const config = find(resources, ROUTE_TYPE_URL, 'outbound') as { virtual_hosts: { name: string }[] };
  return config.virtual_hosts.map((vh) => vh.name);
}

void describe('translate: every resource of a realistic mesh encodes as its Envoy message', () => {
  const gatewayProxy: ProxyContext = {
    type: 'gateway',
    id: 'router~127.1.0.2~ingress-1.istio-system~istio-system.svc.cluster.local',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway' },
  };
  const infra = sidecar({
    namespace: 'infra',
    labels: { app: 'vault' },
    locality: { region: 'eu', zone: 'eu-a', subZone: '' },
  });
  for (const proxy of [sidecar(), infra, grpcClient(), gatewayProxy]) {
    void it(`for a ${proxy.type} in ${proxy.namespace}`, () => {
      const { resources } = translate(bookinfoView(), proxy);
      assertEncodes(resources);
      assert.ok(names(resources, CLUSTER_TYPE_URL).length >= 10);
      if (proxy.type !== 'grpc') assert.ok(names(resources, LISTENER_TYPE_URL).length >= 1);
    });
  }
});

void describe('translate', () => {
  for (const proxy of [sidecar(), grpcClient(), sidecar({ locality: { region: 'eu', zone: 'eu-a', subZone: '' } })]) {
    void it(`is sharedOutbound + proxyOwn, with no name in both (${proxy.type})`, () => {
      const v = bookinfoView();
      const shared = sharedOutbound(v, proxy.namespace, proxy.type);
      const own = proxyOwn(v, proxy);
      const all = translate(v, proxy);
      for (const t of TYPES) {
        const s = names(shared.resources, t);
        const o = names(own.resources, t);
        assert.deepEqual(
          s.filter((n) => o.includes(n)),
          [],
          `${t} in both halves`,
        );
        assert.deepEqual(names(all.resources, t), [...s, ...o]);
      }
      assert.deepEqual(all.warnings, [...new Set([...shared.warnings, ...own.warnings])]);
    });
  }

  void it('is deterministic: the same view gives the same objects', () => {
    assert.deepEqual(translate(bookinfoView(1), sidecar()), translate(bookinfoView(1), sidecar()));
  });

  void it('a service exported only to its namespace is visible there only', () => {
    const v = bookinfoView();
    const fromDefault = translate(v, sidecar());
    assert.equal(
      names(fromDefault.resources, CLUSTER_TYPE_URL).some((n) => n.includes('vault')),
      false,
    );
    assert.equal(
      outboundHosts(fromDefault.resources).some((n) => n.includes('vault')),
      false,
    );
    const fromInfra = translate(v, sidecar({ namespace: 'infra' }));
    assert.ok(names(fromInfra.resources, CLUSTER_TYPE_URL).includes('outbound|8200||vault.infra.svc.cluster.local'));
    assert.ok(outboundHosts(fromInfra.resources).includes('vault.infra.svc.cluster.local:8200'));
  });

  void it('sourceLabels: the outbound routes move to proxyOwn and differ per proxy', () => {
    const v = view([reviews], {
      virtualServices: [
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              match: [{ sourceLabels: { app: 'productpage' } }],
              route: [{ destination: { host: 'reviews' } }],
              timeout: '1s',
            },
            { route: [{ destination: { host: 'reviews' } }], timeout: '2s' },
          ],
        }),
      ],
    });
    assert.deepEqual(names(sharedOutbound(v, 'default', 'sidecar').resources, ROUTE_TYPE_URL), []);
    const timeoutOf = (proxy: ProxyContext) => {
      const config = find(proxyOwn(v, proxy).resources, ROUTE_TYPE_URL, 'outbound') as {
        virtual_hosts: { routes: { route: { timeout: unknown } }[] }[];
      };
      return config.virtual_hosts[0]!.routes[0]!.route.timeout;
    };
    assert.deepEqual(timeoutOf(sidecar()), { seconds: 1, nanos: 0 });
    assert.deepEqual(timeoutOf(sidecar({ labels: { app: 'details' } })), { seconds: 2, nanos: 0 });
  });

  void it('a DestinationRule with a workloadSelector: that service’s clusters are per proxy', () => {
    const v = view([reviews], {
      destinationRules: [
        destinationRule(
          'all',
          { host: 'reviews.default.svc.cluster.local', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } },
          'infra',
        ),
        destinationRule('mine', {
          host: 'reviews',
          workloadSelector: { matchLabels: { app: 'productpage' } },
          trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
        }),
      ],
    });
    const shared = sharedOutbound(v, 'default', 'sidecar');
    assert.deepEqual(names(shared.resources, CLUSTER_TYPE_URL), []);
    const lb = (proxy: ProxyContext) =>
      find(proxyOwn(v, proxy).resources, CLUSTER_TYPE_URL, 'outbound|9080||reviews.default.svc.cluster.local')
        .lb_policy;
    assert.equal(lb(sidecar()), 'ROUND_ROBIN');
    assert.equal(lb(sidecar({ labels: { app: 'details' } })), 'RANDOM');
    // From another namespace the selector does not apply at all: shared as usual.
    assert.equal(
      find(
        sharedOutbound(v, 'infra', 'sidecar').resources,
        CLUSTER_TYPE_URL,
        'outbound|9080||reviews.default.svc.cluster.local',
      ).lb_policy,
      'RANDOM',
    );
  });
});

void describe('sharedOutbound in parts', () => {
  for (const proxy of [sidecar(), grpcClient()]) {
    void it(`config and endpoints are disjoint and make up all of it (${proxy.type})`, () => {
      const v = bookinfoView();
      const all = sharedOutbound(v, proxy.namespace, proxy.type);
      const config = sharedOutbound(v, proxy.namespace, proxy.type, 'config');
      const endpoints = sharedOutbound(v, proxy.namespace, proxy.type, 'endpoints');
      assert.deepEqual(Object.keys(endpoints.resources), [ENDPOINT_TYPE_URL]);
      assert.equal(config.resources[ENDPOINT_TYPE_URL], undefined);
      for (const t of TYPES) {
        const parts = [...(config.resources[t] ?? []), ...(endpoints.resources[t] ?? [])];
        assert.deepEqual(
          parts.map((o) => JSON.stringify(o)).sort(),
          (all.resources[t] ?? []).map((o) => JSON.stringify(o)).sort(),
          t,
        );
      }
      assert.deepEqual([...new Set([...config.warnings, ...endpoints.warnings])].sort(), [...all.warnings].sort());
    });
  }

  void it('onlyEndpointsChange: not for hosts whose clusters follow their endpoints, or that are gone', () => {
    const ep = [endpoint('127.1.0.1', [80])];
    const v = view([
      service('plain', [port(80)], ep),
      service('dns', [port(80)], ep, { kind: 'ServiceEntry', resolution: 'DNS' }),
      service('none', [port(80)], ep, { kind: 'ServiceEntry', resolution: 'NONE' }),
      service('static', [port(80)], ep, { kind: 'ServiceEntry', resolution: 'STATIC' }),
    ]);
    const host = (name: string): string => `${name}.default.svc.cluster.local`;
    assert.equal(onlyEndpointsChange(v, [host('plain'), host('static')]), true);
    assert.equal(onlyEndpointsChange(v, []), true);
    assert.equal(onlyEndpointsChange(v, [host('plain'), host('dns')]), false);
    assert.equal(
      onlyEndpointsChange(v, [host('none')]),
      false,
      'a NONE ServiceEntry has a cluster only with endpoints',
    );
    assert.equal(onlyEndpointsChange(v, [host('gone')]), false);
    // Why NONE is excluded: its cluster comes and goes with its endpoints.
    const withoutEndpoints = view([service('none', [port(80)], [], { kind: 'ServiceEntry', resolution: 'NONE' })]);
    assert.deepEqual(names(sharedOutbound(withoutEndpoints, 'default', 'sidecar').resources, CLUSTER_TYPE_URL), []);
    assert.notDeepEqual(names(sharedOutbound(v, 'default', 'sidecar').resources, CLUSTER_TYPE_URL), []);
  });
});
