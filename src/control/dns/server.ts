/**
 * The control plane's DNS server (port 15053, UDP and TCP): answers the mesh's names from a Zone (zone.ts) rebuilt
 * whenever the registry publishes a new view, and refuses or forwards the rest. docs/dns.md describes it.
 *
 * Per query: decode (dns-packet), one Map lookup, one copy of prepared bytes (wire.ts), one send. A packet that does
 * not decode is dropped and counted, never answered; a TCP connection that sends one is closed.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { Debouncer } from '../../core/debounce.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { MeshChange, MeshView } from '../../registry/model.js';
import { Forwarder, type Upstream } from './forwarder.js';
import { assemble, CLASSIC_UDP_SIZE, parseQuery, responseCode, type Query } from './wire.js';
import { RCODE, ZoneBuilder, type Zone } from './zone.js';

/** What the server needs of the registry. */
export interface MeshSource {
  view(): MeshView;
  subscribe(listener: (view: MeshView, change: MeshChange) => void): () => void;
}

export interface DnsServerOptions {
  registry: MeshSource;
  logger: Logger;
  host: string;
  /** 0 = a free port (the same one for UDP and TCP). */
  port: number;
  /** TTL of every answer and the negative TTL, in seconds (default 5). */
  ttl?: number;
  /** Its reverse zone is answered authoritatively (PTR for VIPs, NXDOMAIN for the rest). */
  serviceCidr?: string;
  /** Names outside the mesh go here; without it they are REFUSED. */
  upstream?: Upstream;
  forwardTimeoutMs?: number;
  /** How long the zone rebuild waits for more registry changes (default 20 ms, at most 200 ms). */
  rebuildQuietMs?: number;
  rebuildMaxMs?: number;
}

/** Counters, read by /metrics (plain numbers: the hot path only increments). */
export class DnsStats {
  /** Answered queries by response code (0-15, 16 = BADVERS). */
  readonly responses = new Array<number>(17).fill(0);
  malformed = 0;
  truncated = 0;
  forwarded = 0;
  forwardFailures = 0;
  zoneBuilds = 0;
}

const TCP_IDLE_MS = 10_000;
const TCP_MAX_MESSAGE = 65_535;
/** The largest payload one IPv4 UDP datagram can carry. */
const MAX_UDP_PAYLOAD = 65_507;

export class DnsServer {
  readonly stats = new DnsStats();
  private readonly builder: ZoneBuilder;
  private zoneNow: Zone;
  private readonly debouncer: Debouncer;
  private unsubscribe?: () => void;
  private udp?: UdpSocket;
  private tcp?: Server;
  private readonly connections = new Set<Socket>();
  private readonly forwarder?: Forwarder;

  constructor(private readonly opts: DnsServerOptions) {
    this.builder = new ZoneBuilder({ ttl: opts.ttl ?? 5, serviceCidr: opts.serviceCidr });
    this.zoneNow = this.builder.build(opts.registry.view());
    this.debouncer = new Debouncer(() => this.rebuild(), opts.rebuildQuietMs ?? 20, opts.rebuildMaxMs ?? 200);
    if (opts.upstream) this.forwarder = new Forwarder(opts.upstream, opts.forwardTimeoutMs);
  }

  /** The zone in force. */
  get zone(): Zone {
    return this.zoneNow;
  }

