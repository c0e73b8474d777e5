/**
 * Registry at scale: 1000 Services with 3 WorkloadEntries each load in well under a few seconds, and one
 * WorkloadEntry change republishes only its service (the other 999 keep their identity).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MeshView } from '../../src/registry/model.js';
import { Registry } from '../../src/registry/registry.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { service, settle, workloadEntry } from '../unit/registry/helpers.js';

const SERVICES = 1000;
const PER_SERVICE = 3;

const host = (i: number): string => `svc-${i}.default.svc.cluster.local`;
const we = (i: number, j: number, app = `svc-${i}`, healthy?: 'False') =>
  workloadEntry(
    `we-${i}-${j}`,
    { address: `10.${i >> 8}.${i & 255}.${j + 1}`, labels: { app, pod: `p${j}` }, ports: { http: 8080 } },
    { healthy },
  );

function sameExcept(before: MeshView, after: MeshView, changed: ReadonlySet<string>): void {
  assert.equal(after.services.size, before.services.size);
  let kept = 0;
  for (const [hostname, svc] of before.services) {
    if (changed.has(hostname)) assert.notEqual(after.services.get(hostname), svc, hostname);
    else if (after.services.get(hostname) === svc) kept++;
  }
  assert.equal(kept, before.services.size - changed.size, 'every other service keeps its identity');
}

void describe('Registry at scale', () => {
  void it(`loads ${SERVICES} Services x ${PER_SERVICE} WorkloadEntries quickly; one change touches one service`, async (t) => {
    const store = SqliteStore.open({ path: ':memory:' });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < SERVICES; i++) {
      writes.push(
        store.create(
          service(`svc-${i}`, {
            clusterIP: `10.96.${i >> 8}.${i & 255}`,
            selector: { app: `svc-${i}` },
            ports: [{ name: 'http', port: 80 }],
          }),
        ),
      );
      for (let j = 0; j < PER_SERVICE; j++) writes.push(store.create(we(i, j)));
    }
    await Promise.all(writes);

    const registry = new Registry(store);
    const published: { view: MeshView; changed: Set<string>; config: boolean }[] = [];
    registry.subscribe((view, change) =>
      published.push({ view, changed: new Set(change.endpointsChanged), config: change.configChanged }),
    );
    const t0 = performance.now();
    await registry.start();
    const loadMs = performance.now() - t0;
    const first = registry.view();
    assert.equal(first.services.size, SERVICES);
    for (let i = 0; i < SERVICES; i += 97) assert.equal(first.services.get(host(i))!.endpoints.length, PER_SERVICE);
    assert.ok(loadMs < 3000, `initial load took ${loadMs.toFixed(0)} ms`);

    // One WorkloadEntry goes unhealthy: one publish, EDS-only, for its service alone.
    const t1 = performance.now();
    await store.update(we(500, 1, 'svc-500', 'False'));
    await settle();
    const changeMs = performance.now() - t1;
    assert.equal(published.length, 2);
    const second = published[1]!;
    assert.deepEqual([...second.changed], [host(500)]);
    assert.equal(second.config, false);
    sameExcept(first, second.view, second.changed);
    assert.deepEqual(
      second.view.services.get(host(500))!.endpoints.map((e) => e.health),
      ['HEALTHY', 'UNHEALTHY', 'HEALTHY'],
    );
    assert.ok(changeMs < 200, `one change took ${changeMs.toFixed(1)} ms`);

    // One WorkloadEntry moves from svc-7 to svc-8: exactly those two.
    await store.update(we(7, 0, 'svc-8'));
    await settle();
    const third = published[2]!;
    assert.deepEqual([...third.changed].sort(), [host(7), host(8)]);
    sameExcept(second.view, third.view, third.changed);
    assert.equal(third.view.services.get(host(8))!.endpoints.length, PER_SERVICE + 1);

    t.diagnostic(`registry scale: load ${loadMs.toFixed(0)} ms, one change ${changeMs.toFixed(1)} ms`);
    registry.stop();
    await store.close();
  });
});
