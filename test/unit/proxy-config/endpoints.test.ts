/** decodeClusterLoadAssignment: priorities -> localities -> LbEndpoints, Envoy's defaults and health mapping, NACKs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { ENDPOINT_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { translate } from '../../../src/control/xds/translate/index.js';
import { decodeClusterLoadAssignment } from '../../../src/proxy/config/index.js';
import { bookinfoView } from '../translate/bookinfo.js';
import { find, sidecar } from '../translate/fixtures.js';
import { CLA, decoded, plain, rejected } from './helpers.js';

function lb(address: string, port: number, extra: ProtoObject = {}): ProtoObject {
  return { endpoint: { address: { socket_address: { address, port_value: port } } }, ...extra };
}

void describe('decodeClusterLoadAssignment', () => {
  void it("decodes the control plane's assignment exactly (localities, health, weights)", () => {
    const name = 'outbound|9080||reviews.default.svc.cluster.local';
    const cla = find(translate(bookinfoView(), sidecar()).resources, ENDPOINT_TYPE_URL, name);
    const a = { region: 'eu', zone: 'eu-a', subZone: '' };
    const b = { region: 'eu', zone: 'eu-b', subZone: '' };
    const e11 = {
      key: '127.1.0.11:9080',
      address: '127.1.0.11',
      port: 9080,
      weight: 1,
      health: 'HEALTHY',
      locality: a,
      priority: 0,
    };
    const e12 = { ...e11, key: '127.1.0.12:9080', address: '127.1.0.12' };
    const e13 = { ...e11, key: '127.1.0.13:9080', address: '127.1.0.13', health: 'UNHEALTHY', locality: b };
    assert.deepEqual(plain(decoded(decodeClusterLoadAssignment, CLA, cla)), {
      clusterName: name,
      priorities: [
        [
          { locality: a, weight: 2, endpoints: [e11, e12] },
          { locality: b, weight: 1, endpoints: [e13] },
        ],
      ],
      endpoints: [e11, e12, e13],
      overprovisioningFactor: 140,
      dropOverloads: [],
    });
  });

  void it('fills Envoy’s defaults, maps health, keeps empty priority levels, reads the policy', () => {
    const set = decoded(decodeClusterLoadAssignment, CLA, {
      cluster_name: 'c',
      endpoints: [
        {
          priority: 2,
          locality: { region: 'us', zone: 'us-1', sub_zone: 'rack-3' },
          lb_endpoints: [
            lb('10.0.0.1', 80, { health_status: 'DRAINING' }),
            lb('::1', 80, {
              health_status: 'DEGRADED',
              load_balancing_weight: { value: 5 },
              endpoint: { address: { socket_address: { address: '::1', port_value: 80 } }, hostname: 'pod-b' },
            }),
          ],
        },
        { lb_endpoints: [lb('10.0.0.3', 80, { health_status: 'TIMEOUT' }), lb('10.0.0.4', 80)] },
      ],
      policy: {
        overprovisioning_factor: { value: 200 },
        drop_overloads: [{ category: 'throttle', drop_percentage: { numerator: 5, denominator: 'HUNDRED' } }],
      },
    });
    assert.deepEqual(plain(set.endpoints.map((e) => [e.key, e.health, e.weight, e.priority, e.hostname ?? ''])), [
      ['10.0.0.3:80', 'UNHEALTHY', 1, 0, ''],
      ['10.0.0.4:80', 'UNKNOWN', 1, 0, ''],
      ['10.0.0.1:80', 'UNHEALTHY', 1, 2, ''],
      ['[::1]:80', 'DEGRADED', 5, 2, 'pod-b'],
    ]);
    assert.deepEqual(
      set.priorities.map((p) => p.length),
      [1, 0, 1],
    );
    assert.deepEqual(plain(set.priorities[2]![0]!.locality), { region: 'us', zone: 'us-1', subZone: 'rack-3' });
    assert.equal(set.priorities[0]![0]!.weight, 0, 'an unset locality weight is 0');
    assert.equal(set.overprovisioningFactor, 200);
    assert.deepEqual(plain(set.dropOverloads), [{ category: 'throttle', perMillion: 50_000 }]);
    assert.ok(Object.isFrozen(set.endpoints[0]));
  });

  void it('NACKs what load balancing cannot use, naming the field', () => {
    const cases: [ProtoObject, string][] = [
      [
        { cluster_name: 'c', endpoints: [{ lb_endpoints: [lb('reviews', 80)] }] },
        'ClusterLoadAssignment "c": endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: reviews is not an IP address',
      ],
      [
        { cluster_name: 'c', endpoints: [{ lb_endpoints: [lb('10.0.0.1', 0)] }] },
        'ClusterLoadAssignment "c": endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: 0 is not a port',
      ],
      [
        { cluster_name: 'c', endpoints: [{ lb_endpoints: [lb('10.0.0.1', 80, { load_balancing_weight: {} })] }] },
        'ClusterLoadAssignment "c": endpoints[0].lb_endpoints[0].load_balancing_weight: must be at least 1',
      ],
      [
        {
          cluster_name: 'c',
          endpoints: [{ lb_endpoints: [lb('10.0.0.1', 80)] }, { lb_endpoints: [lb('10.0.0.1', 80)] }],
        },
        'ClusterLoadAssignment "c": endpoints[1].lb_endpoints[0]: endpoint 10.0.0.1:80 is listed twice',
      ],
      [
        { cluster_name: 'c', endpoints: [{ lb_endpoints: [{}] }] },
        'ClusterLoadAssignment "c": endpoints[0].lb_endpoints[0].endpoint: required',
      ],
      [
        { cluster_name: 'c', endpoints: [{ load_balancing_weight: {}, lb_endpoints: [] }] },
        'ClusterLoadAssignment "c": endpoints[0].load_balancing_weight: must be at least 1',
      ],
      [{ endpoints: [] }, 'ClusterLoadAssignment: cluster_name: required'],
    ];
    for (const [input, error] of cases) rejected(decodeClusterLoadAssignment, CLA, input, error);
  });
});