  /** Binds UDP and TCP on one port; resolves the address. */
  async start(): Promise<{ host: string; port: number }> {
    this.unsubscribe = this.opts.registry.subscribe(() => this.debouncer.trigger());
    this.rebuild();
    await this.forwarder?.start();
    const { host } = this.opts;
    // Port 0: UDP picks a port, TCP must get the same one; try again if TCP finds it taken.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(host, this.opts.port);
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(host, port);
        this.udp = udp;
        this.opts.logger.info({ address: `${host}:${port}`, zones: this.zoneNow.zones }, 'DNS server listening');
        return { host, port };
      } catch (err) {
        udp.close();
        if (this.opts.port !== 0 || attempt >= 10) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.debouncer.cancel();
    this.forwarder?.stop();
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    const tcp = this.tcp;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  /** Rebuilds the zone now from the registry's current view (the debounce calls this). */
  rebuild(): void {
    const started = performance.now();
    try {
      this.zoneNow = this.builder.build(this.opts.registry.view());
      this.stats.zoneBuilds++;
    } catch (err) {
      // A bug, not an input problem: keep answering from the last good zone.
      this.opts.logger.error({ err: errorMessage(err) }, 'DNS zone build failed; keeping the previous zone');
      return;
    }
    this.opts.logger.debug(
      { serial: this.zoneNow.serial, names: this.zoneNow.size, ms: +(performance.now() - started).toFixed(2) },
      'DNS zone rebuilt',
    );
  }

  private bindUdp(host: string, port: number): Promise<UdpSocket> {
    const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => this.onUdp(socket, msg, rinfo));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        // A send to a vanished client (ICMP unreachable) surfaces here; nothing to do about it.
        socket.on('error', (err) => this.opts.logger.debug({ err: errorMessage(err) }, 'DNS UDP socket error'));
        resolve(socket);
      });
    });
  }

  private listenTcp(host: string, port: number): Promise<Server> {
    const server = createServer((socket) => this.onTcpConnection(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  private onUdp(socket: UdpSocket, msg: Buffer, rinfo: RemoteInfo): void {
    const query = parseQuery(msg);
    if (query === undefined) {
      this.stats.malformed++;
      return;
    }
    const limit = query.edns ? Math.min(query.edns.udpSize, MAX_UDP_PAYLOAD) : CLASSIC_UDP_SIZE;
    const reply = this.answer(msg, query, limit);
    if (reply !== undefined) {
      socket.send(reply, rinfo.port, rinfo.address);
      return;
    }
    void this.forwarder!.udp(msg).then((upstream) => {
      // The server may have stopped while the upstream was asked.
      if (this.udp !== socket) return;
      socket.send(this.forwardedReply(msg, query, upstream, limit), rinfo.port, rinfo.address);
    });
  }

  private onTcpConnection(socket: Socket): void {
    this.connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        if (!this.onTcpMessage(socket, msg)) {
          socket.destroy();
          return;
        }
      }
    });
  }

  /** False when the message is malformed (the connection is then closed: the stream cannot be trusted). */
  private onTcpMessage(socket: Socket, msg: Buffer): boolean {
    const query = parseQuery(msg);
    if (query === undefined) {
      this.stats.malformed++;
      return false;
    }
    const reply = this.answer(msg, query, TCP_MAX_MESSAGE);
    if (reply !== undefined) {
      writeFrame(socket, reply);
      return true;
    }
    void this.forwarder!.tcp(msg).then((upstream) => {
      if (!socket.destroyed) writeFrame(socket, this.forwardedReply(msg, query, upstream, TCP_MAX_MESSAGE));
    });
    return true;
  }

  /** The response to a query, or undefined when it goes to the upstream resolver. */
  private answer(msg: Buffer, query: Query, limit: number): Buffer | undefined {
    let rcode: number = RCODE.REFUSED;
    let prepared;
    if (query.opcode !== 0) rcode = RCODE.NOTIMP;
    else if (query.questions !== 1) rcode = RCODE.FORMERR;
    else if (query.qclass === 'IN' || query.qclass === 'ANY') {
      if (query.type !== 'AXFR' && query.type !== 'IXFR') {
        prepared = this.zoneNow.lookup(query.name, query.type);
        if (prepared === undefined && this.forwarder !== undefined) return undefined;
      }
    }
    const out = assemble(msg, query, prepared, rcode, limit, this.forwarder !== undefined);
    this.stats.responses[responseCode(query, prepared, rcode)]!++;
    if (out.truncated) this.stats.truncated++;
    return out.message;
  }

  private forwardedReply(msg: Buffer, query: Query, upstream: Buffer | undefined, limit: number): Buffer {
    if (upstream !== undefined && upstream.length <= limit) {
      this.stats.forwarded++;
      this.stats.responses[upstream.readUInt16BE(2) & 0xf]!++;
      return upstream;
    }
    this.stats.forwardFailures++;
    this.stats.responses[RCODE.SERVFAIL]!++;
    return assemble(msg, query, undefined, RCODE.SERVFAIL, limit, true).message;
  }
}

function writeFrame(socket: Socket, message: Buffer): void {
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(message.length, 0);
  socket.cork();
  socket.write(length);
  socket.write(message);
  socket.uncork();
}
