/**
 * The DNS server's answer tables, built from a MeshView (pure: view in, Zone out). Every answer is encoded once here
 * (with dns-packet) into the bytes that follow the question section, so answering a query is one Map lookup and a
 * copy (see wire.ts). docs/dns.md has the rules:
 *
 * - `<svc>.<ns>.svc.<domain>`: A/AAAA -> the VIP; a headless Service -> one A/AAAA per ready (HEALTHY) instance, and
 *   `<instance>.<svc>.<ns>.svc.<domain>` per ready instance, `<instance>` = its WorkloadEntry's name.
 * - `_<port-name>._<tcp|udp>.<host>`: SRV (RFC 2782), one for the VIP or one per ready instance, with the targets'
 *   A/AAAA records as additionals. Unnamed ports have no SRV name (as in Kubernetes).
 * - ServiceEntry hosts (not wildcards): A/AAAA -> their VIP (spec.addresses[0] or the allocated status.addresses);
 *   without one, the IP addresses of their ready endpoints.
 * - PTR for every VIP (`in-addr.arpa` / `ip6.arpa`).
 * - The zones (apexes) this server is authoritative for: the mesh domain and the reverse zone of the service CIDR.
 *   A name inside a zone that has records of other types gets NODATA, a name that is not there NXDOMAIN, both with
 *   the zone's SOA in the authority section (its TTL is the negative TTL). A known name outside every zone (a
 *   ServiceEntry host) gets NODATA without SOA for the types it lacks. Any other name is not ours (undefined).
 *
 * Building is incremental: the records of a MeshService are kept per object (MeshServices are immutable and
 * unchanged ones are shared between views), so a change re-derives only the services that changed.
 */
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, StringAnswer } from 'dns-packet';
import type { MeshEndpoint, MeshService, MeshView } from '../../registry/model.js';

/** An encoded answer: header fields plus the resource records that follow the question. */
export interface Prepared {
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly answers: number;
  readonly authorities: number;
  readonly additionals: number;
  /** Answer, authority and additional sections, encoded. */
  readonly body: Buffer;
}

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

interface NameEntry {
  /** By query type name ('A', 'SRV', ..., 'ANY'). */
  readonly types: ReadonlyMap<string, Prepared>;
  /** The authoritative zone it lies in (an index into the zone's apexes), -1 outside every zone. */
  readonly zone: number;
}

export interface ZoneOptions {
  /** TTL of every record, and the negative TTL (SOA minimum). */
  ttl: number;
  /** The service CIDR: its reverse zone is authoritative here (rounded out to whole octets / nibbles). */
  serviceCidr?: string;
}

/** The records one MeshService contributes, by lowercased owner name. */
export interface ServiceRecords {
  /** Owner name -> type -> records. */
  readonly records: Map<string, Map<string, Answer[]>>;
  /** SRV owner name -> the additional records for its targets. */
  readonly extra: Map<string, Answer[]>;
}

interface Apex {
  readonly apex: string;
  readonly suffix: string;
  readonly nxdomain: Prepared;
  readonly nodata: Prepared;
}

export class Zone {
  constructor(
    /** Lowercased names without the trailing dot. */
    private readonly names: ReadonlyMap<string, NameEntry>,
    /** Authoritative zones, most specific first. */
    private readonly apexes: readonly Apex[],
    readonly serial: number,
  ) {}

  /**
   * The answer for a lowercased name (no trailing dot) and a query type name, or undefined when the name is outside
   * every zone this server holds (REFUSED or forwarded).
   */
  lookup(name: string, type: string): Prepared | undefined {
    const entry = this.names.get(name);
    if (entry !== undefined) {
      return entry.types.get(type) ?? (entry.zone < 0 ? OUTSIDE_NODATA : this.apexes[entry.zone]!.nodata);
    }
    for (const z of this.apexes) if (name.endsWith(z.suffix) || name === z.apex) return z.nxdomain;
    return undefined;
  }

  /** How many names the zone holds (for logs and tests). */
  get size(): number {
    return this.names.size;
  }

  /** The authoritative zones' apexes, most specific first. */
  get zones(): string[] {
    return this.apexes.map((z) => z.apex);
  }
}

/** A MeshService's answers, encoded: owner name -> type -> answer. */
type PreparedNames = ReadonlyMap<string, ReadonlyMap<string, Prepared>>;
const NO_TYPES: ReadonlyMap<string, Prepared> = new Map();

/** Builds Zones from successive views, re-encoding only the MeshServices that changed. */
export class ZoneBuilder {
  private cache = new WeakMap<MeshService, PreparedNames>();
  private readonly reverseZone?: string;

  constructor(private readonly opts: ZoneOptions) {
    this.reverseZone = opts.serviceCidr === undefined ? undefined : reverseZoneOf(opts.serviceCidr);
  }

