/** VirtualService http routes: names, destinations, redirects, rewrites, timeouts, retries, faults, mirrors, headers, hashing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOST, routes, to, ZERO } from './route-fixtures.js';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { DEFAULT_RETRY, vsMetadata } from './fixtures.js';

void describe('http routes', () => {
  void it('names, matches in order, one route per match, metadata naming the VirtualService', () => {
    const { routes: out, warnings } = routes([
      {
        name: 'canary',
        match: [{ name: 'jason', headers: { 'end-user': { exact: 'jason' } } }, { uri: { prefix: '/beta' } }],
        route: [to('reviews', 'v2')],
      },
      {
        match: [{ uri: { exact: '/a' }, statPrefix: 'a_stats' }, { uri: { exact: '/b' } }],
        route: [to('reviews', 'v1')],
      },
      { route: [to('reviews')] },
    ]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      out.map((r) => [r.name, r.match, (r.route as ProtoObject).cluster, r.stat_prefix]),
      [
        [
          'canary.jason',
          { prefix: '/', headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] },
          `outbound|9080|v2|${HOST}`,
          undefined,
        ],
        ['canary.1', { prefix: '/beta' }, `outbound|9080|v2|${HOST}`, undefined],
        ['reviews.1.0', { path: '/a' }, `outbound|9080|v1|${HOST}`, 'a_stats'],
        ['reviews.1.1', { path: '/b' }, `outbound|9080|v1|${HOST}`, undefined],
        ['reviews.2', { prefix: '/' }, `outbound|9080||${HOST}`, undefined],
      ],
    );
    assert.deepEqual(out[4], {
      name: 'reviews.2',
      match: { prefix: '/' },
      route: { cluster: `outbound|9080||${HOST}`, timeout: ZERO, retry_policy: DEFAULT_RETRY },
      metadata: vsMetadata('reviews'),
    });
  });

  void it('weights, subsets, per-destination headers, destination ports and reported unknown destinations', () => {
    const { routes: out, warnings } = routes([
      {
        route: [
          { ...to('reviews', 'v1'), weight: 70, headers: { request: { set: { 'x-v': '1', host: 'reviews-v1' } } } },
          {
            ...to('reviews', 'v2'),
            weight: 30,
            headers: { response: { add: { 'x-served-by': 'v2' }, remove: ['server'] } },
          },
          { ...to('ratings', undefined, 9081), weight: 0 },
          { ...to('nowhere'), weight: 0 },
        ],
      },
    ]);
    assert.deepEqual((out[0]!.route as ProtoObject).weighted_clusters, {
      clusters: [
        {
          name: `outbound|9080|v1|${HOST}`,
          weight: { value: 70 },
          request_headers_to_add: [{ header: { key: 'x-v', value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
          host_rewrite_literal: 'reviews-v1',
        },
        {
          name: `outbound|9080|v2|${HOST}`,
          weight: { value: 30 },
          response_headers_to_add: [
            { header: { key: 'x-served-by', value: 'v2' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
          ],
          response_headers_to_remove: ['server'],
        },
      ],
    });
    assert.deepEqual(warnings, [
      'VirtualService default/reviews: spec.http[0].route[3].destination.host: nowhere.default.svc.cluster.local is not a service visible from namespace default; requests will fail',
    ]);
    // A destination without a port on a multi-port service takes the virtual host's port.
    const { routes: single, warnings: w2 } = routes([{ route: [to('ratings')] }]);
    assert.equal((single[0]!.route as ProtoObject).cluster, 'outbound|9080||ratings.default.svc.cluster.local');
    assert.deepEqual(w2, []);
    const { warnings: w3 } = routes([{ route: [to('reviews', 'v9')] }, { route: [to('reviews', undefined, 1234)] }]);
    assert.deepEqual(w3, [
      'VirtualService default/reviews: spec.http[0].route[0].destination.subset: no DestinationRule defines subset v9 of reviews.default.svc.cluster.local; requests will fail',
      'VirtualService default/reviews: spec.http[1].route[0].destination.port: reviews.default.svc.cluster.local has no port 1234; requests will fail',
    ]);
  });

  void it('redirect and direct response', () => {
    const { routes: out, warnings } = routes([
      {
        match: [{ uri: { prefix: '/old' } }],
        redirect: {
          uri: '/new',
          authority: 'example.com',
          redirectCode: 308,
          scheme: 'https',
          derivePort: 'FROM_REQUEST_PORT',
        },
      },
      { match: [{ uri: { prefix: '/moved' } }], redirect: { uri: '/there', port: 8443 }, timeout: '1s' },
      { match: [{ uri: { exact: '/health' } }], directResponse: { status: 200, body: { string: 'ok' } } },
      { directResponse: { status: 503, body: { bytes: 'AAE=' } } },
    ]);
    assert.deepEqual(out[0]!.redirect, {
      response_code: 'PERMANENT_REDIRECT',
      path_redirect: '/new',
      host_redirect: 'example.com',
      scheme_redirect: 'https',
      port_redirect: 9080,
    });
    assert.deepEqual(out[1]!.redirect, {
      response_code: 'MOVED_PERMANENTLY',
      path_redirect: '/there',
      port_redirect: 8443,
    });
    assert.deepEqual(out[2]!.direct_response, { status: 200, body: { inline_string: 'ok' } });
    assert.deepEqual(out[3]!.direct_response, { status: 503, body: { inline_bytes: 'AAE=' } });
    assert.equal(out[3]!.route, undefined);
    assert.deepEqual(warnings, [
      'VirtualService default/reviews: spec.http[1].timeout: has no effect on a route that answers itself (redirect, directResponse)',
    ]);
  });

  void it('rewrite, timeout, retries: explicit, status codes, disabled, backoff, remote localities', () => {
    const { routes: out } = routes([
      {
        match: [{ uri: { prefix: '/v1/' } }],
        rewrite: { uri: '/', authority: 'internal' },
        timeout: '1.5s',
        retries: {
          attempts: 5,
          perTryTimeout: '500ms',
          retryOn: 'gateway-error, 409,connect-failure',
          retryRemoteLocalities: true,
          backoff: '25ms',
        },
        route: [to('reviews')],
      },
      {
        match: [{ uri: { regex: '/u/([^/]+)' } }],
        rewrite: { uriRegexRewrite: { match: '/u/([^/]+)', rewrite: '/users/\\1' } },
        retries: { attempts: 0 },
        route: [to('reviews')],
      },
      { retries: { attempts: 1, retryIgnorePreviousHosts: false }, route: [to('reviews')] },
    ]);
    assert.deepEqual(out[0]!.route, {
      cluster: `outbound|9080||${HOST}`,
      prefix_rewrite: '/',
      host_rewrite_literal: 'internal',
      timeout: { seconds: 1, nanos: 500_000_000 },
      retry_policy: {
        retry_on: 'gateway-error,connect-failure,retriable-status-codes',
        num_retries: { value: 5 },
        retry_back_off: { base_interval: { seconds: 0, nanos: 25_000_000 } },
        retriable_status_codes: [409],
        per_try_timeout: { seconds: 0, nanos: 500_000_000 },
        retry_host_predicate: DEFAULT_RETRY.retry_host_predicate,
        host_selection_retry_max_attempts: 5,
        retry_priority: {
          name: 'envoy.retry_priorities.previous_priorities',
          typed_config: {
            '@type': 'type.googleapis.com/xds.type.v3.TypedStruct',
            type_url:
              'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
            value: { fields: { update_frequency: { numberValue: 6 } } },
          },
        },
      },
    });
    assert.deepEqual(out[1]!.route, {
      cluster: `outbound|9080||${HOST}`,
      regex_rewrite: { pattern: { regex: '/u/([^/]+)' }, substitution: '/users/\\1' },
      timeout: ZERO,
    });
    assert.deepEqual((out[2]!.route as ProtoObject).retry_policy, {
      retry_on: DEFAULT_RETRY.retry_on,
      num_retries: { value: 1 },
      retriable_status_codes: [503],
    });
  });
});
