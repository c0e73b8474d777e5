/** DNS test clients: the real `dig` (parsed), node:dns Resolvers, raw packets over UDP and TCP. */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';

export interface DigResult {
  status: string;
  flags: string[];
  /** Records as `name ttl class type data`, whitespace collapsed. */
  answer: string[];
  authority: string[];
  additional: string[];
  /** The OPT pseudo-section's UDP size, when the response had one. */
  ednsUdp?: number;
  raw: string;
}

/** Runs `dig @host -p port <args>` (one try, 2 s) and parses its sections. */
export function dig(server: string, args: string[]): Promise<DigResult> {
  const [host = '', port = ''] = server.split(/:(?=\d+$)/);
  const argv = [`@${host}`, '-p', port, '+noall', '+comments', '+answer', '+authority', '+additional'];
  argv.push('+nocookie', '+tries=1', '+time=2', ...args);
  return new Promise((resolve, reject) => {
    execFile('dig', argv, { timeout: 10_000 }, (err, stdout) => {
      if (err) return reject(new Error(`dig ${argv.join(' ')}: ${err.message}\n${stdout}`));
      resolve(parseDig(stdout));
    });
  });
}

export function parseDig(raw: string): DigResult {
  const out: DigResult = { status: '', flags: [], answer: [], authority: [], additional: [], raw };
  let section: 'answer' | 'authority' | 'additional' | undefined;
  for (const line of raw.split('\n')) {
    const status = /status: (\w+)/.exec(line);
    if (status) out.status = status[1]!;
    const flags = /^;; flags: ([^;]*);/.exec(line);
    if (flags) out.flags = flags[1]!.trim().split(/\s+/);
    const udp = /; EDNS: .*udp: (\d+)/.exec(line);
    if (udp) out.ednsUdp = Number(udp[1]);
    const header = /^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase() as typeof section;
      continue;
    }
    if (line.trim() === '') section = undefined;
    else if (section && !line.startsWith(';')) out[section].push(line.trim().split(/\s+/).join(' '));
  }
  return out;
}

/** A node:dns Resolver that asks only `server` (host:port), once, with a 2 s timeout. */
export function resolverFor(server: string): Resolver {
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([server]);
  return resolver;
}

/** Sends raw bytes over UDP (no answer expected). */
export async function sendUdp(server: string, bytes: Buffer): Promise<void> {
  const [host = '', port = ''] = server.split(/:(?=\d+$)/);
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) =>
    socket.send(bytes, Number(port), host, (e) => (e ? reject(e) : resolve())),
  );
  socket.close();
}

/** Writes raw bytes on a TCP connection; resolves when the server closes it (or after `waitMs`), with what came back. */
export function sendTcp(
  server: string,
  bytes: Buffer,
  waitMs = 2_000,
): Promise<{ closedByServer: boolean; received: Buffer }> {
  const [host = '', port = ''] = server.split(/:(?=\d+$)/);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closedByServer: false, received: Buffer.concat(chunks) });
    }, waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedByServer: true, received: Buffer.concat(chunks) });
    });
    socket.write(bytes);
  });
}
