/**
 * Forwarding when the upstream does not answer: a real UDP socket that swallows every query stands in for it; the
 * client gets SERVFAIL after the forward timeout (over UDP and TCP) and the failure is counted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { DnsServer } from '../../src/control/dns/server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { MeshView } from '../../src/registry/model.js';
import { dig } from '../helpers/dns.js';

let silent: Socket;
let silentTcp: Server;
let server: DnsServer;
let address: string;
let swallowed = 0;

/**
 * A UDP port and the same port over TCP. The UDP port is picked by the kernel, and under load its number can be taken
 * over TCP (every connection holds an ephemeral port): then try another, as DnsServer.start() does.
 */
async function bindBoth(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    silent = createSocket('udp4');
    silent.on('message', () => swallowed++);
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const port = silent.address().port;
    // Accepts and never answers.
    silentTcp = createServer(() => undefined);
    const listening = await new Promise<boolean>((resolve) => {
      silentTcp.once('error', () => resolve(false));
      silentTcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listening) return port;
    silent.close();
    if (attempt === 10) throw new Error('no port free over both UDP and TCP after 10 attempts');
  }
}

before(async () => {
  const port = await bindBoth();
  const view: MeshView = {
    version: 1,
    services: new Map(),
    config: { virtualServices: [], destinationRules: [], gateways: [] },
    domain: 'cluster.local',
  };
  server = new DnsServer({
    registry: { view: () => view, subscribe: () => () => undefined },
    logger: silentLogger(),
    host: '127.0.0.1',
    port: 0,
    upstream: { host: '127.0.0.1', port },
    forwardTimeoutMs: 300,
  });
  address = `127.0.0.1:${(await server.start()).port}`;
});

after(async () => {
  await server.stop();
  silent.close();
  silentTcp.close();
});

test('an upstream that does not answer: SERVFAIL over UDP and TCP, counted; mesh names still answered', async () => {
  const udp = await dig(address, ['www.example.org', 'A']);
  assert.deepEqual([udp.status, udp.flags], ['SERVFAIL', ['qr', 'rd', 'ra']]);
  assert.equal(swallowed, 1);
  const tcp = await dig(address, ['www.example.org', 'A', '+tcp']);
  assert.equal(tcp.status, 'SERVFAIL');
  assert.equal(server.stats.forwardFailures, 2);
  assert.equal(server.stats.forwarded, 0);
  assert.equal(server.stats.responses[2], 2);
  assert.equal((await dig(address, ['nope.cluster.local', 'A'])).status, 'NXDOMAIN');
});
