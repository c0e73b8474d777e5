/** Cluster policies from DestinationRules: load balancing, connection pools, outliers, TLS, proxyless gRPC limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DestinationRuleSpec } from '../../../src/api/kinds/destination-rule.js';
import { CLUSTER_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { sharedOutbound } from '../../../src/control/xds/translate/index.js';
import type { MeshService } from '../../../src/registry/model.js';
import { ADS, assertEncodesAs, destinationRule, endpoint, find, port, service, view, drMetadata } from './fixtures.js';

const reviews = service('reviews', [port(9080), port(9443, 'GRPC', 'grpc')], [endpoint('127.1.0.11', [9080, 9443])]);
const REVIEWS_9080 = 'outbound|9080||reviews.default.svc.cluster.local';

function clusters(services: readonly MeshService[], dr?: DestinationRuleSpec, type: 'sidecar' | 'grpc' = 'sidecar') {
  const v = view(services, { destinationRules: dr ? [destinationRule('reviews', dr)] : [] });
  const result = sharedOutbound(v, 'default', type);
  for (const c of result.resources[CLUSTER_TYPE_URL] ?? []) assertEncodesAs('envoy.config.cluster.v3.Cluster', c);
  return result;
}

const METADATA = drMetadata('reviews');

void describe('cluster policies', () => {
  void it('consistent hash: ring hash (default and sized), maglev', () => {
    const lb = (consistentHash: Record<string, unknown>) => {
      const { resources } = clusters([reviews], {
        host: 'reviews',
        trafficPolicy: { loadBalancer: { consistentHash } },
      });
      const c = find(resources, CLUSTER_TYPE_URL, REVIEWS_9080);
      return {
        lb_policy: c.lb_policy,
        ring_hash_lb_config: c.ring_hash_lb_config,
        maglev_lb_config: c.maglev_lb_config,
      };
    };
    assert.deepEqual(lb({ httpHeaderName: 'x-user' }), {
      lb_policy: 'RING_HASH',
      ring_hash_lb_config: { minimum_ring_size: { value: 1024 } },
      maglev_lb_config: undefined,
    });
    assert.deepEqual(lb({ useSourceIp: true, ringHash: { minimumRingSize: 4096 } }), {
      lb_policy: 'RING_HASH',
      ring_hash_lb_config: { minimum_ring_size: { value: 4096 } },
      maglev_lb_config: undefined,
    });
    assert.deepEqual(lb({ httpCookie: { name: 'id' }, maglev: { tableSize: 65537 } }), {
      lb_policy: 'MAGLEV',
      ring_hash_lb_config: undefined,
      maglev_lb_config: { table_size: { value: 65537 } },
    });
  });

  void it('connection pool, outlier detection and locality distribution', () => {
    const { resources, warnings } = clusters([reviews], {
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: {
          simple: 'ROUND_ROBIN',
          localityLbSetting: { distribute: [{ from: 'eu/*', to: { 'eu/eu-a/*': 80, 'eu/eu-b/*': 20 } }] },
        },
        connectionPool: {
          tcp: {
            maxConnections: 100,
            connectTimeout: '250ms',
            tcpKeepalive: { probes: 3, time: '60s', interval: '10s' },
          },
          http: {
            http1MaxPendingRequests: 10,
            http2MaxRequests: 50,
            maxRetries: 0,
            maxRequestsPerConnection: 5,
            idleTimeout: '90s',
          },
        },
        outlierDetection: {
          consecutive5xxErrors: 7,
          consecutiveGatewayErrors: 0,
          interval: '5s',
          baseEjectionTime: '30s',
          maxEjectionPercent: 50,
          minHealthPercent: 25,
        },
      },
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(find(resources, CLUSTER_TYPE_URL, REVIEWS_9080), {
      name: REVIEWS_9080,
      type: 'EDS',
      eds_cluster_config: { eds_config: ADS, service_name: REVIEWS_9080 },
      lb_policy: 'ROUND_ROBIN',
      connect_timeout: { seconds: 0, nanos: 250_000_000 },
      circuit_breakers: {
        thresholds: [
          {
            max_connections: { value: 100 },
            max_pending_requests: { value: 10 },
            max_requests: { value: 50 },
            max_retries: { value: 0 },
            track_remaining: true,
          },
        ],
      },
      upstream_connection_options: {
        tcp_keepalive: {
          keepalive_probes: { value: 3 },
          keepalive_time: { value: 60 },
          keepalive_interval: { value: 10 },
        },
      },
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          common_http_protocol_options: {
            idle_timeout: { seconds: 90, nanos: 0 },
            max_requests_per_connection: { value: 5 },
          },
          explicit_http_config: { http_protocol_options: {} },
        },
      },
      outlier_detection: {
        enforcing_success_rate: { value: 0 },
        consecutive_5xx: { value: 7 },
        enforcing_consecutive_5xx: { value: 100 },
        consecutive_gateway_failure: { value: 0 },
        enforcing_consecutive_gateway_failure: { value: 0 },
        interval: { seconds: 5, nanos: 0 },
        base_ejection_time: { seconds: 30, nanos: 0 },
        max_ejection_percent: { value: 50 },
      },
      common_lb_config: { healthy_panic_threshold: { value: 25 }, locality_weighted_lb_config: {} },
      metadata: METADATA,
    });
  });

  void it('TLS origination (SIMPLE) and what is reported instead of translated', () => {
    const { resources, warnings } = clusters([reviews], {
      host: 'reviews',
      trafficPolicy: {
        tls: { mode: 'SIMPLE', caCertificates: '/etc/certs/ca.pem', subjectAltNames: ['reviews.example.com'] },
        loadBalancer: { consistentHash: { httpHeaderName: 'x' } },
        connectionPool: { tcp: { idleTimeout: '1h' } },
      },
      subsets: [{ name: 'mtls', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }],
    });
    assert.deepEqual(find(resources, CLUSTER_TYPE_URL, REVIEWS_9080).transport_socket, {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        common_tls_context: {
          validation_context: {
            trusted_ca: { filename: '/etc/certs/ca.pem' },
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'reviews.example.com' } }],
          },
        },
        sni: 'reviews.default.svc.cluster.local',
      },
    });
    assert.equal(
      find(resources, CLUSTER_TYPE_URL, 'outbound|9080|mtls|reviews.default.svc.cluster.local').transport_socket,
      undefined,
    );
    assert.deepEqual(
      warnings.filter((w) => w.includes('|9080|')),
      [
        'DestinationRule default/reviews: connectionPool.tcp.idleTimeout: applies to TCP proxying, which Shoal tunnels through CONNECT; not translated (cluster outbound|9080||reviews.default.svc.cluster.local)',
        'DestinationRule default/reviews: connectionPool.tcp.idleTimeout: applies to TCP proxying, which Shoal tunnels through CONNECT; not translated (subset mtls, cluster outbound|9080|mtls|reviews.default.svc.cluster.local)',
        'DestinationRule default/reviews: tls: ISTIO_MUTUAL needs the mesh certificates over SDS, which are not served yet; traffic stays plaintext (subset mtls, cluster outbound|9080|mtls|reviews.default.svc.cluster.local)',
      ],
    );
  });

  void it('proxyless gRPC: ROUND_ROBIN or RING_HASH only, no Envoy-only fields, and says what it dropped', () => {
    const { resources, warnings } = clusters(
      [reviews],
      {
        host: 'reviews',
        trafficPolicy: {
          loadBalancer: { simple: 'LEAST_REQUEST' },
          connectionPool: { tcp: { maxConnections: 5 }, http: { http2MaxRequests: 20 } },
          outlierDetection: { consecutive5xxErrors: 3 },
        },
        subsets: [
          { name: 'sticky', trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: {} } } } },
        ],
      },
      'grpc',
    );
    assert.deepEqual(find(resources, CLUSTER_TYPE_URL, REVIEWS_9080), {
      name: REVIEWS_9080,
      type: 'EDS',
      eds_cluster_config: { eds_config: ADS, service_name: REVIEWS_9080 },
      lb_policy: 'ROUND_ROBIN',
      circuit_breakers: { thresholds: [{ max_requests: { value: 20 } }] },
      metadata: METADATA,
    });
    assert.equal(
      find(resources, CLUSTER_TYPE_URL, 'outbound|9080|sticky|reviews.default.svc.cluster.local').lb_policy,
      'RING_HASH',
    );
    assert.deepEqual(
      warnings.filter((w) => w.includes('|9080|')),
      [
        'DestinationRule default/reviews: loadBalancer.simple: proxyless gRPC does not implement LEAST_REQUEST; ROUND_ROBIN used instead (cluster outbound|9080||reviews.default.svc.cluster.local)',
        'DestinationRule default/reviews: connectionPool.tcp.maxConnections: not supported by proxyless gRPC (cluster outbound|9080||reviews.default.svc.cluster.local)',
        'DestinationRule default/reviews: outlierDetection: proxyless gRPC ejects by success rate or failure percentage only; not translated (cluster outbound|9080||reviews.default.svc.cluster.local)',
        'DestinationRule default/reviews: loadBalancer.consistentHash.maglev: proxyless gRPC has no Maglev; RING_HASH used instead (subset sticky, cluster outbound|9080|sticky|reviews.default.svc.cluster.local)',
        'DestinationRule default/reviews: connectionPool.tcp.maxConnections: not supported by proxyless gRPC (subset sticky, cluster outbound|9080|sticky|reviews.default.svc.cluster.local)',
        'DestinationRule default/reviews: outlierDetection: proxyless gRPC ejects by success rate or failure percentage only; not translated (subset sticky, cluster outbound|9080|sticky|reviews.default.svc.cluster.local)',
      ],
    );
  });
});