  build(view: MeshView): Zone {
    const { ttl } = this.opts;
    const domain = view.domain.toLowerCase().replace(/\.$/, '');
    const apexNames = [...new Set([domain, ...(this.reverseZone ? [this.reverseZone] : [])])].sort(
      (a, b) => b.length - a.length,
    );
    const serial = view.version >>> 0;
    const apexes: Apex[] = apexNames.map((apex) => {
      const soa = soaRecord(apex, domain, serial, ttl);
      return {
        apex,
        suffix: `.${apex}`,
        nxdomain: prepare(RCODE.NXDOMAIN, [], [soa], []),
        nodata: prepare(RCODE.NOERROR, [], [soa], []),
      };
    });
    const zoneOf = (name: string): number => apexes.findIndex((z) => name === z.apex || name.endsWith(z.suffix));

    // Every service's names; when two services claim one name and type, the first by hostname keeps it.
    const merged = new Map<string, ReadonlyMap<string, Prepared>>();
    for (const host of [...view.services.keys()].sort()) {
      const service = view.services.get(host)!;
      let prepared = this.cache.get(service);
      if (prepared === undefined) {
        prepared = prepareService(serviceRecords(service, ttl));
        this.cache.set(service, prepared);
      }
      for (const [owner, types] of prepared) {
        const have = merged.get(owner);
        if (have === undefined || have.size === 0) merged.set(owner, types);
        else if (types.size > 0) merged.set(owner, new Map([...types, ...have]));
      }
    }
    // Apexes answer SOA; names between a record and its apex exist too (empty non-terminals: NODATA).
    for (const { apex } of apexes) {
      const soa = prepare(RCODE.NOERROR, [soaRecord(apex, domain, serial, ttl)], [], [], apex);
      merged.set(apex, new Map([...(merged.get(apex) ?? []), ['SOA', soa]]));
    }
    const names = new Map<string, NameEntry>();
    for (const [owner, types] of merged) {
      const zone = zoneOf(owner);
      names.set(owner, { types, zone });
      if (zone < 0) continue;
      const apex = apexes[zone]!.apex;
      let name = owner;
      while (name !== apex) {
        name = name.slice(name.indexOf('.') + 1);
        if (merged.has(name) || names.has(name)) break;
        names.set(name, { types: NO_TYPES, zone });
      }
    }
    return new Zone(names, apexes, serial);
  }
}

/** Encodes one service's records: per owner and type, and ANY (every record of the owner). */
function prepareService(recs: ServiceRecords): PreparedNames {
  const out = new Map<string, ReadonlyMap<string, Prepared>>();
  for (const [owner, byType] of recs.records) {
    if (byType.size === 0) {
      out.set(owner, NO_TYPES);
      continue;
    }
    const additionals = recs.extra.get(owner) ?? [];
    const types = new Map<string, Prepared>();
    const all: Answer[] = [];
    for (const [type, answers] of byType) {
      types.set(type, prepare(RCODE.NOERROR, answers, [], additionals, owner));
      all.push(...answers);
    }
    types.set('ANY', prepare(RCODE.NOERROR, all, [], additionals, owner));
    out.set(owner, types);
  }
  return out;
}

/** A compression pointer to the question's name, which is always at offset 12 of a response (wire.ts). */
const QUESTION_NAME = Buffer.from([0xc0, 0x0c]);

/**
 * Encodes the sections after the question (with dns-packet, one record at a time). Records owned by `owner`, the name
 * the answer is for, point at the question's name instead of repeating it (RFC 1035 4.1.4): an A record of a long
 * Service name takes 16 bytes instead of about 45, so a headless Service's answer fits UDP with three times the
 * instances.
 */
export function prepare(
  rcode: number,
  answers: Answer[],
  authorities: Answer[],
  additionals: Answer[],
  owner?: string,
): Prepared {
  const parts: Buffer[] = [];
  for (const record of [...answers, ...authorities, ...additionals]) {
    const bytes = dnsPacket.encode({ type: 'response', questions: [], answers: [record] }).subarray(12);
    if (owner === undefined || record.name.toLowerCase() !== owner) {
      parts.push(bytes);
      continue;
    }
    let end = 0;
    while (bytes[end] !== 0) end += bytes[end]! + 1;
    parts.push(QUESTION_NAME, bytes.subarray(end + 1));
  }
  return Object.freeze({
    rcode,
    authoritative: true,
    answers: answers.length,
    authorities: authorities.length,
    additionals: additionals.length,
    body: Buffer.concat(parts),
  });
}

/** NODATA for a known name outside every zone (a ServiceEntry host): no SOA to give. */
const OUTSIDE_NODATA = prepare(RCODE.NOERROR, [], [], []);

function soaRecord(apex: string, domain: string, serial: number, ttl: number): Answer {
  return {
    type: 'SOA',
    name: apex,
    ttl,
    data: {
      mname: `ns.dns.${domain}`,
      rname: `hostmaster.${domain}`,
      serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ttl,
    },
  };
}

/** The DNS label for a headless Service's instance: its WorkloadEntry's name, made a valid label. */
export function instanceLabel(endpoint: MeshEndpoint): string | undefined {
  if (endpoint.source.startsWith('serviceentry:')) return undefined;
  const name = endpoint.source.slice(endpoint.source.indexOf('/') + 1).toLowerCase();
  const label = name
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return label === '' ? undefined : label;
}

