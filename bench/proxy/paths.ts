/**
 * The backend and the request paths of the proxy benchmark, all on loopback:
 *  - backend: one nginx process (master + 1 worker) answering every request with 200 and a 101-byte text body,
 *    HTTP/1.1 keep-alive on 127.0.0.1:<port> (and on the Shoal pods' addresses, same port), h2c on a second
 *    port (nginx 1.22 speaks either HTTP/1.1 or HTTP/2 on one cleartext port, not both);
 *  - direct: the client talks to the backend;
 *  - nginx: two nginx processes, each master + `worker_processes 1`, proxy_pass to an upstream with keepalive,
 *    proxy_http_version 1.1 (nginx cannot proxy to an HTTP/2 upstream: hop to hop is always HTTP/1.1);
 *  - haproxy: two haproxy processes, `nbthread 1`, mode http, `http-reuse always`, HTTP/1.1 to the next hop too.
 * The first hop of each chain listens on two ports, HTTP/1.1 and h2c, so h2load can drive it; the hops after it
 * are HTTP/1.1, as for Shoal (the sidecars talk HTTP/1.1 to a Service whose port is named `http`).
 * The two other paths have files of their own: node-floor-path.ts (two node:net forwarders) and shoal-path.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { Managed, Procs } from './procs.js';
import { HOP_NODE } from './shoal-path.js';

export const BODY =
  'shoal proxy benchmark backend: a constant 101-byte answer, the same on every path and every run.....\n';

export interface Endpoint {
  host: string;
  port: number;
}

export interface Hop {
  name: string;
  /** PIDs whose CPU and memory make up the hop (nginx: master and worker). */
  pids(): number[];
}

export interface RunningPath {
  name: 'direct' | 'nginx' | 'haproxy' | 'node-floor' | 'node-http' | 'shoal';
  http1: Endpoint;
  /** Where h2load sends h2c (prior knowledge), when the path takes it. */
  h2c?: Endpoint;
  /** Host / :authority the client sends. */
  authority: string;
  hops: Hop[];
  /** What a reader of the figures should know about this path's setup. */
  notes: string[];
  stop(): Promise<void>;
}

/** A free TCP port on `host` (bound to port 0 and released; the benchmark is the only user of these ports). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls until `port` on `host` accepts a connection, or throws after `timeoutMs` (or when `m` has exited). */
export async function waitForPort(host: string, port: number, timeoutMs: number, m?: Managed): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (m && !m.alive()) throw new Error(`${m.name} exited before listening on ${host}:${port}: ${m.logTail()}`);
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function nginxCommon(dir: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 8192; }
`;
}

function nginxHttpCommon(dir: string): string {
  return `  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
