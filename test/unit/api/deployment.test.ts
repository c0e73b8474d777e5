/** apps/v1 Deployment as `shoal up` runs it: one container, probes, selector matching, rollout strategy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toLabelSelector } from '../../../src/api/kinds/deployment.js';
import { matches } from '../../../src/store/label-selector.js';
import { assertValid, checkCases, doc, errorsOf } from './helpers.js';

const container = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'reviews',
  command: ['node', 'reviews.js'],
  ...extra,
});
const deployment = (c: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  replicas: 2,
  selector: { matchLabels: { app: 'reviews', version: 'v1' } },
  template: {
    metadata: { labels: { app: 'reviews', version: 'v1' } },
    spec: { serviceAccountName: 'bookinfo-reviews', containers: [c] },
  },
  ...extra,
});

void test('Deployment samples are valid', () => {
  assertValid(
    doc(
      'apps/v1',
      'Deployment',
      deployment(
        container({
          image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.2',
          args: ['--port', '9080'],
          env: [{ name: 'LOG_DIR', value: '/tmp/logs' }, { name: 'EMPTY' }],
          ports: [{ containerPort: 9080, name: 'http', protocol: 'TCP' }],
          readinessProbe: { httpGet: { path: '/health', port: 'http' }, initialDelaySeconds: 1, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: 9080 }, failureThreshold: 3, timeoutSeconds: 1, successThreshold: 1 },
          workingDir: 'examples/reviews',
        }),
        { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } } },
      ),
    ),
  );
  assertValid(
    doc('apps/v1', 'Deployment', {
      selector: {
        matchExpressions: [
          { key: 'app', operator: 'In', values: ['a', 'b'] },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      template: {
        metadata: { labels: { app: 'b' } },
        spec: {
          containers: [
            container({ readinessProbe: { grpc: { port: 9090 } }, livenessProbe: { exec: { command: ['true'] } } }),
          ],
        },
      },
    }),
  );
  assertValid(
    doc('apps/v1', 'Deployment', deployment(container()), {
      status: {
        observedGeneration: 1,
        replicas: 2,
        readyReplicas: 1,
        updatedReplicas: 2,
        availableReplicas: 1,
        unavailableReplicas: 1,
        conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }],
      },
    }),
  );
});

void test('invalid Deployments', () => {
  checkCases('apps/v1', 'Deployment', [
    {
      name: 'selector does not match the template',
      spec: { ...deployment(container()), selector: { matchLabels: { app: 'ratings' } } },
      errors: ['spec.template.metadata.labels: selector does not match template labels'],
    },
    {
      name: 'an empty selector',
      spec: { ...deployment(container()), selector: {} },
      errors: ['spec.selector: must not be empty: set matchLabels or matchExpressions'],
    },
    {
      name: 'no selector',
      spec: { template: deployment(container())['template'] },
      errors: ['spec.selector: required'],
    },
    {
      name: 'two containers',
      spec: deployment(container(), {
        template: {
          metadata: { labels: { app: 'reviews', version: 'v1' } },
          spec: { containers: [container(), container({ name: 'sidecar' })] },
        },
      }),
      errors: [
        'spec.template.spec.containers: must have exactly one container: shoal up runs each pod as one local process',
      ],
    },
    {
      name: 'no container',
      spec: deployment(container(), {
        template: { metadata: { labels: { app: 'reviews', version: 'v1' } }, spec: { containers: [] } },
      }),
      errors: [
        'spec.template.spec.containers: must have exactly one container: shoal up runs each pod as one local process',
      ],
    },
    {
      name: 'what a local process cannot have',
      spec: deployment(
        container({
          resources: { limits: { cpu: '1' } },
          startupProbe: { tcpSocket: { port: 80 } },
          env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          volumeMounts: [],
        }),
      ),
      errors: [
        'spec.template.spec.containers[0].env[0].valueFrom: not supported',
        'spec.template.spec.containers[0].resources: not supported',
        'spec.template.spec.containers[0].startupProbe: not supported',
        'spec.template.spec.containers[0].volumeMounts: unknown field',
      ],
    },
    {
      name: 'probes',
      spec: deployment(
        container({
          ports: [{ containerPort: 8080, name: 'web' }],
          readinessProbe: { httpGet: { path: '/', port: 'http' }, tcpSocket: { port: 8080 } },
          livenessProbe: { periodSeconds: 0, httpGet: { port: 8080, host: 'localhost' } },
        }),
      ),
      errors: [
        'spec.template.spec.containers[0].livenessProbe.httpGet.host: unknown field',
        'spec.template.spec.containers[0].livenessProbe.periodSeconds: must be an integer of at least 1',
        'spec.template.spec.containers[0].readinessProbe.httpGet.port: no container port is named "http"',
        'spec.template.spec.containers[0].readinessProbe: must set only one of: httpGet, tcpSocket, grpc, exec (got httpGet, tcpSocket)',
      ],
    },
    {
      name: 'container fields',
      spec: deployment({
        name: 'Reviews',
        command: 'node reviews.js',
        env: [{ name: 'A=B', value: 1 }],
        ports: [{ containerPort: 70000, name: 'http-port-too-long' }],
      }),
      errors: [
        'spec.template.spec.containers[0].command: must be a list, got "node reviews.js"',
        'spec.template.spec.containers[0].env[0].name: must be a non-empty name without "="',
        'spec.template.spec.containers[0].env[0].value: must be a string, got 1',
        'spec.template.spec.containers[0].name: must be a DNS-1123 label: at most 63 lower-case alphanumerics or "-", starting and ending with an alphanumeric',
        'spec.template.spec.containers[0].ports[0].containerPort: must be an integer between 1 and 65535',
        'spec.template.spec.containers[0].ports[0].name: must be an IANA service name: at most 15 lower-case alphanumerics or "-", with at least one letter',
      ],
    },
    {
      name: 'replicas and strategy',
      spec: deployment(container(), {
        replicas: -1,
        strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } },
      }),
      errors: [
        'spec.replicas: must be an integer of at least 0',
        'spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when maxSurge is 0',
        'spec.strategy.type: not supported: "Recreate" (supported: RollingUpdate)',
      ],
    },
    {
      name: 'a bad percentage',
      spec: deployment(container(), { strategy: { rollingUpdate: { maxSurge: 'lots' } } }),
      errors: ['spec.strategy.rollingUpdate.maxSurge: must be an integer of at least 0 or a percentage such as "25%"'],
    },
    {
      name: 'match expressions',
      spec: {
        ...deployment(container()),
        selector: {
          matchExpressions: [
            { key: 'app', operator: 'In' },
            { key: 'b', operator: 'Exists', values: ['x'] },
            { key: 'c', operator: 'Gt', values: ['1'] },
          ],
        },
      },
      errors: [
        'spec.selector.matchExpressions[0].values: required (at least one value) when operator is In',
        'spec.selector.matchExpressions[1].values: must be empty when operator is Exists',
        'spec.selector.matchExpressions[2].operator: must be one of: In, NotIn, Exists, DoesNotExist (got "Gt")',
      ],
    },
  ]);
});

void test('Deployment status is validated', () => {
  assert.deepEqual(
    errorsOf(doc('apps/v1', 'Deployment', deployment(container()), { status: { readyReplicas: 'two', ready: 2 } })),
    ['status.ready: unknown field', 'status.readyReplicas: must be an integer between 0 and 2147483647'],
  );
});

void test('toLabelSelector gives the store selector the runner matches pods with', () => {
  const selector = toLabelSelector({
    matchLabels: { app: 'reviews' },
    matchExpressions: [
      { key: 'tier', operator: 'NotIn', values: ['db'] },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  });
  assert.deepEqual(selector, {
    requirements: [
      { key: 'app', op: 'In', values: ['reviews'] },
      { key: 'tier', op: 'NotIn', values: ['db'] },
      { key: 'legacy', op: 'DoesNotExist' },
    ],
  });
  assert.ok(matches(selector, { app: 'reviews', tier: 'web' }));
  assert.ok(!matches(selector, { app: 'reviews', tier: 'db' }));
  assert.deepEqual(
    errorsOf(
      doc('apps/v1', 'Deployment', {
        ...deployment(container()),
        selector: { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] },
      }),
    ),
    ['spec.template.metadata.labels: selector does not match template labels'],
  );
});
