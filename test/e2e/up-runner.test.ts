/**
 * `shoal up` driven like a user: one runner with an `echo` Service (2 replicas), a `client` Deployment and a Gateway, then the
 * commands people use against it (get pods, logs, scale, rollout restart), a crash, and SIGTERM at the end with
 * every process it started gone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runCli, SHOAL_BIN, tempDir } from '../helpers/processes.js';
import { send } from '../helpers/sidecars.js';
import { eventually, isRunning, startUp, UP_APP, type RunningUp } from '../helpers/up.js';

interface PodJson {
  metadata: { name: string; labels: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  status: {
    phase: string;
    podIP: string;
    conditions: { type: string; status: string }[];
    containerStatuses: { name: string; ready: boolean; restartCount: number }[];
  };
}

const MANIFEST = `
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
        - name: app
          command: [node, ./up-app.js]
          env: [{name: GREETING, value: hello}]
          ports: [{containerPort: 8080, name: http}]
          readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      containers:
        - name: app
          command: [node, up-app.js]
          ports: [{containerPort: 9000}]
`;

/** The ingress port: fixed in the Gateway, so one per test process. */
const INGRESS_PORT = 18000 + (process.pid % 2000);

const GATEWAY = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: ${INGRESS_PORT}, name: http, protocol: HTTP}, hosts: ['*']}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: ['*']
  gateways: [web]
  http: [{route: [{destination: {host: echo.default.svc.cluster.local, port: {number: 80}}}]}]
`;

let up: RunningUp;
let dir: string;

async function pods(selector?: string): Promise<PodJson[]> {
  const r = await runCli(['get', 'pods', '-o', 'json', ...(selector ? ['-l', selector] : [])], up.env);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { items: PodJson[] }).items;
}

const isReady = (p: PodJson): boolean => p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

/** Waits until the selector has exactly `n` pods, all ready, none terminating. */
function readyPods(selector: string, n: number, timeoutMs = 20_000): Promise<PodJson[]> {
  return eventually(
    `${n} ready pods with ${selector}`,
    async () => {
      const list = await pods(selector);
      return list.length === n && list.every(isReady) ? list : undefined;
    },
    timeoutMs,
  );
}

before(async () => {
  dir = tempDir('shoal-up-manifest-');
  // The app's command is relative to the manifest's directory: the runner runs it there.
  writeFileSync(join(dir, 'up-app.js'), `import(${JSON.stringify(UP_APP)});\n`);
  writeFileSync(join(dir, 'app.yaml'), MANIFEST + GATEWAY);
  up = startUp([join(dir, 'app.yaml')]);
  await up.ready;
});

after(async () => {
  if (up.proc.exitCode === null) await up.stop('SIGKILL');
});

test('pods come up with their own addresses and the environment SPEC promises', async () => {
  const echo = await readyPods('app=echo', 2);
  const [client] = await readyPods('app=client', 1);
  const all = [...echo, client!];
  const ips = all.map((p) => p.status.podIP);
  assert.equal(new Set(ips).size, 3, 'every pod has its own address');
  for (const p of all) {
    assert.match(p.status.podIP, /^127\.1\.\d+\.\d+$/);
    assert.equal(p.status.phase, 'Running');
    assert.deepEqual(
      p.status.containerStatuses.map((c) => [c.name, c.ready]),
      [
        ['app', true],
        ['shoal-proxy', true],
      ],
    );
    assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'Deployment');
    assert.match(p.metadata.labels['pod-template-hash'] ?? '', /^[a-z0-9]{10}$/);
  }
  const e = echo[0]!;
  const reply = await send(`http://${e.status.podIP}:8080/`);
  const body = JSON.parse(reply.text) as { env: Record<string, string> };
  assert.deepEqual(body.env, {
    PORT: '8080',
    HOST: e.status.podIP,
    POD_IP: e.status.podIP,
    POD_NAME: e.metadata.name,
    POD_NAMESPACE: 'default',
    HTTP_PROXY: `http://${e.status.podIP}:15001`,
    NO_PROXY: `localhost,127.0.0.1,${e.status.podIP}`,
    GREETING: 'hello',
  });
  const clientEnv = JSON.parse((await send(`http://${client!.status.podIP}:9000/`)).text) as {
    env: Record<string, string>;
  };
  assert.equal(clientEnv.env.PORT, '9000', 'PORT is the first containerPort');

  const table = await runCli(['get', 'pods'], up.env);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
  assert.equal(lines.length, 4);
  for (const line of lines.slice(1))
    assert.match(line, /^(echo|client)-[a-z0-9]{10}-[a-z0-9]{5}\s+2\/2\s+Running\s+0\s+\d+s$/);
  const wide = await runCli(['get', 'pods', '-o', 'wide'], up.env);
  assert.match(wide.stdout.split('\n')[0]!, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+IP\s+AGE$/);
  for (const ip of ips) assert.ok(wide.stdout.includes(ip), `-o wide shows ${ip}`);
  const deploy = await runCli(['get', 'deploy', 'echo'], up.env);
  assert.match(deploy.stdout.split('\n')[1]!, /^echo\s+2\/2\s+2\s+2\s+\d+s$/);
});

