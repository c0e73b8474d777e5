/**
 * `shoal up` at its edges: a bad manifest or flag stops it before anything starts, with one line naming the field;
 * a failing liveness probe or `shoal delete pod` replaces the pod; SIGINT stops everything with nothing left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/processes.js';
import { eventually, isRunning, startUp, UP_APP } from '../helpers/up.js';

function deployment(name: string, container: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
${container}`;
}

async function upFails(manifest: string, extra: string[] = []): Promise<{ code: number | null; lines: string[] }> {
  const dir = tempDir('shoal-up-bad-');
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, manifest);
  const r = await runCli(
    ['up', '-f', file, '--data-dir', join(dir, 'data'), '--http-port', '0', '--xds-port', '0', ...extra],
    { ...process.env, SHOAL_CONFIG: join(dir, 'config') },
  );
  assert.equal(r.stdout, '', 'nothing started');
  return { code: r.code, lines: r.stderr.trimEnd().split('\n') };
}

test('a bad manifest or flag: non-zero exit, one line naming the field, nothing started', async () => {
  const noCommand = await upFails(deployment('web', '        - {name: app, image: web:1}'));
  assert.equal(noCommand.code, 1);
  assert.equal(noCommand.lines.length, 1, noCommand.lines.join('\n'));
  assert.match(
    noCommand.lines[0]!,
    /^error: \S+bad\.yaml: document 1 \(line 1\): Deployment default\/web: spec\.template\.spec\.containers\[0\]\.command: required: shoal up runs the command as a local process/,
  );

  const negative = await upFails(
    deployment('web', '        - {name: app, command: [node, x.js]}').replace(
      'spec:\n  selector',
      'spec:\n  replicas: -1\n  selector',
    ),
  );
  assert.equal(negative.code, 1);
  assert.equal(negative.lines.length, 1, negative.lines.join('\n'));
  assert.match(negative.lines[0]!, /: spec\.replicas: /);

  const cidr = await upFails(deployment('web', '        - {name: app, command: [node, x.js]}'), [
    '--pod-cidr',
    '10.0.0.0/33',
  ]);
  assert.equal(cidr.code, 2);
  assert.deepEqual(cidr.lines, [
    'error: --pod-cidr 10.0.0.0/33: expected an IPv4 CIDR with a prefix of 8 to 30, e.g. 127.1.0.0/16',
  ]);
});

test('a failing liveness probe or a deleted Pod gets a replacement; SIGINT stops everything and leaves no process', async () => {
  const dir = tempDir('shoal-up-live-');
  const app = `        - name: app
          command: [node, ${JSON.stringify(UP_APP)}]
          ports: [{containerPort: 8080}]`;
  writeFileSync(
    join(dir, 'app.yaml'),
    [
      deployment('steady', app),
      deployment(
        'dying',
        `${app}\n          livenessProbe: {tcpSocket: {port: 9}, periodSeconds: 1, failureThreshold: 2}`,
      ),
    ].join('\n---\n'),
  );
  const up = startUp([dir]);
  try {
    await eventually('the api line', () => (up.stdout().includes('shoal up: api') ? true : undefined));
    await eventually(
      'a liveness restart',
      async () => {
        const r = await runCli(['get', 'pods', '-l', 'app=dying', '-o', 'json'], up.env);
        const items = (
          JSON.parse(r.stdout) as { items: { status: { containerStatuses: { restartCount: number }[] } }[] }
        ).items;
        return items.some((p) => p.status.containerStatuses[0]!.restartCount >= 1) ? true : undefined;
      },
      30_000,
    );
    assert.match(up.stdout(), /pod\/dying-\S+ \S+ crashed: liveness probe failed: /);
    assert.ok(!up.stdout().includes('\x1b['), 'plain lines when stdout is not a terminal');
    // The other Deployment is not disturbed.
    const steady = await eventually('the steady pod ready', async () => {
      const r = await runCli(['get', 'pods', '-l', 'app=steady'], up.env);
      const m = /^(\S+)\s+2\/2\s+Running\s+0\s/.exec(r.stdout.split('\n')[1] ?? '');
      return m ? m[1] : undefined;
    });
    // A pod deleted through the API is stopped and replaced, as in Kubernetes.
    const deleted = await runCli(['delete', 'pod', steady], up.env);
    assert.equal(deleted.stdout, `pod "${steady}" deleted\n`);
    await eventually('a replacement for the deleted pod', async () => {
      const r = await runCli(['get', 'pods', '-l', 'app=steady', '-o', 'name'], up.env);
      const names = r.stdout.trim().split('\n');
      return names.length === 1 && names[0] !== '' && names[0] !== `pod/${steady}` ? true : undefined;
    });
    await eventually('the deleted pod gone', () =>
      new RegExp(`pod/${steady} \\S+ gone`).test(up.stdout()) ? true : undefined,
    );
  } finally {
    const pids = up.pids();
    assert.equal(await up.stop('SIGINT'), 0, up.stderr().slice(-2000));
    assert.ok(pids.length >= 4, `processes were logged (${pids.length})`);
    assert.deepEqual(
      pids.filter((pid) => isRunning(pid)),
      [],
    );
  }
});

test('kill -9 of shoal up: its sidecars, apps and gateways end too (SIGTERM from the kernel, setpriv --pdeathsig)', async (t) => {
  const dir = tempDir('shoal-up-kill9-');
  const ingress = 20000 + (process.pid % 2000);
  writeFileSync(
    join(dir, 'app.yaml'),
    [
      deployment(
        'web',
        `        - name: app\n          command: [node, ${JSON.stringify(UP_APP)}]\n          ports: [{containerPort: 8080}]`,
      ),
      `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: ${ingress}, name: http, protocol: HTTP}, hosts: ['*']}]`,
    ].join('\n---\n'),
  );
  const up = startUp([dir]);
  let pids: number[] = [];
  t.after(() => {
    // Only if the test failed: end what is left of this run, by PID.
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
  await up.ready;
  pids = await eventually('the pod and the gateway started', () => {
    const started = up.pids();
    return started.length >= 3 ? started : undefined;
  });
  assert.deepEqual(
    pids.filter((pid) => !isRunning(pid)),
    [],
    'everything runs before the kill',
  );
  up.proc.kill('SIGKILL');
  await up.exited;
  await eventually(
    'every process shoal up started gone',
    () => (pids.every((pid) => !isRunning(pid)) ? true : undefined),
    30_000,
  );
});
