/** The shared validators: durations, hosts, names, IPs, regexes, field paths, weight sums. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldPath, parseFieldPath } from '../../../src/api/field-errors.js';
import { gatewayHostProblem } from '../../../src/api/kinds/gateway.js';
import { checkWeightSum } from '../../../src/api/schema-helpers.js';
import { compileRegex } from '../../../src/api/regex.js';
import { hostProblem, isIanaServiceName, isIpOrCidr, parseDuration } from '../../../src/api/validators.js';

void test('parseDuration accepts protobuf and Go forms, in milliseconds', () => {
  const ok: [string, number][] = [
    ['1.5s', 1500],
    ['100ms', 100],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['0s', 0],
    ['10s', 10_000],
    ['250us', 0.25],
    ['.5s', 500],
    ['1.25s', 1250],
  ];
  for (const [text, ms] of ok) assert.equal(parseDuration(text), ms, text);
  for (const bad of ['', '1x', '-1s', '1', 's', '1 s', '1s ', '+1s', '1.5.5s', 'PT1S', '1d']) {
    assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
  }
});

void test('hostProblem: FQDNs, short names, wildcards, IPs', () => {
  for (const host of ['reviews', 'reviews.prod.svc.cluster.local', '*.example.com', '*', 'Example.COM', 'a-b.c']) {
    assert.equal(hostProblem(host), undefined, host);
  }
  for (const host of ['', 'a..b', '-a.com', 'a_b.com', '*.', 'foo.*.com', '*foo.com', 'a b', `${'a'.repeat(64)}.com`]) {
    assert.equal(
      hostProblem(host),
      `invalid host "${host}": must be an FQDN, a short name, "*.example.com" or "*"`,
      host,
    );
  }
  assert.equal(hostProblem('*', { wildcard: false }), 'invalid host "*": must be an FQDN or a short name');
  assert.equal(hostProblem('10.0.0.1', { ip: true }), undefined);
  assert.equal(hostProblem('::1', { ip: true }), undefined);
  assert.notEqual(hostProblem('::1'), undefined);
});

void test('gateway server hosts take a namespace prefix', () => {
  for (const entry of ['*/foo.example.com', './*', 'ns1/*.example.com', 'foo.example.com']) {
    assert.equal(gatewayHostProblem(entry), undefined, entry);
  }
  assert.equal(gatewayHostProblem('NS/foo.com'), 'invalid namespace "NS": must be "*", "." or a namespace name');
});

void test('IANA service names, IPs and CIDR blocks', () => {
  for (const name of ['http', 'grpc-web', 'h2c', 'a1']) assert.ok(isIanaServiceName(name), name);
  for (const name of ['', 'HTTP', '8080', 'a--b', '-a', 'a-', 'sixteen-chars-xx'])
    assert.ok(!isIanaServiceName(name), name);
  for (const ip of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::1']) assert.ok(isIpOrCidr(ip), ip);
  for (const ip of ['10.0.0.0/33', '10.0.0/8', '2001:db8::/129', 'x', '10.0.0.1/', '10.0.0.1/a'])
    assert.ok(!isIpOrCidr(ip), ip);
});

void test('compileRegex: JavaScript syntax, RE2 flag groups and named groups, anchoring', () => {
  const anchored = compileRegex('/api/v[0-9]+', true);
  assert.ok(anchored instanceof RegExp);
  assert.ok(anchored.test('/api/v2'));
  assert.ok(!anchored.test('/api/v2/x'));
  const insensitive = compileRegex('(?i)^/API$');
  assert.ok(insensitive instanceof RegExp && insensitive.test('/api'));
  const named = compileRegex('(?P<version>v[0-9])');
  assert.ok(named instanceof RegExp && named.exec('v1')?.groups?.['version'] === 'v1');
  assert.equal(typeof compileRegex('('), 'string');
  assert.equal(typeof compileRegex('[a-'), 'string');
});

void test('field paths format the Kubernetes way and parse back', () => {
  const cases: [(string | number)[], string][] = [
    [['spec', 'http', 0, 'route', 1, 'weight'], 'spec.http[0].route[1].weight'],
    [['metadata', 'labels', 'app'], 'metadata.labels.app'],
    [['spec', 'ports', 'http'], 'spec.ports.http'],
    [['metadata', 'labels', 'app.kubernetes.io/name'], 'metadata.labels[app.kubernetes.io/name]'],
    [['spec', 'portLevelMtls', '8080', 'mode'], 'spec.portLevelMtls.8080.mode'],
    [[], ''],
  ];
  for (const [path, text] of cases) {
    assert.equal(formatFieldPath(path), text);
    assert.deepEqual(parseFieldPath(text), path);
  }
});

void test('checkWeightSum: one destination may omit its weight, several must sum to 100', () => {
  const run = (weights: (number | undefined)[]): string[] => {
    const out: string[] = [];
    checkWeightSum(
      weights.map((weight) => (weight === undefined ? {} : { weight })),
      (_path, message) => out.push(message),
    );
    return out;
  };
  assert.deepEqual(run([undefined]), []);
  assert.deepEqual(run([100]), []);
  assert.deepEqual(run([undefined, undefined]), ['weights must sum to 100, got 0 (set a weight on each destination)']);
  assert.deepEqual(run([25, 75]), []);
  assert.deepEqual(run([0, 100]), []);
  assert.deepEqual(run([50]), ['weights must sum to 100, got 50']);
  assert.deepEqual(run([50, undefined]), ['weights must sum to 100, got 50']);
  assert.deepEqual(run([60, 60]), ['weights must sum to 100, got 120']);
  assert.deepEqual(run([150, -50]), []); // each bad weight has its own error; no sum on top
});