test('the Gateway gets its own shoal gateway; the summary names its ingress URL, which reaches the service', async () => {
  const ingress = `http://127.0.0.1:${INGRESS_PORT}`;
  assert.match(up.stdout(), new RegExp(`^gateway/web ready ${ingress}$`, 'm'));
  assert.match(up.stdout(), new RegExp(`^shoal up: ingress ${ingress} \\(gateway/web\\)$`, 'm'));
  assert.match(up.stdout(), /^shoal up: dns 127\.0\.0\.1:\d+ \(udp, tcp\)$/m);
  const names = (await readyPods('app=echo', 2)).map((p) => p.metadata.name);
  const r = await send(`${ingress}/through-the-gateway`);
  assert.equal(r.status, 200);
  const body = JSON.parse(r.text) as { pod: string };
  assert.ok(names.includes(body.pod), body.pod);
});

test("a request through one pod's sidecar reaches another service by its mesh name", async () => {
  const [client] = await readyPods('app=client', 1);
  const echoNames = (await readyPods('app=echo', 2)).map((p) => p.metadata.name).sort();
  // A pod the API reports Ready reaches the client's sidecar with the next endpoint push, and a new instance is to
  // get traffic within 2 s of ready (issue 4): so requests go on (at least 8) until both pods answered or 2 s passed.
  const seen = new Set<string>();
  const deadline = Date.now() + 2000;
  for (let i = 0; i < 8 || (seen.size < echoNames.length && Date.now() < deadline); i++) {
    const r = await send(`http://${client!.status.podIP}:9000/call?url=${encodeURIComponent('http://echo/')}`);
    const answer = JSON.parse(r.text) as { status: number; body: string };
    assert.equal(answer.status, 200, answer.body);
    seen.add((JSON.parse(answer.body) as { pod: string }).pod);
  }
  assert.deepEqual([...seen].sort(), echoNames, 'both echo pods answer within 2 s of being ready');
});

