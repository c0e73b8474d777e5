/** Shared by the route tests: reviews (subsets v1, v2) and ratings, and the routes of reviews:9080. */
import type { DestinationRule } from '../../../src/api/kinds/destination-rule.js';
import type { HTTPRoute } from '../../../src/api/kinds/http-route.js';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { ROUTE_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { translate } from '../../../src/control/xds/translate/index.js';
import {
  assertEncodes,
  destinationRule,
  endpoint,
  find,
  port,
  service,
  sidecar,
  view,
  virtualService,
} from './fixtures.js';

export const reviews = service(
  'reviews',
  [port(9080)],
  [endpoint('127.1.0.11', [9080], { labels: { version: 'v1' } })],
);
export const ratings = service('ratings', [port(9080), port(9081, 'HTTP', 'http-admin')], []);
export const HOST = 'reviews.default.svc.cluster.local';
export const ZERO = { seconds: 0, nanos: 0 };
export const SUBSETS = destinationRule('reviews', {
  host: 'reviews',
  subsets: [
    { name: 'v1', labels: { version: 'v1' } },
    { name: 'v2', labels: { version: 'v2' } },
  ],
});

/** The routes of reviews:9080 for one VirtualService with these http routes. */
export function routes(
  http: HTTPRoute[],
  rules: DestinationRule[] = [SUBSETS],
): { routes: ProtoObject[]; warnings: string[] } {
  const v = view([reviews, ratings], {
    virtualServices: [virtualService('reviews', { hosts: ['reviews'], http })],
    destinationRules: rules,
  });
  const { resources, warnings } = translate(v, sidecar());
  assertEncodes(resources);
  const config = find(resources, ROUTE_TYPE_URL, 'outbound') as {
    virtual_hosts: { name: string; routes: ProtoObject[] }[];
  };
  return { routes: config.virtual_hosts.find((vh) => vh.name === `${HOST}:9080`)!.routes, warnings };
}

export const to = (host: string, subset?: string, portNumber?: number) => ({
  destination: { host, ...(subset ? { subset } : {}), ...(portNumber ? { port: { number: portNumber } } : {}) },
});
