/** Query decoding and response assembly: EDNS0 echo, BADVERS, truncation, malformed input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { OptAnswer } from 'dns-packet';
import { assemble, parseQuery, SERVER_UDP_SIZE } from '../../../src/control/dns/wire.js';
import { RCODE, prepare } from '../../../src/control/dns/zone.js';

const MANY_RECORDS = Array.from({ length: 40 }, (_, i) => ({
  type: 'A' as const,
  name: 'db.default.svc.cluster.local',
  ttl: 5,
  data: `127.1.0.${i + 1}`,
}));
const MANY = prepare(RCODE.NOERROR, MANY_RECORDS, [], []);

function query(opt?: Partial<OptAnswer>): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 9,
    questions: [{ name: 'db.default.svc.cluster.local', type: 'A' }],
    additionals: opt ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0, ...opt } as OptAnswer] : [],
  });
}

void describe('parseQuery', () => {
  it('reads the question, the end of the question and EDNS0', () => {
    const q = parseQuery(query({ udpPayloadSize: 1400, flags: dnsPacket.DNSSEC_OK }))!;
    assert.equal(q.name, 'db.default.svc.cluster.local');
    assert.equal(q.type, 'A');
    assert.equal(q.questionEnd, 12 + 30 + 4);
    assert.deepEqual(q.edns, { udpSize: 1400, version: 0, dnssecOk: true });
  });

  it('raises an advertised size below 512 to 512', () => {
    assert.equal(parseQuery(query({ udpPayloadSize: 100 }))!.edns!.udpSize, 512);
  });

  it('rejects what does not decode, and responses', () => {
    assert.equal(parseQuery(Buffer.from('garbage')), undefined);
    assert.equal(parseQuery(Buffer.alloc(0)), undefined);
    const truncated = query().subarray(0, 20);
    assert.equal(parseQuery(truncated), undefined);
    const response = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'a.b', type: 'A' }] });
    assert.equal(parseQuery(response), undefined);
    // A question name that is a compression pointer into the header.
    const pointer = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x04, 0, 1, 0, 1]);
    assert.equal(parseQuery(pointer), undefined);
  });
});

void describe('assemble', () => {
  it('compresses the owner name of records owned by the asked name into a pointer to the question', () => {
    const records = MANY_RECORDS.slice(0, 3);
    const plain = prepare(RCODE.NOERROR, records, [], []);
    const compressed = prepare(RCODE.NOERROR, records, [], [], 'db.default.svc.cluster.local');
    assert.equal(plain.body.length, 3 * (30 + 14));
    assert.equal(compressed.body.length, 3 * (2 + 14));
    const msg = query();
    const r = dnsPacket.decode(assemble(msg, parseQuery(msg)!, compressed, 0, 512, false).message);
    assert.deepEqual(
      r.answers?.map((a) => [a.name, (a as { data: string }).data]),
      records.map((a) => [a.name, a.data]),
    );
  });

  it('without EDNS: truncates past 512 bytes to header + question with TC', () => {
    const msg = query();
    const out = assemble(msg, parseQuery(msg)!, MANY, 0, 512, false);
    assert.equal(out.truncated, true);
    const r = dnsPacket.decode(out.message);
    assert.equal(r.flag_tc, true);
    assert.equal(r.answers?.length, 0);
    assert.equal(r.questions?.length, 1);
    assert.equal(out.message.length, 12 + 30 + 4);
  });

  it('with EDNS: honours the advertised size and echoes an OPT with the server size and the DO bit', () => {
    const msg = query({ udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK });
    const out = assemble(msg, parseQuery(msg)!, MANY, 0, 4096, false);
    assert.equal(out.truncated, false);
    const r = dnsPacket.decode(out.message);
    assert.equal(r.answers?.length, 40);
    const opt = r.additionals?.[0] as OptAnswer;
    assert.deepEqual([opt.type, opt.udpPayloadSize, opt.ednsVersion, opt.flag_do], ['OPT', SERVER_UDP_SIZE, 0, true]);
  });

  it('a truncated EDNS answer keeps its OPT', () => {
    const msg = query({ udpPayloadSize: 512 });
    const r = dnsPacket.decode(assemble(msg, parseQuery(msg)!, MANY, 0, 512, false).message);
    assert.equal(r.flag_tc, true);
    assert.deepEqual(
      r.additionals?.map((a) => a.type),
      ['OPT'],
    );
  });

  it('answers an unknown EDNS version with BADVERS and no records', () => {
    const msg = query({ ednsVersion: 1 });
    const r = dnsPacket.decode(assemble(msg, parseQuery(msg)!, MANY, 0, 4096, false).message);
    assert.equal(r.answers?.length, 0);
    assert.equal((r as any).rcode, 'NOERROR');
    assert.equal((r.additionals?.[0] as OptAnswer).extendedRcode, 1);
  });

  it('answers an rcode alone (REFUSED) with RA when forwarding is available', () => {
    const msg = query();
    const r = dnsPacket.decode(assemble(msg, parseQuery(msg)!, undefined, RCODE.REFUSED, 512, true).message);
    assert.equal((r as any).rcode, 'REFUSED');
    assert.equal(r.flag_aa, false);
    assert.equal(r.flag_ra, true);
  });
});
