/** VirtualService: Istio documentation samples, every route kind, and the rules Istio's validation enforces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValid, checkCases, doc, errorsOf } from './helpers.js';

const VS = 'networking.istio.io/v1';
const reviews = (subset: string, weight?: number): unknown => ({
  destination: { host: 'reviews', subset },
  ...(weight === undefined ? {} : { weight }),
});

void test('bookinfo samples are valid at every served version', () => {
  const samples: unknown[] = [
    // reviews: jason sees v2, everyone else v3 (virtual-service-reviews-jason-v2-v3)
    {
      hosts: ['reviews'],
      http: [
        { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [reviews('v2')] },
        { route: [reviews('v3')] },
      ],
    },
    // reviews: 50/50 between v1 and v3
    { hosts: ['reviews'], http: [{ route: [reviews('v1', 50), reviews('v3', 50)] }] },
    // ratings: a 7s delay for jason (fault injection task)
    {
      hosts: ['ratings'],
      http: [
        {
          match: [{ headers: { 'end-user': { exact: 'jason' } } }],
          fault: { delay: { percentage: { value: 100.0 }, fixedDelay: '7s' } },
          route: [{ destination: { host: 'ratings', subset: 'v1' } }],
        },
        { route: [{ destination: { host: 'ratings', subset: 'v1' } }] },
      ],
    },
    // ratings: abort with 500 for jason
    {
      hosts: ['ratings'],
      http: [
        {
          match: [{ headers: { 'end-user': { exact: 'jason' } } }],
          fault: { abort: { percentage: { value: 100.0 }, httpStatus: 500 } },
          route: [{ destination: { host: 'ratings', subset: 'v1' } }],
        },
      ],
    },
    // the ingress route for productpage through bookinfo-gateway
    {
      hosts: ['*'],
      gateways: ['bookinfo-gateway'],
      http: [
        {
          match: [
            { uri: { exact: '/productpage' } },
            { uri: { prefix: '/static' } },
            { uri: { exact: '/login' } },
            { uri: { exact: '/logout' } },
            { uri: { prefix: '/api/v1/products' } },
          ],
          route: [{ destination: { host: 'productpage', port: { number: 9080 } } }],
        },
      ],
    },
    // request timeouts and retries
    {
      hosts: ['ratings'],
      http: [
        {
          route: [{ destination: { host: 'ratings', subset: 'v1' } }],
          timeout: '10s',
          retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,refused-stream' },
        },
      ],
    },
    // mirroring 100% of httpbin v1 traffic to v2
    {
      hosts: ['httpbin'],
      http: [
        {
          route: [{ destination: { host: 'httpbin', subset: 'v1' }, weight: 100 }],
          mirror: { host: 'httpbin', subset: 'v2' },
          mirrorPercentage: { value: 100.0 },
        },
      ],
    },
    // TCP: mongo on 27017 to a backup server on 5555
    {
      hosts: ['mongo.prod.svc.cluster.local'],
      tcp: [
        {
          match: [{ port: 27017 }],
          route: [{ destination: { host: 'mongo.backup.svc.cluster.local', port: { number: 5555 } } }],
        },
      ],
    },
    // TLS passthrough by SNI through a gateway
    {
      hosts: ['*.bookinfo.com'],
      gateways: ['mygateway'],
      tls: [
        {
          match: [{ port: 443, sniHosts: ['login.bookinfo.com'] }],
          route: [{ destination: { host: 'login.prod.svc.cluster.local' } }],
        },
      ],
    },
    // rewrite, header manipulation, redirect and a direct response
    {
      hosts: ['reviews.prod.svc.cluster.local'],
      http: [
        {
          name: 'reviews-v2-routes',
          match: [{ uri: { prefix: '/wpcatalog' } }, { uri: { prefix: '/consumercatalog' } }],
          rewrite: { uri: '/newcatalog' },
          headers: { request: { set: { test: 'true' } }, response: { remove: ['foo'] } },
          route: [{ destination: { host: 'reviews.prod.svc.cluster.local', subset: 'v2' } }],
        },
        {
          match: [{ uri: { exact: '/v1/getProductRatings' } }],
          redirect: { uri: '/v1/bookRatings', authority: 'newratings.default.svc.cluster.local' },
        },
        {
          match: [{ uri: { regex: '^/old/(.*)$' } }],
          rewrite: { uriRegexRewrite: { match: '^/old/(.*)$', rewrite: '/new/\\1' } },
          route: [reviews('v1')],
        },
        { directResponse: { status: 503, body: { string: 'unavailable' } } },
      ],
    },
  ];
  for (const version of ['v1', 'v1beta1', 'v1alpha3']) {
    for (const spec of samples) assertValid(doc(`networking.istio.io/${version}`, 'VirtualService', spec));
  }
});

void test('invalid VirtualServices name the field and what is expected', () => {
  const route = (extra: Record<string, unknown>): unknown => ({
    hosts: ['reviews'],
    http: [{ route: [reviews('v1')], ...extra }],
  });
  checkCases(VS, 'VirtualService', [
    {
      name: 'weight out of range',
      spec: { hosts: ['reviews'], http: [{ route: [reviews('v1', 50), reviews('v2', 150)] }] },
      errors: ['spec.http[0].route[1].weight: must be an integer between 0 and 100'],
    },
    {
      name: 'weights not summing to 100',
      spec: { hosts: ['reviews'], http: [{ route: [reviews('v1', 30), reviews('v2', 60)] }] },
      errors: ['spec.http[0].route: weights must sum to 100, got 90'],
    },
    {
      name: 'a weight given for one destination only',
      spec: { hosts: ['reviews'], http: [{ route: [reviews('v1', 80), reviews('v2')] }] },
      errors: ['spec.http[0].route: weights must sum to 100, got 80'],
    },
    {
      name: 'two destinations without weights',
      spec: { hosts: ['reviews'], http: [{ route: [reviews('v1'), reviews('v2')] }] },
      errors: ['spec.http[0].route: weights must sum to 100, got 0 (set a weight on each destination)'],
    },
    {
      name: 'one destination with a partial weight',
      spec: { hosts: ['reviews'], http: [{ route: [reviews('v1', 50)] }] },
      errors: ['spec.http[0].route: weights must sum to 100, got 50'],
    },
    {
      name: 'a fractional weight',
      spec: { hosts: ['reviews'], http: [{ route: [reviews('v1', 50.5), reviews('v2', 49.5)] }] },
      errors: [
        'spec.http[0].route[0].weight: must be an integer between 0 and 100',
        'spec.http[0].route[1].weight: must be an integer between 0 and 100',
      ],
    },
    {
      name: 'corsPolicy',
      spec: route({ corsPolicy: { allowOrigins: [{ exact: 'https://example.com' }] } }),
      errors: ['spec.http[0].corsPolicy: not supported'],
    },
    {
      name: 'delegate',
      spec: { hosts: ['reviews'], http: [{ delegate: { name: 'reviews', namespace: 'nsb' } }] },
      errors: [
        'spec.http[0].delegate: not supported',
        'spec.http[0]: must set one of: route, redirect, directResponse',
      ],
    },
    {
      name: 'a misspelled field',
      spec: { hosts: ['reviews'], http: [{ routes: [reviews('v1')] }] },
      errors: ['spec.http[0].routes: unknown field', 'spec.http[0]: must set one of: route, redirect, directResponse'],
    },
    {
      name: 'route and redirect together',
      spec: route({ redirect: { uri: '/x' } }),
      errors: ['spec.http[0]: must set only one of: route, redirect, directResponse (got route, redirect)'],
    },
    {
      name: 'rewrite with redirect',
      spec: { hosts: ['reviews'], http: [{ redirect: { uri: '/x' }, rewrite: { uri: '/y' } }] },
      errors: ['spec.http[0].rewrite: cannot be used with redirect'],
    },
    {
      name: 'two StringMatch forms',
      spec: route({ match: [{ uri: { exact: '/a', prefix: '/a' } }] }),
      errors: ['spec.http[0].match[0].uri: must set only one of: exact, prefix, regex (got exact, prefix)'],
    },
    {
      name: 'an empty StringMatch',
      spec: route({ match: [{ method: {} }] }),
      errors: ['spec.http[0].match[0].method: must set one of: exact, prefix, regex'],
    },
    {
      name: 'an upper-case header name',
      spec: route({ match: [{ headers: { 'End-User': { exact: 'jason' } } }] }),
      errors: ['spec.http[0].match[0].headers.End-User: invalid key: header names must be lower-case'],
    },
    {
      name: 'a query parameter prefix',
      spec: route({ match: [{ queryParams: { v: { prefix: '1' } } }] }),
      errors: [
        'spec.http[0].match[0].queryParams.v.prefix: not supported',
        'spec.http[0].match[0].queryParams.v: must set one of: exact, regex',
      ],
    },
    {
      name: 'a bad duration',
      spec: route({ timeout: '1x' }),
      errors: ['spec.http[0].timeout: must be a duration such as "1.5s", "100ms", "2m" or "1h"'],
    },
    {
      name: 'a negative duration',
      spec: route({ timeout: '-1s' }),
      errors: ['spec.http[0].timeout: must be a duration such as "1.5s", "100ms", "2m" or "1h"'],
    },
    {
      name: 'a number for a duration',
      spec: route({ timeout: 5 }),
      errors: ['spec.http[0].timeout: must be a duration such as "1.5s", "100ms", "2m" or "1h"'],
    },
    {
      name: 'retries without attempts',
      spec: route({ retries: { perTryTimeout: '2s' } }),
      errors: ['spec.http[0].retries.attempts: required'],
    },
    { name: 'an empty fault', spec: route({ fault: {} }), errors: ['spec.http[0].fault: must set delay or abort'] },
    {
      name: 'an abort with two codes and a bad percentage',
      spec: route({ fault: { abort: { httpStatus: 500, grpcStatus: 'UNAVAILABLE', percentage: { value: 101 } } } }),
      errors: [
        'spec.http[0].fault.abort.percentage.value: must be a number between 0 and 100',
        'spec.http[0].fault.abort: must set only one of: httpStatus, grpcStatus (got httpStatus, grpcStatus)',
      ],
    },
    {
      name: 'mirror and mirrors',
      spec: route({ mirror: { host: 'a' }, mirrors: [{ destination: { host: 'b' }, percentage: { value: 150 } }] }),
      errors: [
        'spec.http[0].mirrors: cannot be used with mirror',
        'spec.http[0].mirrors[0].percentage.value: must be a number between 0 and 100',
      ],
    },
    {
      name: 'mirrorPercentage without mirror',
      spec: route({ mirrorPercentage: { value: 10 } }),
      errors: ['spec.http[0].mirrorPercentage: requires mirror'],
    },
    {
      name: 'a redirect code',
      spec: { hosts: ['a'], http: [{ redirect: { uri: '/', redirectCode: 200 } }] },
      errors: ['spec.http[0].redirect.redirectCode: must be one of: 301, 302, 303, 307, 308'],
    },
    {
      name: 'a direct response status',
      spec: { hosts: ['a'], http: [{ directResponse: { status: 99 } }] },
      errors: ['spec.http[0].directResponse.status: must be an integer between 200 and 599'],
    },
    {
      name: 'a bad destination',
      spec: {
        hosts: ['a'],
        http: [{ route: [{ destination: { host: 'Bad_Host', subset: 'V1', port: { number: 0 } } }] }],
      },
      errors: [
        'spec.http[0].route[0].destination.host: invalid host "Bad_Host": must be an FQDN or a short name',
        'spec.http[0].route[0].destination.port.number: must be an integer between 1 and 65535',
        'spec.http[0].route[0].destination.subset: must be a DNS-1123 label: at most 63 lower-case alphanumerics or "-", starting and ending with an alphanumeric',
      ],
    },
    {
      name: 'a destination without host',
      spec: { hosts: ['a'], http: [{ route: [{ destination: {} }] }] },
      errors: ['spec.http[0].route[0].destination.host: required'],
    },
    {
      name: 'no hosts and no routes',
      spec: {},
      errors: ['spec.hosts: required', 'spec: must set at least one of: http, tls, tcp'],
    },
    {
      name: 'empty hosts',
      spec: { hosts: [], tcp: [{ route: [reviews('v1')] }] },
      errors: ['spec.hosts: must have at least 1 item'],
    },
    {
      name: 'bad hosts and gateways',
      spec: {
        hosts: ['*.example.com', 'a..b', '10.0.0.1'],
        gateways: ['mesh', 'istio-system/gw', 'a/b/c'],
        http: [{ route: [reviews('v1')] }],
      },
      errors: [
        'spec.gateways[2]: must be "mesh", a gateway name, or "<namespace>/<gateway name>"',
        'spec.hosts[1]: invalid host "a..b": must be an FQDN, a short name, "*.example.com", "*" or an IP address',
      ],
    },
    {
      name: 'TCP weights',
      spec: { hosts: ['db'], tcp: [{ route: [reviews('v1', 10), reviews('v2', 10)] }] },
      errors: ['spec.tcp[0].route: weights must sum to 100, got 20'],
    },
    {
      name: 'TLS route without sniHosts',
      spec: { hosts: ['a.com'], tls: [{ match: [{ port: 443 }], route: [{ destination: { host: 'a' } }] }] },
      errors: ['spec.tls[0].match[0].sniHosts: required'],
    },
    {
      name: 'exportTo',
      spec: { hosts: ['a'], exportTo: ['.', 'Bad'], tcp: [{ route: [reviews('v1')] }] },
      errors: ['spec.exportTo[1]: must be ".", "*", "~" or a namespace name'],
    },
    {
      name: 'a list where an object belongs',
      spec: { hosts: ['a'], http: { route: [] } },
      errors: ['spec.http: must be a list, got an object', 'spec: must set at least one of: http, tls, tcp'],
    },
  ]);
});

void test('an invalid regular expression is reported with the compiler message', () => {
  const errors = errorsOf(
    doc(VS, 'VirtualService', { hosts: ['a'], http: [{ match: [{ uri: { regex: '(' } }], route: [reviews('v1')] }] }),
  );
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^spec\.http\[0\]\.match\[0\]\.uri\.regex: invalid regular expression: .*/);
});

void test('RE2 flag groups are accepted', () => {
  assertValid(
    doc(VS, 'VirtualService', {
      hosts: ['a'],
      http: [{ match: [{ uri: { regex: '(?i)/API/.*' } }], route: [reviews('v1')] }],
    }),
  );
});
