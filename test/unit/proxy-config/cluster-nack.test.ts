/** decodeCluster's NACKs: the resource, the field path, and why. */
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { decodeCluster } from '../../../src/proxy/config/index.js';
import { ADS, CLUSTER, rejected, TYPE, TYPED_STRUCT } from './helpers.js';

function eds(extra: ProtoObject = {}): ProtoObject {
  return { name: 'c', type: 'EDS', eds_cluster_config: { eds_config: ADS }, ...extra };
}

void describe('decodeCluster rejects', () => {
  void it('NACKs clusters it cannot honour, naming the field', () => {
    const cases: [ProtoObject, string][] = [
      [
        { name: 'c', type: 'ORIGINAL_DST' },
        'Cluster "c": type: ORIGINAL_DST is not supported (STATIC, STRICT_DNS, LOGICAL_DNS, EDS)',
      ],
      [{ name: 'c', type: 'EDS' }, 'Cluster "c": eds_cluster_config: required for an EDS cluster'],
      [
        eds({ eds_cluster_config: { eds_config: { path_config_source: { path: '/x' } } } }),
        'Cluster "c": eds_cluster_config.eds_config: only ADS config sources are supported (eds_config: { ads: {} })',
      ],
      [
        eds({ health_checks: [{ timeout: { seconds: 1 }, interval: { seconds: 1 }, tcp_health_check: {} }] }),
        'Cluster "c": health_checks: active health checking is not supported by the sidecar',
      ],
      [
        eds({ lb_policy: 'CLUSTER_PROVIDED' }),
        'Cluster "c": lb_policy: CLUSTER_PROVIDED is not supported (ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV)',
      ],
      [
        eds({ lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: 1000 } } }),
        'Cluster "c": maglev_lb_config.table_size: 1000 must be a prime no larger than 5000011',
      ],
      [
        eds({
          lb_policy: 'RING_HASH',
          ring_hash_lb_config: { minimum_ring_size: { value: 4096 }, maximum_ring_size: { value: 1024 } },
        }),
        'Cluster "c": ring_hash_lb_config: ring sizes must satisfy 1 <= minimum (4096) <= maximum (1024) <= 8388608',
      ],
      [
        eds({
          load_balancing_policy: {
            policies: [
              {
                typed_extension_config: {
                  name: 'x',
                  typed_config: { '@type': TYPED_STRUCT, type_url: `${TYPE}example.Custom` },
                },
              },
            ],
          },
        }),
        'Cluster "c": load_balancing_policy.policies: no supported policy (round_robin, least_request, random, ring_hash, maglev, wrr_locality)',
      ],
      [
        {
          name: 'c',
          type: 'LOGICAL_DNS',
          load_assignment: {
            cluster_name: 'c',
            endpoints: [
              {
                lb_endpoints: ['a', 'b'].map((h) => ({
                  endpoint: { address: { socket_address: { address: `${h}.example.com`, port_value: 80 } } },
                })),
              },
            ],
          },
        },
        'Cluster "c": load_assignment: a LOGICAL_DNS cluster takes exactly one endpoint, got 2',
      ],
      [
        {
          name: 'c',
          type: 'STATIC',
          load_assignment: {
            cluster_name: 'c',
            endpoints: [
              {
                lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'app.local', port_value: 80 } } } }],
              },
            ],
          },
        },
        'Cluster "c": load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: app.local is not an IP address',
      ],
      [{ name: 'c', type: 'STATIC' }, 'Cluster "c": load_assignment: required for a STATIC cluster'],
      [
        eds({
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
              common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default' }] },
            },
          },
        }),
        'Cluster "c": transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs: certificates over SDS or providers are not supported yet',
      ],
      [
        eds({
          transport_socket: {
            name: 'alts',
            typed_config: { '@type': TYPED_STRUCT, type_url: `${TYPE}envoy.extensions.transport_sockets.alts.v3.Alts` },
          },
        }),
        'Cluster "c": transport_socket: transport socket alts (envoy.extensions.transport_sockets.alts.v3.Alts) is not supported (tls, raw_buffer)',
      ],
      [
        eds({ round_robin_lb_config: { slow_start_config: { slow_start_window: { seconds: 30 } } } }),
        'Cluster "c": lb_policy: round_robin_lb_config.slowStart: not supported',
      ],
      [
        eds({
          lb_policy: 'LEAST_REQUEST',
          least_request_lb_config: { active_request_bias: { default_value: 500, runtime_key: 'k' } },
        }),
        'Cluster "c": lb_policy: least_request_lb_config.active_request_bias: must be 0..100',
      ],
      [eds({ connect_timeout: {} }), 'Cluster "c": connect_timeout: must be greater than 0'],
      [
        eds({ circuit_breakers: { thresholds: [{ retry_budget: {} }] } }),
        'Cluster "c": circuit_breakers.thresholds[0].retry_budget: not supported by the sidecar',
      ],
    ];
    for (const [input, error] of cases) rejected(decodeCluster, CLUSTER, input, error);
  });
});
