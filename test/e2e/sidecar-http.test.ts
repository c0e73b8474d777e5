/**
 * The sidecar end to end over HTTP/1.1, with real processes: client -> client sidecar (outbound 15001) -> server
 * sidecar (inbound 15006) -> server app. Host-header and HTTP-proxy (absolute-form) routing, header handling,
 * streamed bodies, the rescue table, the admin/health/stats servers, and a graceful shutdown that withdraws the
 * endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startControl, runCli, type RunningControl } from '../helpers/processes.js';
import { podIp, send, startEchoApp, startSidecar, type SidecarProcess } from '../helpers/sidecars.js';
import { waitUntil } from '../helpers/grpc-xds.js';

const SERVICE = `
apiVersion: v1
kind: Service
metadata: { name: backend }
spec:
  selector: { app: backend }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

describe('sidecar over HTTP/1.1 (real processes)', () => {
  let control: RunningControl;
  let app: Awaited<ReturnType<typeof startEchoApp>>;
  let server: SidecarProcess;
  let client: SidecarProcess;
  const host = 'backend.default.svc.cluster.local';

  before(async () => {
    control = await startControl();
    const applied = await runCli(['apply', '-f', '-'], control.env, SERVICE);
    assert.equal(applied.code, 0, applied.stderr);
    const serverIp = podIp();
    app = await startEchoApp(serverIp, 'backend-1', (req, res) => {
      if (req.url === '/stall') {
        // The head and a first piece of the body, then nothing until the connection closes.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        return true;
      }
      if (req.url !== '/slow') return false;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('slow done');
      }, 1500);
      return true;
    });
    server = startSidecar({
      xds: control.xds,
      workload: 'backend-1',
      appPort: app.port,
      podIp: serverIp,
      labels: { app: 'backend' },
      args: ['--readiness-probe', '{"tcpSocket":{"port":' + String(app.port) + '},"periodSeconds":1}'],
    });
    client = startSidecar({
      xds: control.xds,
      workload: 'client-1',
      appPort: 9,
      labels: { app: 'client' },
      args: ['--readiness-probe', 'none'],
    });
    await Promise.all([server.ready, client.ready]);
    await waitUntil(
      async () => (await send(client.outbound, { headers: { host } })).status === 200,
      10_000,
      'a route to backend',
    );
  });

  after(async () => {
    await Promise.all([client?.kill(), server?.kill()]);
    await app?.close();
    await control?.kill();
  });

  /**
   * Applies a VirtualService for backend whose route sets `x-route: <tag>` (plus `extra` route fields, and `alsoSet`
   * header fields on the request and the response), and waits for it.
   */
  async function applyRoute(tag: string, extra: string, alsoSet = ''): Promise<void> {
    const request = alsoSet === '' ? '' : `request: { set: { ${alsoSet} } }, `;
    const response = alsoSet === '' ? '' : `, ${alsoSet}`;
    const vs = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: backend }
spec:
  hosts: [backend]
  http:
  - headers: { ${request}response: { set: { x-route: ${tag}${response} } } }
    route: [{ destination: { host: backend } }]
    ${extra}
