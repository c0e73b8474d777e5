/**
 * The watch half of the Store conformance suite (registered by storeConformance in conformance.ts).
 * Delivery may be synchronous (SQLite) or asynchronous (etcd): tests wait with Collector.until, never sleep.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoredResource } from '../../../src/api/resource.js';
import { parseLabelSelector } from '../../../src/store/label-selector.js';
import type { Store } from '../../../src/store/store.js';
import {
  assertStrictlyIncreasing,
  Collector,
  jitter,
  rejectsWith,
  rv,
  svc,
  withStore,
  type OpenStore,
} from './helpers.js';

/** Runs `writers` concurrent writers, each creating, updating and deleting its own objects; returns acks. */
async function concurrentWrites(s: Store, writers: number, rounds: number): Promise<StoredResource[]> {
  const acks: StoredResource[] = [];
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const seed = { n: w + 1 };
      for (let i = 0; i < rounds; i++) {
        const name = `w${w}-${i}`;
        const created = await s.create(svc(name, { namespace: `ns${i % 2}`, labels: { writer: String(w) } }));
        acks.push(created);
        await jitter(seed);
        acks.push(await s.update({ ...created, spec: { round: i } }));
        await jitter(seed);
        if (i % 3 === 0) acks.push(await s.delete('Service', created.metadata.namespace, name));
      }
    }),
  );
  return acks;
}

