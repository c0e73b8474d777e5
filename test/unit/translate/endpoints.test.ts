/** ClusterLoadAssignments: locality groups, weights, health, subsets, endpoint ports, locality-aware balancing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINT_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { proxyOwn, sharedOutbound } from '../../../src/control/xds/translate/index.js';
import type { Locality } from '../../../src/registry/model.js';
import { assertEncodesAs, destinationRule, endpoint, find, names, port, service, sidecar, view } from './fixtures.js';

const euA: Locality = { region: 'eu', zone: 'eu-a', subZone: '' };
const euB: Locality = { region: 'eu', zone: 'eu-b', subZone: '' };
const usA: Locality = { region: 'us', zone: 'us-a', subZone: 's1' };

const reviews = service(
  'reviews',
  [port(80, 'HTTP', 'http'), port(9090, 'HTTP', 'http-admin')],
  [
    endpoint('127.1.0.11', [80, 9090], { labels: { version: 'v1' }, locality: euA, weight: 3, ports: { 80: 8080 } }),
    endpoint('127.1.0.12', [80], { labels: { version: 'v2' }, locality: euA }),
    endpoint('127.1.0.13', [80], { labels: { version: 'v1' }, locality: euB, health: 'UNHEALTHY' }),
    endpoint('127.1.0.14', [80], { labels: { version: 'v2' }, locality: usA }),
  ],
);
const HOST = 'reviews.default.svc.cluster.local';

function lbEndpoint(address: string, port: number, health = 'HEALTHY', weight = 1) {
  return {
    endpoint: { address: { socket_address: { address, port_value: port } } },
    health_status: health,
    load_balancing_weight: { value: weight },
  };
}

function locality(l: Locality) {
  return { region: l.region, zone: l.zone, sub_zone: l.subZone };
}

void describe('endpoints', () => {
  void it('groups by locality (sorted), weights every group and endpoint, keeps unhealthy endpoints marked', () => {
    const { resources } = sharedOutbound(view([reviews]), 'default', 'sidecar');
    const cla = find(resources, ENDPOINT_TYPE_URL, `outbound|80||${HOST}`);
    assertEncodesAs('envoy.config.endpoint.v3.ClusterLoadAssignment', cla);
    assert.deepEqual(cla, {
      cluster_name: `outbound|80||${HOST}`,
      endpoints: [
        {
          locality: locality(euA),
          lb_endpoints: [lbEndpoint('127.1.0.11', 8080, 'HEALTHY', 3), lbEndpoint('127.1.0.12', 80)],
          load_balancing_weight: { value: 4 },
        },
        {
          locality: locality(euB),
          lb_endpoints: [lbEndpoint('127.1.0.13', 80, 'UNHEALTHY')],
          load_balancing_weight: { value: 1 },
        },
        { locality: locality(usA), lb_endpoints: [lbEndpoint('127.1.0.14', 80)], load_balancing_weight: { value: 1 } },
      ],
    });
    // Only endpoints that serve the port are in its assignment.
    assert.deepEqual(find(resources, ENDPOINT_TYPE_URL, `outbound|9090||${HOST}`), {
      cluster_name: `outbound|9090||${HOST}`,
      endpoints: [
        {
          locality: locality(euA),
          lb_endpoints: [lbEndpoint('127.1.0.11', 9090, 'HEALTHY', 3)],
          load_balancing_weight: { value: 3 },
        },
      ],
    });
  });

  void it('a subset assignment has the endpoints whose labels include the subset labels; no endpoints is an empty list', () => {
    const v = view([reviews], {
      destinationRules: [
        destinationRule('reviews', {
          host: 'reviews',
          subsets: [
            { name: 'v2', labels: { version: 'v2' } },
            { name: 'none', labels: { version: 'v9' } },
          ],
        }),
      ],
    });
    const { resources } = sharedOutbound(v, 'default', 'sidecar');
    assert.deepEqual(find(resources, ENDPOINT_TYPE_URL, `outbound|80|v2|${HOST}`), {
      cluster_name: `outbound|80|v2|${HOST}`,
      endpoints: [
        { locality: locality(euA), lb_endpoints: [lbEndpoint('127.1.0.12', 80)], load_balancing_weight: { value: 1 } },
        { locality: locality(usA), lb_endpoints: [lbEndpoint('127.1.0.14', 80)], load_balancing_weight: { value: 1 } },
      ],
    });
    assert.deepEqual(find(resources, ENDPOINT_TYPE_URL, `outbound|80|none|${HOST}`), {
      cluster_name: `outbound|80|none|${HOST}`,
      endpoints: [],
    });
  });

  void it('an address:port listed twice is kept once and reported (gRPC NACKs duplicates)', () => {
    const dup = service(
      'dup',
      [port(80)],
      [endpoint('127.1.0.5', [80]), endpoint('127.1.0.5', [80], { labels: { a: 'b' } })],
    );
    const { resources, warnings } = sharedOutbound(view([dup]), 'default', 'grpc');
    const cla = find(resources, ENDPOINT_TYPE_URL, 'outbound|80||dup.default.svc.cluster.local') as {
      endpoints: { lb_endpoints: unknown[] }[];
    };
    assert.equal(cla.endpoints[0]!.lb_endpoints.length, 1);
    assert.deepEqual(warnings, [
      'cluster outbound|80||dup.default.svc.cluster.local: endpoint 127.1.0.5:80 (default/127.1.0.5) is listed twice; kept once',
    ]);
  });

  void it('failover with outlier detection: priorities by proximity to the proxy, per proxy (not shared)', () => {
    const v = view([reviews], {
      destinationRules: [
        destinationRule('reviews', {
          host: 'reviews',
          trafficPolicy: {
            outlierDetection: { consecutive5xxErrors: 5 },
            loadBalancer: { localityLbSetting: { failover: [{ from: 'eu', to: 'us' }] } },
          },
        }),
      ],
    });
    const shared = sharedOutbound(v, 'default', 'sidecar');
    assert.deepEqual(names(shared.resources, ENDPOINT_TYPE_URL), []);
    const own = proxyOwn(v, sidecar({ locality: { region: 'eu', zone: 'eu-b', subZone: '' } }));
    const cla = find(own.resources, ENDPOINT_TYPE_URL, `outbound|80||${HOST}`) as {
      endpoints: { locality: unknown; priority?: number }[];
    };
    assert.deepEqual(
      cla.endpoints.map((e) => [e.locality, e.priority ?? 0]),
      [
        [locality(euA), 1],
        [locality(euB), 0],
        [locality(usA), 2],
      ],
    );
    // A proxy without a locality gets the plain assignment (from proxyOwn, as the cluster is locality-aware).
    const plain = proxyOwn(v, sidecar()).resources;
    const flat = find(plain, ENDPOINT_TYPE_URL, `outbound|80||${HOST}`) as { endpoints: { priority?: number }[] };
    assert.deepEqual(
      flat.endpoints.map((e) => e.priority ?? 0),
      [0, 0, 0],
    );
  });

  void it('distribute: weights per locality from the first matching rule; localities it does not cover are dropped', () => {
    const v = view([reviews], {
      destinationRules: [
        destinationRule('reviews', {
          host: 'reviews',
          trafficPolicy: {
            loadBalancer: { localityLbSetting: { distribute: [{ from: 'eu/*', to: { 'eu/*': 90, 'us/us-a': 10 } }] } },
          },
        }),
      ],
    });
    const own = proxyOwn(v, sidecar({ locality: euA }));
    const cla = find(own.resources, ENDPOINT_TYPE_URL, `outbound|80||${HOST}`) as {
      endpoints: { locality: unknown; load_balancing_weight: unknown }[];
    };
    assert.deepEqual(
      cla.endpoints.map((e) => [e.locality, e.load_balancing_weight]),
      [
        [locality(euA), { value: 72 }],
        [locality(euB), { value: 18 }],
        [locality(usA), { value: 10 }],
      ],
    );
    const fromUs = proxyOwn(v, sidecar({ locality: usA }));
    const unchanged = find(fromUs.resources, ENDPOINT_TYPE_URL, `outbound|80||${HOST}`) as { endpoints: unknown[] };
    assert.equal(unchanged.endpoints.length, 3);
  });
});
