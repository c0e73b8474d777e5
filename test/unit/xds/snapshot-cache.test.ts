/** SnapshotCache: delivery on watch and on set, connected-node hooks, isolation of a throwing listener. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { XdsNode } from '../../../src/control/xds/node.js';
import type { Snapshot } from '../../../src/control/xds/snapshot.js';
import { SnapshotCache } from '../../../src/control/xds/snapshot-cache.js';
import { echoSnapshot } from './fixtures.js';

function node(id: string): XdsNode {
  return { id, cluster: '', metadata: {}, labels: {}, clientFeatures: [] };
}

void describe('SnapshotCache', () => {
  void it('delivers the current snapshot on watch (synchronously) and every new one after', () => {
    const cache = new SnapshotCache();
    const first = echoSnapshot([1]);
    cache.set('a', first);
    const seen: Snapshot[] = [];
    const cancel = cache.watch(node('a'), (s) => seen.push(s));
    assert.deepEqual(seen, [first]);
    const second = echoSnapshot([2]);
    cache.set('a', second);
    cache.set('a', second); // the same object again: nothing to deliver
    cache.set('b', first); // another node
    assert.deepEqual(seen, [first, second]);
    cancel();
    cancel();
    cache.set('a', first);
    assert.equal(seen.length, 2);
    assert.equal(cache.get('a'), first);
  });

  void it('tells the translation layer which nodes connect and leave', () => {
    const events: string[] = [];
    const cache = new SnapshotCache({
      onWatch: (n) => events.push(`+${n.id}`),
      onUnwatch: (n) => events.push(`-${n.id}`),
    });
    const c1 = cache.watch(node('a'), () => {});
    const c2 = cache.watch(node('a'), () => {});
    assert.deepEqual(
      cache.connectedNodes().map((n) => n.id),
      ['a'],
    );
    c1();
    c2();
    assert.deepEqual(events, ['+a', '-a']);
    assert.deepEqual(cache.connectedNodes(), []);
    assert.deepEqual(cache.nodeIds(), []);
  });

  void it('keeps delivering to other streams when one listener throws', () => {
    const errors: string[] = [];
    const cache = new SnapshotCache({ onListenerError: (id) => errors.push(id) });
    let delivered = 0;
    cache.watch(node('a'), () => {
      throw new Error('boom');
    });
    cache.watch(node('a'), () => delivered++);
    cache.set('a', echoSnapshot([1]));
    assert.equal(delivered, 1);
    assert.deepEqual(errors, ['a']);
    cache.delete('a');
    assert.equal(cache.get('a'), undefined);
  });
});
