/** The DNS answer tables built from a MeshView: every record kind, negative answers, names outside, incremental reuse. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import type { MeshEndpoint, MeshService, MeshView } from '../../../src/registry/model.js';
import { assemble, parseQuery } from '../../../src/control/dns/wire.js';
import {
  RCODE,
  ZoneBuilder,
  instanceLabel,
  reverseName,
  reverseZoneOf,
  type Zone,
} from '../../../src/control/dns/zone.js';

function endpoint(address: string, name: string, extra: Partial<MeshEndpoint> = {}): MeshEndpoint {
  return {
    address,
    ports: new Map([[5432, 15006]]),
    appPorts: new Map([[5432, 5433]]),
    labels: {},
    health: 'HEALTHY',
    locality: { region: '', zone: '', subZone: '' },
    weight: 1,
    source: `default/${name}`,
    ...extra,
  };
}

function service(hostname: string, extra: Partial<MeshService> = {}): MeshService {
  const [name = '', namespace = 'default'] = hostname.split('.');
  return {
    hostname,
    name,
    namespace,
    kind: 'Service',
    headless: false,
    ports: [],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    endpoints: [],
    exportTo: ['*'],
    ...extra,
  };
}

const REVIEWS = service('reviews.default.svc.cluster.local', {
  vip: '127.2.0.1',
  ports: [
    { name: 'http', port: 9080, protocol: 'HTTP' },
    { name: '', port: 9090, protocol: 'UNKNOWN' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ],
  endpoints: [endpoint('127.1.0.9', 'reviews-1')],
});
const DB = service('db.prod.svc.cluster.local', {
  headless: true,
  ports: [{ name: 'tcp-pg', port: 5432, protocol: 'TCP' }],
  endpoints: [
    endpoint('127.1.0.5', 'db-0', { weight: 3 }),
    endpoint('127.1.0.6', 'db-1'),
    endpoint('127.1.0.7', 'db-2', { health: 'UNHEALTHY' }),
  ],
});
const EXT = service('api.example.com', {
  kind: 'ServiceEntry',
  vip: '127.2.0.2',
  resolution: 'DNS',
  location: 'MESH_EXTERNAL',
  ports: [{ name: 'https', port: 443, protocol: 'HTTPS' }],
  endpoints: [endpoint('api.example.com', 'x', { source: 'serviceentry:default/ext[api.example.com]' })],
});
const STATIC_EXT = service('legacy.corp', {
  kind: 'ServiceEntry',
  resolution: 'STATIC',
  endpoints: [
    endpoint('10.0.0.2', 'a', { source: 'serviceentry:default/legacy[0]' }),
    endpoint('fd00::2', 'b', { source: 'serviceentry:default/legacy[1]' }),
  ],
});
const WILDCARD = service('*.wild.example', { kind: 'ServiceEntry', vip: '127.2.0.3' });

function view(services: MeshService[], version = 7, domain = 'cluster.local'): MeshView {
  return {
    version,
    services: new Map(services.map((s) => [s.hostname, s])),
    config: { virtualServices: [], destinationRules: [], gateways: [] },
    domain,
  };
}

/** Asks the zone as a client would: a real query through parseQuery/assemble, the answer decoded. */
function ask(zone: Zone, name: string, type: string): DecodedPacket & { rcode?: string } {
  const query = dnsPacket.encode({
    type: 'query',
    id: 42,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A' }],
  });
  const parsed = parseQuery(query)!;
  const prepared = zone.lookup(parsed.name, parsed.type);
  assert.ok(prepared, `${name} ${type} should be in the zone`);
  return dnsPacket.decode(assemble(query, parsed, prepared, RCODE.REFUSED, 65535, false).message);
}

function records(packet: DecodedPacket, section: 'answers' | 'authorities' | 'additionals' = 'answers'): string[] {
  return (packet[section] ?? []).map((a) => {
    const data = 'data' in a ? a.data : undefined;
    const text = typeof data === 'object' && data !== null ? JSON.stringify(data) : String(data);
    return `${a.name} ${'ttl' in a ? a.ttl : '-'} ${a.type} ${text}`;
  });
}

const SOA_CLUSTER =
  'cluster.local 5 SOA {"mname":"ns.dns.cluster.local","rname":"hostmaster.cluster.local","serial":7,"refresh":7200,"retry":1800,"expire":86400,"minimum":5}';

