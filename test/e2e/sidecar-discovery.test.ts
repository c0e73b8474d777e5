/**
 * Discovery under load, with real processes: a client sends 200 requests per second through its sidecar to a
 * service whose instances come and go (1 -> 3 -> 1, each instance an app plus its own sidecar). Every new instance
 * gets traffic within 2 s of becoming ready; instances that leave gracefully (SIGTERM) cost no request. Then the
 * control plane is killed with SIGKILL under the same load: no request fails, and after a restart the sidecars
 * reconnect and converge (a new instance added after the restart gets traffic).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { runCli, startControl, type RunningControl } from '../helpers/processes.js';
import { podIp, startEchoApp, startSidecar, type SidecarProcess } from '../helpers/sidecars.js';
import { waitUntil } from '../helpers/grpc-xds.js';

const HOST = 'shop.default.svc.cluster.local';
const SERVICE = `
apiVersion: v1
kind: Service
metadata: { name: shop }
spec:
  selector: { app: shop }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

interface Instance {
  name: string;
  app: Awaited<ReturnType<typeof startEchoApp>>;
  sidecar: SidecarProcess;
  /** When the sidecar reported the app ready (ms, performance.now()). */
  readyAt: Promise<number>;
}

/** An open-loop load at a fixed rate; counts answers per instance and every failure. */
class Load {
  readonly byInstance = new Map<string, number>();
  readonly firstSeen = new Map<string, number>();
  readonly failures: string[] = [];
  sent = 0;
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

  constructor(private readonly target: string) {}

  start(rps: number): void {
    const interval = 1000 / rps;
    let due = performance.now();
    const tick = (): void => {
      const now = performance.now();
      while (due <= now) {
        due += interval;
        this.one();
      }
      this.timer = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    tick();
  }

  private one(): void {
    this.sent++;
    const p = request(`${this.target}/`, {
      dispatcher: this.agent,
      headers: { host: HOST },
      headersTimeout: 5000,
      bodyTimeout: 5000,
    })
      .then(async (res) => {
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          this.failures.push(`${res.statusCode} ${String(res.headers['x-shoal-response-flags'] ?? '')} ${text.trim()}`);
          return;
        }
        const name = (JSON.parse(text) as { name: string }).name;
        this.byInstance.set(name, (this.byInstance.get(name) ?? 0) + 1);
        if (!this.firstSeen.has(name)) this.firstSeen.set(name, performance.now());
      })
      .catch((error: Error) => void this.failures.push(`error ${error.message}`));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private stopped = false;

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all(this.inFlight);
    await this.agent.close();
  }
}

describe('discovery under 200 rps (real processes)', () => {
  let control: RunningControl;
  let client: SidecarProcess;
  const instances = new Map<string, Instance>();
  let load: Load | undefined;

  async function addInstance(name: string): Promise<Instance> {
    const ip = podIp();
    const app = await startEchoApp(ip, name);
    const sidecar = startSidecar({
      xds: control.xds,
      workload: name,
      appPort: app.port,
      podIp: ip,
      labels: { app: 'shop' },
      args: [
        '--readiness-probe',
        JSON.stringify({ tcpSocket: { port: app.port }, periodSeconds: 1 }),
        '--drain-duration',
        '2',
      ],
    });
    // Ready: the app passed its probe and the sidecar's listeners are bound (it reports the app's health only then).
    const readyAt = Promise.all([
      waitUntil(
        () => /"ready":true[^\n]*"msg":"app readiness changed"/.test(sidecar.stderr()),
        15_000,
        `${name} ready`,
      ),
      sidecar.ready,
    ]).then(() => performance.now());
    const instance = { name, app, sidecar, readyAt };
    instances.set(name, instance);
    await sidecar.ready;
    return instance;
  }

  async function removeInstance(name: string): Promise<void> {
    const instance = instances.get(name)!;
    const code = await instance.sidecar.stop();
    assert.equal(code, 0, `${name} sidecar exit code`);
    await instance.app.close();
    instances.delete(name);
  }

  before(async () => {
    control = await startControl();
    const applied = await runCli(['apply', '-f', '-'], control.env, SERVICE);
    assert.equal(applied.code, 0, applied.stderr);
    client = startSidecar({ xds: control.xds, workload: 'client', appPort: 9, args: ['--readiness-probe', 'none'] });
    await client.ready;
  });

  after(async () => {
    await load?.stop();
    await Promise.all([client?.kill(), ...[...instances.values()].map((i) => i.sidecar.kill())]);
    await Promise.all([...instances.values()].map((i) => i.app.close()));
    await control?.kill();
  });

  it('scales 1 -> 3 -> 1 with traffic to each new instance within 2 s of ready and no failed request', async () => {
    const first = await addInstance('shop-1');
    await first.readyAt;
    load = new Load(client.outbound);
    await waitUntil(
      async () => {
        const r = await request(`${client.outbound}/`, { headers: { host: HOST } });
        await r.body.text();
        return r.statusCode === 200;
      },
      10_000,
      'shop reachable',
    );
    load.start(200);
    await new Promise((r) => setTimeout(r, 1500));
    for (const name of ['shop-2', 'shop-3']) {
      const instance = await addInstance(name);
      const readyAt = await instance.readyAt;
      await waitUntil(() => load!.firstSeen.has(name), 5000, `traffic to ${name}`);
      const lag = load.firstSeen.get(name)! - readyAt;
      assert.ok(lag < 2000, `${name} got its first request ${Math.round(lag)} ms after it was ready`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    await removeInstance('shop-2');
    await removeInstance('shop-3');
    await new Promise((r) => setTimeout(r, 1000));
    const sentBefore = load.sent;
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(load.sent - sentBefore >= 150, `the load kept its rate (${load.sent - sentBefore} in 1 s)`);
    if (load.failures.length > 0) {
      const lines = client
        .stderr()
        .split('\n')
        .filter((l) => l.includes('request failed'));
      assert.deepEqual(load.failures, [], lines.slice(0, 5).join('\n'));
    }
    for (const name of ['shop-1', 'shop-2', 'shop-3'])
      assert.ok((load.byInstance.get(name) ?? 0) > 0, `${name} served`);
  });

  it('keeps serving through kill -9 of the control plane, and converges after a restart', async () => {
    assert.ok(load !== undefined);
    const failuresBefore = load.failures.length;
    await control.kill();
    const sentAtKill = load.sent;
    await new Promise((r) => setTimeout(r, 10_000));
    assert.ok(load.sent - sentAtKill >= 1800, `load continued (${load.sent - sentAtKill} requests in 10 s)`);
    assert.deepEqual(load.failures.slice(failuresBefore), []);
    const xdsPort = control.xds.slice(control.xds.lastIndexOf(':') + 1);
    control = await startControl({ dataDir: control.dataDir, args: ['--xds-port', xdsPort] });
    // The sidecars reconnect (jittered backoff) and re-register; a new instance then joins the same mesh.
    const late = await addInstance('shop-4');
    const readyAt = await late.readyAt;
    await waitUntil(() => load!.firstSeen.has('shop-4'), 35_000, 'traffic to shop-4 after the restart');
    assert.ok(load.firstSeen.get('shop-4')! > readyAt);
    await waitUntil(
      async () => {
        const status = await runCli(['proxy-status'], control.env);
        return /~client\./.test(status.stdout) && /~shop-1\./.test(status.stdout);
      },
      35_000,
      'every sidecar reconnected',
    );
    await load.stop();
    assert.deepEqual(load.failures, []);
  });
});
