/** WorkloadEntry (spec and the health status sidecars report) and WorkloadGroup. */
import { test } from 'node:test';
import { assertValid, checkCases, doc, errorsOf } from './helpers.js';
import assert from 'node:assert/strict';

const NET = 'networking.istio.io/v1';

void test('WorkloadEntry samples are valid, with and without status', () => {
  const samples: unknown[] = [
    // a VM running details-legacy
    { serviceAccount: 'details-legacy', address: '2.2.2.2', labels: { app: 'details-legacy', 'instance-id': 'vm1' } },
    {
      address: 'vm1.example.com',
      ports: { http: 8080, grpc: 9090 },
      network: 'vm-network',
      locality: 'us-west/zone1',
      weight: 10,
    },
    { address: 'fd00::1' },
  ];
  for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
    for (const spec of samples) assertValid(doc(`networking.istio.io/${v}`, 'WorkloadEntry', spec));
  }
  assertValid(
    doc(
      NET,
      'WorkloadEntry',
      { address: '127.1.0.5', labels: { app: 'reviews' }, serviceAccount: 'reviews' },
      {
        status: {
          observedGeneration: 3,
          conditions: [
            {
              type: 'Healthy',
              status: 'True',
              lastProbeTime: '2024-05-01T10:00:00Z',
              lastTransitionTime: '2024-05-01T09:59:58.123+02:00',
            },
          ],
        },
      },
    ),
  );
});

void test('invalid WorkloadEntries', () => {
  checkCases(NET, 'WorkloadEntry', [
    { name: 'no address', spec: { labels: { app: 'a' } }, errors: ['spec.address: required'] },
    {
      name: 'bad values',
      spec: {
        address: 'not an address',
        ports: { http: 70000 },
        labels: { 'app!': 'x' },
        serviceAccount: 'Bad_SA',
        weight: -1,
      },
      errors: [
        'spec.address: must be an IP address, a DNS name or a unix:// socket path',
        "spec.labels[app!]: label key \"app!\" must be at most 63 characters of alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric",
        'spec.ports.http: must be an integer between 1 and 65535',
        'spec.serviceAccount: must be a DNS-1123 subdomain: lower-case alphanumerics, "-" and ".", at most 253 characters',
        'spec.weight: must be an integer of at least 0',
      ],
    },
  ]);
  const withStatus = (status: unknown): string[] =>
    errorsOf(doc(NET, 'WorkloadEntry', { address: '10.0.0.1' }, { status }));
  assert.deepEqual(
    withStatus({ conditions: [{ type: 'Healthy', status: 'Yes', lastProbeTime: 'yesterday' }], phase: 'Running' }),
    [
      'status.conditions[0].lastProbeTime: must be an RFC 3339 timestamp such as "2024-01-02T15:04:05Z"',
      'status.conditions[0].status: must be one of: True, False, Unknown (got "Yes")',
      'status.phase: unknown field',
    ],
  );
  assert.deepEqual(withStatus({ conditions: [{ status: 'True' }] }), ['status.conditions[0].type: required']);
});

void test('WorkloadGroup: the reference sample and probe rules', () => {
  const sample = {
    metadata: {
      labels: { 'app.kubernetes.io/name': 'reviews', 'app.kubernetes.io/version': '1.3.4' },
      annotations: { 'some.annotation': 'x' },
    },
    template: { ports: { grpc: 3550, http: 8080 }, serviceAccount: 'default' },
    probe: {
      initialDelaySeconds: 5,
      timeoutSeconds: 3,
      periodSeconds: 4,
      successThreshold: 3,
      failureThreshold: 3,
      httpGet: {
        path: '/foo/bar',
        host: '127.0.0.1',
        port: 3100,
        scheme: 'HTTPS',
        httpHeaders: [{ name: 'Lit-Header', value: 'Im-The-Best' }],
      },
    },
  };
  for (const v of ['v1', 'v1beta1', 'v1alpha3']) assertValid(doc(`networking.istio.io/${v}`, 'WorkloadGroup', sample));
  assertValid(doc(NET, 'WorkloadGroup', { template: {}, probe: { tcpSocket: { port: 80 } } }));
  assertValid(doc(NET, 'WorkloadGroup', { template: {}, probe: { exec: { command: ['cat', '/tmp/healthy'] } } }));
  assertValid(doc(NET, 'WorkloadGroup', { template: {}, probe: { grpc: { port: 9090, service: 'health' } } }));
  checkCases(NET, 'WorkloadGroup', [
    { name: 'no template', spec: { probe: { tcpSocket: { port: 80 } } }, errors: ['spec.template: required'] },
    {
      name: 'two probe handlers',
      spec: { template: {}, probe: { tcpSocket: { port: 80 }, httpGet: { port: 0 } } },
      errors: [
        'spec.probe.httpGet.port: must be an integer between 1 and 65535',
        'spec.probe: must set only one of: httpGet, tcpSocket, exec, grpc (got httpGet, tcpSocket)',
      ],
    },
    {
      name: 'no probe handler',
      spec: { template: {}, probe: { periodSeconds: 0 } },
      errors: [
        'spec.probe.periodSeconds: must be an integer of at least 1',
        'spec.probe: must set one of: httpGet, tcpSocket, exec, grpc',
      ],
    },
    {
      name: 'a status',
      spec: { template: { weight: 'heavy' } },
      errors: ['spec.template.weight: must be an integer of at least 0'],
    },
  ]);
  assert.deepEqual(errorsOf(doc(NET, 'WorkloadGroup', { template: {} }, { status: {} })), ['status: not supported']);
});
