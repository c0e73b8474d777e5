/** decodeListener: the control plane's sidecar and gRPC listeners exactly; a precise NACK for what cannot be served. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { grpcListener, inboundListener, outboundListener } from '../../../src/control/xds/translate/listeners.js';
import { decodeListener } from '../../../src/proxy/config/index.js';
import { sidecar } from '../translate/fixtures.js';
import { ADS, decoded, FAULT_TYPE, HCM_TYPE, LISTENER, plain, rejected, ROUTER_TYPE, TYPE } from './helpers.js';

const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } };
const HCM_DEFAULTS = {
  codec: 'AUTO',
  useRemoteAddress: false,
  xffNumTrustedHops: 0,
  streamIdleTimeoutMs: 300_000,
  requestTimeoutMs: 0,
  requestHeadersTimeoutMs: 0,
  drainTimeoutMs: 5_000,
  normalizePath: false,
  mergeSlashes: false,
  stripPort: 'none',
  skippedFilters: [],
};

/** A sidecar-style listener with the given HCM fields and chain extras. */
function listener(hcm: ProtoObject = {}, chain: ProtoObject = {}, extra: ProtoObject = {}): ProtoObject {
  return {
    name: 'l',
    address: { socket_address: { address: '127.0.0.1', port_value: 15001 } },
    traffic_direction: 'OUTBOUND',
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM_TYPE,
              stat_prefix: 'l',
              rds: { route_config_name: 'r', config_source: ADS },
              http_filters: [ROUTER],
              ...hcm,
            },
          },
        ],
        ...chain,
      },
    ],
    ...extra,
  };
}

const HCM_PATH = 'filter_chains[0].filters[0].typed_config';

