/**
 * `shoal gateway` with real processes: a control plane, two Services (blue, green) each with an echo app behind its
 * sidecar, and a gateway serving two Gateways (web: 8080 for every host; shop: 8081 for shop.example.com only) on its
 * own pod address. Requests to the gateway's ports reach the apps by host; a host no server admits gets
 * 404 NR; weights split traffic; a changed VirtualService re-routes; a deleted Gateway closes its listener. The
 * gateway registers no WorkloadEntry, proxy-status and proxy-config show it, it is not ready until a listener is
 * bound, and SIGTERM drains it and exits 0.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli, startControl, type RunningControl } from '../helpers/processes.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import {
  podIp,
  send,
  startEchoApp,
  startGateway,
  startSidecar,
  type GatewayProcess,
  type SidecarProcess,
} from '../helpers/sidecars.js';

const SERVICES = ['blue', 'green']
  .map(
    (name) => `
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: http }]
`,
  )
  .join('---');

const GATEWAYS = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ['*'] }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: shop }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 8081, name: http, protocol: HTTP }, hosts: [shop.example.com] }]
`;

/** A VirtualService bound to the gateways `web` and, with `shop`, `shop` too. */
function virtualService(name: string, hosts: string[], routes: [string, number][], gateways = ['web']): string {
  const route = routes.map(([host, weight]) => `{ destination: { host: ${host} }, weight: ${weight} }`).join(', ');
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${hosts.map((h) => `'${h}'`).join(', ')}]
  gateways: [${gateways.join(', ')}]
  http: [{ route: [${route}] }]
