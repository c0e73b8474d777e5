/** What a pod is given (environment, sidecar and gateway flags), the Pod kind, and the lines `shoal up` prints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podKind, podStatusText } from '../../../src/api/kinds/pod.js';
import { objectsTable } from '../../../src/cli/output.js';
import { rolloutProgress } from '../../../src/cli/rollout.js';
import { parseRef } from '../../../src/cli/workload-ref.js';
import { templateHash } from '../../../src/runner/deployment-controller.js';
import { gatewayArgs, ingressUrls } from '../../../src/runner/gateways.js';
import { LiveView, podLine } from '../../../src/runner/live-view.js';
import { appEnvironment, sidecarArgs, type PodProcessSpec } from '../../../src/runner/pod-process.js';
import { runnerProblems } from '../../../src/runner/runner.js';
import type { Deployment } from '../../../src/api/kinds/deployment.js';
import { assertValid, doc, errorsOf } from '../api/helpers.js';

const spec: PodProcessSpec = {
  name: 'reviews-abc-xyz12',
  namespace: 'shop',
  ip: '127.1.0.7',
  labels: { app: 'reviews', version: 'v1' },
  serviceAccount: 'bookinfo-reviews',
  container: {
    name: 'app',
    command: ['node', 'reviews.js'],
    env: [{ name: 'GREETING', value: 'hi' }, { name: 'PORT', value: '1' }, { name: 'EMPTY' }],
    ports: [
      { containerPort: 9080, name: 'http' },
      { containerPort: 9090, name: 'grpc' },
    ],
    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
  },
  cwd: '/tmp',
  xds: '127.0.0.1:15010',
  logDir: '/tmp/logs',
};

void test("the app's environment: SPEC's variables, the container's env last", () => {
  const env = appEnvironment(spec, {
    PATH: '/bin',
    HTTP_PROXY: 'http://corp:3128',
    http_proxy: 'http://corp:3128',
    no_proxy: '*',
  });
  assert.deepEqual(env, {
    PATH: '/bin',
    PORT: '1',
    HOST: '127.1.0.7',
    POD_IP: '127.1.0.7',
    POD_NAME: 'reviews-abc-xyz12',
    POD_NAMESPACE: 'shop',
    HTTP_PROXY: 'http://127.1.0.7:15001',
    NO_PROXY: 'localhost,127.0.0.1,127.1.0.7',
    GREETING: 'hi',
    EMPTY: '',
  });
  assert.equal(appEnvironment({ ...spec, container: { name: 'app' } }, {}).PORT, '8080', 'no ports: 8080');
});

void test('sidecar flags: identity, labels, named ports, readiness probe', () => {
  assert.deepEqual(sidecarArgs(spec), [
    'sidecar',
    '--control',
    '127.0.0.1:15010',
    '--namespace',
    'shop',
    '--workload',
    'reviews-abc-xyz12',
    '--service-account',
    'bookinfo-reviews',
    '--pod-ip',
    '127.1.0.7',
    '--app-port',
    '9080',
    '--labels',
    'app=reviews,version=v1',
    '--ports',
    'http=9080,grpc=9090',
    '--readiness-probe',
    '{"httpGet":{"path":"/ready","port":"http"},"periodSeconds":1}',
  ]);
  const bare = sidecarArgs({ ...spec, labels: {}, container: { name: 'app', command: ['x'] } });
  assert.ok(!bare.includes('--labels') && !bare.includes('--ports') && !bare.includes('--readiness-probe'));
});

void test('gateway flags and ingress URLs follow the agreed interface', () => {
  const gw = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name: 'bookstore', namespace: 'shop' },
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: [
        { port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'] },
        { port: { number: 8080, name: 'http2', protocol: 'HTTP' }, hosts: ['a.example'] },
        { port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'SIMPLE' } },
      ],
    },
  };
  assert.deepEqual(gatewayArgs(gw, '127.0.0.1:15010'), [
    'gateway',
    '--control',
    '127.0.0.1:15010',
    '--namespace',
    'shop',
    '--workload',
    'bookstore',
    '--labels',
    'istio=ingressgateway',
    '--bind',
    '127.0.0.1',
    '--admin-port',
    '0',
    '--health-port',
    '0',
    '--stats-port',
    '0',
    '--log-format',
    'json',
  ]);
  assert.deepEqual(ingressUrls(gw), ['http://127.0.0.1:8080', 'https://127.0.0.1:8443']);
});

void test('template hash: stable, 10 characters, changes with the template', () => {
  const t = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'app', command: ['x'] }] } };
  assert.match(templateHash(t), /^[a-z0-9]{10}$/);
  assert.equal(templateHash(t), templateHash(JSON.parse(JSON.stringify(t))));
  const restarted = { ...t, metadata: { ...t.metadata, annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } };
  assert.notEqual(templateHash(restarted), templateHash(t));
});

const podSpec = { containers: [{ name: 'app', command: ['node', 'a.js'] }] };

void test('Pod: valid objects, kubectl columns, status text', () => {
  const pod = {
    ...(doc('v1', 'Pod', podSpec) as object),
    status: {
      phase: 'Running',
      podIP: '127.1.0.7',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'app', ready: true, restartCount: 2, state: { running: {} } },
        { name: 'shoal-proxy', ready: true, restartCount: 0 },
      ],
    },
  };
  assertValid(pod);
  assert.deepEqual(errorsOf({ ...pod, status: { phase: 'Sleeping' } }), [
    'status.phase: must be one of: Pending, Running, Succeeded, Failed, Unknown (got "Sleeping")',
  ]);
  assert.deepEqual(errorsOf(doc('v1', 'Pod', { containers: [] })), [
    'spec.containers: must have exactly one container: shoal up runs each pod as one local process',
  ]);
  const obj = { ...pod, metadata: { name: 'web-1' } };
  const table = objectsTable(podKind, [obj as never], { allNamespaces: false, wide: true }).split('\n');
  assert.match(table[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+IP\s+AGE$/);
  assert.match(table[1]!, /^web-1\s+2\/2\s+Running\s+2\s+127\.1\.0\.7\s+<unknown>$/);
  assert.equal(podStatusText({ phase: 'Running', reason: 'Terminating' }), 'Terminating');
  assert.equal(
    podStatusText({
      phase: 'Pending',
      containerStatuses: [
        { name: 'app', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } },
      ],
    }),
    'CrashLoopBackOff',
  );
  assert.equal(podStatusText(undefined), 'Pending');
});

void test('runnerProblems: a Deployment without a command is named by its field', () => {
  const d = doc('apps/v1', 'Deployment', {
    selector: { matchLabels: { app: 'a' } },
    template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'app', image: 'a:1' }] } },
  }) as Deployment;
  const problems = runnerProblems([{ source: 'x.yaml', index: 0, line: 3, object: d }]);
  assert.deepEqual(
    problems.map((p) => [p.field, p.line]),
    [['spec.template.spec.containers[0].command', 3]],
  );
});

void test('rollout status messages, as kubectl prints them', () => {
  const d = (status: Deployment['status'], generation = 2): Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', generation },
    spec: { replicas: 2, selector: {}, template: { spec: { containers: [] } } },
    status,
  });
  assert.equal(
    rolloutProgress(d({ observedGeneration: 1 })),
    'Waiting for deployment "web" spec update to be observed...',
  );
  assert.equal(
    rolloutProgress(d({ observedGeneration: 2, updatedReplicas: 1, replicas: 3 })),
    'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...',
  );
  assert.equal(
    rolloutProgress(d({ observedGeneration: 2, updatedReplicas: 2, replicas: 3 })),
    'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
  );
  assert.equal(
    rolloutProgress(d({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 })),
    'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...',
  );
  assert.equal(
    rolloutProgress(d({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 })),
    undefined,
  );
});

void test('references: TYPE/NAME, TYPE NAME, a bare pod name', () => {
  assert.deepEqual(
    [parseRef('deployment/web', undefined), parseRef('deploy', 'web'), parseRef('web-1', undefined, 'pod')].map((r) => [
      r.def.kind,
      r.name,
    ]),
    [
      ['Deployment', 'web'],
      ['Deployment', 'web'],
      ['Pod', 'web-1'],
    ],
  );
  assert.throws(() => parseRef('web', undefined), /web: expected TYPE\/NAME, e.g. deployment\/web/);
  assert.throws(() => parseRef('deployment/', undefined), /the name is missing/);
});

void test('live view: plain lines when not a terminal, a redrawn table on one', async () => {
  const plain: string[] = [];
  const out = { write: (s: string) => plain.push(s) } as unknown as NodeJS.WritableStream;
  const view = new LiveView(out, false);
  const p = { name: 'web-1', namespace: 'default', deployment: 'default/web', restarts: 0 };
  view.pod({ ...p, state: 'pending' });
  view.pod({ ...p, state: 'pending' });
  view.pod({ ...p, ip: '127.1.0.2', state: 'starting' });
  view.pod({ ...p, ip: '127.1.0.2', state: 'crashed', restarts: 1, message: 'app exited with code 3' });
  assert.deepEqual(plain, [
    'pod/web-1 - pending\n',
    'pod/web-1 127.1.0.2 starting\n',
    'pod/web-1 127.1.0.2 crashed: app exited with code 3 (restarts 1)\n',
  ]);
  assert.equal(podLine({ ...p, state: 'ready', ip: '127.1.0.2' }), 'pod/web-1 127.1.0.2 ready');

  const drawn: string[] = [];
  const tty = new LiveView({ write: (s: string) => drawn.push(s) } as unknown as NodeJS.WritableStream, true);
  tty.pod({ ...p, state: 'pending' });
  tty.pod({ ...p, name: 'web-2', state: 'pending' });
  await new Promise((resolve) => setTimeout(resolve, 80));
  tty.pod({ ...p, ip: '127.1.0.2', state: 'ready' });
  // Settled with a redraw still pending: the table is drawn once, then only plain lines follow.
  tty.settle();
  tty.print('shoal up: ready');
  tty.pod({ ...p, ip: '127.1.0.2', state: 'ready' });
  tty.pod({ ...p, ip: '127.1.0.2', state: 'terminating' });
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.deepEqual(drawn, [
    'pod/web-1 - pending\npod/web-2 - pending\n',
    '\x1b[2A\x1b[J',
    'pod/web-1 127.1.0.2 ready\npod/web-2 - pending\n',
    'shoal up: ready\n',
    'pod/web-1 127.1.0.2 terminating\n',
  ]);
});