function addressRecord(name: string, address: string, ttl: number): StringAnswer | undefined {
  const family = isIP(address);
  if (family === 4) return { type: 'A', name, ttl, data: address };
  if (family === 6) return { type: 'AAAA', name, ttl, data: address };
  return undefined;
}

/** The records one MeshService contributes (pure; exported for tests). */
export function serviceRecords(service: MeshService, ttl: number): ServiceRecords {
  const records = new Map<string, Map<string, Answer[]>>();
  const extra = new Map<string, Answer[]>();
  const host = service.hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('*')) return { records, extra };
  const add = (owner: string, record: Answer): void => {
    let byType = records.get(owner);
    if (byType === undefined) records.set(owner, (byType = new Map<string, Answer[]>()));
    const list = byType.get(record.type);
    if (list === undefined) byType.set(record.type, [record]);
    else list.push(record);
  };

  const ready = service.endpoints.filter((e) => e.health === 'HEALTHY' && isIP(e.address) !== 0);
  const hostAddresses: StringAnswer[] = [];
  const addHostAddress = (address: string): void => {
    const rec = addressRecord(host, address, ttl);
    if (rec && !hostAddresses.some((r) => r.type === rec.type && r.data === rec.data)) hostAddresses.push(rec);
  };
  if (service.vip !== undefined) addHostAddress(service.vip);
  else if (service.headless || service.kind === 'ServiceEntry') for (const e of ready) addHostAddress(e.address);
  for (const rec of hostAddresses) add(host, rec);
  // The name exists even with no address (a Service before admission, a headless one with no ready instance).
  if (!records.has(host)) records.set(host, new Map());

  // Headless: one name per ready instance (the first endpoint with a given label keeps it).
  const instances: { endpoint: MeshEndpoint; name: string; record: Answer }[] = [];
  if (service.headless) {
    const taken = new Set<string>();
    for (const endpoint of ready) {
      const label = instanceLabel(endpoint);
      if (label === undefined || taken.has(label)) continue;
      taken.add(label);
      const name = `${label}.${host}`;
      const record = addressRecord(name, endpoint.address, ttl)!;
      add(name, record);
      instances.push({ endpoint, name, record });
    }
  }

  for (const port of service.ports) {
    if (port.name === '') continue;
    const owner = `_${port.name.toLowerCase()}._${port.protocol === 'UDP' ? 'udp' : 'tcp'}.${host}`;
    const additionals: Answer[] = [];
    if (service.headless) {
      for (const { endpoint, name, record } of instances) {
        const target = endpoint.appPorts?.get(port.port) ?? endpoint.ports.get(port.port) ?? port.port;
        add(owner, {
          type: 'SRV',
          name: owner,
          ttl,
          data: { priority: 0, weight: endpoint.weight, port: target, target: name },
        });
        additionals.push(record);
      }
    } else if (hostAddresses.length > 0) {
      add(owner, { type: 'SRV', name: owner, ttl, data: { priority: 0, weight: 100, port: port.port, target: host } });
      additionals.push(...hostAddresses);
    }
    if (additionals.length > 0) extra.set(owner, additionals);
    // `_tcp.<host>` exists (NODATA) even outside the mesh domain.
    if (records.has(owner) && !records.has(owner.slice(owner.indexOf('.') + 1))) {
      records.set(owner.slice(owner.indexOf('.') + 1), new Map());
    }
  }

  if (service.vip !== undefined) {
    const ptr = reverseName(service.vip);
    if (ptr !== undefined) add(ptr, { type: 'PTR', name: ptr, ttl, data: host });
  }
  return { records, extra };
}

/** `4.3.2.1.in-addr.arpa` for 1.2.3.4, nibbles under `ip6.arpa` for IPv6; undefined for a non-IP. */
export function reverseName(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (family !== 6) return undefined;
  return `${expandIpv6(ip).split('').reverse().join('.')}.ip6.arpa`;
}

/** The 32 hex digits of an IPv6 address. */
function expandIpv6(ip: string): string {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/**
 * The reverse zone that covers a CIDR, rounded out to whole labels: 127.2.0.0/16 -> `2.127.in-addr.arpa`,
 * 10.96.0.0/12 -> `10.in-addr.arpa`, fd00::/64 -> nibbles. Undefined for a bad CIDR.
 */
export function reverseZoneOf(cidr: string): string | undefined {
  const [ip = '', bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const family = isIP(ip);
  if (family === 4 && Number.isInteger(bits) && bits >= 0 && bits <= 32) {
    const octets = ip.split('.').slice(0, Math.floor(bits / 8));
    return [...octets.reverse(), 'in-addr', 'arpa'].join('.');
  }
  if (family === 6 && Number.isInteger(bits) && bits >= 0 && bits <= 128) {
    const nibbles = expandIpv6(ip)
      .slice(0, Math.floor(bits / 4))
      .split('');
    return [...nibbles.reverse(), 'ip6', 'arpa'].join('.');
  }
  return undefined;
}