`;
}

async function startNginx(
  procs: Procs,
  nginx: string,
  name: string,
  dir: string,
  conf: string,
  listen: Endpoint,
): Promise<{ managed: Managed; hop: Hop }> {
  const path = join(dir, `${name}.conf`);
  writeFileSync(path, conf);
  const managed = procs.spawn(name, nginx, ['-p', dir, '-c', path, '-e', 'stderr'], join(dir, `${name}.log`));
  await waitForPort(listen.host, listen.port, 10_000, managed);
  return { managed, hop: { name, pids: () => procs.tree(managed.pid) } };
}

/** `host:port=host:port`: the route argument of the Node reference scripts (node-floor.ts, node-http.ts). */
export const routeArg = (listen: Endpoint, target: Endpoint): string =>
  `${listen.host}:${listen.port}=${target.host}:${target.port}`;

/** One hop of a Node reference path: its process name, and the routes it serves (listen -> next hop). */
export interface NodeHopSpec {
  name: string;
  routes: { listen: Endpoint; target: Endpoint }[];
}

/**
 * Starts the hops of a Node reference path (node-floor, node-http) in the order given, each `node [flags] script
 * route...` as a process of its own, and resolves once every route of each listens; on a failure, whatever started is
 * stopped before the error is passed on. `stop()` stops them in the reverse order.
 */
export async function startNodeHops(
  procs: Procs,
  dir: string,
  script: string,
  nodeFlags: readonly string[],
  specs: readonly NodeHopSpec[],
): Promise<{ hops: Hop[]; stop: () => Promise<void> }> {
  const started: Managed[] = [];
  const stop = async (): Promise<void> => {
    for (const m of [...started].reverse()) await procs.stop(m);
  };
  const hops: Hop[] = [];
  try {
    for (const { name, routes } of specs) {
      const args = [...nodeFlags, script, ...routes.map((r) => routeArg(r.listen, r.target))];
      const m = procs.spawn(name, HOP_NODE, args, join(dir, `${name}.log`));
      started.push(m);
      for (const r of routes) await waitForPort(r.listen.host, r.listen.port, 10_000, m);
      hops.push({ name, pids: () => procs.tree(m.pid) });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { hops, stop };
}

export interface Backend {
  http1: Endpoint;
  h2c: Endpoint;
  /** Also listening at these addresses, same port as http1 (the Shoal pods' IPs). */
  podIps: string[];
  managed: Managed;
  stop(): Promise<void>;
}

export async function startBackend(procs: Procs, nginx: string, dir: string, podIps: string[]): Promise<Backend> {
  const port = await freePort();
  const h2cPort = await freePort();
  const conf = `${nginxCommon(dir)}http {
${nginxHttpCommon(dir)}  server {
    listen 127.0.0.1:${port};
${podIps.map((ip) => `    listen ${ip}:${port};\n`).join('')}    location / { default_type text/plain; return 200 "${BODY.slice(0, -1)}\\n"; }
  }
  server {
    listen 127.0.0.1:${h2cPort} http2;
    location / { default_type text/plain; return 200 "${BODY.slice(0, -1)}\\n"; }
  }
}
`;
  const { managed } = await startNginx(procs, nginx, 'backend', dir, conf, { host: '127.0.0.1', port });
  return {
    http1: { host: '127.0.0.1', port },
    h2c: { host: '127.0.0.1', port: h2cPort },
    podIps,
    managed,
    stop: () => procs.stop(managed),
  };
}

export function directPath(backend: Backend): RunningPath {
  return {
    name: 'direct',
    http1: backend.http1,
    h2c: backend.h2c,
    authority: 'backend',
    hops: [],
    notes: [],
    stop: () => Promise.resolve(),
  };
}

export async function nginxPath(procs: Procs, nginx: string, dir: string, backend: Backend): Promise<RunningPath> {
  const hop2Port = await freePort();
  const hop1Port = await freePort();
  const hop1H2c = await freePort();
  const hopConf = (hopDir: string, listen: string, upstream: Endpoint): string => `${nginxCommon(hopDir)}http {
${nginxHttpCommon(hopDir)}  upstream next {
    server ${upstream.host}:${upstream.port};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
${listen}
    location / {
      proxy_pass http://next;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`;
  const started: Managed[] = [];
  try {
    const dir2 = join(dir, 'nginx-hop2');
    const dir1 = join(dir, 'nginx-hop1');
    mkdirSync(dir2, { recursive: true });
    mkdirSync(dir1, { recursive: true });
    const h2 = await startNginx(
      procs,
      nginx,
      'nginx-hop2',
      dir2,
      hopConf(dir2, `    listen 127.0.0.1:${hop2Port};`, backend.http1),
      { host: '127.0.0.1', port: hop2Port },
    );
    started.push(h2.managed);
    const h1 = await startNginx(
      procs,
      nginx,
      'nginx-hop1',
      dir1,
      hopConf(dir1, `    listen 127.0.0.1:${hop1Port};\n    listen 127.0.0.1:${hop1H2c} http2;`, {
        host: '127.0.0.1',
        port: hop2Port,
      }),
      { host: '127.0.0.1', port: hop1Port },
    );
    started.push(h1.managed);
    return {
      name: 'nginx',
      http1: { host: '127.0.0.1', port: hop1Port },
      h2c: { host: '127.0.0.1', port: hop1H2c },
      authority: 'backend',
      hops: [h1.hop, h2.hop],
      notes: [
        'nginx 1.22, each hop its own master + `worker_processes 1`; upstream keepalive 128, proxy_http_version 1.1',
        'h2c reaches hop 1 only: nginx proxies to its upstream in HTTP/1.1',
      ],
      stop: async () => {
        for (const m of started.reverse()) await procs.stop(m);
      },
    };
  } catch (err) {
    for (const m of started.reverse()) await procs.stop(m);
    throw err;
  }
}

export async function haproxyPath(procs: Procs, haproxy: string, dir: string, backend: Backend): Promise<RunningPath> {
  const hop2Port = await freePort();
  const hop1Port = await freePort();
  const hop1H2c = await freePort();
  const conf = (binds: string, upstream: Endpoint): string => `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 300s
  http-reuse always

frontend in
${binds}
  default_backend next

backend next
  server next ${upstream.host}:${upstream.port}
`;
  const started: Managed[] = [];
  const start = async (name: string, text: string, port: number): Promise<Hop> => {
    const path = join(dir, `${name}.cfg`);
    writeFileSync(path, text);
    const m = procs.spawn(name, haproxy, ['-db', '-f', path], join(dir, `${name}.log`));
    started.push(m);
    await waitForPort('127.0.0.1', port, 10_000, m);
    return { name, pids: () => procs.tree(m.pid) };
  };
  try {
    const hop2 = await start('haproxy-hop2', conf(`  bind 127.0.0.1:${hop2Port}`, backend.http1), hop2Port);
    const hop1 = await start(
      'haproxy-hop1',
      conf(`  bind 127.0.0.1:${hop1Port}\n  bind 127.0.0.1:${hop1H2c} proto h2`, { host: '127.0.0.1', port: hop2Port }),
      hop1Port,
    );
    return {
      name: 'haproxy',
      http1: { host: '127.0.0.1', port: hop1Port },
      h2c: { host: '127.0.0.1', port: hop1H2c },
      authority: 'backend',
      hops: [hop1, hop2],
      notes: ['HAProxy 2.6, each hop one process with `nbthread 1`, mode http, `http-reuse always`, HTTP/1.1 upstream'],
      stop: async () => {
        for (const m of started.reverse()) await procs.stop(m);
      },
    };
  } catch (err) {
    for (const m of started.reverse()) await procs.stop(m);
    throw err;
  }
}
