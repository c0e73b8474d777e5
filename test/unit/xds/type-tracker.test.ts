/** TypeTracker: how requests are classified by nonce, and the status sequence NOT_SENT -> STALE -> SYNCED/NACKED. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceTypeOf } from '../../../src/control/xds/resource-types.js';
import { TypeTracker } from '../../../src/control/xds/type-tracker.js';

const CDS = resourceTypeOf('type.googleapis.com/envoy.config.cluster.v3.Cluster')!;
const now = (): Date => new Date('2025-01-01T00:00:00Z');

void describe('TypeTracker', () => {
  void it('follows initial -> sent -> ACK -> sent -> NACK -> sent -> ACK', () => {
    const t = new TypeTracker(CDS, now);
    assert.equal(t.status(), 'NOT_SENT');
    assert.equal(t.reply('', null), 'initial');
    t.sent('n1', 'v1', 2);
    assert.equal(t.status(), 'STALE');
    assert.equal(t.reply('', null), 'stale'); // sent before n1 arrived
    assert.equal(t.reply('n0', null), 'stale');
    assert.equal(t.reply('n1', null), 'ack');
    assert.equal(t.status(), 'SYNCED');
    assert.equal(t.reply('n1', null), 'repeat');
    t.sent('n2', 'v2', 1);
    assert.equal(t.reply('n2', { code: 3, message: 'bad cluster' }), 'nack');
    assert.equal(t.status(), 'NACKED');
    const nacked = t.report(true, 0);
    assert.equal(nacked.ackedVersion, 'v1');
    assert.deepEqual(nacked.lastNack, {
      nonce: 'n2',
      rejectedVersion: 'v2',
      code: 3,
      message: 'bad cluster',
      at: '2025-01-01T00:00:00.000Z',
    });
    assert.equal(nacked.staleRequests, 2);
    t.sent('n3', 'v3', 1);
    t.dirty = true;
    assert.equal(t.reply('n3', null), 'ack');
    assert.equal(t.status(), 'STALE'); // a newer configuration is queued
    t.dirty = false;
    assert.deepEqual(
      { ...t.report(true, 0), sentAt: undefined, ackedAt: undefined },
      {
        typeUrl: CDS.typeUrl,
        shortName: 'CDS',
        status: 'SYNCED',
        wildcard: true,
        subscribedNames: 0,
        sentVersion: 'v3',
        sentNonce: 'n3',
        sentAt: undefined,
        sentResources: 1,
        ackedVersion: 'v3',
        ackedAt: undefined,
        lastNack: nacked.lastNack,
        staleRequests: 2,
      },
    );
  });

  void it('truncates huge NACK messages', () => {
    const t = new TypeTracker(CDS, now);
    t.sent('n1', 'v1', 1);
    t.reply('n1', { code: 13, message: 'x'.repeat(100_000) });
    assert.equal(t.report(false, 1).lastNack?.message.length, 4096);
  });
});
