/**
 * The DNS server's per-query wire work: decode a query (dns-packet), and assemble a response from a Prepared answer
 * (zone.ts) without encoding any record again: a 12-byte header, the query's own question bytes (so the name's case
 * comes back as asked), the prepared sections, and an EDNS0 OPT record when the query had one.
 */
import dnsPacket from 'dns-packet';
import type { OptAnswer } from 'dns-packet';
import type { Prepared } from './zone.js';

/** RFC 1035's limit without EDNS0. */
export const CLASSIC_UDP_SIZE = 512;
/** The UDP payload size this server advertises (DNS flag day 2020's recommendation). */
export const SERVER_UDP_SIZE = 1232;
/** RFC 6891: the extended RCODE for an unsupported EDNS version (upper 8 bits 1, header RCODE 0). */
const BADVERS_EXTENDED = 1;

const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const OPT_LENGTH = 11;

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface Query {
  id: number;
  /** The query's flags word (RD is echoed). */
  flags: number;
  opcode: number;
  questions: number;
  /** Lowercased, no trailing dot. */
  name: string;
  type: string;
  qclass: string;
  /** Offset just past the (first) question; the bytes [12, questionEnd) are echoed. */
  questionEnd: number;
  edns?: Edns;
}

/**
 * Decodes a query; undefined when it cannot be parsed (or is a response), which the server drops and counts. A
 * parsable query may still be refused or answered FORMERR (no question, several questions): see the server.
 */
export function parseQuery(msg: Buffer): Query | undefined {
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    return undefined;
  }
  if (packet.flag_qr) return undefined;
  const flags = msg.readUInt16BE(2);
  const question = packet.questions?.[0];
  let questionEnd = 12;
  if (question !== undefined) {
    const end = nameEnd(msg, 12);
    if (end === undefined) return undefined;
    questionEnd = end + 4;
  }
  let edns: Edns | undefined;
  for (const rr of packet.additionals ?? []) {
    if (rr.type !== 'OPT') continue;
    edns = { udpSize: Math.max(CLASSIC_UDP_SIZE, rr.udpPayloadSize), version: rr.ednsVersion, dnssecOk: rr.flag_do };
    break;
  }
  return {
    id: packet.id ?? 0,
    flags,
    opcode: (flags >> 11) & 0xf,
    questions: packet.questions?.length ?? 0,
    name: question ? question.name.toLowerCase().replace(/\.$/, '') : '',
    type: question?.type ?? '',
    qclass: question?.class ?? '',
    questionEnd,
    edns,
  };
}

/** Where an uncompressed name starting at `offset` ends (past its zero byte); undefined for a pointer. */
function nameEnd(msg: Buffer, offset: number): number | undefined {
  let i = offset;
  for (;;) {
    const len = msg[i];
    if (len === undefined || (len & 0xc0) !== 0) return undefined;
    i += len + 1;
    if (len === 0) return i;
  }
}

/** The OPT record this server sends back (RFC 6891): its UDP size, the extended RCODE, the client's DO bit. */
function optRecord(extendedRcode: number, dnssecOk: boolean): Buffer {
  const answer: OptAnswer = {
    type: 'OPT',
    name: '.',
    udpPayloadSize: SERVER_UDP_SIZE,
    extendedRcode,
    ednsVersion: 0,
    flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0,
    flag_do: dnssecOk,
    options: [],
  };
  const packet = dnsPacket.encode({ type: 'response', questions: [], additionals: [answer] });
  return packet.subarray(12);
}
const OPTS = [
  optRecord(0, false),
  optRecord(0, true),
  optRecord(BADVERS_EXTENDED, false),
  optRecord(BADVERS_EXTENDED, true),
];

export interface Assembled {
  message: Buffer;
  truncated: boolean;
}

/**
 * The response to `query` carrying `prepared` (or, with no prepared answer, just `rcode`), cut to header + question
 * (+ OPT) with TC set when it would exceed `limit` bytes.
 */
export function assemble(
  msg: Buffer,
  query: Query,
  prepared: Prepared | undefined,
  rcode: number,
  limit: number,
  recursionAvailable: boolean,
): Assembled {
  const badVersion = query.edns !== undefined && query.edns.version !== 0;
  const opt = query.edns ? OPTS[(badVersion ? 2 : 0) + (query.edns.dnssecOk ? 1 : 0)]! : undefined;
  const body = badVersion ? undefined : prepared;
  const qEnd = query.questionEnd;
  const optLength = opt ? OPT_LENGTH : 0;
  let size = qEnd + (body ? body.body.length : 0) + optLength;
  const truncated = size > limit;
  if (truncated) size = qEnd + optLength;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(query.id, 0);
  let flags = QR | (query.flags & RD) | (query.opcode << 11);
  if (recursionAvailable) flags |= RA;
  if (truncated) flags |= TC;
  if (body) flags |= (body.authoritative ? AA : 0) | body.rcode;
  else if (!badVersion) flags |= rcode & 0xf;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(query.questions > 0 ? 1 : 0, 4);
  const send = body && !truncated ? body : undefined;
  out.writeUInt16BE(send ? send.answers : 0, 6);
  out.writeUInt16BE(send ? send.authorities : 0, 8);
  out.writeUInt16BE((send ? send.additionals : 0) + (opt ? 1 : 0), 10);
  msg.copy(out, 12, 12, qEnd);
  let offset = qEnd;
  if (send) offset += send.body.copy(out, offset);
  if (opt) opt.copy(out, offset);
  return { message: out, truncated };
}

/** The response code a query gets (for counting): the prepared one, BADVERS (16) or the given one. */
export function responseCode(query: Query, prepared: Prepared | undefined, rcode: number): number {
  if (query.edns !== undefined && query.edns.version !== 0) return 16;
  return prepared ? prepared.rcode : rcode;
}