void describe('ZoneBuilder', () => {
  const zone = new ZoneBuilder({ ttl: 5, serviceCidr: '127.2.0.0/16' }).build(
    view([REVIEWS, DB, EXT, STATIC_EXT, WILDCARD]),
  );

  it('answers A for a Service with its VIP, authoritatively, echoing id and RD', () => {
    const r = ask(zone, 'reviews.default.svc.cluster.local', 'A');
    assert.equal(r.id, 42);
    assert.equal(r.flag_aa, true);
    assert.equal(r.flag_rd, true);
    assert.equal((r as unknown as { rcode: string }).rcode, 'NOERROR');
    assert.deepEqual(records(r), ['reviews.default.svc.cluster.local 5 A 127.2.0.1']);
  });

  it('matches names case-insensitively and echoes the question as asked', () => {
    const r = ask(zone, 'Reviews.DEFAULT.svc.Cluster.Local', 'A');
    assert.deepEqual(r.questions, [{ name: 'Reviews.DEFAULT.svc.Cluster.Local', type: 'A', class: 'IN' }]);
    // The answer's owner name points at the question, so it reads back as asked.
    assert.deepEqual(records(r), ['Reviews.DEFAULT.svc.Cluster.Local 5 A 127.2.0.1']);
  });

  it('answers NODATA with the SOA for a type the name lacks (AAAA of an IPv4 VIP)', () => {
    const r = ask(zone, 'reviews.default.svc.cluster.local', 'AAAA');
    assert.equal((r as unknown as { rcode: string }).rcode, 'NOERROR');
    assert.deepEqual(records(r), []);
    assert.deepEqual(records(r, 'authorities'), [SOA_CLUSTER]);
  });

  it('answers NXDOMAIN with the SOA (negative TTL = TTL) for an unknown name in the domain', () => {
    const r = ask(zone, 'nope.default.svc.cluster.local', 'A');
    assert.equal((r as unknown as { rcode: string }).rcode, 'NXDOMAIN');
    assert.deepEqual(records(r, 'authorities'), [SOA_CLUSTER]);
  });

  it('answers NODATA (not NXDOMAIN) for empty non-terminals and the SOA at the apex', () => {
    for (const name of ['default.svc.cluster.local', 'svc.cluster.local', '_tcp.reviews.default.svc.cluster.local']) {
      const r = ask(zone, name, 'A');
      assert.equal((r as unknown as { rcode: string }).rcode, 'NOERROR', name);
      assert.deepEqual(records(r, 'authorities'), [SOA_CLUSTER], name);
    }
    assert.deepEqual(records(ask(zone, 'cluster.local', 'SOA')), [SOA_CLUSTER]);
  });

  it('answers SRV per named port of a VIP service, with the VIP as additional; udp ports under _udp', () => {
    const r = ask(zone, '_http._tcp.reviews.default.svc.cluster.local', 'SRV');
    assert.deepEqual(records(r), [
      '_http._tcp.reviews.default.svc.cluster.local 5 SRV {"priority":0,"weight":100,"port":9080,"target":"reviews.default.svc.cluster.local"}',
    ]);
    assert.deepEqual(records(r, 'additionals'), ['reviews.default.svc.cluster.local 5 A 127.2.0.1']);
    const udp = ask(zone, '_dns._udp.reviews.default.svc.cluster.local', 'SRV');
    assert.equal(udp.answers?.length, 1);
    // An unnamed port has no SRV name; a tcp name for a udp port does not exist.
    assert.equal((ask(zone, '_dns._tcp.reviews.default.svc.cluster.local', 'SRV') as any).rcode, 'NXDOMAIN');
  });

  it('answers a headless Service with one A per ready instance and a name per ready instance', () => {
    assert.deepEqual(records(ask(zone, 'db.prod.svc.cluster.local', 'A')), [
      'db.prod.svc.cluster.local 5 A 127.1.0.5',
      'db.prod.svc.cluster.local 5 A 127.1.0.6',
    ]);
    assert.deepEqual(records(ask(zone, 'db-0.db.prod.svc.cluster.local', 'A')), [
      'db-0.db.prod.svc.cluster.local 5 A 127.1.0.5',
    ]);
    assert.deepEqual(records(ask(zone, 'db-1.db.prod.svc.cluster.local', 'A')), [
      'db-1.db.prod.svc.cluster.local 5 A 127.1.0.6',
    ]);
    // Not ready: no name.
    assert.equal((ask(zone, 'db-2.db.prod.svc.cluster.local', 'A') as any).rcode, 'NXDOMAIN');
  });

  it("answers a headless Service's SRV with one record per ready instance: its app port, weight and name", () => {
    const r = ask(zone, '_tcp-pg._tcp.db.prod.svc.cluster.local', 'SRV');
    assert.deepEqual(records(r), [
      '_tcp-pg._tcp.db.prod.svc.cluster.local 5 SRV {"priority":0,"weight":3,"port":5433,"target":"db-0.db.prod.svc.cluster.local"}',
      '_tcp-pg._tcp.db.prod.svc.cluster.local 5 SRV {"priority":0,"weight":1,"port":5433,"target":"db-1.db.prod.svc.cluster.local"}',
    ]);
    assert.deepEqual(records(r, 'additionals'), [
      'db-0.db.prod.svc.cluster.local 5 A 127.1.0.5',
      'db-1.db.prod.svc.cluster.local 5 A 127.1.0.6',
    ]);
  });

  it('answers ServiceEntry hosts: the VIP, else the ready endpoint IPs; NODATA without SOA for other types', () => {
    assert.deepEqual(records(ask(zone, 'api.example.com', 'A')), ['api.example.com 5 A 127.2.0.2']);
    const aaaa = ask(zone, 'api.example.com', 'AAAA');
    assert.deepEqual([records(aaaa), records(aaaa, 'authorities')], [[], []]);
    assert.equal((aaaa as any).rcode, 'NOERROR');
    assert.deepEqual(records(ask(zone, 'legacy.corp', 'A')), ['legacy.corp 5 A 10.0.0.2']);
    assert.deepEqual(records(ask(zone, 'legacy.corp', 'AAAA')), ['legacy.corp 5 AAAA fd00::2']);
    assert.equal(ask(zone, '_https._tcp.api.example.com', 'SRV').answers?.length, 1);
  });

  it('leaves names outside its zones, wildcard hosts and parents of ServiceEntry hosts to the caller', () => {
    for (const name of ['example.com', 'foo.wild.example', '*.wild.example', 'www.example.org']) {
      assert.equal(zone.lookup(name, 'A'), undefined, name);
    }
  });

  it('answers PTR for every VIP and NXDOMAIN for other names in the service CIDR reverse zone', () => {
    assert.deepEqual(records(ask(zone, '1.0.2.127.in-addr.arpa', 'PTR')), [
      '1.0.2.127.in-addr.arpa 5 PTR reviews.default.svc.cluster.local',
    ]);
    assert.deepEqual(records(ask(zone, '2.0.2.127.in-addr.arpa', 'PTR')), [
      '2.0.2.127.in-addr.arpa 5 PTR api.example.com',
    ]);
    const miss = ask(zone, '9.9.2.127.in-addr.arpa', 'PTR');
    assert.equal((miss as any).rcode, 'NXDOMAIN');
    assert.equal(miss.authorities?.[0]?.name, '2.127.in-addr.arpa');
    assert.equal(zone.lookup('1.0.0.10.in-addr.arpa', 'PTR'), undefined);
  });

  it('answers ANY with every record of the name', () => {
    assert.deepEqual(records(ask(zone, 'legacy.corp', 'ANY')), [
      'legacy.corp 5 A 10.0.0.2',
      'legacy.corp 5 AAAA fd00::2',
    ]);
  });

  it('follows the view: a custom domain and TTL, the serial from the view version', () => {
    const z = new ZoneBuilder({ ttl: 30 }).build(
      view([service('web.shop.svc.mesh.internal', { vip: '127.2.0.9' })], 12, 'mesh.internal'),
    );
    assert.deepEqual(z.zones, ['mesh.internal']);
    assert.deepEqual(records(ask(z, 'web.shop.svc.mesh.internal', 'A')), ['web.shop.svc.mesh.internal 30 A 127.2.0.9']);
    const nx = ask(z, 'x.mesh.internal', 'A');
    assert.equal((nx.authorities?.[0] as any).data.serial, 12);
    assert.equal((nx.authorities?.[0] as any).data.minimum, 30);
    assert.equal(z.lookup('reviews.default.svc.cluster.local', 'A'), undefined);
  });

  it('re-encodes only the services that changed between views', () => {
    const builder = new ZoneBuilder({ ttl: 5 });
    const first = builder.build(view([REVIEWS, DB], 1));
    const db2 = { ...DB, endpoints: [DB.endpoints[0]!] };
    const second = builder.build(view([REVIEWS, db2], 2));
    const name = 'reviews.default.svc.cluster.local';
    assert.equal(second.lookup(name, 'A'), first.lookup(name, 'A'));
    assert.notEqual(second.lookup('db.prod.svc.cluster.local', 'A'), first.lookup('db.prod.svc.cluster.local', 'A'));
    assert.deepEqual(records(ask(second, 'db.prod.svc.cluster.local', 'A')), [
      'db.prod.svc.cluster.local 5 A 127.1.0.5',
    ]);
    assert.equal(second.lookup('db-1.db.prod.svc.cluster.local', 'A')?.rcode, RCODE.NXDOMAIN);
  });
});