`;
}

/** The app that answered (the echo app's name), or the status and response flags of a failed request. */
async function who(url: string, host: string): Promise<string> {
  const r = await send(url, { headers: { host } });
  if (r.status !== 200) return `${r.status} ${String(r.headers['x-shoal-response-flags'] ?? '')}`;
  return (JSON.parse(r.text) as { name: string }).name;
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('shoal gateway (real processes)', () => {
  let control: RunningControl;
  let gateway: GatewayProcess;
  const sidecars: SidecarProcess[] = [];
  const apps: Awaited<ReturnType<typeof startEchoApp>>[] = [];
  let lonely: GatewayProcess | undefined;

  async function apply(yaml: string): Promise<void> {
    const r = await runCli(['apply', '-f', '-'], control.env, yaml);
    assert.equal(r.code, 0, r.stderr);
  }

  before(async () => {
    control = await startControl();
    await apply(SERVICES);
    for (const name of ['blue', 'green']) {
      const ip = podIp();
      const app = await startEchoApp(ip, name);
      apps.push(app);
      sidecars.push(
        startSidecar({
          xds: control.xds,
          workload: `${name}-1`,
          appPort: app.port,
          podIp: ip,
          labels: { app: name },
          args: ['--readiness-probe', JSON.stringify({ tcpSocket: { port: app.port }, periodSeconds: 1 })],
        }),
      );
    }
    await apply(GATEWAYS);
    await apply(virtualService('any', ['*'], [['blue', 100]]));
    await apply(virtualService('shop', ['shop.example.com'], [['green', 100]], ['web', 'shop']));
    gateway = startGateway({
      xds: control.xds,
      workload: 'ingress',
      labels: { istio: 'ingressgateway' },
      args: ['--drain-duration', '1'],
    });
    await Promise.all([gateway.ready, ...sidecars.map((s) => s.ready)]);
  });

  after(async () => {
    await Promise.all([gateway?.kill(), lonely?.kill(), ...sidecars.map((s) => s.kill())]);
    await Promise.all(apps.map((a) => a.close()));
    await control?.kill();
  });

  it('prints where it listens and, once its listeners are bound, the ready line with their addresses', () => {
    const b = gateway.bind;
    assert.equal(
      gateway.stdout(),
      `shoal gateway: admin ${b}:15000 health ${b}:15021 stats ${b}:15090\n` +
        `shoal gateway: ready ${b}:8080 ${b}:8081\n`,
    );
  });

  it('routes by host: * admits every host, a specific host wins over *, a host no server admits gets 404 NR', async () => {
    const any = `http://${gateway.bind}:8080/`;
    const shop = `http://${gateway.bind}:8081/`;
    // The sidecars report their apps healthy within a probe period of being ready.
    await waitUntil(async () => (await who(shop, 'shop.example.com')) === 'green', 10_000, 'green through 8081');
    await waitUntil(async () => (await who(any, 'anything.example.org')) === 'blue', 10_000, 'blue through 8080');
    assert.equal(await who(any, 'anything.example.org'), 'blue');
    assert.equal(await who(any, 'shop.example.com'), 'green');
    assert.equal(await who(any, 'shop.example.com:8080'), 'green');
    assert.equal(await who(shop, 'shop.example.com'), 'green');
    assert.equal(await who(shop, 'shop.example.com:8081'), 'green');
    assert.equal(await who(shop, 'other.example.com'), '404 NR');
    const r = await send(`${any}books?x=1`, {
      method: 'POST',
      headers: { host: 'a.example.org' },
      body: Buffer.from('abc'),
    });
    const echoed = JSON.parse(r.text) as { url: string; bytes: number; headers: Record<string, string> };
    assert.equal(echoed.url, '/books?x=1');
    assert.equal(echoed.bytes, 3);
    // The gateway is the edge: x-forwarded-for starts with the client's address; the app's sidecar appends the
    // gateway's, whose upstream connections leave from its bind address.
    assert.equal(echoed.headers['x-forwarded-for'], `127.0.0.1, ${gateway.bind}`);
  });

  it('splits traffic by the VirtualService weights, and re-routes within seconds of a change', async () => {
    await apply(
      virtualService(
        'any',
        ['*'],
        [
          ['blue', 75],
          ['green', 25],
        ],
      ),
    );
    const any = `http://${gateway.bind}:8080/`;
    await waitUntil(async () => (await who(any, 'x.example.org')) === 'green', 10_000, 'the weighted route');
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const name = await who(any, 'x.example.org');
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    // 400 draws at 75/25: 300/100 expected, one standard deviation is 8.7.
    assert.deepEqual([...counts.keys()].sort(), ['blue', 'green']);
    assert.ok(Math.abs(counts.get('blue')! - 300) <= 40, `blue ${counts.get('blue')}`);

    // All to green: the old route gives green a quarter of the time, so wait for ten greens in a row (1e-6 by chance).
    await apply(virtualService('any', ['*'], [['green', 100]]));
    const tenGreen = async (): Promise<boolean> => {
      for (let i = 0; i < 10; i++) if ((await who(any, 'x.example.org')) !== 'green') return false;
      return true;
    };
    await waitUntil(tenGreen, 5_000, 'the re-route');
    for (let i = 0; i < 20; i++) assert.equal(await who(any, 'x.example.org'), 'green');
  });

  it('registers no WorkloadEntry: only the sidecars are mesh endpoints', async () => {
    const r = await runCli(['get', 'workloadentries', '-o', 'name'], control.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [
      'workloadentry.networking.istio.io/blue-1',
      'workloadentry.networking.istio.io/green-1',
    ]);
  });

  it("counts its requests per listener as Istio's gateways do (reporter source), NR included", async () => {
    const stats = await send(`http://${gateway.bind}:15090/stats/prometheus`);
    assert.equal(stats.status, 200);
    // One request got 404 NR on 8081 (the host no server admits).
    assert.match(
      stats.text,
      /\nistio_requests_total\{reporter="source",listener="0\.0\.0\.0_8081",response_code_class="mesh",response_flags="NR"\} 1\n/,
    );
    assert.match(
      stats.text,
      /\nistio_requests_total\{reporter="source",listener="0\.0\.0\.0_8080",response_code_class="2xx"/,
    );
  });

  it('shows in proxy-status and proxy-config as a router~ proxy with its listeners on the bind address', async () => {
    const id = `router~${gateway.bind}~ingress.default~default.svc.cluster.local`;
    const status = await runCli(['proxy-status', '-o', 'json'], control.env);
    assert.equal(status.code, 0, status.stderr);
    const row = (
      JSON.parse(status.stdout) as { proxyId: string; userAgent?: string; types: { type: string }[] }[]
    ).find((s) => s.proxyId === id);
    assert.ok(row, status.stdout);
    assert.match(row.userAgent ?? '', /^shoal-gateway /);
    const table = await runCli(['proxy-status', id], control.env);
    assert.match(table.stdout, new RegExp(`${id.replace(/[.~]/g, '\\$&')}\\s+default\\s+SYNCED\\s+SYNCED`));
    const listeners = await runCli(['proxy-config', 'listeners', id, '-o', 'json'], control.env);
    assert.equal(listeners.code, 0, listeners.stderr);
    const list = JSON.parse(listeners.stdout) as { name: string; address: { socket_address: unknown } }[];
    assert.deepEqual(
      list.map((l) => [l.name, l.address.socket_address]),
      [
        ['0.0.0.0_8080', { address: gateway.bind, port_value: 8080 }],
        ['0.0.0.0_8081', { address: gateway.bind, port_value: 8081 }],
      ],
    );
    const routes = await runCli(['proxy-config', 'routes', id], control.env);
    assert.equal(routes.code, 0, routes.stderr);
    assert.match(
      routes.stdout,
      /http\.8081\s+shop\.example\.com:8081\s+shop\.example\.com, shop\.example\.com:8081\s+\/\*\s+shop\.default\n/,
    );
  });

  it('is not ready (15021 503, no ready line) until a Gateway selects it, then binds and turns ready', async () => {
    // As shoal up starts gateways: free admin, health and stats ports, printed on the first line.
    lonely = startGateway({
      xds: control.xds,
      workload: 'lonely',
      labels: { istio: 'lonely' },
      args: ['--admin-port', '0', '--health-port', '0', '--stats-port', '0'],
    });
    await waitUntil(() => lonely!.stderr().includes('no Gateway listener bound'), 10_000, 'its first configuration');
    const ip = lonely.bind.replace(/\./g, '\\.');
    const ports = new RegExp(`^shoal gateway: admin ${ip}:(\\d+) health ${ip}:(\\d+) stats ${ip}:(\\d+)\n$`).exec(
      lonely.stdout(),
    );
    assert.ok(ports, lonely.stdout());
    assert.ok(!ports.slice(1).some((p) => ['0', '15000', '15021', '15090'].includes(p)), lonely.stdout());
    const health = `http://${lonely.bind}:${ports[2]}/healthz/ready`;
    assert.equal((await send(health)).status, 503);
    await apply(`
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: lonely }
spec:
  selector: { istio: lonely }
  servers: [{ port: { number: 9090, name: http, protocol: HTTP }, hosts: ['*'] }]
`);
    await lonely.ready;
    assert.match(lonely.stdout(), new RegExp(`\nshoal gateway: ready ${ip}:9090\n$`));
    assert.equal((await send(health)).status, 200);
    assert.equal((await send(`http://${lonely.bind}:${ports[3]}/stats/prometheus`)).status, 200);
    // No VirtualService is bound to it: every host gets 404 NR.
    assert.equal(await who(`http://${lonely.bind}:9090/`, 'a.example.org'), '404 NR');
    // The other gateway does not serve it.
    assert.equal(await refused(gateway.bind, 9090), true);
  });

  it('closes the listener of a deleted Gateway', async () => {
    const r = await runCli(['delete', 'gateway', 'lonely'], control.env);
    assert.equal(r.code, 0, r.stderr);
    await waitUntil(() => refused(lonely!.bind, 9090), 5_000, 'the listener to close');
    assert.equal(await refused(gateway.bind, 8080), false);
  });

  it('drains on SIGTERM: readiness 503 while still serving, then exits 0', async () => {
    const any = `http://${gateway.bind}:8080/`;
    assert.equal((await send(`${gateway.health}/healthz/ready`)).status, 200);
    gateway.proc.kill('SIGTERM');
    await waitUntil(
      async () => (await send(`${gateway.health}/healthz/ready`)).status === 503,
      2_000,
      'readiness to fail',
    );
    // Within the drain period (1 s) requests are still served.
    assert.equal(await who(any, 'x.example.org'), 'green');
    assert.equal(await gateway.exited, 0);
    assert.match(gateway.stderr(), /"msg":"gateway stopped"/);
    assert.equal(await refused(gateway.bind, 8080), true);
  });
});

