/** Clusters: naming, discovery types, DestinationRule policies (merging, load balancing, pools, outliers, TLS). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DestinationRuleSpec } from '../../../src/api/kinds/destination-rule.js';
import { CLUSTER_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { sharedOutbound } from '../../../src/control/xds/translate/index.js';
import type { MeshService } from '../../../src/registry/model.js';
import {
  ADS,
  assertEncodesAs,
  destinationRule,
  endpoint,
  find,
  names,
  port,
  service,
  view,
  drMetadata,
} from './fixtures.js';

const MAX = { value: 4294967295 };
const reviews = service('reviews', [port(9080), port(9443, 'GRPC', 'grpc')], [endpoint('127.1.0.11', [9080, 9443])]);
const REVIEWS_9080 = 'outbound|9080||reviews.default.svc.cluster.local';

function clusters(services: readonly MeshService[], dr?: DestinationRuleSpec, type: 'sidecar' | 'grpc' = 'sidecar') {
  const v = view(services, { destinationRules: dr ? [destinationRule('reviews', dr)] : [] });
  const result = sharedOutbound(v, 'default', type);
  for (const c of result.resources[CLUSTER_TYPE_URL] ?? []) assertEncodesAs('envoy.config.cluster.v3.Cluster', c);
  return result;
}

function defaults(name: string): Record<string, unknown> {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS, service_name: name },
    lb_policy: 'LEAST_REQUEST',
    connect_timeout: { seconds: 10, nanos: 0 },
    circuit_breakers: {
      thresholds: [
        { max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX, track_remaining: true },
      ],
    },
    common_lb_config: { healthy_panic_threshold: { value: 0 } },
  };
}

const METADATA = drMetadata('reviews');

void describe('clusters', () => {
  void it('one EDS cluster per port with Istio defaults; HTTP/2 options for a GRPC port', () => {
    const { resources, warnings } = clusters([reviews]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(find(resources, CLUSTER_TYPE_URL, REVIEWS_9080), defaults(REVIEWS_9080));
    const grpc = 'outbound|9443||reviews.default.svc.cluster.local';
    assert.deepEqual(find(resources, CLUSTER_TYPE_URL, grpc), {
      ...defaults(grpc),
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    });
  });

  void it('a cluster per subset and port; subset policy overrides the rule, port-level settings replace it whole', () => {
    const { resources } = clusters([reviews], {
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN' },
        connectionPool: { tcp: { maxConnections: 10 } },
        portLevelSettings: [{ port: { number: 9443 }, loadBalancer: { simple: 'RANDOM' } }],
      },
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } },
      ],
    });
    assert.deepEqual(names(resources, CLUSTER_TYPE_URL), [
      'outbound|9080||reviews.default.svc.cluster.local',
      'outbound|9080|v1|reviews.default.svc.cluster.local',
      'outbound|9080|v2|reviews.default.svc.cluster.local',
      'outbound|9443||reviews.default.svc.cluster.local',
      'outbound|9443|v1|reviews.default.svc.cluster.local',
      'outbound|9443|v2|reviews.default.svc.cluster.local',
    ]);
    const pick = (name: string) => {
      const c = find(resources, CLUSTER_TYPE_URL, name) as {
        lb_policy: string;
        circuit_breakers: { thresholds: { max_connections: unknown }[] };
      };
      return [c.lb_policy, c.circuit_breakers.thresholds[0]!.max_connections];
    };
    assert.deepEqual(pick('outbound|9080||reviews.default.svc.cluster.local'), ['ROUND_ROBIN', { value: 10 }]);
    assert.deepEqual(pick('outbound|9080|v1|reviews.default.svc.cluster.local'), ['ROUND_ROBIN', { value: 10 }]);
    assert.deepEqual(pick('outbound|9080|v2|reviews.default.svc.cluster.local'), ['LEAST_REQUEST', { value: 10 }]);
    // Port level: the four policies are replaced, not merged: the connection pool goes back to defaults.
    assert.deepEqual(pick('outbound|9443||reviews.default.svc.cluster.local'), ['RANDOM', MAX]);
    assert.deepEqual(pick('outbound|9443|v2|reviews.default.svc.cluster.local'), ['LEAST_REQUEST', MAX]);
    assert.deepEqual(find(resources, CLUSTER_TYPE_URL, REVIEWS_9080).metadata, METADATA);
  });

  void it('DNS ServiceEntries: STRICT_DNS / LOGICAL_DNS with inline host names; NONE without endpoints has no cluster', () => {
    const api = service('api', [port(443, 'TLS', 'tls')], [], {
      hostname: 'api.example.com',
      kind: 'ServiceEntry',
      resolution: 'DNS',
    });
    const db = service(
      'db',
      [port(5432, 'TCP', 'tcp')],
      [endpoint('db-1.example.com', [5432]), endpoint('db-2.example.com', [5432])],
      {
        hostname: 'db.example.com',
        kind: 'ServiceEntry',
        resolution: 'DNS_ROUND_ROBIN',
      },
    );
    const passthrough = service('any', [port(80)], [], {
      hostname: '*.example.org',
      kind: 'ServiceEntry',
      resolution: 'NONE',
    });
    const { resources, warnings } = clusters([api, db, passthrough]);
    const {
      connect_timeout: _t,
      circuit_breakers: _c,
      ...rest
    } = find(resources, CLUSTER_TYPE_URL, 'outbound|443||api.example.com');
    assert.deepEqual(rest, {
      name: 'outbound|443||api.example.com',
      type: 'STRICT_DNS',
      load_assignment: {
        cluster_name: 'outbound|443||api.example.com',
        endpoints: [
          {
            locality: { region: '', zone: '', sub_zone: '' },
            lb_endpoints: [
              {
                endpoint: { address: { socket_address: { address: 'api.example.com', port_value: 443 } } },
                health_status: 'HEALTHY',
                load_balancing_weight: { value: 1 },
              },
            ],
            load_balancing_weight: { value: 1 },
          },
        ],
      },
      dns_lookup_family: 'V4_PREFERRED',
      lb_policy: 'LEAST_REQUEST',
      common_lb_config: { healthy_panic_threshold: { value: 0 } },
    });
    const logical = find(resources, CLUSTER_TYPE_URL, 'outbound|5432||db.example.com') as {
      type: string;
      load_assignment: { endpoints: { lb_endpoints: unknown[] }[] };
    };
    assert.equal(logical.type, 'LOGICAL_DNS');
    assert.equal(logical.load_assignment.endpoints[0]!.lb_endpoints.length, 1);
    assert.deepEqual(names(resources, CLUSTER_TYPE_URL), [
      'outbound|443||api.example.com',
      'outbound|5432||db.example.com',
    ]);
    assert.deepEqual(warnings, [
      'ServiceEntry default/any: *.example.org: resolution NONE without endpoints needs passthrough to the original destination, which Shoal does not do; no cluster',
      'cluster outbound|5432||db.example.com: LOGICAL_DNS takes one host name; only the first endpoint is used',
    ]);
  });

  void it('DestinationRule precedence: the proxy namespace, then the service namespace; same-host rules merge subsets', () => {
    const v = view([reviews], {
      destinationRules: [
        destinationRule(
          'other',
          { host: 'reviews.default.svc.cluster.local', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } },
          'other',
        ),
        destinationRule('a', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
        destinationRule('b', {
          host: 'reviews',
          trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
          subsets: [
            { name: 'v1', labels: { version: 'x' } },
            { name: 'v2', labels: { version: 'v2' } },
          ],
        }),
        destinationRule(
          'mine',
          { host: 'reviews.default.svc.cluster.local', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
          'client',
        ),
      ],
    });
    const fromDefault = sharedOutbound(v, 'default', 'sidecar');
    assert.deepEqual(names(fromDefault.resources, CLUSTER_TYPE_URL), [
      'outbound|9080||reviews.default.svc.cluster.local',
      'outbound|9080|v1|reviews.default.svc.cluster.local',
      'outbound|9080|v2|reviews.default.svc.cluster.local',
      'outbound|9443||reviews.default.svc.cluster.local',
      'outbound|9443|v1|reviews.default.svc.cluster.local',
      'outbound|9443|v2|reviews.default.svc.cluster.local',
    ]);
    assert.equal(find(fromDefault.resources, CLUSTER_TYPE_URL, REVIEWS_9080).lb_policy, 'ROUND_ROBIN');
    assert.deepEqual(fromDefault.warnings, [
      'DestinationRule default/b: spec.subsets: subset "v1" of reviews.default.svc.cluster.local is defined earlier',
    ]);
    const fromOther = sharedOutbound(v, 'other', 'sidecar');
    assert.equal(find(fromOther.resources, CLUSTER_TYPE_URL, REVIEWS_9080).lb_policy, 'RANDOM');
  });

  void it('UDP ports have no cluster', () => {
    const dns = service('dns', [port(53, 'UDP', 'udp'), port(5353, 'TCP', 'tcp')], [endpoint('127.1.0.2', [53, 5353])]);
    assert.deepEqual(names(clusters([dns]).resources, CLUSTER_TYPE_URL), [
      'outbound|5353||dns.default.svc.cluster.local',
    ]);
  });
});
