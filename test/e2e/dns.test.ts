/**
 * The control plane's DNS server, driven like a user would: a real `shoal control` process, resources written through
 * the HTTP API, `dig` and node:dns Resolvers as clients. Forwarding goes to a second real DNS server on loopback (a
 * Shoal DnsServer holding the `upstream.test` domain).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { DnsServer } from '../../src/control/dns/server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { MeshService, MeshView } from '../../src/registry/model.js';
import { dig, resolverFor, sendTcp, sendUdp } from '../helpers/dns.js';
import { waitUntil } from '../helpers/grpc-xds.js';
import { runCli, startControl, type RunningControl } from '../helpers/processes.js';

const BIG = 100;
let upstream: DnsServer;
let upstreamAddr: string;
let cp: RunningControl;
let plain: RunningControl;
let reviewsVip = '';
let extVip = '';

function upstreamView(): MeshView {
  const web: MeshService = {
    hostname: 'web.shop.svc.upstream.test',
    name: 'web',
    namespace: 'shop',
    kind: 'Service',
    vip: '10.9.9.9',
    headless: false,
    ports: [],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    endpoints: [],
    exportTo: ['*'],
  };
  const config = { virtualServices: [], destinationRules: [], gateways: [] };
  return { version: 1, services: new Map([[web.hostname, web]]), config, domain: 'upstream.test' };
}

async function api(c: RunningControl, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const SVC = '/api/v1/namespaces/default/services';
const WE = '/apis/networking.istio.io/v1/namespaces/default/workloadentries';
const SE = '/apis/networking.istio.io/v1/namespaces/default/serviceentries';

function workloadEntry(name: string, address: string, app: string): unknown {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: { name },
    spec: { address, labels: { app } },
  };
}

async function metric(c: RunningControl, name: string): Promise<number> {
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

before(async () => {
  const view = upstreamView();
  upstream = new DnsServer({
    registry: { view: () => view, subscribe: () => () => undefined },
    logger: silentLogger(),
    host: '127.0.0.1',
    port: 0,
  });
  upstreamAddr = `127.0.0.1:${(await upstream.start()).port}`;
  [cp, plain] = await Promise.all([
    startControl({ args: ['--dns-upstream', upstreamAddr] }),
    startControl({ args: ['--dns-ttl', '30'] }),
  ]);
  const reviews = await api(cp, 'POST', SVC, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'reviews' },
    spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] },
  });
  reviewsVip = reviews.spec.clusterIP;
  for (const [name, port] of [
    ['db', 'tcp-pg'],
    ['big', 'tcp'],
  ]) {
    await api(cp, 'POST', SVC, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: port, port: 5432, targetPort: 5433 }] },
    });
  }
  await api(cp, 'POST', WE, workloadEntry('db-0', '127.1.0.5', 'db'));
  await api(cp, 'POST', WE, workloadEntry('db-1', '127.1.0.6', 'db'));
  for (let i = 0; i < BIG; i++) await api(cp, 'POST', WE, workloadEntry(`big-${i}`, `127.1.1.${i + 1}`, 'big'));
  const ext = await api(cp, 'POST', SE, {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'ext' },
    spec: { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], resolution: 'DNS' },
  });
  extVip = ext.status.addresses[0].value;
  await api(plain, 'POST', SVC, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
  });
  // The zone follows the registry within its debounce; wait until the last write is visible.
  await waitUntil(
    async () => (await dig(cp.dns, ['big.default.svc.cluster.local', 'A', '+tcp'])).answer.length === BIG,
    5_000,
    'zone',
  );
});

after(async () => {
  await Promise.all([cp?.stop(), plain?.stop()]);
  await upstream?.stop();
});

void describe('shoal control DNS', () => {
  it('prints its DNS address and answers a Service name with its VIP (dig, node:dns)', async () => {
    assert.match(cp.dns, /^127\.0\.0\.1:\d+$/);
    const r = await dig(cp.dns, ['reviews.default.svc.cluster.local', 'A']);
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.flags, ['qr', 'aa', 'rd', 'ra']);
    assert.deepEqual(r.answer, [`reviews.default.svc.cluster.local. 5 IN A ${reviewsVip}`]);
    assert.deepEqual(await resolverFor(cp.dns).resolve4('reviews.default.svc.cluster.local'), [reviewsVip]);
  });

  it('answers a headless Service with its instances and each instance by its WorkloadEntry name', async () => {
    const r = await dig(cp.dns, ['db.default.svc.cluster.local', 'A']);
    assert.deepEqual(r.answer, [
      'db.default.svc.cluster.local. 5 IN A 127.1.0.5',
      'db.default.svc.cluster.local. 5 IN A 127.1.0.6',
    ]);
    const resolver = resolverFor(cp.dns);
    assert.deepEqual(await resolver.resolve4('db-1.db.default.svc.cluster.local'), ['127.1.0.6']);
  });

  it('answers SRV with targets, ports and the targets as additional A records', async () => {
    const r = await dig(cp.dns, ['_http._tcp.reviews.default.svc.cluster.local', 'SRV']);
    assert.deepEqual(r.answer, [
      '_http._tcp.reviews.default.svc.cluster.local. 5 IN SRV 0 100 9080 reviews.default.svc.cluster.local.',
    ]);
    assert.deepEqual(r.additional, [`reviews.default.svc.cluster.local. 5 IN A ${reviewsVip}`]);
    const srv = await resolverFor(cp.dns).resolveSrv('_tcp-pg._tcp.db.default.svc.cluster.local');
    assert.deepEqual(
      srv.sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'db-0.db.default.svc.cluster.local', port: 5433, priority: 0, weight: 1 },
        { name: 'db-1.db.default.svc.cluster.local', port: 5433, priority: 0, weight: 1 },
      ],
    );
  });

  it('answers a ServiceEntry host with its allocated address, and NODATA for AAAA', async () => {
    assert.deepEqual((await dig(cp.dns, ['api.example.com', 'A'])).answer, [`api.example.com. 5 IN A ${extVip}`]);
    const aaaa = await dig(cp.dns, ['api.example.com', 'AAAA']);
    assert.deepEqual([aaaa.status, aaaa.answer], ['NOERROR', []]);
  });

  it('answers PTR for VIPs', async () => {
    const r = await dig(cp.dns, ['-x', reviewsVip]);
    assert.deepEqual(r.answer, [
      `${reviewsVip.split('.').reverse().join('.')}.in-addr.arpa. 5 IN PTR reviews.default.svc.cluster.local.`,
    ]);
    assert.deepEqual(await resolverFor(cp.dns).reverse(extVip), ['api.example.com']);
  });

  it('answers an unknown name in the domain NXDOMAIN with the SOA; node:dns sees ENOTFOUND', async () => {
    const r = await dig(cp.dns, ['nope.default.svc.cluster.local', 'A']);
    assert.equal(r.status, 'NXDOMAIN');
    assert.equal(r.answer.length, 0);
    assert.equal(r.authority.length, 1);
    assert.match(
      r.authority[0]!,
      /^cluster\.local\. 5 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5$/,
    );
    await assert.rejects(resolverFor(cp.dns).resolve4('nope.default.svc.cluster.local'), { code: 'ENOTFOUND' });
  });

  it('refuses names outside the mesh without --dns-upstream; --dns-ttl sets the TTL', async () => {
    const r = await dig(plain.dns, ['www.example.org', 'A']);
    assert.deepEqual([r.status, r.flags], ['REFUSED', ['qr', 'rd']]);
    await assert.rejects(resolverFor(plain.dns).resolve4('www.example.org'), { code: 'EREFUSED' });
    const web = await dig(plain.dns, ['web.default.svc.cluster.local', 'A']);
    assert.match(web.answer[0]!, /^web\.default\.svc\.cluster\.local\. 30 IN A 127\.2\.\d+\.\d+$/);
    assert.match((await dig(plain.dns, ['x.cluster.local', 'A'])).authority[0]!, / 30 IN SOA .* 30$/);
  });

  it('forwards names outside the mesh to --dns-upstream, over UDP and TCP', async () => {
    const before = await metric(cp, 'shoal_dns_forwarded_total');
    const udp = await dig(cp.dns, ['web.shop.svc.upstream.test', 'A']);
    assert.deepEqual(udp.answer, ['web.shop.svc.upstream.test. 5 IN A 10.9.9.9']);
    const tcp = await dig(cp.dns, ['web.shop.svc.upstream.test', 'A', '+tcp']);
    assert.deepEqual(tcp.answer, ['web.shop.svc.upstream.test. 5 IN A 10.9.9.9']);
    const nx = await dig(cp.dns, ['gone.upstream.test', 'A']);
    assert.equal(nx.status, 'NXDOMAIN');
    assert.match(nx.authority[0]!, /^upstream\.test\. 5 IN SOA /);
    // The upstream refuses what it does not hold; that answer is passed on as it is.
    assert.equal((await dig(cp.dns, ['www.example.org', 'A'])).status, 'REFUSED');
    assert.equal(await metric(cp, 'shoal_dns_forwarded_total'), before + 4);
  });

  it('truncates a large answer over UDP (TC) and answers it in full over TCP and with a large EDNS0 size', async () => {
    const name = 'big.default.svc.cluster.local';
    const before = await metric(cp, 'shoal_dns_truncated_total');
    const udp = await dig(cp.dns, [name, 'A', '+noedns', '+ignore']);
    assert.deepEqual([udp.status, udp.answer.length], ['NOERROR', 0]);
    assert.ok(udp.flags.includes('tc'), udp.raw);
    const small = await dig(cp.dns, [name, 'A', '+bufsize=1232', '+ignore']);
    assert.ok(small.flags.includes('tc'), small.raw);
    assert.equal(small.ednsUdp, 1232);
    assert.equal(await metric(cp, 'shoal_dns_truncated_total'), before + 2);
    const tcp = await dig(cp.dns, [name, 'A', '+tcp']);
    assert.equal(tcp.answer.length, BIG);
    assert.ok(!tcp.flags.includes('tc'));
    const large = await dig(cp.dns, [name, 'A', '+bufsize=8192', '+ignore']);
    assert.deepEqual([large.answer.length, large.flags.includes('tc')], [BIG, false]);
    // node:dns (c-ares) retries over TCP on its own after the TC answer.
    assert.equal((await resolverFor(cp.dns).resolve4(name)).length, BIG);
  });

  it('echoes EDNS0 (its own UDP size) and answers an unknown EDNS version BADVERS', async () => {
    const r = await dig(cp.dns, ['reviews.default.svc.cluster.local', 'A', '+bufsize=4096']);
    assert.equal(r.ednsUdp, 1232);
    const noEdns = await dig(cp.dns, ['reviews.default.svc.cluster.local', 'A', '+noedns']);
    assert.equal(noEdns.ednsUdp, undefined);
    const bad = await dig(cp.dns, ['reviews.default.svc.cluster.local', 'A', '+edns=1', '+noednsnegotiation']);
    assert.equal(bad.status, 'BADVERS');
  });

  it('drops malformed packets over UDP and TCP, counts them, and keeps answering', async () => {
    const before = await metric(cp, 'shoal_dns_malformed_packets_total');
    await sendUdp(cp.dns, Buffer.from('definitely not a DNS message'));
    await sendUdp(cp.dns, Buffer.alloc(5));
    const frame = Buffer.concat([Buffer.from([0, 8]), Buffer.from('garbage!')]);
    const tcp = await sendTcp(cp.dns, frame);
    assert.deepEqual([tcp.closedByServer, tcp.received.length], [true, 0]);
    await waitUntil(async () => (await metric(cp, 'shoal_dns_malformed_packets_total')) === before + 3, 2_000, 'count');
    // A response sent to the server is not a query either.
    const response = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'a.b', type: 'A' }] });
    await sendUdp(cp.dns, response);
    await waitUntil(async () => (await metric(cp, 'shoal_dns_malformed_packets_total')) === before + 4, 2_000, 'count');
    assert.deepEqual((await dig(cp.dns, ['reviews.default.svc.cluster.local', 'A'])).answer.length, 1);
    assert.deepEqual((await dig(cp.dns, ['reviews.default.svc.cluster.local', 'A', '+tcp'])).answer.length, 1);
    const text = await (await fetch(`${cp.url}/metrics`)).text();
    assert.match(text, /^shoal_dns_queries_total\{rcode="NOERROR"\} \d+$/m);
    assert.match(text, /^shoal_dns_queries_total\{rcode="NXDOMAIN"\} \d+$/m);
  });

  it('follows WorkloadEntries added and removed through the API within 1 s', async () => {
    const name = 'db.default.svc.cluster.local';
    const addresses = async (): Promise<string[]> => (await resolverFor(cp.dns).resolve4(name)).sort();
    await api(cp, 'POST', WE, workloadEntry('db-2', '127.1.0.7', 'db'));
    await waitUntil(async () => (await addresses()).length === 3, 1_000, 'db-2 in DNS');
    assert.deepEqual(await addresses(), ['127.1.0.5', '127.1.0.6', '127.1.0.7']);
    assert.deepEqual((await dig(cp.dns, ['db-2.db.default.svc.cluster.local', 'A'])).answer, [
      'db-2.db.default.svc.cluster.local. 5 IN A 127.1.0.7',
    ]);
    await api(cp, 'DELETE', `${WE}/db-0`);
    await waitUntil(async () => (await addresses()).length === 2, 1_000, 'db-0 gone from DNS');
    assert.deepEqual(await addresses(), ['127.1.0.6', '127.1.0.7']);
    assert.equal((await dig(cp.dns, ['db-0.db.default.svc.cluster.local', 'A'])).status, 'NXDOMAIN');
  });
});

void describe('shoal control DNS flags', () => {
  it('rejects a bad --dns-upstream and --dns-ttl with one clear line', async () => {
    const upstreamBad = await runCli(['control', '--dns-upstream', 'dns.example:53'], process.env);
    assert.notEqual(upstreamBad.code, 0);
    assert.match(upstreamBad.stderr, /--dns-upstream <ip:port>.*expected <ip>:<port>/);
    const ttlBad = await runCli(['control', '--dns-ttl', '-1'], process.env);
    assert.notEqual(ttlBad.code, 0);
    assert.match(ttlBad.stderr, /--dns-ttl <seconds>.*expected whole seconds/);
    const help = await runCli(['control', '--help'], process.env);
    assert.match(help.stdout, /--dns-port <n>/);
    assert.match(help.stdout, /--dns-ttl <seconds>/);
    assert.match(help.stdout, /--dns-upstream <ip:port>/);
  });
});
