/**
 * The node-floor path of the proxy benchmark: client -> forwarder F1 -> forwarder F2 -> backend, two `node-floor.js`
 * processes (node-floor.ts) started with the sidecars' node flags (NODE_FLAGS, BENCH_PROXY_NODE_FLAGS). Each carries
 * two routes: HTTP/1.1 (F1 -> F2 -> the backend's HTTP/1.1 port) and h2c (F1 -> F2 -> the backend's h2c port), so
 * h2load's prior-knowledge HTTP/2 goes through both hops too, as bytes: unlike the proxies, whose hops talk
 * HTTP/1.1 to each other, the floor carries HTTP/2 end to end.
 *
 * It is not a proxy to compare features with: it is what any Node.js process costs per request and hop on this
 * machine (a read and a write each way, on the event loop), so the report can say how far the sidecar is from it.
 */
import { fileURLToPath } from 'node:url';
import { freePort, startNodeHops, type Backend, type Endpoint, type RunningPath } from './paths.js';
import type { Procs } from './procs.js';
import { NODE_FLAGS } from './shoal-path.js';

export const NODE_FLOOR_SCRIPT = fileURLToPath(new URL('./node-floor.js', import.meta.url));

/** Starts F2 then F1 and resolves once every port of both listens. */
export async function nodeFloorPath(
  procs: Procs,
  dir: string,
  backend: Pick<Backend, 'http1' | 'h2c'>,
  nodeFlags: readonly string[] = NODE_FLAGS,
): Promise<RunningPath> {
  const local = async (): Promise<Endpoint> => ({ host: '127.0.0.1', port: await freePort() });
  const hop2 = { http1: await local(), h2c: await local() };
  const hop1 = { http1: await local(), h2c: await local() };
  const routes = (listen: typeof hop1, next: typeof hop1): { listen: Endpoint; target: Endpoint }[] => [
    { listen: listen.http1, target: next.http1 },
    { listen: listen.h2c, target: next.h2c },
  ];
  const { hops, stop } = await startNodeHops(procs, dir, NODE_FLOOR_SCRIPT, nodeFlags, [
    { name: 'node-floor-hop2', routes: routes(hop2, backend) },
    { name: 'node-floor-hop1', routes: routes(hop1, hop2) },
  ]);
  return {
    name: 'node-floor',
    http1: hop1.http1,
    h2c: hop1.h2c,
    authority: 'backend',
    hops: [hops[1]!, hops[0]!],
    notes: [
      `two node:net TCP forwarders (bench/proxy/node-floor.ts; node ${nodeFlags.join(' ') || 'without flags'}, as ` +
        `the sidecars): one upstream connection per downstream connection, bytes written straight across; not an ` +
        `HTTP proxy, the least a Node.js process costs per request and hop`,
      'h2c: the floor forwards bytes, so HTTP/2 goes end to end to the backend (the proxies hop in HTTP/1.1)',
    ],
    stop,
  };
}
