/**
 * TCP tunnels for `CONNECT host:port` (plain TCP services and HTTPS to hosts outside the mesh). The outbound sidecar
 * terminates the app's CONNECT and opens the upstream leg:
 * - to an endpoint that is a peer sidecar's inbound listener (its ClusterLoadAssignment entry carries the app port,
 *   `tunnelPort`), by sending `CONNECT <endpoint-ip>:<app-port>` to that sidecar, which answers 200 and connects to
 *   its own app (inbound passthrough: only to its own pod address, so a sidecar is never an open proxy);
 * - to anything else (a ServiceEntry host, a workload without a sidecar), by connecting directly.
 * Bytes already read past the peer's response head are handed on, so nothing is lost.
 */
import { connect, type Socket } from 'node:net';
import type { LbEndpoint } from '../config/index.js';

export interface TunnelOpened {
  socket: Socket;
  /** Bytes the peer sent right after its 200 (already part of the tunnelled stream). */
  rest: Buffer;
}

const HEAD_LIMIT = 16 * 1024;

/** Opens the upstream leg of a tunnel to `endpoint`; rejects on connect failure or a peer's refusal. */
export function openTunnel(
  endpoint: LbEndpoint,
  connectTimeoutMs: number,
  localAddress?: string,
): Promise<TunnelOpened> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: endpoint.address,
      port: endpoint.port,
      noDelay: true,
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
    const timer = setTimeout(
      () => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
      connectTimeoutMs,
    );
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      if (endpoint.tunnelPort === undefined) {
        clearTimeout(timer);
        socket.off('error', fail);
        return resolve({ socket, rest: Buffer.alloc(0) });
      }
      const target = `${endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address}:${endpoint.tunnelPort}`;
      socket.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`);
      let head: Buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > HEAD_LIMIT) fail(new Error('peer sidecar sent an oversized CONNECT response'));
          return;
        }
        socket.off('data', onData);
        socket.pause();
        clearTimeout(timer);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'));
        if (status === null || status[1] !== '200') {
          const code = status?.[1] === '503' ? 'ECONNREFUSED' : 'EPROTO';
          return fail(
            Object.assign(new Error(`peer sidecar refused the tunnel (${status?.[1] ?? 'bad response'})`), { code }),
          );
        }
        socket.off('error', fail);
        resolve({ socket, rest: head.subarray(end + 4) });
      };
      socket.on('data', onData);
    });
  });
}

/** Splits `host:port` / `[v6]:port`; undefined when it is not that shape. */
export function splitAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(authority) ?? /^([^:]+):(\d{1,5})$/.exec(authority);
  if (m === null) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined;
}
