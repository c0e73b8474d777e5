/**
 * What routes inherit when decoded: the fault of the route, else its virtual host's; header mutations of route,
 * virtual host and route configuration in Envoy's order; a virtual host's retry policy for routes without one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { decodeRouteConfiguration, type ForwardAction } from '../../../src/proxy/config/index.js';
import { decoded, FAULT_TYPE, plain, ROUTE_CONFIGURATION } from './helpers.js';

function config(routes: ProtoObject[], host: ProtoObject = {}, top: ProtoObject = {}): ProtoObject {
  return { name: 'rc', virtual_hosts: [{ name: 'vh', domains: ['*'], routes, ...host }], ...top };
}

void describe('route inheritance', () => {
  void it('faults: per route, else the virtual host’s; header mutations route, then host, then configuration', () => {
    const fault = (status: number): ProtoObject => ({
      'envoy.filters.http.fault': {
        '@type': FAULT_TYPE,
        abort: { http_status: status, percentage: { numerator: 100, denominator: 'HUNDRED' } },
      },
    });
    const table = decoded(
      decodeRouteConfiguration,
      ROUTE_CONFIGURATION,
      config(
        [
          {
            name: 'own',
            match: { prefix: '/a' },
            route: { cluster: 'c' },
            typed_per_filter_config: {
              'envoy.filters.http.fault': {
                '@type': FAULT_TYPE,
                delay: { fixed_delay: { seconds: 7 }, percentage: { numerator: 100_000, denominator: 'MILLION' } },
                headers: [{ name: 'x-chaos', present_match: true }],
              },
            },
            request_headers_to_add: [
              { header: { key: 'x-route', value: 'r' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
            ],
            response_headers_to_remove: ['x-internal'],
          },
          { name: 'inherited', match: { prefix: '/' }, route: { cluster: 'c' } },
        ],
        {
          typed_per_filter_config: fault(503),
          request_headers_to_add: [{ header: { key: 'x-host', value: 'h' }, append: { value: false } }],
        },
        {
          request_headers_to_add: [
            { header: { key: 'x-config', value: 'c' }, append_action: 'ADD_IF_ABSENT', keep_empty_value: true },
          ],
        },
      ),
    );
    const [own, inherited] = table.virtualHosts[0]!.routes;
    assert.deepEqual(plain(own!.fault), {
      headers: [
        { name: 'x-chaos', match: { kind: 'present', present: true }, invert: false, treatMissingAsEmpty: false },
      ],
      delay: { fixedDelayMs: 7_000, perMillion: 100_000 },
    });
    assert.deepEqual(plain(inherited!.fault), { headers: [], abort: { httpStatus: 503, perMillion: 1_000_000 } });
    assert.deepEqual(plain(own!.requestHeaders), {
      add: [
        { name: 'x-route', value: 'r', action: 'OVERWRITE_IF_EXISTS_OR_ADD', keepEmptyValue: false },
        { name: 'x-host', value: 'h', action: 'OVERWRITE_IF_EXISTS_OR_ADD', keepEmptyValue: false },
        { name: 'x-config', value: 'c', action: 'ADD_IF_ABSENT', keepEmptyValue: true },
      ],
      remove: [],
    });
    assert.deepEqual(plain(own!.responseHeaders), { add: [], remove: ['x-internal'] });
    assert.equal(inherited!.requestHeaders.add.length, 2);
  });

  void it('a virtual host retry policy applies to routes without one', () => {
    const table = decoded(
      decodeRouteConfiguration,
      ROUTE_CONFIGURATION,
      config(
        [
          { match: { prefix: '/a' }, route: { cluster: 'c', retry_policy: { retry_on: 'reset' } } },
          { match: { prefix: '/' }, route: { cluster: 'c' } },
        ],
        { retry_policy: { retry_on: 'connect-failure', num_retries: { value: 4 } } },
      ),
    );
    const retries = table.virtualHosts[0]!.routes.map((r) => (r.action as ForwardAction).retry);
    assert.deepEqual(plain(retries.map((r) => [r?.retryOn, r?.numRetries])), [
      [['reset'], 1],
      [['connect-failure'], 4],
    ]);
  });
});
