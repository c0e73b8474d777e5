/**
 * decodeRouteConfiguration: every route feature the control plane writes, decoded exactly (defaults filled in,
 * durations in ms, weights cumulative, mutations merged in Envoy's order), and precise NACKs for the rest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { toStruct } from '../../../src/control/xds/well-known.js';
import { decodeRouteConfiguration, type RouteTable } from '../../../src/proxy/config/index.js';
import { parseHashPolicies } from '../../../src/proxy/lb/hash-policy.js';
import { decoded, plain, ROUTE_CONFIGURATION, TYPE, TYPED_STRUCT } from './helpers.js';

const PREVIOUS_HOSTS = {
  name: 'envoy.retry_host_predicates.previous_hosts',
  typed_config: {
    '@type': TYPED_STRUCT,
    type_url: `${TYPE}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate`,
  },
};
const NO_MUTATIONS = { add: [], remove: [] };
const ROUTE_DEFAULTS = {
  timeoutMs: 15_000,
  maxStreamDurationMs: 0,
  autoHostRewrite: false,
  mirrors: [],
  hashPolicy: [],
  upgrades: [],
};
const MATCH_ALL = {
  path: { kind: 'prefix', value: '/', caseSensitive: true },
  headers: [],
  queryParameters: [],
  grpc: false,
  fractionPerMillion: 1_000_000,
};

function config(routes: ProtoObject[], host: ProtoObject = {}, top: ProtoObject = {}): ProtoObject {
  return { name: 'rc', virtual_hosts: [{ name: 'vh', domains: ['*'], routes, ...host }], ...top };
}

function only(table: RouteTable) {
  return table.virtualHosts[0]!.routes[0]!;
}

void describe('decodeRouteConfiguration', () => {
  void it('forwards: cluster, weighted clusters (cumulative), timeouts, rewrites, retry, mirrors, hash policies', () => {
    const table = decoded(decodeRouteConfiguration, ROUTE_CONFIGURATION, {
      name: 'outbound',
      virtual_hosts: [
        {
          name: 'reviews:9080',
          domains: ['Reviews', 'reviews:9080'],
          routes: [
            {
              name: 'split',
              match: { prefix: '/api', case_sensitive: { value: false } },
              route: {
                weighted_clusters: {
                  clusters: [
                    { name: 'v1', weight: { value: 20 } },
                    {
                      name: 'v2',
                      weight: { value: 80 },
                      request_headers_to_add: [{ header: { key: 'X-V', value: '2' } }],
                      host_rewrite_literal: 'v2.internal',
                    },
                  ],
                },
                timeout: { seconds: 10 },
                prefix_rewrite: '/v1/api',
                retry_policy: {
                  retry_on: '5xx,retriable-status-codes,bogus',
                  num_retries: { value: 3 },
                  per_try_timeout: { seconds: 2 },
                  retriable_status_codes: [503],
                  retry_host_predicate: [PREVIOUS_HOSTS],
                  host_selection_retry_max_attempts: 5,
                  retry_back_off: { base_interval: { nanos: 100_000_000 } },
                  retry_priority: {
                    name: 'envoy.retry_priorities.previous_priorities',
                    typed_config: {
                      '@type': TYPED_STRUCT,
                      type_url: `${TYPE}envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig`,
                      value: toStruct({ update_frequency: 4 }),
                    },
                  },
                },
                request_mirror_policies: [
                  { cluster: 'shadow', runtime_fraction: { default_value: { numerator: 25, denominator: 'HUNDRED' } } },
                  { cluster: 'all' },
                ],
                hash_policy: [
                  { header: { header_name: 'x-user' } },
                  { cookie: { name: 'sticky', ttl: { seconds: 60 }, path: '/' }, terminal: true },
                  { connection_properties: { source_ip: true } },
                  { query_parameter: { name: 'u' } },
                ],
              },
              metadata: {
                filter_metadata: {
                  istio: toStruct({
                    config: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews',
                  }),
                },
              },
            },
            {
              name: 'connect',
              match: { connect_matcher: {} },
              route: {
                cluster: 'tcp',
                timeout: {},
                upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
              },
            },
          ],
        },
      ],
    });
    const [split, connect] = table.virtualHosts[0]!.routes;
    assert.deepEqual(table.virtualHosts[0]!.domains, ['reviews', 'reviews:9080']);
    assert.deepEqual(plain(split), {
      name: 'split',
      match: { ...MATCH_ALL, path: { kind: 'prefix', value: '/api', caseSensitive: false } },
      action: {
        ...ROUTE_DEFAULTS,
        type: 'weighted_clusters',
        weightedClusters: {
          clusters: [
            { name: 'v1', weight: 20, requestHeaders: NO_MUTATIONS, responseHeaders: NO_MUTATIONS },
            {
              name: 'v2',
              weight: 80,
              requestHeaders: {
                add: [{ name: 'x-v', value: '2', action: 'APPEND_IF_EXISTS_OR_ADD', keepEmptyValue: false }],
                remove: [],
              },
              responseHeaders: NO_MUTATIONS,
              hostRewrite: 'v2.internal',
            },
          ],
          cumulative: [20, 100],
          totalWeight: 100,
        },
        timeoutMs: 10_000,
        prefixRewrite: '/v1/api',
        retry: {
          retryOn: ['5xx', 'retriable-status-codes'],
          ignoredRetryOn: ['bogus'],
          numRetries: 3,
          perTryTimeoutMs: 2_000,
          perTryIdleTimeoutMs: 0,
          retriableStatusCodes: [503],
          backOff: { baseIntervalMs: 100, maxIntervalMs: 1_000 },
          previousHosts: true,
          hostSelectionRetryMaxAttempts: 5,
          previousPrioritiesUpdateFrequency: 4,
          retriableHeaders: [],
        },
        mirrors: [
          { cluster: 'shadow', perMillion: 250_000 },
          { cluster: 'all', perMillion: 1_000_000 },
        ],
        hashPolicy: [
          { header: { header_name: 'x-user' }, terminal: false },
          { cookie: { name: 'sticky', ttl: 60_000, path: '/' }, terminal: true },
          { connection_properties: { source_ip: true }, terminal: false },
          { query_parameter: { name: 'u' }, terminal: false },
        ],
      },
      requestHeaders: NO_MUTATIONS,
      responseHeaders: NO_MUTATIONS,
      istioConfig: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews',
      metadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews' } },
    });
    assert.deepEqual(plain(connect!.match.path), { kind: 'connect' });
    assert.deepEqual(plain(connect!.action), {
      ...ROUTE_DEFAULTS,
      type: 'cluster',
      cluster: 'tcp',
      timeoutMs: 0,
      upgrades: ['connect'],
    });
  });

  void it('hands hash policies to src/proxy/lb in a shape it reads', () => {
    const table = decoded(decodeRouteConfiguration, ROUTE_CONFIGURATION, {
      name: 'rc',
      virtual_hosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [
            {
              match: { prefix: '/' },
              route: {
                cluster: 'c',
                hash_policy: [
                  { header: { header_name: 'x-user' } },
                  { cookie: { name: 'sticky', ttl: { seconds: 60 } }, terminal: true },
                  { connection_properties: { source_ip: true } },
                  { query_parameter: { name: 'u' } },
                ],
              },
            },
          ],
        },
      ],
    });
    const action = table.virtualHosts[0]!.routes[0]!.action;
    assert.ok(action.type === 'cluster');
    assert.deepEqual(parseHashPolicies(action.hashPolicy), {
      ok: true,
      value: [
        { kind: 'header', name: 'x-user', terminal: false },
        { kind: 'cookie', name: 'sticky', ttlMs: 60_000, path: undefined, terminal: true },
        { kind: 'source_ip', terminal: false },
        { kind: 'query_parameter', name: 'u', terminal: false },
      ],
    });
  });

  void it('matches: exact, regex (anchored), headers, query parameters, grpc, runtime fraction', () => {
    const route = only(
      decoded(
        decodeRouteConfiguration,
        ROUTE_CONFIGURATION,
        config([
          {
            match: {
              safe_regex: { regex: '(?i)/item/(?P<id>[0-9]+)' },
              headers: [
                { name: 'End-User', string_match: { exact: 'jason' } },
                { name: 'x-debug', present_match: true, invert_match: true },
                { name: 'x-ver', string_match: { prefix: 'V', ignore_case: true } },
                { name: 'x-n', range_match: { start: 1, end: 10 } },
              ],
              query_parameters: [
                { name: 'q', string_match: { safe_regex: { regex: 'a|b' } } },
                { name: 'p', present_match: true },
              ],
              grpc: {},
              runtime_fraction: { default_value: { numerator: 50, denominator: 'HUNDRED' }, runtime_key: 'k' },
            },
            route: { cluster: 'c' },
          },
        ]),
      ),
    );
    assert.deepEqual(plain(route.match), {
      path: { kind: 'regex', regex: '/^(?:\\/item\\/(?<id>[0-9]+))$/i', source: '(?i)/item/(?P<id>[0-9]+)' },
      headers: [
        {
          name: 'end-user',
          match: { kind: 'string', matcher: { kind: 'exact', value: 'jason', ignoreCase: false } },
          invert: false,
          treatMissingAsEmpty: false,
        },
        { name: 'x-debug', match: { kind: 'present', present: true }, invert: true, treatMissingAsEmpty: false },
        {
          name: 'x-ver',
          match: { kind: 'string', matcher: { kind: 'prefix', value: 'v', ignoreCase: true } },
          invert: false,
          treatMissingAsEmpty: false,
        },
        { name: 'x-n', match: { kind: 'range', start: 1, end: 10 }, invert: false, treatMissingAsEmpty: false },
      ],
      queryParameters: [
        {
          name: 'q',
          match: { kind: 'string', matcher: { kind: 'regex', value: 'a|b', ignoreCase: false, regex: '/^(?:a|b)$/' } },
        },
        { name: 'p', match: { kind: 'present', present: true } },
      ],
      grpc: true,
      fractionPerMillion: 500_000,
    });
  });

  void it('redirects and direct responses', () => {
    const table = decoded(
      decodeRouteConfiguration,
      ROUTE_CONFIGURATION,
      config([
        {
          match: { path: '/old' },
          redirect: {
            host_redirect: 'new.example.com',
            path_redirect: '/new',
            port_redirect: 8443,
            https_redirect: true,
            response_code: 'PERMANENT_REDIRECT',
            strip_query: true,
          },
        },
        {
          match: { path: '/moved' },
          redirect: { regex_rewrite: { pattern: { regex: '^/moved/(.*)$' }, substitution: '/here/\\1$' } },
        },
        { match: { prefix: '/' }, direct_response: { status: 418, body: { inline_string: "I'm a teapot" } } },
      ]),
    );
    const [redirect, rewrite, direct] = table.virtualHosts[0]!.routes;
    assert.deepEqual(plain(redirect!.action), {
      type: 'redirect',
      scheme: 'https',
      host: 'new.example.com',
      port: 8443,
      path: '/new',
      responseCode: 308,
      stripQuery: true,
    });
    assert.equal(redirect!.match.path.kind, 'exact');
    assert.deepEqual(plain(rewrite!.action), {
      type: 'redirect',
      regexRewrite: { regex: '/^\\/moved\\/(.*)$/g', substitution: '/here/$1$$' },
      responseCode: 301,
      stripQuery: false,
    });
    const action = rewrite!.action;
    assert.ok(action.type === 'redirect' && action.regexRewrite !== undefined);
    assert.equal('/moved/a/b'.replace(action.regexRewrite.regex, action.regexRewrite.substitution), '/here/a/b$');
    assert.deepEqual(plain(direct!.action), { type: 'direct_response', status: 418, body: "I'm a teapot" });
  });

  void it('indexes domains the way Envoy selects virtual hosts', () => {
    const table = decoded(decodeRouteConfiguration, ROUTE_CONFIGURATION, {
      name: 'rc',
      virtual_hosts: [
        { name: 'a', domains: ['a.example.com'], routes: [] },
        { name: 'short', domains: ['*.com'], routes: [] },
        { name: 'long', domains: ['*.example.com', 'api.*'], routes: [] },
        { name: 'any', domains: ['*'], routes: [] },
      ],
    });
    assert.deepEqual(plain(table.domains.suffixes.map((s) => [s.suffix, s.host.name])), [
      ['.example.com', 'long'],
      ['.com', 'short'],
    ]);
    assert.deepEqual(plain(table.domains.prefixes.map((s) => [s.prefix, s.host.name])), [['api.', 'long']]);
    assert.equal(table.domains.exact.get('a.example.com')?.name, 'a');
    assert.equal(table.domains.any?.name, 'any');
  });
});
