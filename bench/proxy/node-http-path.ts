/**
 * The node-http path of the proxy benchmark: client -> proxy P1 -> proxy P2 -> the backend's HTTP/1.1 port, two
 * `node-http.js` processes (node-http.ts: a minimal HTTP/1.1 proxy that parses and rewrites every head, with a
 * keep-alive upstream pool) started with the sidecars' node flags (NODE_FLAGS, BENCH_PROXY_NODE_FLAGS). It has no h2c
 * endpoint, so the h2load phase skips it.
 *
 * Like node-floor, it is a reference, not a proxy to compare features with: the least an HTTP-aware Node.js hop
 * costs on this machine, so the report can say how far the sidecar is from it.
 */
import { fileURLToPath } from 'node:url';
import { freePort, startNodeHops, type Backend, type Endpoint, type RunningPath } from './paths.js';
import type { Procs } from './procs.js';
import { NODE_FLAGS } from './shoal-path.js';

export const NODE_HTTP_SCRIPT = fileURLToPath(new URL('./node-http.js', import.meta.url));

/** Starts P2 then P1 and resolves once both listen. */
export async function nodeHttpPath(
  procs: Procs,
  dir: string,
  backend: Pick<Backend, 'http1'>,
  nodeFlags: readonly string[] = NODE_FLAGS,
): Promise<RunningPath> {
  const hop2: Endpoint = { host: '127.0.0.1', port: await freePort() };
  const hop1: Endpoint = { host: '127.0.0.1', port: await freePort() };
  const { hops, stop } = await startNodeHops(procs, dir, NODE_HTTP_SCRIPT, nodeFlags, [
    { name: 'node-http-hop2', routes: [{ listen: hop2, target: backend.http1 }] },
    { name: 'node-http-hop1', routes: [{ listen: hop1, target: hop2 }] },
  ]);
  return {
    name: 'node-http',
    http1: hop1,
    authority: 'backend',
    hops: [hops[1]!, hops[0]!],
    notes: [
      `two minimal HTTP/1.1 proxies on node:net (bench/proxy/node-http.ts; node ${nodeFlags.join(' ') || 'without flags'}, ` +
        `as the sidecars): each request and response head parsed into a flat header list, hop-by-hop fields dropped, ` +
        `x-forwarded-for and x-forwarded-proto added, written again; Content-Length bodies only; a LIFO keep-alive ` +
        `upstream pool; the least an HTTP-aware Node.js hop costs per request`,
      'h2c: n/a, the path has no h2c endpoint (the proxies hop in HTTP/1.1 anyway)',
    ],
    stop,
  };
}
