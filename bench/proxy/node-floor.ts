/**
 * The Node floor of the proxy benchmark: a minimal TCP forwarder on node:net, the least work any Node.js process can
 * do per request and hop (one read and one write each way, on the event loop). It is not an HTTP proxy: it parses
 * nothing, so it carries HTTP/1.1 and h2c alike, byte for byte.
 *
 * Every accepted downstream connection gets its own upstream connection (TCP_NODELAY on both); each `data` chunk is
 * written straight to the other socket (no backpressure: the benchmark's requests and answers are small); an error
 * or a close on either side destroys both. A FIN is not forwarded as a half-close: with Node's default
 * `allowHalfOpen: false` it ends the pair, which is all a keep-alive HTTP client needs.
 *
 * Run as a process: `node [flags] node-floor.js LISTEN=TARGET...`, each route `host:port=host:port`; it listens on
 * every LISTEN and exits 0 on SIGTERM. It imports nothing but node:net and node:url, so its start-up and memory are
 * Node's own.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface FloorEndpoint {
  host: string;
  port: number;
}

export interface FloorRoute {
  listen: FloorEndpoint;
  target: FloorEndpoint;
}

/** Pairs one accepted downstream socket with a new upstream connection to `target`. */
export function forward(down: Socket, target: FloorEndpoint): void {
  const up = connect({ host: target.host, port: target.port, noDelay: true });
  const teardown = (): void => {
    down.destroy();
    up.destroy();
  };
  down.on('data', (d: Buffer) => up.write(d));
  up.on('data', (d: Buffer) => down.write(d));
  down.on('error', teardown);
  up.on('error', teardown);
  down.on('close', teardown);
  up.on('close', teardown);
}

/** A server forwarding every connection to `target` (not listening yet). */
export function floorServer(target: FloorEndpoint): Server {
  return createServer({ noDelay: true }, (down) => forward(down, target));
}

/** `host:port=host:port` -> a route; throws on anything else. */
export function parseRoute(arg: string): FloorRoute {
  const endpoint = (s: string | undefined): FloorEndpoint => {
    const m = /^(.+):(\d+)$/.exec(s ?? '');
    if (!m) throw new Error(`"${arg}" is not host:port=host:port`);
    return { host: m[1]!, port: Number(m[2]) };
  };
  const [listen, target, extra] = arg.split('=');
  if (extra !== undefined) throw new Error(`"${arg}" is not host:port=host:port`);
  return { listen: endpoint(listen), target: endpoint(target) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const routes = process.argv.slice(2).map(parseRoute);
  if (routes.length === 0) throw new Error('usage: node-floor.js host:port=host:port...');
  for (const r of routes) floorServer(r.target).listen(r.listen.port, r.listen.host);
  process.on('SIGTERM', () => process.exit(0));
}
