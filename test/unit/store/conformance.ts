/**
 * The Store conformance suite: every Store implementation (SQLite now, etcd later) registers it with its own
 * `open` and must pass it unchanged. `open({ historyLimit })` must honor the history limit (the 410 tests).
 * This file covers objects, errors, generation, lists and write concurrency; conformance-watch.ts the watches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLabelSelector } from '../../../src/store/label-selector.js';
import { watchConformance } from './conformance-watch.js';
import { rejectsWith, rv, svc, withStore, type OpenStore } from './helpers.js';

export type { OpenStore, OpenOptions } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

export function storeConformance(name: string, open: OpenStore): void {
  void describe(`Store conformance: ${name}`, () => {
    objectTests(open);
    listTests(open);
    concurrencyTests(open);
    watchConformance(open);
  });
}

function objectTests(open: OpenStore): void {
  void it('create sets the server-owned metadata and does not mutate its input', () =>
    withStore(open, async (s) => {
      const before = Number(await s.currentVersion());
      const input = svc('web', { labels: { app: 'web' } });
      const snapshot = structuredClone(input);
      const t0 = Math.floor(Date.now() / 1000) * 1000;
      const created = await s.create(input);
      assert.deepEqual(input, snapshot);
      assert.equal(created.metadata.namespace, 'default');
      assert.match(created.metadata.uid, UUID);
      assert.equal(created.metadata.generation, 1);
      assert.match(created.metadata.creationTimestamp, RFC3339_SECONDS);
      const ts = Date.parse(created.metadata.creationTimestamp);
      assert.ok(ts >= t0 && ts <= Date.now(), `creationTimestamp ${created.metadata.creationTimestamp}`);
      assert.ok(rv(created) > before);
      assert.equal(await s.currentVersion(), created.metadata.resourceVersion);
      assert.deepEqual(created.spec, input.spec);
      assert.deepEqual(created.metadata.labels, { app: 'web' });
    }));

  void it('get returns fresh copies; absent objects resolve undefined', () =>
    withStore(open, async (s) => {
      const created = await s.create(svc('a', { namespace: 'ns1' }));
      created.metadata.name = 'changed';
      const got = await s.get('Service', 'ns1', 'a');
      assert.ok(got);
      assert.equal(got.metadata.name, 'a');
      (got.spec as { ports: unknown[] }).ports.push({ port: 1 });
      assert.deepEqual((await s.get('Service', 'ns1', 'a'))?.spec, { ports: [{ port: 80 }] });
      assert.equal(await s.get('Service', 'default', 'a'), undefined);
      assert.equal(await s.get('Gateway', 'ns1', 'a'), undefined);
    }));

  void it('create of an existing name is AlreadyExists; the same name in another namespace or kind is not', () =>
    withStore(open, async (s) => {
      await s.create(svc('a'));
      await rejectsWith(s.create(svc('a')), 'AlreadyExists', 409);
      await s.create(svc('a', { namespace: 'other' }));
      await s.create(svc('a', { kind: 'Gateway' }));
    }));

  void it('update: NotFound when absent, Conflict on a stale resourceVersion, unconditional without one', () =>
    withStore(open, async (s) => {
      await rejectsWith(s.update(svc('nope')), 'NotFound', 404);
      const v1 = await s.create(svc('a'));
      const v2 = await s.update({ ...v1, spec: { ports: [{ port: 81 }] } });
      assert.ok(rv(v2) > rv(v1));
      await rejectsWith(s.update({ ...v1, spec: { ports: [{ port: 82 }] } }), 'Conflict', 409);
      const v3 = await s.update(svc('a', { spec: { ports: [{ port: 83 }] } }));
      assert.deepEqual(v3.spec, { ports: [{ port: 83 }] });
      assert.equal(v3.metadata.uid, v1.metadata.uid);
      assert.equal(v3.metadata.creationTimestamp, v1.metadata.creationTimestamp);
    }));

  void it('generation bumps only when spec changes; labels, annotations and status changes take a new version', () =>
    withStore(open, async (s) => {
      const v1 = await s.create(svc('a', { spec: { x: 1, y: [1, 2] } }));
      const labeled = await s.update({ ...v1, metadata: { ...v1.metadata, labels: { app: 'a' } } });
      assert.equal(labeled.metadata.generation, 1);
      assert.ok(rv(labeled) > rv(v1));
      const annotated = await s.update({ ...labeled, metadata: { ...labeled.metadata, annotations: { n: 'x' } } });
      assert.equal(annotated.metadata.generation, 1);
      const withStatus = await s.update({ ...annotated, status: { ready: true } });
      assert.equal(withStatus.metadata.generation, 1);
      assert.ok(rv(withStatus) > rv(annotated));
      // The same spec with keys in another order is the same spec.
      const reordered = await s.update({ ...withStatus, spec: { y: [1, 2], x: 1 } });
      assert.equal(reordered.metadata.resourceVersion, withStatus.metadata.resourceVersion);
      const respec = await s.update({ ...reordered, spec: { x: 2, y: [1, 2] } });
      assert.equal(respec.metadata.generation, 2);
      const again = await s.update({ ...respec, spec: { x: 2, y: [2, 1] } });
      assert.equal(again.metadata.generation, 3);
      // Server-owned fields on the input are ignored.
      const forged = await s.update({ ...again, metadata: { ...again.metadata, generation: 99, uid: 'forged' } });
      assert.equal(forged.metadata.generation, 3);
      assert.equal(forged.metadata.uid, v1.metadata.uid);
    }));

  void it('an update that changes nothing returns the stored object with no new version', () =>
    withStore(open, async (s) => {
      const v1 = await s.create(svc('a', { labels: { app: 'a' } }));
      const same = await s.update(svc('a', { labels: { app: 'a' } }));
      assert.deepEqual(same, v1);
      assert.equal(await s.currentVersion(), v1.metadata.resourceVersion);
      const stale = await s.update({ ...v1 });
      assert.deepEqual(stale, v1);
    }));

  void it('delete resolves the last object at the deletion version; NotFound and Conflict preconditions', () =>
    withStore(open, async (s) => {
      await rejectsWith(s.delete('Service', 'default', 'nope'), 'NotFound', 404);
      const v1 = await s.create(svc('a', { labels: { app: 'a' } }));
      const v2 = await s.update({ ...v1, spec: { ports: [] } });
      await rejectsWith(
        s.delete('Service', 'default', 'a', { resourceVersion: v1.metadata.resourceVersion }),
        'Conflict',
        409,
      );
      const deleted = await s.delete('Service', 'default', 'a', { resourceVersion: v2.metadata.resourceVersion });
      assert.ok(rv(deleted) > rv(v2));
      assert.equal(await s.currentVersion(), deleted.metadata.resourceVersion);
      assert.deepEqual(deleted, {
        ...v2,
        metadata: { ...v2.metadata, resourceVersion: deleted.metadata.resourceVersion },
      });
      assert.equal(await s.get('Service', 'default', 'a'), undefined);
      await rejectsWith(s.delete('Service', 'default', 'a'), 'NotFound', 404);
      const again = await s.create(svc('a'));
      assert.notEqual(again.metadata.uid, v1.metadata.uid);
      assert.equal(again.metadata.generation, 1);
    }));
}

function listTests(open: OpenStore): void {
  void it('list filters by kind and namespace, sorts by namespace then name, answers the current version', () =>
    withStore(open, async (s) => {
      for (const [ns, name] of [
        ['b', 'z'],
        ['a', 'y'],
        ['b', 'a'],
        ['a', 'x'],
      ] as const) {
        await s.create(svc(name, { namespace: ns }));
      }
      await s.create(svc('gw', { namespace: 'a', kind: 'Gateway' }));
      const all = await s.list('Service');
      assert.deepEqual(
        all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
        ['a/x', 'a/y', 'b/a', 'b/z'],
      );
      assert.equal(all.resourceVersion, await s.currentVersion());
      assert.deepEqual(
        (await s.list('Service', { namespace: 'b' })).items.map((o) => o.metadata.name),
        ['a', 'z'],
      );
      assert.deepEqual((await s.list('Service', { namespace: 'none' })).items, []);
      assert.deepEqual(
        (await s.list('Gateway')).items.map((o) => o.metadata.name),
        ['gw'],
      );
    }));

  void it('list filters by label selector: =, !=, in, notin, exists, !exists', () =>
    withStore(open, async (s) => {
      await s.create(svc('a', { labels: { app: 'web', tier: 'front', legacy: 'yes' } }));
      await s.create(svc('b', { labels: { app: 'web', tier: 'back' } }));
      await s.create(svc('c', { labels: { app: 'db' } }));
      await s.create(svc('d'));
      await s.create(svc('e', { namespace: 'other', labels: { app: 'web' } }));
      const names = async (sel: string, namespace?: string): Promise<string[]> => {
        const res = await s.list('Service', { labelSelector: parseLabelSelector(sel), namespace });
        return res.items.map((o) => o.metadata.name);
      };
      assert.deepEqual(await names('app=web'), ['a', 'b', 'e']);
      assert.deepEqual(await names('app=web', 'default'), ['a', 'b']);
      assert.deepEqual(await names('app!=web'), ['c', 'd']);
      assert.deepEqual(await names('tier in (front,back)'), ['a', 'b']);
      assert.deepEqual(await names('app notin (web)'), ['c', 'd']);
      assert.deepEqual(await names('tier'), ['a', 'b']);
      assert.deepEqual(await names('!tier'), ['c', 'd', 'e']);
      assert.deepEqual(await names('app=web,!legacy'), ['b', 'e']);
      assert.deepEqual(await names(''), ['a', 'b', 'c', 'd', 'e']);
    }));
}

function concurrencyTests(open: OpenStore): void {
  void it('N parallel updates from the same resourceVersion: exactly one wins, the rest Conflict', () =>
    withStore(open, async (s) => {
      const v1 = await s.create(svc('a'));
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => s.update({ ...v1, spec: { ports: [{ port: 1000 + i }] } })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as { reason?: string }).reason, 'Conflict');
      }
      assert.deepEqual((await s.get('Service', 'default', 'a'))?.spec, won[0]!.value.spec);
    }));

  void it('N parallel creates of one name: exactly one wins, the rest AlreadyExists', () =>
    withStore(open, async (s) => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => s.create(svc('same'))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as { reason?: string }).reason, 'AlreadyExists');
      }
    }));

  void it('parallel writes to different objects each take a distinct resourceVersion', () =>
    withStore(open, async (s) => {
      const created = await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(svc(`o${i}`))));
      const versions = new Set(created.map(rv));
      assert.equal(versions.size, 50);
      assert.equal(Number(await s.currentVersion()), Math.max(...versions));
    }));
}
