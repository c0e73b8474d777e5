/** The sidecar's outbound RouteConfiguration: virtual hosts and domains, default routes, VirtualService selection. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VirtualService } from '../../../src/api/kinds/virtual-service.js';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { ROUTE_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { translate } from '../../../src/control/xds/translate/index.js';
import type { ProxyContext } from '../../../src/control/xds/translate/proxy.js';
import type { MeshService } from '../../../src/registry/model.js';
import {
  assertEncodes,
  DEFAULT_RETRY,
  endpoint,
  find,
  port,
  service,
  sidecar,
  view,
  virtualService,
  vsMetadata,
} from './fixtures.js';

interface VirtualHost {
  name: string;
  domains: string[];
  routes: ProtoObject[];
}

export function outbound(
  services: readonly MeshService[],
  virtualServices: VirtualService[] = [],
  proxy: ProxyContext = sidecar(),
): { hosts: Map<string, VirtualHost>; warnings: string[] } {
  const { resources, warnings } = translate(view(services, { virtualServices }), proxy);
  assertEncodes(resources);
  const config = find(resources, ROUTE_TYPE_URL, 'outbound') as { virtual_hosts: VirtualHost[] };
  return { hosts: new Map(config.virtual_hosts.map((vh) => [vh.name, vh])), warnings };
}

const web = service('web', [port(80), port(8443, 'HTTPS', 'https')], [endpoint('127.1.0.2', [80, 8443])], {
  vip: '10.96.0.2',
});
const api = service('api', [port(9080), port(9090, 'GRPC', 'grpc')], [endpoint('127.1.0.3', [9080, 9090])], {
  namespace: 'shop',
  vip: 'fd00::3',
});
const single = service('single', [port(5000, 'HTTP2', 'http2')], [endpoint('127.1.0.4', [5000])]);
const unnamed = service('plain', [port(7000, 'UNKNOWN', '')], [endpoint('127.1.0.5', [7000])]);
const external = service('ext', [port(443, 'TLS', 'tls')], [], {
  hostname: 'api.example.com',
  kind: 'ServiceEntry',
  resolution: 'DNS',
});

void describe('outbound routes: virtual hosts', () => {
  void it('domains: FQDN, short forms, VIP, with the port; bare names for port 80 or the only HTTP port', () => {
    const { hosts, warnings } = outbound([web, api, single, unnamed, external]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      [...hosts.keys()],
      [
        'api.example.com:443',
        'api.shop.svc.cluster.local:9080',
        'api.shop.svc.cluster.local:9090',
        'plain.default.svc.cluster.local:7000',
        'single.default.svc.cluster.local:5000',
        'web.default.svc.cluster.local:80',
        'web.default.svc.cluster.local:8443',
      ],
    );
    assert.deepEqual(hosts.get('web.default.svc.cluster.local:80')!.domains, [
      'web.default.svc.cluster.local',
      'web.default.svc.cluster.local:80',
      'web',
      'web:80',
      'web.default',
      'web.default:80',
      'web.default.svc',
      'web.default.svc:80',
      '10.96.0.2',
      '10.96.0.2:80',
    ]);
    assert.deepEqual(hosts.get('web.default.svc.cluster.local:8443')!.domains, [
      'web.default.svc.cluster.local:8443',
      'web:8443',
      'web.default:8443',
      'web.default.svc:8443',
      '10.96.0.2:8443',
    ]);
    // Another namespace: no bare `name`; two HTTP ports: no port-less forms; IPv6 VIP in brackets.
    assert.deepEqual(hosts.get('api.shop.svc.cluster.local:9080')!.domains, [
      'api.shop.svc.cluster.local:9080',
      'api.shop:9080',
      'api.shop.svc:9080',
      '[fd00::3]:9080',
    ]);
    assert.deepEqual(hosts.get('single.default.svc.cluster.local:5000')!.domains, [
      'single.default.svc.cluster.local',
      'single.default.svc.cluster.local:5000',
      'single',
      'single:5000',
      'single.default',
      'single.default:5000',
      'single.default.svc',
      'single.default.svc:5000',
    ]);
    assert.deepEqual(hosts.get('api.example.com:443')!.domains, ['api.example.com:443']);
  });

  void it('default route: the service cluster, no timeout, Istio retries; CONNECT for non-HTTP (and UNKNOWN) ports', () => {
    const { hosts } = outbound([web, unnamed]);
    assert.deepEqual(hosts.get('web.default.svc.cluster.local:80')!.routes, [
      {
        name: 'default',
        match: { prefix: '/' },
        route: {
          cluster: 'outbound|80||web.default.svc.cluster.local',
          timeout: { seconds: 0, nanos: 0 },
          retry_policy: DEFAULT_RETRY,
        },
      },
    ]);
    const connect = (cluster: string) => ({
      name: 'connect',
      match: { connect_matcher: {} },
      route: {
        cluster,
        upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
        timeout: { seconds: 0, nanos: 0 },
      },
    });
    assert.deepEqual(hosts.get('web.default.svc.cluster.local:8443')!.routes, [
      connect('outbound|8443||web.default.svc.cluster.local'),
    ]);
    const plain = hosts.get('plain.default.svc.cluster.local:7000')!.routes;
    assert.deepEqual(plain[0], connect('outbound|7000||plain.default.svc.cluster.local'));
    assert.equal(plain[1]!.name, 'default');
  });

  void it('a domain an earlier service (by hostname) already has is left out and reported', () => {
    const clash = service('clash', [port(80)], [], {
      hostname: 'web.default',
      kind: 'ServiceEntry',
      resolution: 'STATIC',
    });
    const { hosts, warnings } = outbound([web, clash]);
    assert.deepEqual(hosts.get('web.default:80')!.domains, ['web.default', 'web.default:80']);
    assert.deepEqual(hosts.get('web.default.svc.cluster.local:80')!.domains.slice(4, 6), [
      'web.default.svc',
      'web.default.svc:80',
    ]);
    assert.deepEqual(warnings, [
      'Service default/web: domain web.default of web.default.svc.cluster.local:80 is already used by web.default:80; left out',
      'Service default/web: domain web.default:80 of web.default.svc.cluster.local:80 is already used by web.default:80; left out',
    ]);
  });
});

void describe('outbound routes: which VirtualService applies', () => {
  const route = (name: string, host: string) => ({
    hosts: [host],
    http: [{ name, route: [{ destination: { host: 'web' } }] }],
  });

  void it('short names resolve in the VirtualService namespace; exact beats wildcard; the first of equals wins', () => {
    const other = service('web', [port(80)], [], { namespace: 'other' });
    const { hosts, warnings } = outbound(
      [web, other],
      [
        virtualService('wild', route('wild', '*.svc.cluster.local')),
        virtualService('exact', route('exact', 'web')),
        virtualService('shadowed', route('shadowed', 'web.default.svc.cluster.local')),
        virtualService('elsewhere', route('elsewhere', 'web'), 'other'),
      ],
    );
    assert.equal(hosts.get('web.default.svc.cluster.local:80')!.routes[0]!.name, 'exact');
    assert.equal(hosts.get('web.other.svc.cluster.local:80')!.routes[0]!.name, 'elsewhere');
    assert.deepEqual(
      warnings.filter((w) => w.includes('shadowed')),
      [
        'VirtualService default/shadowed: spec.hosts: ignored for web.default.svc.cluster.local: VirtualService default/exact also routes it and comes first',
      ],
    );
  });

  void it('a host that names no service is reported (names with dots are not short names)', () => {
    const { warnings } = outbound([web], [virtualService('typo', route('typo', 'web.default'))]);
    assert.deepEqual(warnings, [
      'VirtualService default/typo: spec.hosts: web.default matches no service; its routes apply to nothing',
    ]);
  });

  void it('a VirtualService bound only to a gateway, or not exported here, does not apply', () => {
    const { hosts } = outbound(
      [web],
      [
        virtualService('gw', { ...route('gw', 'web'), gateways: ['ingress'] }),
        virtualService('private', { ...route('private', 'web.default.svc.cluster.local'), exportTo: ['.'] }, 'other'),
      ],
    );
    assert.equal(hosts.get('web.default.svc.cluster.local:80')!.routes[0]!.name, 'default');
  });

  void it('a VirtualService whose matches never apply on a port leaves that port on its default route', () => {
    const two = service('two', [port(80), port(81, 'HTTP', 'http-alt')], [], {});
    const { hosts } = outbound(
      [two],
      [
        virtualService('two', {
          hosts: ['two'],
          http: [{ match: [{ port: 81 }], route: [{ destination: { host: 'two' } }] }],
        }),
      ],
    );
    assert.equal(hosts.get('two.default.svc.cluster.local:80')!.routes[0]!.name, 'default');
    assert.deepEqual(hosts.get('two.default.svc.cluster.local:81')!.routes[0]!.match, { prefix: '/' });
    assert.equal(hosts.get('two.default.svc.cluster.local:81')!.routes[0]!.name, 'two.0');
  });

  void it('tcp routes drive the CONNECT route; tls routes are reported', () => {
    const db = service('db', [port(5432, 'TCP', 'tcp')], [], {});
    const { hosts, warnings } = outbound(
      [db],
      [
        virtualService('db', {
          hosts: ['db'],
          tcp: [
            { match: [{ port: 5433 }], route: [{ destination: { host: 'db' } }] },
            {
              route: [
                { destination: { host: 'db', subset: 'a' }, weight: 80 },
                { destination: { host: 'db', subset: 'b' }, weight: 20 },
              ],
            },
          ],
          tls: [{ match: [{ sniHosts: ['db'] }], route: [{ destination: { host: 'db' } }] }],
        }),
      ],
    );
    assert.deepEqual(hosts.get('db.default.svc.cluster.local:5432')!.routes, [
      {
        name: 'db.tcp.1',
        match: { connect_matcher: {} },
        route: {
          weighted_clusters: {
            clusters: [
              { name: 'outbound|5432|a|db.default.svc.cluster.local', weight: { value: 80 } },
              { name: 'outbound|5432|b|db.default.svc.cluster.local', weight: { value: 20 } },
            ],
          },
          upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
          timeout: { seconds: 0, nanos: 0 },
        },
        metadata: vsMetadata('db'),
      },
    ]);
    assert.deepEqual(warnings, [
      'VirtualService default/db: spec.tls: routing by SNI is not translated: the explicit proxy sees CONNECT host:port',
      'VirtualService default/db: spec.tcp[1].route[0].destination.subset: no DestinationRule defines subset a of db.default.svc.cluster.local; requests will fail',
      'VirtualService default/db: spec.tcp[1].route[1].destination.subset: no DestinationRule defines subset b of db.default.svc.cluster.local; requests will fail',
    ]);
  });
});
