/** decodeRouteConfiguration's NACKs: the resource, the field path, and why. */
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { decodeRouteConfiguration } from '../../../src/proxy/config/index.js';
import { FAULT_TYPE, rejected, ROUTE_CONFIGURATION, TYPE, TYPED_STRUCT } from './helpers.js';

function config(routes: ProtoObject[]): ProtoObject {
  return { name: 'rc', virtual_hosts: [{ name: 'vh', domains: ['*'], routes }] };
}

void describe('decodeRouteConfiguration rejects', () => {
  void it('NACKs with the resource and the field', () => {
    const cases: [ProtoObject, string][] = [
      [
        config([{ match: { safe_regex: { regex: '/a(' } }, route: { cluster: 'c' } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex "/a(": Invalid regular expression: /^(?:/a()$/: Unterminated group',
      ],
      [
        config([{ match: { safe_regex: { regex: '/(?=x)' } }, route: { cluster: 'c' } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex "/(?=x)": lookaround is not RE2 syntax',
      ],
      [
        config([{ match: { prefix: '/' }, route: { cluster_header: 'x-cluster' } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].route.cluster_header: not supported by the sidecar',
      ],
      [
        config([{ match: { prefix: '/' }, route: { timeout: {} } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].route: no destination: cluster or weighted_clusters is required',
      ],
      [
        config([{ match: { prefix: '/' } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0]: no action (route, redirect or direct_response)',
      ],
      [config([{ route: { cluster: 'c' } }]), 'RouteConfiguration "rc": virtual_hosts[0].routes[0].match: required'],
      [
        config([{ match: {}, route: { cluster: 'c' } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].match: no path specifier (prefix, path, safe_regex, path_separated_prefix or connect_matcher)',
      ],
      [
        config([{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'a' }] } } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].route.weighted_clusters.clusters: the total weight must be greater than 0',
      ],
      [
        config([
          {
            match: { prefix: '/' },
            route: { cluster: 'c' },
            request_headers_to_add: [{ header: { key: ':path', value: '/' } }],
          },
        ]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].request_headers_to_add[0].header.key: :path may not be modified',
      ],
      [
        config([
          {
            match: { prefix: '/' },
            route: { cluster: 'c' },
            response_headers_to_add: [{ header: { key: 'x-a', value: 'one\r\nset-cookie: injected=1' } }],
          },
        ]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].response_headers_to_add[0].header.value: may not contain CR, LF or NUL',
      ],
      [
        config([
          {
            match: { prefix: '/' },
            route: { cluster: 'c' },
            request_headers_to_add: [{ header: { key: 'x a', value: 'v' } }],
          },
        ]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].request_headers_to_add[0].header.key: "x a" is not a valid header name',
      ],
      [
        config([
          {
            match: { prefix: '/' },
            route: {
              cluster: 'c',
              retry_policy: {
                retry_host_predicate: [
                  {
                    name: 'envoy.retry_host_predicates.canary',
                    typed_config: { '@type': TYPED_STRUCT, type_url: `${TYPE}x.Canary` },
                  },
                ],
              },
            },
          },
        ]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].route.retry_policy.retry_host_predicate[0]: retry host predicate x.Canary is not supported (previous_hosts, omit_canary_hosts)',
      ],
      [
        config([
          {
            match: { prefix: '/' },
            route: { cluster: 'c' },
            typed_per_filter_config: {
              'envoy.filters.http.cors': { '@type': `${TYPE}envoy.extensions.filters.http.cors.v3.CorsPolicy` },
            },
          },
        ]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].typed_per_filter_config["envoy.filters.http.cors"]: per-route config envoy.extensions.filters.http.cors.v3.CorsPolicy is not supported (only envoy.extensions.filters.http.fault.v3.HTTPFault)',
      ],
      [
        config([
          { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'x'.repeat(5000) } } },
        ]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].direct_response.body: 5000 bytes exceed max_direct_response_body_size_bytes (4096)',
      ],
      [
        config([{ match: { prefix: '/' }, direct_response: { status: 99 } }]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].direct_response.status: 99 is not an HTTP status in [200, 600)',
      ],
      [
        config([
          {
            match: { prefix: '/' },
            route: { cluster: 'c' },
            typed_per_filter_config: {
              'envoy.filters.http.fault': { '@type': FAULT_TYPE, abort: { percentage: { numerator: 1 } } },
            },
          },
        ]),
        'RouteConfiguration "rc": virtual_hosts[0].routes[0].typed_per_filter_config["envoy.filters.http.fault"].abort.http_status: unset is not an HTTP status in [200, 600)',
      ],
      [
        {
          name: 'rc',
          virtual_hosts: [
            { name: 'a', domains: ['x', '*'] },
            { name: 'b', domains: ['X'] },
          ],
        },
        'RouteConfiguration "rc": virtual_hosts[1].domains: domain x is also in virtual host a; domains must be unique',
      ],
      [
        { name: 'rc', virtual_hosts: [{ name: 'a' }] },
        'RouteConfiguration "rc": virtual_hosts[0].domains: at least one domain is required',
      ],
      [
        { name: 'rc', vhds: { config_source: { ads: {} } } },
        'RouteConfiguration "rc": vhds: not supported by the sidecar',
      ],
    ];
    for (const [input, error] of cases) rejected(decodeRouteConfiguration, ROUTE_CONFIGURATION, input, error);
  });
});
