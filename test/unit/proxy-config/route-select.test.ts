/** The hot path over a decoded RouteTable: virtual host selection, first-match routing, weighted picks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import {
  decodeRouteConfiguration,
  pickWeightedCluster,
  selectRoute,
  selectVirtualHost,
  type RequestView,
  type RouteTable,
  type WeightedClusters,
} from '../../../src/proxy/config/index.js';
import { decoded, ROUTE_CONFIGURATION } from './helpers.js';

function table(virtualHosts: ProtoObject[]): RouteTable {
  return decoded(decodeRouteConfiguration, ROUTE_CONFIGURATION, { name: 'rc', virtual_hosts: virtualHosts });
}

function request(path: string, headers: Record<string, string> = {}, method = 'GET'): RequestView {
  return { method, path, header: (name) => headers[name] };
}

void describe('selectVirtualHost', () => {
  const t = table([
    { name: 'exact', domains: ['api.example.com', 'reviews:9080'] },
    { name: 'suffix-long', domains: ['*.api.example.com'] },
    { name: 'suffix-short', domains: ['*.example.com', '*-staging.example.org'] },
    { name: 'prefix', domains: ['reviews.*', 'rev*'] },
    { name: 'any', domains: ['*'] },
  ]);
  const cases: [string, string][] = [
    ['api.example.com', 'exact'],
    ['API.Example.COM', 'exact'],
    ['reviews:9080', 'exact'],
    ['v1.api.example.com', 'suffix-long'],
    ['www.example.com', 'suffix-short'],
    ['shop-staging.example.org', 'suffix-short'],
    ['reviews.default', 'prefix'],
    ['revolver', 'prefix'],
    ['reviews:9081', 'prefix'],
    ['.example.com', 'any'], // a wildcard matches at least one character
    ['example.org', 'any'],
  ];
  void it('exact, then the longest suffix wildcard, then the longest prefix wildcard, then *', () => {
    for (const [host, want] of cases) assert.equal(selectVirtualHost(t, host)?.name, want, host);
  });
  void it('no catch-all: undefined (404 NR)', () => {
    assert.equal(selectVirtualHost(table([{ name: 'a', domains: ['a'] }]), 'b'), undefined);
  });
});

void describe('selectRoute', () => {
  const host = table([
    {
      name: 'vh',
      domains: ['*'],
      routes: [
        { name: 'connect', match: { connect_matcher: {} }, route: { cluster: 'tunnel' } },
        { name: 'exact', match: { path: '/health' }, direct_response: { status: 200 } },
        { name: 'sep', match: { path_separated_prefix: '/api' }, route: { cluster: 'api' } },
        { name: 'nocase', match: { prefix: '/Admin', case_sensitive: { value: false } }, route: { cluster: 'admin' } },
        { name: 'regex', match: { safe_regex: { regex: '/item/[0-9]+' } }, route: { cluster: 'item' } },
        {
          name: 'canary',
          match: {
            prefix: '/',
            headers: [
              { name: 'x-canary', string_match: { exact: 'yes' } },
              { name: 'x-block', present_match: true, invert_match: true },
              { name: 'x-not-prod', string_match: { exact: 'prod' }, invert_match: true },
            ],
          },
          route: { cluster: 'canary' },
        },
        {
          name: 'query',
          match: {
            prefix: '/',
            query_parameters: [
              { name: 'debug', string_match: { exact: '1' } },
              { name: 'v', present_match: true },
            ],
          },
          route: { cluster: 'debug' },
        },
        { name: 'grpc', match: { prefix: '/', grpc: {} }, route: { cluster: 'grpc' } },
        {
          name: 'half',
          match: { prefix: '/', runtime_fraction: { default_value: { numerator: 50, denominator: 'HUNDRED' } } },
          route: { cluster: 'half' },
        },
        { name: 'default', match: { prefix: '/' }, route: { cluster: 'default' } },
      ],
    },
  ]).virtualHosts[0]!;
  const route = (r: RequestView, random = () => 0.99): string | undefined => selectRoute(host, r, random)?.name;

  void it('follows Envoy’s match semantics, first match wins', () => {
    assert.equal(route(request('', {}, 'CONNECT')), 'connect');
    assert.equal(route(request('/health')), 'exact');
    assert.equal(route(request('/health?x=1')), 'exact', 'the query string is not part of the path');
    assert.equal(route(request('/healthz')), 'default');
    assert.equal(route(request('/api')), 'sep');
    assert.equal(route(request('/api/v1')), 'sep');
    assert.equal(route(request('/apis')), 'default', 'path_separated_prefix stops at a segment boundary');
    assert.equal(route(request('/ADMIN/users')), 'nocase');
    assert.equal(route(request('/item/42')), 'regex');
    assert.equal(route(request('/item/42/x')), 'default', 'regexes match the whole path');
    assert.equal(route(request('/', { 'x-canary': 'yes' })), 'canary');
    assert.equal(route(request('/', { 'x-canary': 'yes', 'x-not-prod': 'staging' })), 'canary');
    assert.equal(route(request('/', { 'x-canary': 'yes', 'x-block': '' })), 'default');
    assert.equal(route(request('/', { 'x-canary': 'yes', 'x-not-prod': 'prod' })), 'default');
    assert.equal(route(request('/?debug=1&v')), 'query');
    assert.equal(route(request('/?v=1&debug=2')), 'default');
    assert.equal(route(request('/?debug=1&debug=2&v=')), 'query', 'the first value of a parameter counts');
    assert.equal(route(request('/', { 'content-type': 'application/grpc+proto' }, 'POST')), 'grpc');
    assert.equal(
      route(request('/'), () => 0.2),
      'half',
    );
    assert.equal(
      route(request('/'), () => 0.7),
      'default',
    );
  });
});

void describe('pickWeightedCluster', () => {
  const wc: WeightedClusters = {
    clusters: ['a', 'b', 'c'].map((name, i) => ({
      name,
      weight: [10, 0, 30][i]!,
      requestHeaders: { add: [], remove: [] },
      responseHeaders: { add: [], remove: [] },
    })),
    cumulative: [10, 10, 40],
    totalWeight: 40,
  };
  void it('picks by cumulative weight; weight 0 is never picked', () => {
    assert.equal(pickWeightedCluster(wc, () => 0).name, 'a');
    assert.equal(pickWeightedCluster(wc, () => 9.99 / 40).name, 'a');
    assert.equal(pickWeightedCluster(wc, () => 10 / 40).name, 'c');
    assert.equal(pickWeightedCluster(wc, () => 0.999999).name, 'c');
  });
  void it('splits 10,000 random picks 25/75 within 2 points', () => {
    let a = 0;
    for (let i = 0; i < 10_000; i++) if (pickWeightedCluster(wc).name === 'a') a++;
    assert.ok(Math.abs(a / 10_000 - 0.25) < 0.02, `share of a: ${a / 10_000}`);
  });
});