`;
    const applied = await runCli(['apply', '-f', '-'], control.env, vs);
    assert.equal(applied.code, 0, applied.stderr);
    await waitUntil(
      async () => (await send(client.outbound, { headers: { host } })).headers['x-route'] === tag,
      5000,
      `the route tagged ${tag} in force`,
    );
  }

  it('routes by the Host header and by an absolute-form (HTTP proxy) request line', async () => {
    const byHost = await send(client.outbound, { path: '/a?x=1', headers: { host } });
    assert.equal(byHost.status, 200);
    const echoed = JSON.parse(byHost.text) as { name: string; url: string; host: string };
    assert.equal(echoed.name, 'backend-1');
    assert.equal(echoed.url, '/a?x=1');
    assert.equal(echoed.host, host);
    const byProxy = await send(client.outbound, { path: 'http://backend:80/b', headers: { host: 'backend:80' } });
    assert.equal(byProxy.status, 200);
    assert.equal((JSON.parse(byProxy.text) as { url: string }).url, '/b');
  });

  it('adds x-request-id and x-forwarded-proto, keeps a client request id, drops hop-by-hop headers', async () => {
    const r = await send(client.outbound, {
      headers: { host, connection: 'keep-alive, x-secret', 'x-secret': 'no', 'x-request-id': 'abc' },
    });
    const seen = (JSON.parse(r.text) as { headers: Record<string, string> }).headers;
    assert.equal(seen['x-request-id'], 'abc');
    assert.equal(seen['x-forwarded-proto'], 'http');
    // The server's sidecar appends the calling pod (the client sidecar's address) to x-forwarded-for.
    assert.equal(seen['x-forwarded-for'], client.podIp);
    assert.equal(seen['x-secret'], undefined);
    const fresh = await send(client.outbound, { headers: { host } });
    assert.match(
      (JSON.parse(fresh.text) as { headers: Record<string, string> }).headers['x-request-id']!,
      /^[0-9a-f-]{36}$/,
    );
  });

  it('streams a 4 MiB request body to the app intact', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    const r = await send(client.outbound, { method: 'POST', headers: { host }, body });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.text) as { bytes: number }).bytes, body.length);
  });

  it('answers an unknown host 404 with response flag NR', async () => {
    const r = await send(client.outbound, { headers: { host: 'nothere.default.svc.cluster.local' } });
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-shoal-response-flags'], 'NR');
  });

  it('serves 200 sequential requests without a failure', async () => {
    for (let i = 0; i < 200; i++) {
      const r = await send(client.outbound, { path: `/n/${i}`, headers: { host } });
      assert.equal(r.status, 200, `request ${i}: ${r.text}`);
    }
  });

  it('reports readiness, clusters, config and metrics on its admin, health and stats ports', async () => {
    assert.equal((await send(`${client.admin}/ready`)).text, 'LIVE\n');
    assert.equal((await send(`${client.health}/healthz/ready`)).status, 200);
    const clusters = await send(`${client.admin}/clusters`);
    assert.match(
      clusters.text,
      new RegExp(
        `outbound\\|80\\|\\|${host.replace(/\./g, '\\.')}::${server.podIp.replace(/\./g, '\\.')}:15006::health_flags::healthy`,
      ),
    );
    const dump = JSON.parse((await send(`${client.admin}/config_dump`)).text) as { versions: Record<string, string> };
    assert.notEqual(dump.versions.listeners, '');
    const memory = JSON.parse((await send(`${client.admin}/memory`)).text) as { rss: number; heap_used: number };
    assert.ok(memory.rss > memory.heap_used && memory.heap_used > 0);
    const metrics = (await send(`http://${client.podIp}:15090/stats/prometheus`)).text;
    assert.match(
      metrics,
      /istio_requests_total\{reporter="source",listener="outbound",response_code_class="2xx",response_flags="-"\} \d+/,
    );
    assert.match(metrics, /istio_requests_total\{[^}]*response_flags="NR"\} [1-9]/);
  });

  it('registers an instance without a readiness probe (--readiness-probe none) as healthy', async () => {
    const r = await runCli(['get', 'workloadentries', 'client-1', '-o', 'json'], control.env);
    assert.equal(r.code, 0, r.stderr);
    const entry = JSON.parse(r.stdout) as { status?: { conditions?: { type: string; status: string }[] } };
    const healthy = entry.status?.conditions?.find((c) => c.type === 'Healthy');
    assert.notEqual(healthy?.status, 'False');
  });

  it('applies a route change atomically: a request in flight finishes on the old route, new ones take the new', async () => {
    const inFlight = send(client.outbound, { path: '/slow', headers: { host } });
    await new Promise((r) => setTimeout(r, 200));
    await applyRoute('changed', '');
    const slow = await inFlight;
    assert.equal(slow.status, 200);
    assert.equal(slow.text, 'slow done');
    assert.equal(slow.headers['x-route'], undefined, 'the in-flight request kept the route it started with');
    const deleted = await runCli(['delete', 'virtualservice', 'backend'], control.env);
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  it('sends configured non-ASCII header values as their UTF-8 bytes, both ways (as Envoy does)', async () => {
    const note = 'grüße 😀';
    await applyRoute('utf8', '', `x-note: "${note}"`);
    try {
      // Node's HTTP parsers hand header octets over as latin1 characters: the UTF-8 bytes are read back from those.
      const utf8 = (v: string | string[] | undefined): string => Buffer.from(String(v), 'latin1').toString('utf8');
      const r = await send(client.outbound, { headers: { host } });
      assert.equal(utf8(r.headers['x-note']), note);
      const seen = (JSON.parse(r.text) as { headers: Record<string, string> }).headers;
      assert.equal(utf8(seen['x-note']), note);
    } finally {
      // The next tests apply their own route; this one must not outlive a failure.
      const deleted = await runCli(['delete', 'virtualservice', 'backend'], control.env);
      assert.equal(deleted.code, 0, deleted.stderr);
    }
  });

  it('enforces a route timeout: 504 UT before the response starts, a reset flagged UT after it started', async () => {
    await applyRoute('timed', 'timeout: 0.4s');
    try {
      const began = Date.now();
      const slow = await send(client.outbound, { path: '/slow', headers: { host } });
      assert.equal(slow.status, 504);
      assert.equal(slow.headers['x-shoal-response-flags'], 'UT');
      assert.ok(Date.now() - began < 1400, 'answered at the timeout, not when the app answered');
      const flagged = async (): Promise<number> => {
        const metrics = (await send(`http://${client.podIp}:15090/stats/prometheus`)).text;
        const line = metrics
          .split('\n')
          .find((l) => l.startsWith('istio_requests_total{') && l.includes('response_flags="UT"'));
        return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      const before = await flagged();
      // The app sends its head and part of the body, then stalls: the client sees the connection reset.
      await assert.rejects(send(client.outbound, { path: '/stall', headers: { host } }));
      assert.equal(await flagged(), before + 1, 'the reset counted as a timeout (UT), not an upstream reset (UR)');
    } finally {
      const deleted = await runCli(['delete', 'virtualservice', 'backend'], control.env);
      assert.equal(deleted.code, 0, deleted.stderr);
    }
  });

  it('on SIGTERM withdraws its endpoint, finishes and exits 0', async () => {
    const code = await server.stop();
    assert.equal(code, 0);
    const entries = await runCli(['get', 'workloadentries', '-o', 'json'], control.env);
    assert.doesNotMatch(entries.stdout, /backend-1/);
    const r = await send(client.outbound, { headers: { host } });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-shoal-response-flags'], 'UH');
  });
});