void describe('DNS names', () => {
  it('reverseName: IPv4 and IPv6 (nibbles)', () => {
    assert.equal(reverseName('127.2.0.1'), '1.0.2.127.in-addr.arpa');
    assert.equal(reverseName('fd00::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
    assert.equal(reverseName('not-an-ip'), undefined);
  });

  it('reverseZoneOf rounds the CIDR out to whole labels', () => {
    assert.equal(reverseZoneOf('127.2.0.0/16'), '2.127.in-addr.arpa');
    assert.equal(reverseZoneOf('10.96.0.0/12'), '10.in-addr.arpa');
    assert.equal(reverseZoneOf('192.168.7.0/24'), '7.168.192.in-addr.arpa');
    assert.equal(reverseZoneOf('fd00:1::/32'), '1.0.0.0.0.0.d.f.ip6.arpa');
    assert.equal(reverseZoneOf('10.0.0.0/33'), undefined);
  });

  it('instanceLabel: the WorkloadEntry name as one valid label; none for ServiceEntry endpoints', () => {
    assert.equal(instanceLabel(endpoint('127.1.0.1', 'db-0')), 'db-0');
    assert.equal(instanceLabel(endpoint('127.1.0.1', 'Web.v1_a')), 'web-v1-a');
    assert.equal(instanceLabel(endpoint('127.1.0.1', 'x', { source: 'serviceentry:default/se[0]' })), undefined);
  });
});
