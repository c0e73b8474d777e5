/** Route policies from VirtualServices and DestinationRules: faults, mirrors, header operations, hash policies. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOST, reviews, routes, to, ZERO } from './route-fixtures.js';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { ROUTE_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { translate } from '../../../src/control/xds/translate/index.js';
import { DEFAULT_RETRY, destinationRule, find, sidecar, view } from './fixtures.js';

void describe('route policies', () => {
  void it('fault injection: per-route HTTPFault, percentages per million, an unset percentage is 0% and reported', () => {
    const { routes: out, warnings } = routes([
      {
        match: [{ uri: { prefix: '/slow' } }],
        fault: {
          delay: { fixedDelay: '2s', percentage: { value: 12.5 } },
          abort: { httpStatus: 503, percentage: { value: 0.1 } },
        },
        route: [to('reviews')],
      },
      { fault: { abort: { grpcStatus: 'UNAVAILABLE' } }, route: [to('reviews')] },
    ]);
    assert.deepEqual(out[0]!.typed_per_filter_config, {
      'envoy.filters.http.fault': {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        delay: { fixed_delay: { seconds: 2, nanos: 0 }, percentage: { numerator: 125_000, denominator: 'MILLION' } },
        abort: { percentage: { numerator: 1000, denominator: 'MILLION' }, http_status: 503 },
      },
    });
    assert.deepEqual(out[1]!.typed_per_filter_config, {
      'envoy.filters.http.fault': {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        abort: { percentage: { numerator: 0, denominator: 'MILLION' }, grpc_status: 14 },
      },
    });
    assert.deepEqual(warnings, [
      'VirtualService default/reviews: spec.http[1].fault.abort.percentage: no percentage: Istio injects this fault into no request (set value: 100)',
    ]);
  });

  void it('mirror with percentage, mirrors (100% by default, 0% dropped)', () => {
    const { routes: out } = routes([
      {
        match: [{ uri: { prefix: '/a' } }],
        mirror: { host: 'ratings' },
        mirrorPercentage: { value: 25 },
        route: [to('reviews')],
      },
      {
        mirrors: [
          { destination: { host: 'ratings', port: { number: 9081 } } },
          { destination: { host: 'reviews', subset: 'v2' }, percentage: { value: 0 } },
        ],
        route: [to('reviews')],
      },
    ]);
    assert.deepEqual((out[0]!.route as ProtoObject).request_mirror_policies, [
      {
        cluster: 'outbound|9080||ratings.default.svc.cluster.local',
        runtime_fraction: { default_value: { numerator: 250_000, denominator: 'MILLION' } },
      },
    ]);
    assert.deepEqual((out[1]!.route as ProtoObject).request_mirror_policies, [
      {
        cluster: 'outbound|9081||ratings.default.svc.cluster.local',
        runtime_fraction: { default_value: { numerator: 1_000_000, denominator: 'MILLION' } },
      },
    ]);
  });

  void it('headers: route level set/add/remove; host via set becomes a host rewrite; protected headers are reported', () => {
    const { routes: out, warnings } = routes([
      {
        headers: {
          request: {
            set: { 'x-b': 'b', 'x-a': 'a', ':authority': 'backend' },
            add: { 'x-c': 'c' },
            remove: ['x-drop', 'host'],
          },
          response: { set: { 'cache-control': 'no-store' }, add: { ':status': '200' }, remove: ['x-internal'] },
        },
        route: [{ ...to('reviews'), headers: { request: { add: { 'x-dest': 'd' } } } }],
      },
    ]);
    const { name: _n, match: _m, metadata: _md, ...rest } = out[0]!;
    assert.deepEqual(rest, {
      route: {
        cluster: `outbound|9080||${HOST}`,
        timeout: ZERO,
        retry_policy: DEFAULT_RETRY,
        host_rewrite_literal: 'backend',
      },
      request_headers_to_add: [
        { header: { key: 'x-a', value: 'a' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        { header: { key: 'x-b', value: 'b' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        { header: { key: 'x-c', value: 'c' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
        { header: { key: 'x-dest', value: 'd' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
      ],
      request_headers_to_remove: ['x-drop'],
      response_headers_to_add: [
        { header: { key: 'cache-control', value: 'no-store' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      ],
      response_headers_to_remove: ['x-internal'],
    });
    assert.deepEqual(warnings, [
      'VirtualService default/reviews: spec.http[0].headers.request.remove: Envoy does not let host be removed; ignored',
      'VirtualService default/reviews: spec.http[0].headers.response.add.:status: Envoy does not let this header be modified; ignored',
    ]);
  });

  void it('consistent hash of the destination’s DestinationRule becomes the route hash_policy', () => {
    const hashed = (consistentHash: Record<string, unknown>) =>
      routes(
        [{ route: [to('reviews', 'v1')] }],
        [
          destinationRule('reviews', {
            host: 'reviews',
            subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { consistentHash } } }],
          }),
        ],
      ).routes[0]!.route as ProtoObject;
    assert.deepEqual(hashed({ httpHeaderName: 'x-user' }).hash_policy, [{ header: { header_name: 'x-user' } }]);
    assert.deepEqual(hashed({ httpCookie: { name: 'session', ttl: '1h', path: '/' } }).hash_policy, [
      { cookie: { name: 'session', ttl: { seconds: 3600, nanos: 0 }, path: '/' } },
    ]);
    assert.deepEqual(hashed({ useSourceIp: true }).hash_policy, [{ connection_properties: { source_ip: true } }]);
    assert.deepEqual(hashed({ httpQueryParameterName: 'user' }).hash_policy, [{ query_parameter: { name: 'user' } }]);
    // The default route of a service with a hashing rule hashes too.
    const v = view([reviews], {
      destinationRules: [
        destinationRule('r', {
          host: 'reviews',
          trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true } } },
        }),
      ],
    });
    const config = find(translate(v, sidecar()).resources, ROUTE_TYPE_URL, 'outbound') as {
      virtual_hosts: { routes: { route: ProtoObject }[] }[];
    };
    assert.deepEqual(config.virtual_hosts[0]!.routes[0]!.route.hash_policy, [
      { connection_properties: { source_ip: true } },
    ]);
  });
});
