/** The shared difference between two type sets: what is updated, added, removed; computed once per step. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anysOf, changeBetween, changeStats } from '../../../src/control/xds/change-set.js';
import { ENDPOINT_TYPE_URL } from '../../../src/control/xds/resource-types.js';
import { Snapshot, type TypeResources } from '../../../src/control/xds/snapshot.js';
import { echoEndpoints } from './fixtures.js';

/** An EDS set with one assignment per entry: cluster name -> endpoint port. */
function eds(ports: Record<string, number>): TypeResources {
  const objects = Object.entries(ports).map(([name, port]) => echoEndpoints([port], name));
  return Snapshot.fromResources({ [ENDPOINT_TYPE_URL]: objects }).typeSet(ENDPOINT_TYPE_URL);
}

void describe('changeBetween', () => {
  void it('lists updated (changed and added) resources, added names and removed names', () => {
    const from = eds({ a: 1, b: 2, c: 3 });
    const to = eds({ a: 1, b: 20, d: 4 });
    const change = changeBetween(from, to);
    assert.equal(change.fromVersion, from.version);
    assert.equal(change.to, to);
    assert.deepEqual(
      change.updated.map((r) => r.name),
      ['b', 'd'],
    );
    assert.equal(change.updated[0], to.resources.get('b'), 'the newer set’s own resource objects');
    assert.deepEqual(
      change.updatedAnys,
      change.updated.map((r) => r.resource),
    );
    assert.deepEqual([...change.added], ['d']);
    assert.deepEqual(change.removed, ['c']);
  });

  void it('is empty between equal sets, whether the same object or equal content', () => {
    const a = eds({ a: 1, b: 2 });
    for (const change of [changeBetween(a, a), changeBetween(eds({ a: 1, b: 2 }), a)]) {
      assert.deepEqual(change.updated, []);
      assert.equal(change.added.size, 0);
      assert.deepEqual(change.removed, []);
    }
  });

  void it('computes a step once and hands every later caller the same object', () => {
    const from = eds({ a: 1, b: 2 });
    const to = eds({ a: 1, b: 3 });
    const computed = changeStats.computed;
    const first = changeBetween(from, to);
    for (let i = 0; i < 100; i++) assert.equal(changeBetween(from, to), first);
    // Another object with the same content as `from` makes the same step.
    assert.equal(changeBetween(eds({ a: 1, b: 2 }), to), first);
    assert.equal(changeStats.computed - computed, 1);
  });

  void it('keeps steps from several older sets to one newer set (streams lagging behind a push)', () => {
    const v1 = eds({ a: 1 });
    const v2 = eds({ a: 2 });
    const v3 = eds({ a: 3, b: 1 });
    const fromV2 = changeBetween(v2, v3);
    const fromV1 = changeBetween(v1, v3);
    assert.notEqual(fromV1, fromV2);
    assert.equal(changeBetween(v2, v3), fromV2);
    assert.equal(changeBetween(v1, v3), fromV1);
    assert.deepEqual(
      fromV1.updated.map((r) => r.name),
      ['a', 'b'],
    );
  });
});

void describe('anysOf', () => {
  void it('is every resource of a set as Anys, one shared array per set', () => {
    const set = eds({ a: 1, b: 2 });
    const anys = anysOf(set);
    assert.deepEqual(
      anys,
      [...set.resources.values()].map((r) => r.resource),
    );
    assert.equal(anysOf(set), anys);
  });
});