test('shoal logs prints a pod, a deployment and a sidecar log, and follows', async () => {
  const [client] = await readyPods('app=client', 1);
  const name = client!.metadata.name;
  const byPod = await runCli(['logs', name], up.env);
  assert.equal(byPod.code, 0, byPod.stderr);
  assert.equal(byPod.stdout.split('\n')[0], `up-app ${name} listening on ${client!.status.podIP}:9000`);
  const byDeployment = await runCli(['logs', 'deployment/client'], up.env);
  assert.equal(byDeployment.stdout, byPod.stdout);
  const proxy = await runCli(['logs', `pod/${name}`, '-c', 'shoal-proxy'], up.env);
  assert.match(proxy.stdout, /shoal sidecar: ready outbound/);
  const missing = await runCli(['logs', 'nope'], up.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /pods "nope" not found/);

  const follow = spawn(process.execPath, [SHOAL_BIN, 'logs', '-f', name], {
    env: up.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await eventually('the existing log', () => (out.includes('listening on') ? true : undefined));
    await send(`http://${client!.status.podIP}:9000/call?url=${encodeURIComponent('http://echo/followed')}`);
    await eventually('the appended line', () => (out.includes('call http://echo/followed\n') ? true : undefined));
  } finally {
    follow.kill('SIGTERM');
  }
});

test('scale up and down through the API', async () => {
  const r = await runCli(['scale', 'deployment/echo', '--replicas', '3'], up.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'deployment.apps/echo scaled\n');
  await readyPods('app=echo', 3);
  await eventually('deployment status 3/3', async () => {
    const d = await runCli(['get', 'deploy', 'echo', '-o', 'json'], up.env);
    const status = (JSON.parse(d.stdout) as { status?: { readyReplicas?: number; replicas?: number } }).status;
    return status?.readyReplicas === 3 && status.replicas === 3 ? true : undefined;
  });
  assert.equal((await runCli(['scale', 'deployment', 'echo', '--replicas', '2'], up.env)).code, 0);
  await readyPods('app=echo', 2);
  const bad = await runCli(['scale', 'deployment/echo', '--replicas', '-1'], up.env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--replicas/);
  const notDeployment = await runCli(['scale', 'svc/echo', '--replicas', '2'], up.env);
  assert.equal(notDeployment.code, 1);
  assert.equal(
    notDeployment.stderr,
    'Error from server (BadRequest): scale: services are not supported, only deployments\n',
  );
});

test('a crashed app is replaced by a new pod with a new address and the restart counted', async () => {
  const before = await readyPods('app=echo', 2);
  const victim = before[0]!;
  const survivor = before[1]!;
  await send(`http://${victim.status.podIP}:8080/crash`);
  const after = await eventually('a replacement pod', async () => {
    const list = await pods('app=echo');
    const replacement = list.find((p) => p.metadata.name !== survivor.metadata.name);
    return list.length === 2 &&
      replacement &&
      replacement.metadata.name !== victim.metadata.name &&
      isReady(replacement)
      ? replacement
      : undefined;
  });
  assert.notEqual(after.status.podIP, victim.status.podIP, 'the new pod has a new address');
  assert.equal(after.status.containerStatuses[0]!.restartCount, 1);
  const table = await runCli(['get', 'pods', after.metadata.name], up.env);
  assert.match(table.stdout.split('\n')[1]!, /\s2\/2\s+Running\s+1\s/);
  assert.match(up.stdout(), new RegExp(`pod/${victim.metadata.name} \\S+ crashed: app exited with code 3`));
  // The mesh follows: the new address answers through the client's sidecar.
  const [client] = await readyPods('app=client', 1);
  const names = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const r = await send(`http://${client!.status.podIP}:15001/`, { headers: { host: 'echo' } });
    assert.equal(r.status, 200);
    names.add((JSON.parse(r.text) as { pod: string }).pod);
  }
  assert.ok(names.has(after.metadata.name), 'the replacement gets requests');
  assert.ok(!names.has(victim.metadata.name));
});

test('rollout restart under load: new pods, one at a time, no failed request', async () => {
  const before = (await readyPods('app=echo', 2)).map((p) => p.metadata.name);
  const [client] = await readyPods('app=client', 1);
  let ok = 0;
  const failures: string[] = [];
  let running = true;
  const inflight = new Set<Promise<void>>();
  const load = (async () => {
    // 50 requests a second, bounded in count (and so in time) whatever happens.
    for (let i = 0; running && i < 3000; i++) {
      const p = send(`http://${client!.status.podIP}:15001/`, { headers: { host: 'echo' } }).then(
        (r) => {
          if (r.status === 200) ok++;
          else failures.push(`${r.status} ${String(r.headers['x-shoal-response-flags'])} ${r.text}`);
        },
        (err: Error) => {
          failures.push(err.message);
        },
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const r = await runCli(['rollout', 'restart', 'deployment/echo'], up.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'deployment.apps/echo restarted\n');
    const status = await runCli(['rollout', 'status', 'deployment/echo', '--timeout', '40s'], up.env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /deployment "echo" successfully rolled out\n$/);
    // The old pods drain after the rollout completes; keep the load on until they are gone.
    await eventually('old pods gone', async () => {
      const names = (await pods('app=echo')).map((p) => p.metadata.name);
      return names.length === 2 && names.every((n) => !before.includes(n)) ? names : undefined;
    });
  } finally {
    running = false;
    await load;
    await Promise.all([...inflight]);
  }
  assert.deepEqual(failures, []);
  assert.ok(ok > 100, `requests were sent during the rollout (${ok})`);
  const after = await readyPods('app=echo', 2);
  const hashes = new Set(after.map((p) => p.metadata.labels['pod-template-hash']));
  assert.equal(hashes.size, 1);
  assert.ok(!before.some((n) => n.includes([...hashes][0]!)), 'the new pods have a new template hash');
});

test('SIGTERM stops everything and exits 0; no process is left', async () => {
  const pids = up.pids();
  assert.ok(pids.length >= 12, `pods' processes were logged (${pids.length})`);
  assert.equal(await up.stop('SIGTERM'), 0, up.stderr().slice(-2000));
  assert.deepEqual(
    pids.filter((pid) => isRunning(pid)),
    [],
  );
  assert.match(up.stdout(), /shoal up: stopped\n$/);
});
