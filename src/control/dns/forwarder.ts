/**
 * Forwards queries for names outside the mesh to one upstream resolver (`shoal control --dns-upstream ip:port`).
 * UDP queries go out over one shared UDP socket with a fresh random ID each (the reply is matched by ID and source,
 * then gets the client's ID back); TCP queries over a short TCP connection of their own, so a large answer is never
 * truncated on the way. No answer within the timeout: the caller answers SERVFAIL.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { connect, isIP } from 'node:net';
import { ShoalError } from '../../core/errors.js';

export interface Upstream {
  host: string;
  port: number;
}

/** Parses `ip:port` / `[ipv6]:port`; a clear error naming the flag otherwise. */
export function parseUpstream(text: string, flag = '--dns-upstream'): Upstream {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ShoalError('BadRequest', `${flag} ${text}: expected <ip>:<port> (an IP address, e.g. 127.0.0.1:53)`);
  }
  return { host, port };
}

interface Pending {
  clientId: number;
  timer: NodeJS.Timeout;
  resolve: (reply: Buffer | undefined) => void;
}

export class Forwarder {
  private socket?: UdpSocket;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly upstream: Upstream,
    private readonly timeoutMs = 2_000,
  ) {}

  async start(): Promise<void> {
    const socket = (this.socket = createSocket(isIP(this.upstream.host) === 6 ? 'udp6' : 'udp4'));
    socket.on('message', (msg, rinfo) => this.onReply(msg, rinfo.address, rinfo.port));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  }

  stop(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    this.socket?.close();
    this.socket = undefined;
  }

  /** Sends `query` upstream over UDP; the reply (with the client's ID) or undefined on timeout. */
  udp(query: Buffer): Promise<Buffer | undefined> {
    const socket = this.socket;
    if (socket === undefined || this.pending.size >= 60_000) return Promise.resolve(undefined);
    let id = randomInt(0x10000);
    while (this.pending.has(id)) id = (id + 1) & 0xffff;
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      this.pending.set(id, { clientId: query.readUInt16BE(0), timer, resolve });
      socket.send(out, this.upstream.port, this.upstream.host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(undefined);
      });
    });
  }

  /** Sends `query` upstream over a TCP connection of its own; the reply or undefined on failure or timeout. */
  tcp(query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.upstream.host, port: this.upstream.port });
      let buffered = Buffer.alloc(0);
      let done = false;
      const finish = (reply: Buffer | undefined): void => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve(reply);
      };
      socket.setTimeout(this.timeoutMs, () => finish(undefined));
      socket.on('error', () => finish(undefined));
      socket.on('close', () => finish(undefined));
      socket.on('connect', () => {
        const frame = Buffer.allocUnsafe(2 + query.length);
        frame.writeUInt16BE(query.length, 0);
        query.copy(frame, 2);
        socket.write(frame);
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2) return;
        const length = buffered.readUInt16BE(0);
        if (buffered.length >= 2 + length) finish(buffered.subarray(2, 2 + length));
      });
    });
  }

  private onReply(msg: Buffer, address: string, port: number): void {
    if (msg.length < 12 || port !== this.upstream.port || address !== this.upstream.host) return;
    const id = msg.readUInt16BE(0);
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    msg.writeUInt16BE(p.clientId, 0);
    p.resolve(msg);
  }
}