describe('shoal gateway flags', () => {
  const BASE = ['gateway', '--control', '127.0.0.1:1', '--workload', 'w', '--bind', '127.1.0.1'];

  it('lists its flags in --help', async () => {
    const r = await runCli(['gateway', '--help'], process.env);
    assert.equal(r.code, 0);
    for (const flag of [
      '--control',
      '--namespace',
      '--workload',
      '--labels',
      '--bind',
      '--admin-port',
      '--health-port',
      '--stats-port',
      '--log-format',
    ]) {
      assert.ok(r.stdout.includes(flag), `help lists ${flag}`);
    }
  });

  const bad: [string, string[], RegExp][] = [
    ['a missing --bind', ['gateway', '--control', '127.0.0.1:1', '--workload', 'w'], /--bind/],
    ['a bind address that is not an IP', [...BASE, '--bind', 'localhost'], /--bind.*expected an IP address/],
    ['a missing --workload', ['gateway', '--control', '127.0.0.1:1', '--bind', '127.1.0.1'], /--workload/],
    ['a control address without a port', [...BASE, '--control', 'nonsense'], /--control: nonsense is not host:port/],
    ['labels that are not k=v', [...BASE, '--labels', 'istio'], /--labels.*expected k=v/],
    ['a health port out of range', [...BASE, '--health-port', '70000'], /--health-port.*port number/],
    ['an unknown log format', [...BASE, '--log-format', 'xml'], /--log-format.*expected json or text/],
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what} with a non-zero exit and one clear line`, async () => {
      const r = await runCli(args, process.env);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n')[0]!.match(message) !== null, true);
      assert.equal(r.stdout, '');
    });
  }
});