export function watchConformance(open: OpenStore): void {
  void it('watch under concurrent writers: strictly increasing versions, exactly the acknowledged writes', () =>
    withStore(open, async (s) => {
      const c = new Collector();
      const w = await s.watch({ resourceVersion: await s.currentVersion() }, c.onEvent, c.onError);
      const acks = await concurrentWrites(s, 4, 12);
      await c.untilCount(acks.length);
      w.close();
      assertStrictlyIncreasing(c.rvs());
      const key = (o: StoredResource): string =>
        `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`;
      assert.deepEqual(
        c.events.map((e) => key(e.object)),
        [...acks].sort((a, b) => rv(a) - rv(b)).map(key),
      );
      assert.deepEqual(c.errors, []);
    }));

  void it('resume from a resourceVersion delivers only the changes after it, then live ones', () =>
    withStore(open, async (s) => {
      const a = await s.create(svc('a'));
      const b = await s.create(svc('b'));
      const a2 = await s.update({ ...a, spec: { v: 2 } });
      const c = new Collector();
      const w = await s.watch({ resourceVersion: a.metadata.resourceVersion }, c.onEvent, c.onError);
      await c.untilCount(2);
      const d = await s.delete('Service', 'default', 'b');
      await c.untilCount(3);
      w.close();
      assert.deepEqual(c.summary(), [
        `ADDED:default/b@${rv(b)}`,
        `MODIFIED:default/a@${rv(a2)}`,
        `DELETED:default/b@${rv(d)}`,
      ]);
      const atHead = new Collector();
      const w2 = await s.watch({ resourceVersion: d.metadata.resourceVersion }, atHead.onEvent);
      const e = await s.create(svc('e'));
      await atHead.untilCount(1);
      w2.close();
      assert.deepEqual(atHead.summary(), [`ADDED:default/e@${rv(e)}`]);
    }));

  void it('list, then watch from its resourceVersion, while writers run: no gap, no repeat', () =>
    withStore(open, async (s) => {
      for (let i = 0; i < 5; i++) await s.create(svc(`pre${i}`));
      const writing = concurrentWrites(s, 3, 8);
      await new Promise<void>((r) => setImmediate(r));
      const listed = await s.list('Service');
      const c = new Collector();
      const w = await s.watch({ kind: 'Service', resourceVersion: listed.resourceVersion }, c.onEvent, c.onError);
      await writing;
      const final = await s.list('Service');
      await c.until(() => c.events.length > 0 && c.rvs().at(-1)! >= Number(final.resourceVersion));
      w.close();
      assertStrictlyIncreasing(c.rvs());
      assert.ok(c.rvs()[0]! > Number(listed.resourceVersion));
      const state = new Map(listed.items.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
      for (const e of c.events) {
        const k = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
        if (e.type === 'DELETED') assert.ok(state.delete(k), `DELETED ${k} not in state`);
        else {
          assert.equal(state.has(k), e.type === 'MODIFIED', `${e.type} ${k}`);
          state.set(k, e.object);
        }
      }
      assert.deepEqual(
        [...state.values()].sort((x, y) => rv(x) - rv(y)),
        [...final.items].sort((x, y) => rv(x) - rv(y)),
      );
    }));

  void it('a resourceVersion older than the retained history is Expired (410)', () =>
    withStore(
      open,
      async (s) => {
        const first = await s.create(svc('o0'));
        const writes = [first];
        for (let i = 1; i < 20; i++) writes.push(await s.create(svc(`o${i}`)));
        await assert.rejects(
          s.watch({ resourceVersion: first.metadata.resourceVersion }, () => undefined),
          (err: Error & { reason?: string; code?: number }) =>
            err.reason === 'Expired' && err.code === 410 && /too old resource version: \d+ \(\d+\)/.test(err.message),
        );
        await rejectsWith(
          s.watch({ resourceVersion: '1' }, () => undefined),
          'Expired',
          410,
        );
        const c = new Collector();
        const w = await s.watch({ resourceVersion: writes[16]!.metadata.resourceVersion }, c.onEvent);
        await c.untilCount(3);
        w.close();
        assert.deepEqual(c.rvs(), writes.slice(17).map(rv));
      },
      { historyLimit: 5 },
    ));

  void it('without a resourceVersion (or "0"): the current matching state as ADDED, then live changes', () =>
    withStore(open, async (s) => {
      const a = await s.create(svc('a', { labels: { app: 'web' } }));
      await s.create(svc('b', { labels: { app: 'db' } }));
      const gone = await s.create(svc('c', { labels: { app: 'web' } }));
      await s.delete('Service', 'default', 'c');
      for (const resourceVersion of [undefined, '0']) {
        const c = new Collector();
        const sel = parseLabelSelector('app=web');
        const w = await s.watch({ kind: 'Service', labelSelector: sel, resourceVersion }, c.onEvent, c.onError);
        await c.untilCount(1);
        assert.deepEqual(c.summary(), [`ADDED:default/a@${rv(a)}`]);
        const d = await s.create(svc('d', { labels: { app: 'web' } }));
        await c.untilCount(2);
        w.close();
        assert.deepEqual(c.summary().slice(1), [`ADDED:default/d@${rv(d)}`]);
        await s.delete('Service', 'default', 'd');
      }
      assert.ok(rv(gone) > rv(a));
    }));

  void it('filters by kind, namespace and labels; objects entering or leaving a selector arrive as ADDED/DELETED', () =>
    withStore(open, async (s) => {
      const from = (await s.create(svc('before', { namespace: 'prod', labels: { app: 'web' } }))).metadata
        .resourceVersion;
      const sel = parseLabelSelector('app=web');
      const c = new Collector();
      const w = await s.watch(
        { kind: 'Service', namespace: 'prod', labelSelector: sel, resourceVersion: from },
        c.onEvent,
      );
      await s.create(svc('x', { namespace: 'prod', kind: 'Gateway', labels: { app: 'web' } }));
      await s.create(svc('y', { namespace: 'dev', labels: { app: 'web' } }));
      const a = await s.create(svc('a', { namespace: 'prod', labels: { app: 'db' } }));
      const a2 = await s.update({ ...a, metadata: { ...a.metadata, labels: { app: 'web' } } });
      const a3 = await s.update({ ...a2, spec: { v: 3 } });
      const a4 = await s.update({ ...a3, metadata: { ...a3.metadata, labels: { app: 'db' } } });
      await s.update({ ...a4, spec: { v: 5 } });
      const last = await s.create(svc('z', { namespace: 'prod', labels: { app: 'web' } }));
      await c.until(() => c.rvs().includes(rv(last)));
      w.close();
      assert.deepEqual(c.summary(), [
        `ADDED:prod/a@${rv(a2)}`,
        `MODIFIED:prod/a@${rv(a3)}`,
        `DELETED:prod/a@${rv(a4)}`,
        `ADDED:prod/z@${rv(last)}`,
      ]);
      // The same transitions replayed from history.
      const r = new Collector();
      const w2 = await s.watch(
        { kind: 'Service', namespace: 'prod', labelSelector: sel, resourceVersion: from },
        r.onEvent,
      );
      await r.untilCount(4);
      w2.close();
      assert.deepEqual(r.summary(), c.summary());
    }));

  void it('DELETED carries the last state of the object at the deletion version', () =>
    withStore(open, async (s) => {
      const c = new Collector();
      const w = await s.watch({ resourceVersion: await s.currentVersion() }, c.onEvent);
      const a = await s.create(svc('a', { labels: { app: 'a' }, spec: { v: 1 } }));
      const a2 = await s.update({ ...a, spec: { v: 2 }, status: { ok: true } });
      const d = await s.delete('Service', 'default', 'a');
      await c.untilCount(3);
      w.close();
      const del = c.events[2]!;
      assert.equal(del.type, 'DELETED');
      assert.deepEqual(del.object, {
        ...a2,
        metadata: { ...a2.metadata, resourceVersion: d.metadata.resourceVersion },
      });
    }));

  void it('close stops delivery; a store closing ends its watches with onError', () =>
    withStore(open, async (s) => {
      const closed = new Collector();
      const w = await s.watch({ resourceVersion: await s.currentVersion() }, closed.onEvent, closed.onError);
      const open2 = new Collector();
      await s.watch({ resourceVersion: await s.currentVersion() }, open2.onEvent, open2.onError);
      await s.create(svc('a'));
      await closed.untilCount(1);
      w.close();
      w.close();
      const b = await s.create(svc('b'));
      await open2.until(() => open2.rvs().includes(rv(b)));
      assert.equal(closed.events.length, 1);
      await s.close();
      await open2.until(() => open2.errors.length === 1);
      assert.deepEqual(closed.errors, []);
    }));

  void it('a watch from a future resourceVersion is refused', () =>
    withStore(open, async (s) => {
      const now = Number(await s.currentVersion());
      await assert.rejects(s.watch({ resourceVersion: String(now + 1000) }, () => undefined));
      await rejectsWith(
        s.watch({ resourceVersion: 'abc' }, () => undefined),
        'BadRequest',
        400,
      );
    }));
}