void describe('decodeListener', () => {
  void it("decodes the control plane's outbound, inbound and gRPC listeners exactly", () => {
    const proxy = sidecar();
    assert.deepEqual(plain(decoded(decodeListener, LISTENER, outboundListener(proxy))), {
      name: 'outbound',
      kind: 'outbound',
      address: '127.1.0.9',
      port: 15001,
      bindToPort: true,
      statPrefix: 'outbound_127.1.0.9_15001',
      routeConfigName: 'outbound',
      httpFilters: ['fault', 'router'],
      upgrades: ['websocket', 'connect'],
      ...HCM_DEFAULTS,
    });
    assert.deepEqual(plain(decoded(decodeListener, LISTENER, inboundListener(proxy))), {
      name: 'inbound',
      kind: 'inbound',
      address: '127.1.0.9',
      port: 15006,
      bindToPort: true,
      statPrefix: 'inbound_127.1.0.9_15006',
      routeConfigName: 'inbound',
      httpFilters: ['router'],
      upgrades: ['websocket'],
      ...HCM_DEFAULTS,
      useRemoteAddress: true,
    });
    assert.deepEqual(plain(decoded(decodeListener, LISTENER, grpcListener('echo:8080', 'echo.default.svc:8080'))), {
      name: 'echo:8080',
      kind: 'grpc-api',
      bindToPort: false,
      statPrefix: 'echo:8080',
      routeConfigName: 'echo.default.svc:8080',
      httpFilters: ['fault', 'router'],
      upgrades: [],
      ...HCM_DEFAULTS,
    });
  });

  void it('is frozen', () => {
    const l = decoded(decodeListener, LISTENER, outboundListener(sidecar()));
    assert.ok(Object.isFrozen(l) && Object.isFrozen(l.httpFilters));
  });

  void it('reads HCM settings and a listener-level fault; skips optional filters it does not implement', () => {
    const l = decoded(
      decodeListener,
      LISTENER,
      listener({
        codec_type: 'HTTP2',
        use_remote_address: { value: true },
        xff_num_trusted_hops: 1,
        stream_idle_timeout: { seconds: 30 },
        request_timeout: { nanos: 500_000_000 },
        strip_any_host_port: true,
        http_filters: [
          {
            name: 'envoy.filters.http.cors',
            is_optional: true,
            typed_config: { '@type': `${TYPE}envoy.extensions.filters.http.cors.v3.Cors` },
          },
          {
            name: 'envoy.filters.http.fault',
            typed_config: { '@type': FAULT_TYPE, abort: { http_status: 503, percentage: { numerator: 10 } } },
          },
          ROUTER,
        ],
        upgrade_configs: [{ upgrade_type: 'websocket', enabled: { value: false } }, { upgrade_type: 'CONNECT' }],
      }),
    );
    assert.deepEqual(plain(l), {
      ...HCM_DEFAULTS,
      name: 'l',
      kind: 'outbound',
      address: '127.0.0.1',
      port: 15001,
      bindToPort: true,
      statPrefix: 'l',
      routeConfigName: 'r',
      httpFilters: ['fault', 'router'],
      fault: { headers: [], abort: { httpStatus: 503, perMillion: 100_000 } },
      skippedFilters: ['envoy.filters.http.cors'],
      upgrades: ['connect'],
      codec: 'HTTP2',
      useRemoteAddress: true,
      xffNumTrustedHops: 1,
      streamIdleTimeoutMs: 30_000,
      requestTimeoutMs: 500,
      stripPort: 'any',
    });
  });

  void it('NACKs what the sidecar cannot serve, naming the field', () => {
    const cases: [ProtoObject, string][] = [
      [
        listener({
          http_filters: [
            {
              name: 'envoy.filters.http.cors',
              typed_config: { '@type': `${TYPE}envoy.extensions.filters.http.cors.v3.Cors` },
            },
            ROUTER,
          ],
        }),
        `Listener "l": ${HCM_PATH}.http_filters[0]: HTTP filter envoy.filters.http.cors (envoy.extensions.filters.http.cors.v3.Cors) is not supported (fault, router)`,
      ],
      [
        listener({
          http_filters: [ROUTER, { name: 'envoy.filters.http.fault', typed_config: { '@type': FAULT_TYPE } }],
        }),
        `Listener "l": ${HCM_PATH}.http_filters[0]: the router must be the last HTTP filter`,
      ],
      [listener({ http_filters: [] }), `Listener "l": ${HCM_PATH}.http_filters: the router filter is required, last`],
      [
        listener({ rds: { route_config_name: 'r', config_source: { path_config_source: { path: '/etc/r.yaml' } } } }),
        `Listener "l": ${HCM_PATH}.rds.config_source: only ADS config sources are supported (config_source: { ads: {} })`,
      ],
      [
        listener(
          {},
          {
            transport_socket: {
              name: 'tls',
              typed_config: { '@type': `${TYPE}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext` },
            },
          },
        ),
        'Listener "l": filter_chains[0].transport_socket: TLS termination is not supported on sidecar listeners',
      ],
      [
        listener({}, {}, { address: { socket_address: { address: 'localhost', port_value: 15001 } } }),
        'Listener "l": address.socket_address.address: localhost is not an IP address',
      ],
      [
        listener(
          {},
          {},
          {
            listener_filters: [
              {
                name: 'envoy.filters.listener.tls_inspector',
                typed_config: { '@type': `${TYPE}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector` },
              },
            ],
          },
        ),
        'Listener "l": listener_filters: not supported by the sidecar',
      ],
      [
        {
          name: 'tcp',
          address: { socket_address: { address: '0.0.0.0', port_value: 5432 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: {
                    '@type': `${TYPE}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
                    stat_prefix: 't',
                    cluster: 'c',
                  },
                },
              ],
            },
          ],
        },
        'Listener "tcp": filter_chains[0].filters[0]: network filter envoy.filters.network.tcp_proxy (envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy) is not supported (only the HTTP connection manager)',
      ],
      [
        {
          ...listener(),
          filter_chains: [
            ...(listener().filter_chains as ProtoObject[]),
            ...(listener().filter_chains as ProtoObject[]),
          ],
        },
        'Listener "l": filter_chains: expected exactly one filter chain, got 2',
      ],
      [{ address: { socket_address: { address: '0.0.0.0', port_value: 1 } } }, 'Listener: name: required'],
    ];
    for (const [input, error] of cases) rejected(decodeListener, LISTENER, input, error);
  });

  void it('rejects what is not an object', () => {
    assert.deepEqual(decodeListener('nope'), { ok: false, error: 'Listener: not an object' });
  });
});
