/** Hash policies: parsing Envoy's hash_policy (and the sidecar's decoded form), and the hash of each kind. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineHashes, murmur3String } from '../../../src/proxy/lb/hash.js';
import {
  computeRequestHash,
  hashCookie,
  parseHashPolicies,
  type HashMethod,
  type HashRequestView,
} from '../../../src/proxy/lb/hash-policy.js';

function request(
  headers: Record<string, string>,
  sourceIp = '10.1.2.3',
  query: Record<string, string> = {},
): HashRequestView {
  return { header: (name) => headers[name], sourceIp, query: (name) => query[name] };
}

function methods(json: unknown): readonly HashMethod[] {
  const parsed = parseHashPolicies(json);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.value;
}

/** A request hash as computeRequestHash gives it: the signed form of the murmur3 value. */
const h = (value: string) => murmur3String(value) | 0;

void describe('hash policies', () => {
  void it('parse Envoy JSON, camelCase, and the decoded form (ttl in ms)', () => {
    assert.deepEqual(
      methods([
        { header: { header_name: 'X-User' } },
        { cookie: { name: 'session', ttl: '3600s', path: '/' }, terminal: true },
        { connection_properties: { source_ip: true } },
        { queryParameter: { name: 'id' } },
        { cookie: { name: 'c', ttl: 1500 } },
        { filter_state: { key: 'io.grpc.channel_id' } },
      ]),
      [
        { kind: 'header', name: 'x-user', terminal: false },
        { kind: 'cookie', name: 'session', ttlMs: 3_600_000, path: '/', terminal: true },
        { kind: 'source_ip', terminal: false },
        { kind: 'query_parameter', name: 'id', terminal: false },
        { kind: 'cookie', name: 'c', ttlMs: 1500, path: undefined, terminal: false },
        { kind: 'filter_state', key: 'io.grpc.channel_id', terminal: false },
      ],
    );
    assert.deepEqual(methods([{ connection_properties: { source_ip: false } }]), []);
    assert.deepEqual(methods(undefined), []);
  });

  void it('reject what they cannot honour, with the path', () => {
    const error = (json: unknown) => {
      const r = parseHashPolicies(json);
      return r.ok ? 'ok' : r.error;
    };
    assert.equal(error({}), 'hash_policy: must be a list');
    assert.equal(
      error([{ header: { header_name: 'a', regex_rewrite: {} } }]),
      'hash_policy[0].header.regex_rewrite: not supported',
    );
    assert.equal(
      error([{ header: { header_name: '' } }]),
      'hash_policy[0].header.header_name: must be a non-empty string',
    );
    assert.equal(
      error([{}]),
      'hash_policy[0]: exactly one of header, cookie, connection_properties, query_parameter, filter_state is required',
    );
    assert.equal(error([{ cookie: { name: 'a', ttl: 'soon' } }]), 'hash_policy[0].cookie.ttl: must be a duration');
    assert.equal(
      error([{ query_parameter: { name: 'a' }, terminal: 'yes' }]),
      'hash_policy[0].terminal: must be a boolean',
    );
  });

  void it('header: the murmur3 of its value; absent header: no hash', () => {
    const m = methods([{ header: { header_name: 'x-user' } }]);
    assert.equal(computeRequestHash(m, request({ 'x-user': 'alice' })), h('alice'));
    assert.equal(computeRequestHash(m, request({})), undefined);
    assert.notEqual(computeRequestHash(m, request({ 'x-user': 'bob' })), h('alice'));
  });

  void it('cookie: found by exact name anywhere in the Cookie header, quotes stripped', () => {
    const m = methods([{ cookie: { name: 'session' } }]);
    for (const cookie of [
      'session=abc',
      'a=1; session=abc',
      'a=1;session=abc; b=2',
      'xsession=1; session="abc"',
      'session=abc  ',
    ]) {
      assert.equal(computeRequestHash(m, request({ cookie })), h('abc'), cookie);
    }
    assert.equal(computeRequestHash(m, request({ cookie: 'sessionx=abc; ses=1' })), undefined);
    assert.equal(computeRequestHash(m, request({})), undefined);
    assert.equal(hashCookie('session=', 'session'), murmur3String(''));
    assert.equal(hashCookie('a=1; session="x y"', 'session'), murmur3String('x y'));
    assert.equal(hashCookie('; ;  ', 'session'), -1);
  });

  void it('source IP and query parameter', () => {
    assert.equal(
      computeRequestHash(methods([{ connection_properties: { source_ip: true } }]), request({}, '10.9.8.7')),
      h('10.9.8.7'),
    );
    assert.equal(
      computeRequestHash(methods([{ connection_properties: { source_ip: true } }]), request({}, '')),
      undefined,
    );
    const q = methods([{ query_parameter: { name: 'user' } }]);
    assert.equal(computeRequestHash(q, request({}, '', { user: 'u1' })), h('u1'));
    assert.equal(computeRequestHash(q, request({})), undefined);
  });

  void it('several values combine as Envoy does; terminal stops once a hash exists; filter_state yields nothing', () => {
    const both = methods([{ header: { header_name: 'x-a' } }, { header: { header_name: 'x-b' } }]);
    const req = request({ 'x-a': 'one', 'x-b': 'two' });
    assert.equal(computeRequestHash(both, req), combineHashes(murmur3String('one'), murmur3String('two')) | 0);
    assert.equal(computeRequestHash(both, request({ 'x-b': 'two' })), h('two'));
    const terminal = methods([{ header: { header_name: 'x-a' }, terminal: true }, { header: { header_name: 'x-b' } }]);
    assert.equal(computeRequestHash(terminal, req), h('one'));
    assert.equal(computeRequestHash(terminal, request({ 'x-b': 'two' })), h('two'));
    const state = methods([
      { filter_state: { key: 'k' }, terminal: true },
      { connection_properties: { source_ip: true } },
    ]);
    assert.equal(computeRequestHash(state, request({}, '10.0.0.1')), h('10.0.0.1'));
  });

  void it('the same header value hashes the same as a ring key would (one hash space)', () => {
    const m = methods([{ header: { header_name: 'x-user' } }]);
    assert.equal(computeRequestHash(m, request({ 'x-user': 'user-7' }))! >>> 0, murmur3String('user-7'));
  });
});
