/**
 * Interop with a real xDS client: a child process running @grpc/grpc-js-xds resolves
 * xds:///echo.default.svc.cluster.local:8080 through Shoal's discovery server (LDS -> RDS -> CDS -> EDS over ADS)
 * and calls a grpc-js echo server. The call must succeed; moving the endpoint must move the traffic; a Cluster the
 * client cannot use must be NACKed (recorded by the server) while traffic keeps flowing on the last good one.
 */
import { status as GrpcStatus, type Server } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_TYPE_URL } from '../../src/control/xds/resource-types.js';
import type { TypeStatus } from '../../src/control/xds/type-tracker.js';
import { echoCluster, echoSnapshot, LISTENER_NAME } from '../unit/xds/fixtures.js';
import { echoServer } from '../helpers/grpc-xds.js';
import { startXdsServer, waitFor, type TestXdsServer } from './xds-test-client.js';

const NODE_ID = 'sidecar~127.1.0.9~client-1.default~default.svc.cluster.local';

interface CallResult {
  ok: boolean;
  server?: string;
  code?: number;
  details?: string;
}

let xds: TestXdsServer;
let a: { server: Server; port: number };
let b: { server: Server; port: number };
let child: ChildProcess | undefined;
const results: CallResult[] = [];
const stderr: string[] = [];

function typeStatuses(): TypeStatus[] {
  return xds.server.connections().find((c) => c.nodeId === NODE_ID)?.types ?? [];
}

/** Waits for `count` consecutive calls answered by `server`; returns the results seen while waiting. */
async function waitForServer(server: string, count = 5, timeoutMs = 20_000): Promise<CallResult[]> {
  const start = results.length;
  await waitFor(
    () => {
      const recent = results.slice(Math.max(start, results.length - count));
      return recent.length === count && recent.every((r) => r.ok && r.server === server);
    },
    timeoutMs,
    `${count} calls in a row to ${server} (last: ${JSON.stringify(results.at(-1))}; stderr: ${stderr.join('').slice(-2000)})`,
  );
  return results.slice(start);
}

before(async () => {
  a = await echoServer('A');
  b = await echoServer('B');
  xds = await startXdsServer({ controlPlaneId: 'shoal-interop' });
  xds.cache.set(NODE_ID, echoSnapshot([a.port]));
  const bootstrap = {
    xds_servers: [
      { server_uri: `127.0.0.1:${xds.port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: {
      id: NODE_ID,
      cluster: 'client.default',
      locality: { region: 'local', zone: 'zone-a' },
      metadata: {
        NAMESPACE: 'default',
        LABELS: { app: 'client' },
        SERVICE_ACCOUNT: 'client',
        WORKLOAD_NAME: 'client',
        CLUSTER_ID: 'Kubernetes',
      },
    },
  };
  const script = fileURLToPath(new URL('./xds-interop-client.js', import.meta.url));
  child = spawn(process.execPath, [script, `xds:///${LISTENER_NAME}`], {
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => results.push(JSON.parse(line) as CallResult));
  }
});

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const proc = child;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.stdin?.end();
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }
  await xds.server.stop(1_000);
  a.server.forceShutdown();
  b.server.forceShutdown();
});

void describe('xDS interop with @grpc/grpc-js-xds', { timeout: 60_000 }, () => {
  void it('resolves the service through LDS, RDS, CDS and EDS and calls the endpoint', async () => {
    const seen = await waitForServer('A');
    assert.ok(seen.every((r) => r.server !== 'B'));
    await waitFor(
      () => typeStatuses().length === 4 && typeStatuses().every((s) => s.status === 'SYNCED'),
      5_000,
      'SYNCED',
    );
    assert.deepEqual(
      typeStatuses().map((s) => [s.shortName, s.wildcard, s.subscribedNames, s.sentResources]),
      [
        ['CDS', false, 1, 1],
        ['EDS', false, 1, 1],
        ['LDS', false, 1, 1],
        ['RDS', false, 1, 1],
      ],
    );
    const connection = xds.server.connections().find((c) => c.nodeId === NODE_ID);
    assert.equal(connection?.protocol, 'sotw');
    assert.match(connection?.node?.userAgent ?? '', /^gRPC Node Pure JS /);
    assert.equal(connection?.node?.namespace, 'default');
    assert.equal(connection?.node?.workloadName, 'client');
  });

  void it('moves traffic when the endpoint changes', async () => {
    xds.cache.set(NODE_ID, echoSnapshot([b.port]));
    const seen = await waitForServer('B');
    assert.ok(
      seen.every((r) => r.ok),
      `no call failed during the move: ${JSON.stringify(seen.filter((r) => !r.ok))}`,
    );
    await waitFor(() => typeStatuses().every((s) => s.status === 'SYNCED'), 5_000, 'SYNCED after the move');
  });

  void it('records the NACK of a Cluster the client cannot use, while traffic stays on the last good one', async () => {
    const cdsBefore = typeStatuses().find((s) => s.shortName === 'CDS');
    const bad = echoSnapshot([b.port]).withResources({
      [CLUSTER_TYPE_URL]: [{ ...echoCluster(), lb_policy: 'LEAST_REQUEST' }],
    });
    xds.cache.set(NODE_ID, bad);
    await waitFor(() => typeStatuses().find((s) => s.shortName === 'CDS')?.status === 'NACKED', 10_000, 'NACKED');
    const cds = typeStatuses().find((s) => s.shortName === 'CDS');
    assert.equal(cds?.ackedVersion, cdsBefore?.ackedVersion);
    assert.equal(cds?.lastNack?.rejectedVersion, bad.typeVersion(CLUSTER_TYPE_URL));
    assert.match(cds?.lastNack?.message ?? '', /LEAST_REQUEST/);
    assert.equal(cds?.lastNack?.code, GrpcStatus.UNAVAILABLE);
    const seen = await waitForServer('B', 5, 5_000);
    assert.ok(seen.every((r) => r.ok && r.server === 'B'));

    xds.cache.set(NODE_ID, echoSnapshot([a.port]));
    await waitForServer('A');
    await waitFor(() => typeStatuses().every((s) => s.status === 'SYNCED'), 5_000, 'SYNCED after the fix');
  });
});
