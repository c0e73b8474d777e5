/** Listeners and the sidecar's own resources (inbound route and cluster); gateway listeners and routes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { proxyOwn, sharedOutbound } from '../../../src/control/xds/translate/index.js';
import type { ProxyContext } from '../../../src/control/xds/translate/proxy.js';
import {
  ADS,
  assertEncodes,
  DEFAULT_RETRY,
  endpoint,
  find,
  gateway,
  names,
  port,
  service,
  sidecar,
  view,
  virtualService,
  vsMetadata,
} from './fixtures.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const FAULT = {
  name: 'envoy.filters.http.fault',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' },
};
const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};

void describe('sidecar listeners and own resources', () => {
  void it('outbound on <ip>:15001 and inbound on <ip>:15006, inbound route and cluster to the app', () => {
    const { resources, warnings } = proxyOwn(view([]), sidecar());
    assertEncodes(resources);
    assert.deepEqual(warnings, []);
    assert.deepEqual(find(resources, LISTENER_TYPE_URL, 'outbound'), {
      name: 'outbound',
      address: { socket_address: { address: '127.1.0.9', port_value: 15001 } },
      traffic_direction: 'OUTBOUND',
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': HCM,
                stat_prefix: 'outbound_127.1.0.9_15001',
                rds: { route_config_name: 'outbound', config_source: ADS },
                http_filters: [FAULT, ROUTER],
                use_remote_address: { value: false },
                upgrade_configs: [{ upgrade_type: 'websocket' }, { upgrade_type: 'CONNECT' }],
              },
            },
          ],
        },
      ],
    });
    assert.deepEqual(find(resources, LISTENER_TYPE_URL, 'inbound'), {
      name: 'inbound',
      address: { socket_address: { address: '127.1.0.9', port_value: 15006 } },
      traffic_direction: 'INBOUND',
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': HCM,
                stat_prefix: 'inbound_127.1.0.9_15006',
                rds: { route_config_name: 'inbound', config_source: ADS },
                http_filters: [ROUTER],
                use_remote_address: { value: true },
                upgrade_configs: [{ upgrade_type: 'websocket' }],
              },
            },
          ],
        },
      ],
    });
    assert.deepEqual(find(resources, ROUTE_TYPE_URL, 'inbound'), {
      name: 'inbound',
      virtual_hosts: [
        {
          name: 'inbound|http|9080',
          domains: ['*'],
          routes: [
            {
              name: 'default',
              match: { prefix: '/' },
              route: { cluster: 'inbound|9080||', timeout: { seconds: 0, nanos: 0 } },
            },
          ],
        },
      ],
      validate_clusters: { value: false },
    });
    assert.deepEqual(find(resources, CLUSTER_TYPE_URL, 'inbound|9080||'), {
      name: 'inbound|9080||',
      type: 'STATIC',
      connect_timeout: { seconds: 10, nanos: 0 },
      lb_policy: 'ROUND_ROBIN',
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
        },
      },
      load_assignment: {
        cluster_name: 'inbound|9080||',
        endpoints: [
          {
            locality: { region: '', zone: '', sub_zone: '' },
            lb_endpoints: [
              {
                endpoint: { address: { socket_address: { address: '127.1.0.9', port_value: 9080 } } },
                health_status: 'HEALTHY',
                load_balancing_weight: { value: 1 },
              },
            ],
            load_balancing_weight: { value: 1 },
          },
        ],
      },
    });
  });

  void it('custom ports; without an IP 0.0.0.0 and 127.0.0.1; without an app port no inbound side', () => {
    const custom = proxyOwn(
      view([]),
      sidecar({ ip: undefined, outboundPort: 16001, inboundPort: 16006, appPort: 3000 }),
    );
    assert.deepEqual(find(custom.resources, LISTENER_TYPE_URL, 'outbound').address, {
      socket_address: { address: '0.0.0.0', port_value: 16001 },
    });
    assert.deepEqual(find(custom.resources, LISTENER_TYPE_URL, 'inbound').address, {
      socket_address: { address: '0.0.0.0', port_value: 16006 },
    });
    const inbound = find(custom.resources, CLUSTER_TYPE_URL, 'inbound|3000||') as {
      load_assignment: { endpoints: { lb_endpoints: { endpoint: unknown }[] }[] };
    };
    assert.deepEqual(inbound.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint, {
      address: { socket_address: { address: '127.0.0.1', port_value: 3000 } },
    });
    const none = proxyOwn(view([]), sidecar({ appPort: undefined }));
    assert.deepEqual(names(none.resources, LISTENER_TYPE_URL), ['outbound']);
    assert.deepEqual(none.resources[ROUTE_TYPE_URL], undefined);
    assert.deepEqual(none.warnings, [
      'proxy sidecar~127.1.0.9~productpage-1.default~default.svc.cluster.local: no SHOAL_APP_PORT in its node metadata: no inbound listener',
    ]);
  });
});

void describe('proxyless gRPC listeners', () => {
  void it('an api_listener per target name (FQDN, short forms), all routed by <hostname>:<port>', () => {
    const echo = service(
      'echo',
      [port(7070, 'GRPC', 'grpc'), port(53, 'UDP', 'udp')],
      [endpoint('127.1.0.20', [7070])],
    );
    const { resources } = sharedOutbound(view([echo]), 'default', 'grpc');
    assertEncodes(resources);
    assert.deepEqual(names(resources, LISTENER_TYPE_URL), [
      'echo.default.svc.cluster.local:7070',
      'echo:7070',
      'echo.default:7070',
      'echo.default.svc:7070',
    ]);
    assert.deepEqual(find(resources, LISTENER_TYPE_URL, 'echo:7070'), {
      name: 'echo:7070',
      api_listener: {
        api_listener: {
          '@type': HCM,
          stat_prefix: 'echo:7070',
          rds: { route_config_name: 'echo.default.svc.cluster.local:7070', config_source: ADS },
          http_filters: [FAULT, ROUTER],
          use_remote_address: { value: false },
        },
      },
    });
    assert.deepEqual(find(resources, ROUTE_TYPE_URL, 'echo.default.svc.cluster.local:7070'), {
      name: 'echo.default.svc.cluster.local:7070',
      virtual_hosts: [
        {
          name: 'echo.default.svc.cluster.local:7070',
          domains: [
            'echo.default.svc.cluster.local:7070',
            'echo.default.svc.cluster.local',
            'echo:7070',
            'echo',
            'echo.default:7070',
            'echo.default',
            'echo.default.svc:7070',
            'echo.default.svc',
          ],
          routes: [
            {
              name: 'default',
              match: { prefix: '/' },
              route: {
                cluster: 'outbound|7070||echo.default.svc.cluster.local',
                timeout: { seconds: 0, nanos: 0 },
                retry_policy: {
                  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
                  num_retries: { value: 2 },
                },
              },
            },
          ],
        },
      ],
    });
  });
});

void describe('gateway', () => {
  const productpage = service('productpage', [port(9080)], [endpoint('127.1.0.9', [9080])]);
  const ingress: ProxyContext = {
    type: 'gateway',
    id: 'router~127.1.0.2~ingress-1.edge~edge.svc.cluster.local',
    namespace: 'edge',
    labels: { istio: 'ingressgateway' },
  };
  const v = view([productpage], {
    gateways: [
      gateway(
        'bookinfo',
        {
          selector: { istio: 'ingressgateway' },
          servers: [
            {
              port: { number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 },
              hosts: ['bookinfo.example.com', 'default/*.internal'],
              tls: { httpsRedirect: true },
            },
            {
              port: { number: 443, name: 'https', protocol: 'HTTPS' },
              hosts: ['bookinfo.example.com'],
              tls: {
                mode: 'SIMPLE',
                serverCertificate: '/certs/tls.crt',
                privateKey: '/certs/tls.key',
                minProtocolVersion: 'TLSV1_2',
              },
              name: 'main',
            },
            { port: { number: 5432, name: 'tcp', protocol: 'TCP' }, hosts: ['*'] },
          ],
        },
        'default',
      ),
      gateway('other', {
        selector: { istio: 'egress' },
        servers: [{ port: { number: 81, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
      }),
    ],
    virtualServices: [
      virtualService('bookinfo', {
        hosts: ['bookinfo.example.com', 'api.internal'],
        gateways: ['bookinfo'],
        http: [{ match: [{ uri: { prefix: '/' } }], route: [{ destination: { host: 'productpage' } }] }],
      }),
      virtualService('mesh-only', {
        hosts: ['bookinfo.example.com'],
        http: [{ route: [{ destination: { host: 'productpage' } }] }],
      }),
    ],
  });

  void it('listeners per port of the selecting Gateways; HTTP and HTTPS route configs; unsupported servers reported', () => {
    const { resources, warnings } = proxyOwn(v, ingress);
    const route = {
      name: 'bookinfo.0',
      match: { prefix: '/' },
      route: {
        cluster: 'outbound|9080||productpage.default.svc.cluster.local',
        timeout: { seconds: 0, nanos: 0 },
        retry_policy: DEFAULT_RETRY,
      },
      metadata: vsMetadata('bookinfo'),
    };
    assertEncodes(resources);
    assert.deepEqual(names(resources, LISTENER_TYPE_URL), ['0.0.0.0_80', '0.0.0.0_443']);
    const http = find(resources, LISTENER_TYPE_URL, '0.0.0.0_80') as {
      address: unknown;
      filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[];
    };
    assert.deepEqual(http.address, { socket_address: { address: '0.0.0.0', port_value: 8080 } });
    assert.deepEqual(http.filter_chains[0]!.filters[0]!.typed_config.use_remote_address, { value: true });
    assert.deepEqual(find(resources, ROUTE_TYPE_URL, 'http.80'), {
      name: 'http.80',
      virtual_hosts: [
        {
          name: 'bookinfo.example.com:80',
          domains: ['bookinfo.example.com', 'bookinfo.example.com:80'],
          routes: [route],
          require_tls: 'ALL',
        },
        { name: 'api.internal:80', domains: ['api.internal', 'api.internal:80'], routes: [route], require_tls: 'ALL' },
      ],
      validate_clusters: { value: false },
    });
    const https = find(resources, LISTENER_TYPE_URL, '0.0.0.0_443') as {
      listener_filters: unknown;
      filter_chains: Record<string, any>[];
    };
    assert.deepEqual(https.listener_filters, [
      {
        name: 'envoy.filters.listener.tls_inspector',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
        },
      },
    ]);
    assert.deepEqual(https.filter_chains[0]!.filter_chain_match, {
      transport_protocol: 'tls',
      server_names: ['bookinfo.example.com'],
    });
    assert.deepEqual(https.filter_chains[0]!.transport_socket, {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        common_tls_context: {
          tls_certificates: [
            { certificate_chain: { filename: '/certs/tls.crt' }, private_key: { filename: '/certs/tls.key' } },
          ],
          alpn_protocols: ['h2', 'http/1.1'],
          tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
        },
      },
    });
    assert.equal(
      https.filter_chains[0]!.filters[0].typed_config.rds.route_config_name,
      'https.443.main.bookinfo.default',
    );
    assert.deepEqual(warnings, ['Gateway default/bookinfo: spec.servers[2]: TCP servers are not translated']);
  });

  void it("listeners bind the server's bind, else the proxy's address (shoal gateway --bind), else 0.0.0.0", () => {
    const addresses = (proxy: ProxyContext, bind?: string): unknown[] => {
      const g = gateway('web', {
        selector: { istio: 'ingressgateway' },
        servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'], ...(bind ? { bind } : {}) }],
      });
      const { resources } = proxyOwn(view([productpage], { gateways: [g] }), proxy);
      return (resources[LISTENER_TYPE_URL] ?? []).map((l) => (l as { address: unknown }).address);
    };
    const at = (address: string): unknown => ({ socket_address: { address, port_value: 8080 } });
    assert.deepEqual(addresses({ ...ingress, ip: '127.1.0.2' }), [at('127.1.0.2')]);
    assert.deepEqual(addresses({ ...ingress, ip: '127.1.0.2' }, '127.0.0.9'), [at('127.0.0.9')]);
    assert.deepEqual(addresses(ingress), [at('0.0.0.0')]);
  });

  void it('a gateway proxy no Gateway selects has no listeners', () => {
    const { resources } = proxyOwn(v, { ...ingress, labels: { app: 'x' } });
    assert.deepEqual(resources[LISTENER_TYPE_URL], undefined);
  });
});
