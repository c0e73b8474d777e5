/**
 * The whole control plane with a real outside xDS client: two gRPC servers registered through WorkloadEntries and
 * a Service, and a separate process using @grpc/grpc-js-xds (target xds:///echo.default.svc.cluster.local:8080).
 * Calls reach both; a DestinationRule + VirtualService sending 100% to v2 moves every call to v2 within 2 s; a
 * deleted WorkloadEntry gets no more calls.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from '@grpc/grpc-js';
import { echoServer, startXdsClient, waitUntil, type XdsClientProcess } from '../helpers/grpc-xds.js';
import { runCli, startControl, type RunningControl } from '../helpers/processes.js';

let control: RunningControl;
let a: { server: Server; port: number };
let b: { server: Server; port: number };
let client: XdsClientProcess;

async function api(method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(control.url + path, {
    method,
    headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

const NET = '/apis/networking.istio.io/v1/namespaces/default';
const CLIENT_ID = 'grpc~127.0.0.1~client.default~default.svc.cluster.local';

function workloadEntry(name: string, port: number, version: string): unknown {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name },
    spec: { address: '127.0.0.1', ports: { grpc: port }, labels: { app: 'echo', version }, locality: 'local/zone-a' },
  };
}

/** The servers that answered the last `n` calls, all successful. */
function lastServers(n: number): string[] | undefined {
  const recent = client.results.slice(-n);
  if (recent.length < n || recent.some((r) => !r.ok)) return undefined;
  return recent.map((r) => r.server!);
}

before(async () => {
  a = await echoServer('v1');
  b = await echoServer('v2');
  control = await startControl();
  assert.equal(
    await api('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo' },
      spec: { selector: { app: 'echo' }, ports: [{ name: 'grpc', port: 8080, appProtocol: 'grpc' }] },
    }),
    201,
  );
  assert.equal(await api('POST', `${NET}/workloadentries`, workloadEntry('echo-a', a.port, 'v1')), 201);
  assert.equal(await api('POST', `${NET}/workloadentries`, workloadEntry('echo-b', b.port, 'v2')), 201);
  client = startXdsClient(
    'xds:///echo.default.svc.cluster.local:8080',
    control.xds,
    'grpc~127.0.0.1~client.default~default.svc.cluster.local',
  );
});

after(async () => {
  await client?.stop();
  assert.equal(await control.stop(), 0);
  a.server.forceShutdown();
  b.server.forceShutdown();
});

test('calls reach both servers', async () => {
  await waitUntil(
    () => {
      const s = lastServers(10);
      return s !== undefined && s.includes('v1') && s.includes('v2');
    },
    15_000,
    `calls to both servers (last: ${JSON.stringify(client.results.slice(-3))}; client stderr: ${client.stderr().slice(-1500)})`,
  );
});

test('proxy-status and proxy-config explain what the client was sent', async () => {
  await waitUntil(
    async () => {
      const res = await runCli(['proxy-status'], control.env);
      return new RegExp(
        `^${CLIENT_ID.replace(/[.~]/g, '\\$&')}\\s+default\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s`,
        'm',
      ).test(res.stdout);
    },
    5_000,
    'SYNCED on every type',
  );
  const clusters = await runCli(['proxy-config', 'clusters', CLIENT_ID], control.env);
  assert.equal(clusters.code, 0, clusters.stderr);
  assert.match(clusters.stdout, /^echo\.default\.svc\.cluster\.local\s+8080\s+-\s+outbound\s+EDS\s+ROUND_ROBIN$/m);
  const endpoints = await runCli(['proxy-config', 'endpoints', CLIENT_ID], control.env);
  assert.match(
    endpoints.stdout,
    new RegExp(`^127\\.0\\.0\\.1:${a.port}\\s+HEALTHY\\s+1\\s+local/zone-a\\s+outbound\\|8080\\|\\|echo`, 'm'),
  );
  assert.match(endpoints.stdout, new RegExp(`^127\\.0\\.0\\.1:${b.port}\\s+HEALTHY`, 'm'));
  const listeners = await runCli(['proxy-config', 'listeners', CLIENT_ID, '-o', 'json'], control.env);
  const parsed = JSON.parse(listeners.stdout) as { name: string; api_listener?: unknown }[];
  assert.ok(parsed.some((l) => l.name === 'echo.default.svc.cluster.local:8080' && l.api_listener !== undefined));
  const missing = await runCli(['proxy-config', 'clusters', 'nobody'], control.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not connected/);
});

test('a VirtualService sending 100% to subset v2 moves every call there within 2 s', async () => {
  assert.equal(
    await api('POST', `${NET}/destinationrules`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'echo' },
      spec: {
        host: 'echo',
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      },
    }),
    201,
  );
  const start = Date.now();
  assert.equal(
    await api('POST', `${NET}/virtualservices`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'echo' },
      spec: { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo', subset: 'v2' }, weight: 100 }] }] },
    }),
    201,
  );
  await waitUntil(() => lastServers(10)?.every((s) => s === 'v2') === true, 5_000, 'only v2');
  // The switch: the first call after which every call went to v2.
  let i = client.results.length - 1;
  while (i > 0 && client.results[i - 1]!.server === 'v2') i--;
  const switchedAfter = client.results[i]!.at - start;
  assert.ok(switchedAfter < 2_000, `every call reached v2 ${switchedAfter} ms after the write`);
});

test('a deleted WorkloadEntry gets no more calls', async () => {
  assert.equal(await api('DELETE', `${NET}/virtualservices/echo`), 200);
  await waitUntil(() => (lastServers(10) ?? []).includes('v1'), 5_000, 'v1 back in rotation');
  assert.equal(await api('DELETE', `${NET}/workloadentries/echo-a`), 200);
  const mark = client.results.length;
  await waitUntil(() => client.results.length - mark >= 40, 10_000, '40 more calls');
  const after = client.results.slice(mark + 20);
  assert.ok(
    after.every((r) => r.ok && r.server === 'v2'),
    JSON.stringify(after.filter((r) => r.server !== 'v2')),
  );
});
