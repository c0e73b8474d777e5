/** validateResource: the envelope (apiVersion, kind, metadata, spec, status) and how errors are collected. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KINDS } from '../../../src/api/registry.js';
import { apiVersionOf } from '../../../src/api/kind.js';
import { validateResource } from '../../../src/api/validate.js';
import { errorsOf } from './helpers.js';

const vs = {
  apiVersion: 'networking.istio.io/v1alpha3',
  kind: 'VirtualService',
  metadata: { name: 'reviews', labels: { app: 'reviews' } },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] },
};

void test('a valid object comes back as given: no namespace default, the apiVersion alias kept', () => {
  const result = validateResource(vs);
  assert.ok(result.ok);
  assert.equal(result.value.metadata.namespace, undefined);
  assert.equal('status' in result.value, false);
  assert.deepEqual(result.value, vs);
});

void test('server-set metadata is accepted', () => {
  const stored = {
    ...vs,
    metadata: {
      ...vs.metadata,
      namespace: 'prod',
      resourceVersion: '42',
      generation: 3,
      uid: 'abc',
      creationTimestamp: '2024-01-01T00:00:00Z',
      annotations: { note: 'x' },
    },
  };
  assert.deepEqual(errorsOf(stored), []);
});

void test('apiVersion and kind must be given and served', () => {
  assert.deepEqual(errorsOf({ metadata: { name: 'a' }, spec: {} }), ['apiVersion: required', 'kind: required']);
  assert.deepEqual(errorsOf({ ...vs, apiVersion: 'networking.istio.io/v1alpha2' }), [
    'apiVersion: VirtualService is served at networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3, not "networking.istio.io/v1alpha2"',
  ]);
  assert.deepEqual(errorsOf({ ...vs, apiVersion: 'v1', kind: 'Deployment', spec: undefined }), [
    'apiVersion: Deployment is served at apps/v1, not "v1"',
    'spec: required',
  ]);
  assert.deepEqual(errorsOf({ ...vs, kind: 'Virtualservice' }), [
    'kind: unknown kind "Virtualservice": did you mean VirtualService? Shoal serves Service, Deployment, Pod, VirtualService, DestinationRule, ServiceEntry, Gateway, WorkloadEntry, WorkloadGroup, PeerAuthentication, AuthorizationPolicy, RequestAuthentication',
  ]);
  assert.deepEqual(errorsOf({ ...vs, kind: 'ReplicaSet', metadata: { name: 'Bad' } }), [
    'kind: unknown kind "ReplicaSet": Shoal serves Service, Deployment, Pod, VirtualService, DestinationRule, ServiceEntry, Gateway, WorkloadEntry, WorkloadGroup, PeerAuthentication, AuthorizationPolicy, RequestAuthentication',
    'metadata.name: must be a DNS-1123 subdomain: lower-case alphanumerics, "-" and ".", at most 253 characters',
  ]);
  assert.deepEqual(errorsOf({ ...vs, apiVersion: 1, kind: ['VirtualService'] }), [
    'apiVersion: must be a string, got 1',
    'kind: must be a string, got a list',
  ]);
});

void test('every kind requires a spec and all aliases of every kind are accepted', () => {
  for (const def of KINDS) {
    for (const version of def.versions) {
      assert.deepEqual(
        errorsOf({ apiVersion: apiVersionOf(def, version), kind: def.kind, metadata: { name: 'x' } }),
        ['spec: required'],
        def.kind,
      );
    }
  }
});

void test('metadata is required and checked', () => {
  const { metadata: _unused, ...withoutMetadata } = vs;
  assert.deepEqual(errorsOf(withoutMetadata), ['metadata: required']);
  assert.deepEqual(
    errorsOf({
      ...vs,
      metadata: { name: 'reviews', namespace: 'Prod', labels: { 'app.kubernetes.io/name': 'bad value!' }, owner: 'me' },
    }),
    [
      "metadata.labels[app.kubernetes.io/name]: label value \"bad value!\" must be at most 63 characters of alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric",
      'metadata.namespace: must be a DNS-1123 label: lower-case alphanumerics and "-", at most 63 characters',
      'metadata.owner: unknown field',
    ],
  );
});

void test('status: validated where the kind has one, else not supported', () => {
  assert.deepEqual(errorsOf({ ...vs, status: { conditions: [] } }), ['status: not supported']);
  const we = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name: 'w' },
    spec: { address: '10.0.0.1' },
  };
  const status = { conditions: [{ type: 'Healthy', status: 'True' }] };
  const result = validateResource({ ...we, status });
  assert.ok(result.ok);
  assert.deepEqual(result.value.status, status);
});

void test('unknown top-level fields and a non-object document', () => {
  assert.deepEqual(errorsOf({ ...vs, Spec: {}, data: 1 }), ['Spec: unknown field', 'data: unknown field']);
  assert.deepEqual(errorsOf('hello'), [': must be an object with apiVersion, kind, metadata and spec, got "hello"']);
  assert.deepEqual(errorsOf([vs]), [': must be an object with apiVersion, kind, metadata and spec, got a list']);
});

void test('all errors of a document are collected, each with its full path', () => {
  const result = validateResource({
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'default', color: 'blue' },
    spec: {
      hosts: ['reviews', 'Not A Host'],
      http: [
        {
          match: [{ uri: { prefix: '/a', exact: '/a' } }],
          route: [
            { destination: { host: 'reviews', subset: 'v1' }, weight: 60 },
            { destination: { host: 'reviews', subset: 'v2' }, weight: 101 },
          ],
          corsPolicy: { allowOrigins: [] },
          timeout: 'soon',
        },
        {
          route: [
            { destination: { host: 'reviews' }, weight: 30 },
            { destination: { host: 'ratings' }, weight: 30 },
          ],
          retries: { attempts: 'many' },
        },
      ],
      tcpRoutes: [],
    },
    status: {},
  });
  assert.ok(!result.ok);
  assert.deepEqual(result.error, [
    { field: 'metadata.color', message: 'unknown field' },
    {
      field: 'spec.hosts[1]',
      message: 'invalid host "Not A Host": must be an FQDN, a short name, "*.example.com", "*" or an IP address',
    },
    { field: 'spec.http[0].match[0].uri', message: 'must set only one of: exact, prefix, regex (got exact, prefix)' },
    { field: 'spec.http[0].route[1].weight', message: 'must be an integer between 0 and 100' },
    { field: 'spec.http[0].timeout', message: 'must be a duration such as "1.5s", "100ms", "2m" or "1h"' },
    { field: 'spec.http[0].corsPolicy', message: 'not supported' },
    { field: 'spec.http[1].route', message: 'weights must sum to 100, got 60' },
    { field: 'spec.http[1].retries.attempts', message: 'must be an integer of at least 0' },
    { field: 'spec.tcpRoutes', message: 'unknown field' },
    { field: 'status', message: 'not supported' },
  ]);
});
