/**
 * Which HTTP/1.1 client the sidecar's upstream pools should use, by measurement (issue 4): the sidecar's own
 * `Http1Pool` (src/proxy/upstream/http1-pool.ts, what the sidecar uses) against undici's `Pool` driven through
 * `dispatch()` (what it used before) and node:http's `request()` with a keep-alive `Agent`, each
 * used the way a proxy uses it (headers object in, status/headers/body chunks out, nothing buffered), against the
 * same backend in a separate process, at the same concurrency. Reports requests per second and the client's CPU
 * time per request; the rounds alternate so background load hits both.
 *
 *   node dist/bench/proxy/upstream-clients.js [requests=20000] [concurrency=32] [rounds=3]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent as HttpAgent, createServer, request as httpRequest } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { Http1Pool, type Http1Handler } from '../../src/proxy/upstream/http1-pool.js';

const [requests = 20_000, concurrency = 32, rounds = 3] = process.argv.slice(2).map(Number);

async function backend(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL(import.meta.url).pathname, ['--backend'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  return { child, port };
}

type Client = (path: string, headers: Record<string, string>) => Promise<void>;

function undiciClient(port: number): { run: Client; close(): Promise<void> } {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
  const run: Client = (path, headers) =>
    new Promise((resolve, reject) => {
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => undefined,
        onResponseStart: () => undefined,
        onResponseData: () => undefined,
        onResponseEnd: () => resolve(),
        onResponseError: (_c, e) => reject(e),
      };
      pool.dispatch({ path, method: 'GET', headers }, handler);
    });
  return { run, close: () => pool.close() };
}

function shoalClient(port: number): { run: Client; close(): Promise<void> } {
  const pool = new Http1Pool({ host: '127.0.0.1', port, connections: concurrency });
  const run: Client = (path, headers) =>
    new Promise((resolve, reject) => {
      const handler: Http1Handler = {
        onResponseEnd: () => resolve(),
        onResponseError: (_c, e) => reject(e),
      };
      pool.dispatch({ path, method: 'GET', headers, body: null }, handler);
    });
  return { run, close: () => pool.close() };
}

function nodeClient(port: number): { run: Client; close(): Promise<void> } {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const run: Client = (path, headers) =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers, agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  return {
    run,
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
  };
}

async function measure(client: Client): Promise<{ rps: number; cpuUsPerRequest: number }> {
  const headers = { host: 'backend.default.svc.cluster.local', 'x-request-id': '0c7e1f3a-0000-4000-8000-000000000000' };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests) {
      next++;
      await client('/', headers);
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { rps: (requests / ms) * 1000, cpuUsPerRequest: (cpu.user + cpu.system) / requests };
}

async function main(): Promise<void> {
  const { child, port } = await backend();
  const clients = {
    Http1Pool: shoalClient,
    undici: undiciClient,
    'node:http': nodeClient,
  };
  const names = Object.keys(clients) as (keyof typeof clients)[];
  const results: Record<string, { rps: number[]; cpu: number[] }> = {};
  for (const name of names) results[name] = { rps: [], cpu: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      // The order rotates so that background load hits every client alike.
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) {
        const c = clients[name](port);
        await measure(c.run); // warm-up on the same pool
        const r = await measure(c.run);
        await c.close();
        results[name]!.rps.push(r.rps);
        results[name]!.cpu.push(r.cpuUsPerRequest);
      }
    }
  } finally {
    child.kill();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(
    `| client | requests/s (median of ${rounds}) | client CPU µs per request |\n| --- | --- | --- |\n`,
  );
  for (const [name, r] of Object.entries(results)) {
    process.stdout.write(`| ${name} | ${Math.round(median(r.rps))} | ${median(r.cpu).toFixed(1)} |\n`);
  }
}

if (process.argv[2] === '--backend') {
  const body = Buffer.alloc(101, 'x');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.send!(typeof a === 'object' && a !== null ? a.port : 0);
  });
} else {
  await main();
}
