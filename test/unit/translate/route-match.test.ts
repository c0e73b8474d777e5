/** HTTPMatchRequest -> RouteMatch: the translation table, and conditions decided per proxy and virtual host. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HTTPMatchRequest } from '../../../src/api/kinds/http-route.js';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { translateMatch, type MatchContext } from '../../../src/control/xds/translate/route-match.js';
import { assertEncodesAs } from './fixtures.js';

const SIDECAR: MatchContext = {
  type: 'sidecar',
  namespace: 'default',
  labels: { app: 'web', version: 'v1' },
  port: 9080,
  gateways: ['mesh'],
};
const GRPC: MatchContext = { ...SIDECAR, type: 'grpc', labels: {} };

function match(
  m: HTTPMatchRequest | undefined,
  ctx = SIDECAR,
  vsGateways = ['mesh'],
): { out: ProtoObject | undefined; warnings: string[] } {
  const warnings: string[] = [];
  const out = translateMatch(m, ctx, vsGateways, 'default', (path, message) => warnings.push(`${path}: ${message}`));
  if (out !== undefined) assertEncodesAs('envoy.config.route.v3.RouteMatch', out);
  return { out, warnings };
}

const TABLE: [string, HTTPMatchRequest | undefined, ProtoObject][] = [
  ['no match: everything', undefined, { prefix: '/' }],
  ['empty match: everything', {}, { prefix: '/' }],
  ['uri exact', { uri: { exact: '/login' } }, { path: '/login' }],
  ['uri prefix', { uri: { prefix: '/api/' } }, { prefix: '/api/' }],
  ['uri regex', { uri: { regex: '/v[0-9]+/.*' } }, { safe_regex: { regex: '/v[0-9]+/.*' } }],
  [
    'ignoreUriCase prefix',
    { uri: { prefix: '/API' }, ignoreUriCase: true },
    { prefix: '/API', case_sensitive: { value: false } },
  ],
  ['ignoreUriCase regex', { uri: { regex: '/a.*' }, ignoreUriCase: true }, { safe_regex: { regex: '(?i)/a.*' } }],
  [
    'headers exact/prefix/regex, sorted by name',
    { headers: { 'x-b': { prefix: 'be' }, 'x-a': { exact: 'alpha' }, 'x-c': { regex: 'c+' } } },
    {
      prefix: '/',
      headers: [
        { name: 'x-a', string_match: { exact: 'alpha' } },
        { name: 'x-b', string_match: { prefix: 'be' } },
        { name: 'x-c', string_match: { safe_regex: { regex: 'c+' } } },
      ],
    },
  ],
  [
    'header presence: prefix "" or regex ".*"',
    { headers: { 'x-any': { prefix: '' }, 'x-re': { regex: '.*' } } },
    {
      prefix: '/',
      headers: [
        { name: 'x-any', present_match: true },
        { name: 'x-re', present_match: true },
      ],
    },
  ],
  [
    'withoutHeaders: inverted',
    { withoutHeaders: { 'x-debug': { exact: '1' }, 'x-trace': { prefix: '' } } },
    {
      prefix: '/',
      headers: [
        { name: 'x-debug', string_match: { exact: '1' }, invert_match: true },
        { name: 'x-trace', present_match: true, invert_match: true },
      ],
    },
  ],
  [
    'method, authority, scheme: pseudo-headers after the others',
    {
      method: { exact: 'GET' },
      authority: { prefix: 'shop.' },
      scheme: { exact: 'https' },
      headers: { cookie: { regex: '.*user=jason.*' } },
    },
    {
      prefix: '/',
      headers: [
        { name: 'cookie', string_match: { safe_regex: { regex: '.*user=jason.*' } } },
        { name: ':method', string_match: { exact: 'GET' } },
        { name: ':authority', string_match: { prefix: 'shop.' } },
        { name: ':scheme', string_match: { exact: 'https' } },
      ],
    },
  ],
  [
    'queryParams exact/regex/presence, sorted',
    { queryParams: { v: { regex: '[0-9]+' }, debug: { exact: 'true' }, any: { regex: '.*' } } },
    {
      prefix: '/',
      query_parameters: [
        { name: 'any', present_match: true },
        { name: 'debug', string_match: { exact: 'true' } },
        { name: 'v', string_match: { safe_regex: { regex: '[0-9]+' } } },
      ],
    },
  ],
  ['port equal to the virtual host port', { port: 9080, uri: { prefix: '/x' } }, { prefix: '/x' }],
  ['sourceLabels the proxy has', { sourceLabels: { app: 'web' } }, { prefix: '/' }],
  ['sourceNamespace of the proxy', { sourceNamespace: 'default' }, { prefix: '/' }],
  ['gateways including mesh', { gateways: ['mesh', 'ingress'] }, { prefix: '/' }],
];

void describe('translateMatch', () => {
  for (const [title, input, expected] of TABLE) {
    void it(title, () => {
      const { out, warnings } = match(input);
      assert.deepEqual(out, expected);
      assert.deepEqual(warnings, []);
    });
  }

  void it('matches that cannot apply here: other port, labels, namespace, gateway', () => {
    assert.equal(match({ port: 8080 }).out, undefined);
    assert.equal(match({ sourceLabels: { app: 'other' } }).out, undefined);
    assert.equal(match({ sourceLabels: { app: 'web' } }, { ...SIDECAR, labels: undefined }).out, undefined);
    assert.equal(match({ sourceNamespace: 'prod' }).out, undefined);
    assert.equal(match({ gateways: ['ingress'] }).out, undefined);
    assert.equal(match(undefined, SIDECAR, ['default/ingress']).out, undefined);
    assert.deepEqual(match({ gateways: ['ingress'] }, { ...SIDECAR, gateways: ['default/ingress'] }).out, {
      prefix: '/',
    });
  });

  void it('proxyless gRPC: method decided statically (POST), no :authority, :scheme or query parameters', () => {
    assert.deepEqual(match({ method: { exact: 'POST' }, uri: { prefix: '/echo.Echo/' } }, GRPC), {
      out: { prefix: '/echo.Echo/' },
      warnings: [],
    });
    assert.deepEqual(match({ method: { exact: 'GET' } }, GRPC), { out: undefined, warnings: [] });
    assert.deepEqual(match({ authority: { exact: 'echo' } }, GRPC), {
      out: undefined,
      warnings: ['authority: proxyless gRPC cannot match :authority; this match is left out'],
    });
    assert.deepEqual(match({ queryParams: { a: { exact: 'b' } } }, GRPC), {
      out: undefined,
      warnings: ['queryParams: gRPC requests have no query string; this match is left out'],
    });
  });
});
