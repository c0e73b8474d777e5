/** SqliteStore: the shared conformance suite (in memory and on disk) plus what only SQLite promises. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { SCHEMA_VERSION } from '../../../src/store/sqlite-schema.js';
import { storeConformance } from './conformance.js';
import { Collector, rejectsWith, rv, svc } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'shoal-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshPath = (): string => join(root, `d${dirs++}`, 'store.db');

storeConformance('sqlite :memory:', (o) => Promise.resolve(SqliteStore.open({ path: ':memory:', ...o })));
storeConformance('sqlite file', (o) => Promise.resolve(SqliteStore.open({ path: freshPath(), ...o })));

void describe('SqliteStore', () => {
  void it('reopening keeps objects, and the resourceVersion continues from where it was', async () => {
    const path = freshPath();
    let s = SqliteStore.open({ path });
    const a = await s.create(svc('a', { labels: { app: 'a' } }));
    const deleted = await s.delete('Service', 'default', (await s.create(svc('b'))).metadata.name);
    await s.close();
    s = SqliteStore.open({ path });
    assert.deepEqual(await s.get('Service', 'default', 'a'), a);
    assert.equal(await s.currentVersion(), deleted.metadata.resourceVersion);
    const c = new Collector();
    await s.watch({ resourceVersion: a.metadata.resourceVersion }, c.onEvent);
    assert.deepEqual(c.summary().slice(0, 2), [
      `ADDED:default/b@${rv(deleted) - 1}`,
      `DELETED:default/b@${rv(deleted)}`,
    ]);
    const next = await s.create(svc('c'));
    assert.equal(rv(next), rv(deleted) + 1);
    assert.equal(c.events.length, 3);
    await s.close();
  });

  void it('trims history to historyLimit and names the oldest resumable version in the 410', async () => {
    const path = freshPath();
    const s = SqliteStore.open({ path, historyLimit: 3 });
    for (let i = 1; i <= 10; i++) await s.create(svc(`o${i}`));
    assert.equal(s.stats().historyOldest, 8);
    await rejectsWith(
      s.watch({ resourceVersion: '6' }, () => undefined),
      'Expired',
      410,
    );
    await assert.rejects(
      s.watch({ resourceVersion: '6' }, () => undefined),
      {
        message: 'too old resource version: 6 (7)',
      },
    );
    const c = new Collector();
    await s.watch({ resourceVersion: '7' }, c.onEvent);
    assert.deepEqual(c.rvs(), [8, 9, 10]);
    await s.close();
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare('SELECT rv FROM events ORDER BY rv').all(), [{ rv: 8 }, { rv: 9 }, { rv: 10 }]);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
  });

  void it('uses WAL and takes the injected clock for creationTimestamp', async () => {
    const s = SqliteStore.open({ path: freshPath(), clock: () => new Date('2025-03-04T05:06:07.890Z') });
    const a = await s.create(svc('a'));
    assert.equal(a.metadata.creationTimestamp, '2025-03-04T05:06:07Z');
    assert.equal(s.stats().journalMode, 'wal');
    await s.close();
  });

  void it('group-commits concurrent writes: one failing write does not affect its batch', async () => {
    const s = SqliteStore.open({ path: ':memory:' });
    await s.create(svc('taken'));
    const results = await Promise.allSettled([s.create(svc('x')), s.create(svc('taken')), s.create(svc('y'))]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(
      (await s.list('Service')).items.map((o) => [o.metadata.name, o.metadata.resourceVersion]),
      [
        ['taken', '1'],
        ['x', '2'],
        ['y', '3'],
      ],
    );
    await s.close();
  });

  void it('a watch handler that writes, lists or watches re-entrantly still sees events in order', async () => {
    const s = SqliteStore.open({ path: ':memory:' });
    const seen: number[] = [];
    const inner = new Collector();
    await s.watch({ resourceVersion: '0' }, (e) => {
      seen.push(rv(e.object));
      if (e.object.metadata.name === 'a') {
        void s.list('Service');
        void s.watch({ resourceVersion: e.object.metadata.resourceVersion }, inner.onEvent);
        void s.create(svc('from-handler'));
      }
    });
    await Promise.all([s.create(svc('a')), s.create(svc('b'))]);
    await inner.until(() => inner.events.length === 2);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(inner.rvs(), [2, 3]);
    await s.close();
  });

  void it('a handler that throws ends only its own watch, with onError', async () => {
    const s = SqliteStore.open({ path: ':memory:' });
    const bad = new Collector();
    const good = new Collector();
    await s.watch(
      {},
      () => {
        throw new Error('boom');
      },
      bad.onError,
    );
    await s.watch({}, good.onEvent);
    await s.create(svc('a'));
    await s.create(svc('b'));
    assert.equal(good.events.length, 2);
    assert.match(bad.errors[0]?.message ?? '', /watch handler threw: boom/);
    assert.equal(s.stats().watchers, 1);
    await s.close();
  });

  void it('refuses a second process-level open of the same file, and operations after close', async () => {
    const path = freshPath();
    const s = SqliteStore.open({ path });
    await s.create(svc('a'));
    assert.throws(() => SqliteStore.open({ path, busyTimeoutMs: 50 }), {
      name: 'ShoalError',
      message: /locked by another process/,
    });
    await s.close();
    await rejectsWith(s.get('Service', 'default', 'a'), 'ServiceUnavailable', 503);
    await rejectsWith(s.create(svc('b')), 'ServiceUnavailable', 503);
    const again = SqliteStore.open({ path });
    assert.ok(await again.get('Service', 'default', 'a'));
    await again.close();
  });
});
