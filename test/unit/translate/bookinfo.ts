/**
 * A realistic mesh for translation tests: Istio's bookinfo (productpage, details, reviews v1-v3, ratings) with its
 * usual VirtualServices and DestinationRules, a gRPC echo service, an external HTTPS API (DNS ServiceEntry), a
 * TCP database, an ingress Gateway, and a namespace-private service.
 */
import type { MeshView } from '../../../src/registry/model.js';
import { destinationRule, endpoint, gateway, port, service, view, virtualService } from './fixtures.js';

const zoneA = { region: 'eu', zone: 'eu-a', subZone: '' };
const zoneB = { region: 'eu', zone: 'eu-b', subZone: '' };

export const productpage = service(
  'productpage',
  [port(9080)],
  [endpoint('127.1.0.9', [9080], { labels: { app: 'productpage', version: 'v1' } })],
  {
    vip: '10.96.0.9',
  },
);
export const details = service(
  'details',
  [port(9080)],
  [endpoint('127.1.0.10', [9080], { labels: { app: 'details' } })],
  {
    vip: '10.96.0.10',
  },
);
export const reviews = service(
  'reviews',
  [port(9080)],
  [
    endpoint('127.1.0.11', [9080], { labels: { app: 'reviews', version: 'v1' }, locality: zoneA }),
    endpoint('127.1.0.12', [9080], { labels: { app: 'reviews', version: 'v2' }, locality: zoneA }),
    endpoint('127.1.0.13', [9080], { labels: { app: 'reviews', version: 'v3' }, locality: zoneB, health: 'UNHEALTHY' }),
  ],
  { vip: '10.96.0.11' },
);
export const ratings = service(
  'ratings',
  [port(9080)],
  [endpoint('127.1.0.14', [9080], { labels: { app: 'ratings' } })],
  {
    vip: '10.96.0.14',
  },
);
export const echo = service(
  'echo',
  [port(7070, 'GRPC', 'grpc'), port(8080, 'HTTP', 'http')],
  [endpoint('127.1.0.20', [7070, 8080]), endpoint('127.1.0.21', [7070, 8080])],
  { vip: '10.96.0.20' },
);
export const postgres = service('postgres', [port(5432, 'TCP', 'tcp')], [endpoint('127.1.0.30', [5432])], {
  vip: '10.96.0.30',
});
export const externalApi = service('api-example', [port(443, 'HTTPS', 'https')], [], {
  hostname: 'api.example.com',
  kind: 'ServiceEntry',
  resolution: 'DNS',
  location: 'MESH_EXTERNAL',
});
export const secret = service('vault', [port(8200)], [endpoint('127.1.0.40', [8200])], {
  namespace: 'infra',
  exportTo: ['infra'],
});

export function bookinfoView(version = 1): MeshView {
  return view(
    [productpage, details, reviews, ratings, echo, postgres, externalApi, secret],
    {
      virtualServices: [
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            {
              name: 'jason',
              match: [{ headers: { 'end-user': { exact: 'jason' } } }],
              route: [{ destination: { host: 'reviews', subset: 'v2' } }],
            },
            {
              route: [
                { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
                { destination: { host: 'reviews', subset: 'v3' }, weight: 50 },
              ],
              retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx,503' },
              timeout: '10s',
            },
          ],
        }),
        virtualService('ratings', {
          hosts: ['ratings.default.svc.cluster.local'],
          http: [
            {
              fault: {
                delay: { fixedDelay: '7s', percentage: { value: 10 } },
                abort: { httpStatus: 500, percentage: { value: 0.5 } },
              },
              route: [{ destination: { host: 'ratings' } }],
            },
          ],
        }),
        virtualService('bookinfo', {
          hosts: ['bookinfo.example.com'],
          gateways: ['bookinfo-gateway'],
          http: [
            {
              match: [{ uri: { exact: '/productpage' } }, { uri: { prefix: '/static' } }],
              route: [{ destination: { host: 'productpage', port: { number: 9080 } } }],
            },
          ],
        }),
        virtualService('echo', {
          hosts: ['echo'],
          http: [
            {
              match: [{ headers: { 'x-canary': { exact: 'yes' } } }],
              route: [{ destination: { host: 'echo', port: { number: 7070 } } }],
              timeout: '3s',
            },
            {
              route: [{ destination: { host: 'echo', port: { number: 7070 } } }],
              retries: { attempts: 2, retryOn: 'unavailable' },
            },
          ],
        }),
      ],
      destinationRules: [
        destinationRule('reviews', {
          host: 'reviews',
          trafficPolicy: {
            loadBalancer: { simple: 'ROUND_ROBIN' },
            connectionPool: { http: { http1MaxPendingRequests: 100 } },
          },
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } },
            { name: 'v3', labels: { version: 'v3' } },
          ],
        }),
        destinationRule('echo', {
          host: 'echo',
          trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } },
        }),
      ],
      gateways: [
        gateway('bookinfo-gateway', {
          selector: { istio: 'ingressgateway' },
          servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
        }),
      ],
    },
    version,
  );
}
