/**
 * decodeCluster: the control plane's clusters exactly (EDS with a DestinationRule's policies, the sidecar's STATIC
 * inbound cluster, STRICT_DNS), Envoy's defaults, every load-balancing form, TLS origination; precise NACKs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { CLUSTER_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { inboundCluster } from '../../../src/control/xds/translate/clusters.js';
import { translate } from '../../../src/control/xds/translate/index.js';
import { toStruct } from '../../../src/control/xds/well-known.js';
import { decodeCluster } from '../../../src/proxy/config/index.js';
import { bookinfoView } from '../translate/bookinfo.js';
import { find, sidecar } from '../translate/fixtures.js';
import { ADS, CLUSTER, decoded, plain, TYPE, TYPED_STRUCT } from './helpers.js';

const NO_LOCALITY = { region: '', zone: '', subZone: '' };
const ISTIO_BREAKERS = {
  maxConnections: 4294967295,
  maxPendingRequests: 4294967295,
  maxRequests: 4294967295,
  maxRetries: 4294967295,
};
const HTTP1 = {
  http2: false,
  useDownstreamProtocol: false,
  maxRequestsPerConnection: 0,
  idleTimeoutMs: 3_600_000,
  maxConnectionDurationMs: 0,
};

function eds(extra: ProtoObject = {}): ProtoObject {
  return { name: 'c', type: 'EDS', eds_cluster_config: { eds_config: ADS }, ...extra };
}

void describe('decodeCluster', () => {
  const mesh = translate(bookinfoView(), sidecar()).resources;

  void it("decodes the control plane's EDS cluster with a DestinationRule exactly", () => {
    const name = 'outbound|7070||echo.default.svc.cluster.local';
    assert.deepEqual(plain(decoded(decodeCluster, CLUSTER, find(mesh, CLUSTER_TYPE_URL, name))), {
      name,
      type: 'EDS',
      edsServiceName: name,
      lb: {
        policy: {
          name: 'ring_hash',
          config: { minimumRingSize: 1024, maximumRingSize: 8_388_608, hashFunction: 'XX_HASH' },
        },
        panicThresholdPercent: 0,
        localityWeighted: false,
      },
      connectTimeoutMs: 10_000,
      circuitBreakers: ISTIO_BREAKERS,
      http: { ...HTTP1, http2: true },
      dnsLookupFamily: 'AUTO',
      dnsRefreshRateMs: 5_000,
      istioConfig: '/apis/networking.istio.io/v1/namespaces/default/destination-rule/echo',
      metadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/default/destination-rule/echo' } },
    });
  });

  void it("decodes the sidecar's STATIC inbound cluster with its endpoint", () => {
    const endpoint = {
      key: '127.1.0.9:9080',
      address: '127.1.0.9',
      port: 9080,
      weight: 1,
      health: 'HEALTHY',
      locality: NO_LOCALITY,
      priority: 0,
    };
    assert.deepEqual(plain(decoded(decodeCluster, CLUSTER, inboundCluster(sidecar(), 9080))), {
      name: 'inbound|9080||',
      type: 'STATIC',
      endpoints: {
        clusterName: 'inbound|9080||',
        priorities: [[{ locality: NO_LOCALITY, weight: 1, endpoints: [endpoint] }]],
        endpoints: [endpoint],
        overprovisioningFactor: 140,
        dropOverloads: [],
      },
      lb: { policy: { name: 'round_robin', config: {} }, panicThresholdPercent: 50, localityWeighted: false },
      connectTimeoutMs: 10_000,
      circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
      http: { ...HTTP1, useDownstreamProtocol: true },
      dnsLookupFamily: 'AUTO',
      dnsRefreshRateMs: 5_000,
      metadata: {},
    });
  });

  void it('decodes a STRICT_DNS cluster with host names', () => {
    const c = decoded(decodeCluster, CLUSTER, find(mesh, CLUSTER_TYPE_URL, 'outbound|443||api.example.com'));
    assert.equal(c.type, 'STRICT_DNS');
    assert.equal(c.dnsLookupFamily, 'V4_PREFERRED');
    assert.deepEqual(plain(c.endpoints?.endpoints.map((e) => e.key)), ['api.example.com:443']);
    assert.equal(c.lb.policy.name, 'least_request');
  });

  void it('every control-plane cluster of the bookinfo mesh decodes', () => {
    for (const c of mesh[CLUSTER_TYPE_URL]!) decoded(decodeCluster, CLUSTER, c);
  });

  void it('reads load-balancing policies, outlier detection, protocol options and TLS with Envoy’s defaults', () => {
    const c = decoded(
      decodeCluster,
      CLUSTER,
      eds({
        lb_policy: 'LEAST_REQUEST',
        least_request_lb_config: {
          choice_count: { value: 3 },
          active_request_bias: { default_value: 0.5, runtime_key: 'k' },
        },
        common_lb_config: { locality_weighted_lb_config: {} },
        outlier_detection: {
          consecutive_5xx: { value: 3 },
          interval: { seconds: 5 },
          enforcing_success_rate: { value: 0 },
        },
        circuit_breakers: {
          thresholds: [{ priority: 'HIGH', max_connections: { value: 1 } }, { max_requests: { value: 10 } }],
        },
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': `${TYPE}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
            common_http_protocol_options: {
              idle_timeout: { seconds: 60 },
              max_requests_per_connection: { value: 100 },
            },
            use_downstream_protocol_config: {
              http_protocol_options: {},
              http2_protocol_options: { max_concurrent_streams: { value: 50 } },
            },
          },
        },
        upstream_connection_options: {
          tcp_keepalive: { keepalive_probes: { value: 3 }, keepalive_time: { value: 60 } },
        },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
            sni: 'api.example.com',
            common_tls_context: {
              tls_certificates: [
                { certificate_chain: { filename: '/certs/cert.pem' }, private_key: { filename: '/certs/key.pem' } },
              ],
              validation_context: {
                trusted_ca: { filename: '/certs/ca.pem' },
                match_typed_subject_alt_names: [
                  { san_type: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/default/sa/api' } },
                ],
              },
              tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
            },
          },
        },
      }),
    );
    assert.deepEqual(plain(c.lb), {
      policy: {
        name: 'least_request',
        config: { choiceCount: 3, activeRequestBias: 0.5 },
      },
      panicThresholdPercent: 50,
      localityWeighted: true,
    });
    assert.deepEqual(plain(c.outlierDetection), {
      intervalMs: 5_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionTimeMs: 300_000,
      maxEjectionPercent: 10,
      consecutive5xx: 3,
      enforcingConsecutive5xx: 100,
      consecutiveGatewayFailure: 5,
      enforcingConsecutiveGatewayFailure: 0,
      splitExternalLocalOriginErrors: false,
      consecutiveLocalOriginFailure: 5,
      enforcingConsecutiveLocalOriginFailure: 100,
      enforcingSuccessRate: 0,
      successRateMinimumHosts: 5,
      successRateRequestVolume: 100,
      successRateStdevFactor: 1900,
      enforcingFailurePercentage: 0,
      failurePercentageThreshold: 85,
      failurePercentageMinimumHosts: 5,
      failurePercentageRequestVolume: 50,
    });
    assert.deepEqual(plain(c.circuitBreakers), {
      maxConnections: 1024,
      maxPendingRequests: 1024,
      maxRequests: 10,
      maxRetries: 3,
    });
    assert.deepEqual(plain(c.http), {
      http2: false,
      useDownstreamProtocol: true,
      http2MaxConcurrentStreams: 50,
      maxRequestsPerConnection: 100,
      idleTimeoutMs: 60_000,
      maxConnectionDurationMs: 0,
    });
    assert.deepEqual(plain(c.tcpKeepalive), { probes: 3, timeSeconds: 60 });
    assert.deepEqual(plain(c.tls), {
      sni: 'api.example.com',
      alpn: [],
      certificateChain: { filename: '/certs/cert.pem' },
      privateKey: { filename: '/certs/key.pem' },
      verify: true,
      trustedCa: { filename: '/certs/ca.pem' },
      systemRootCerts: false,
      subjectAltNames: [
        {
          type: 'URI',
          matcher: { kind: 'exact', value: 'spiffe://cluster.local/ns/default/sa/api', ignoreCase: false },
        },
      ],
      minVersion: 'TLSv1_2',
      cipherSuites: [],
    });
  });

  void it('takes the first supported load_balancing_policy, unwrapping wrr_locality', () => {
    const c = decoded(
      decodeCluster,
      CLUSTER,
      eds({
        lb_policy: 'LOAD_BALANCING_POLICY_CONFIG',
        load_balancing_policy: {
          policies: [
            {
              typed_extension_config: {
                name: 'custom',
                typed_config: { '@type': TYPED_STRUCT, type_url: `${TYPE}example.Custom` },
              },
            },
            {
              typed_extension_config: {
                name: 'wrr',
                typed_config: {
                  '@type': `${TYPE}envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality`,
                  endpoint_picking_policy: {
                    policies: [
                      {
                        typed_extension_config: {
                          name: 'ring',
                          typed_config: {
                            '@type': `${TYPE}envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash`,
                            minimum_ring_size: { value: 64 },
                            hash_function: 'MURMUR_HASH_2',
                          },
                        },
                      },
                    ],
                  },
                },
              },
            },
          ],
        },
      }),
    );
    assert.deepEqual(plain(c.lb), {
      policy: {
        name: 'ring_hash',
        config: { minimumRingSize: 64, maximumRingSize: 8_388_608, hashFunction: 'MURMUR_HASH_2' },
      },
      panicThresholdPercent: 50,
      localityWeighted: true,
    });
    assert.deepEqual(plain(decoded(decodeCluster, CLUSTER, eds({ lb_policy: 'MAGLEV' })).lb.policy), {
      name: 'maglev',
      config: { tableSize: 65537 },
    });
    assert.deepEqual(plain(decoded(decodeCluster, CLUSTER, eds({ lb_policy: 'RANDOM' })).lb.policy), {
      name: 'random',
      config: {},
    });
  });

  void it('keeps filter metadata as JSON', () => {
    const c = decoded(
      decodeCluster,
      CLUSTER,
      eds({ metadata: { filter_metadata: { shoal: toStruct({ tier: 'gold', n: 2 }) } } }),
    );
    assert.deepEqual(plain(c.metadata), { shoal: { tier: 'gold', n: 2 } });
  });
});
