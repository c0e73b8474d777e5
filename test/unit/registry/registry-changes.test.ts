/** Registry: what is published and when: identity, MeshChange, batching, no-ops, collisions, config order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '../../../src/registry/registry.js';
import { SqliteStore } from '../../../src/store/sqlite-store.js';
import { istio, service, serviceEntry, settle, withHarness, workloadEntry, type Harness } from './helpers.js';

const host = (name: string): string => `${name}.default.svc.cluster.local`;
const svc = (name: string, port = 80): ReturnType<typeof service> =>
  service(name, { clusterIP: `10.96.0.${name.length}`, selector: { app: name }, ports: [{ name: 'http', port }] });
const we = (name: string, app: string, healthy?: 'True' | 'False'): ReturnType<typeof workloadEntry> =>
  workloadEntry(name, { address: `10.0.0.${name.length}`, labels: { app } }, { healthy });

/** The one publish `fn` causes, as { from, to, endpointsChanged, configChanged }. */
async function onePublish(h: Harness, fn: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const published = await h.during(fn);
  assert.equal(published.length, 1, `expected one publish, got ${published.length}`);
  const p = published[0]!;
  return { from: p.change.from, to: p.change.to, endpointsChanged: p.endpointsChanged, config: p.change.configChanged };
}

void describe('Registry: publishing', () => {
  void it('publishes version 1 once loaded, even for an empty store; view() is version 0 before', async () => {
    const store = SqliteStore.open({ path: ':memory:' });
    const registry = new Registry(store);
    const seen: number[] = [];
    registry.subscribe((view, change) => {
      seen.push(view.version);
      assert.deepEqual([change.from, change.to, change.configChanged, change.endpointsChanged.size], [0, 1, true, 0]);
    });
    assert.equal(registry.view().version, 0);
    await registry.start();
    assert.deepEqual(seen, [1]);
    assert.equal(registry.view().services.size, 0);
    await assert.rejects(registry.start(), /already started/);
    registry.stop();
    await store.close();
  });

  void it('an endpoint change republishes only that service: others keep identity, exact MeshChange', async () => {
    await withHarness([svc('a'), svc('bb'), we('a1', 'a'), we('b1', 'bb')], async (h) => {
      const before = h.view;
      const change = await onePublish(h, () => h.store.update(we('a1', 'a', 'False')));
      assert.deepEqual(change, { from: 1, to: 2, endpointsChanged: [host('a')], config: false });
      assert.equal(h.view.services.get(host('bb')), before.services.get(host('bb')), 'unchanged service kept');
      assert.notEqual(h.view.services.get(host('a')), before.services.get(host('a')));
      assert.equal(h.view.config, before.config, 'config kept');
    });
  });

  void it('a WorkloadEntry moving between services changes both; one matching nothing publishes nothing', async () => {
    await withHarness([svc('a'), svc('bb'), we('x', 'a')], async (h) => {
      assert.deepEqual(await onePublish(h, () => h.store.update(we('x', 'bb'))), {
        from: 1,
        to: 2,
        endpointsChanged: [host('a'), host('bb')],
        config: false,
      });
      assert.deepEqual(await h.during(() => h.store.create(we('y', 'nobody'))), []);
      assert.deepEqual(await h.during(() => h.store.delete('WorkloadEntry', 'default', 'y')), []);
    });
  });

  void it('no publish for changes that change nothing in the view', async () => {
    await withHarness([svc('a'), we('a1', 'a', 'True')], async (h) => {
      const v = h.view.version;
      // Health stays healthy (no condition -> healthy), an annotation, an unrelated kind, a no-op update.
      assert.deepEqual(await h.during(() => h.store.update(we('a1', 'a'))), []);
      const annotated = we('a1', 'a');
      annotated.metadata.annotations = { note: 'x' };
      assert.deepEqual(await h.during(() => h.store.update(annotated)), []);
      const policy = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p' } };
      assert.deepEqual(await h.during(() => h.store.create({ ...policy, spec: {} })), []);
      assert.deepEqual(await h.during(() => h.store.update(annotated)), []);
      assert.equal(h.view.version, v);
    });
  });

  void it('service set, ports and VIP changes are config changes, with an empty endpointsChanged', async () => {
    await withHarness([svc('a'), we('a1', 'a')], async (h) => {
      assert.deepEqual(await onePublish(h, () => h.store.create(svc('new'))), {
        from: 1,
        to: 2,
        endpointsChanged: [],
        config: true,
      });
      assert.deepEqual(await onePublish(h, () => h.store.update(svc('a', 8080))), {
        from: 2,
        to: 3,
        endpointsChanged: [],
        config: true,
      });
      assert.equal(h.service(host('a')).ports[0]!.port, 8080);
      assert.deepEqual(await onePublish(h, () => h.store.delete('Service', 'default', 'new')), {
        from: 3,
        to: 4,
        endpointsChanged: [],
        config: true,
      });
      assert.equal(h.view.services.has(host('new')), false);
    });
  });

  void it('a Service selector change swaps its endpoints and is an endpoints-only change', async () => {
    await withHarness([svc('a'), we('a1', 'a'), we('bb1', 'bb')], async (h) => {
      const moved = service('a', {
        clusterIP: '10.96.0.1',
        selector: { app: 'bb' },
        ports: [{ name: 'http', port: 80 }],
      });
      assert.deepEqual(await onePublish(h, () => h.store.update(moved)), {
        from: 1,
        to: 2,
        endpointsChanged: [host('a')],
        config: false,
      });
      assert.deepEqual(
        h.service(host('a')).endpoints.map((e) => e.source),
        ['default/bb1'],
      );
      // The new selector is indexed: a change to bb1 reaches a.
      await h.during(() => h.store.update(we('bb1', 'bb', 'False')));
      assert.equal(h.service(host('a')).endpoints[0]!.health, 'UNHEALTHY');
      // And the old one is forgotten: a1 is no longer a's.
      assert.deepEqual(await h.during(() => h.store.update(we('a1', 'a', 'False'))), []);
    });
  });

  void it('routing config changes are config changes; ports of a service and its endpoints in one batch too', async () => {
    await withHarness([svc('a'), svc('bb'), we('a1', 'a')], async (h) => {
      const vs = istio('VirtualService', 'a', {
        hosts: [host('a')],
        http: [{ route: [{ destination: { host: host('a') } }] }],
      });
      assert.deepEqual(await onePublish(h, () => h.store.create(vs)), {
        from: 1,
        to: 2,
        endpointsChanged: [],
        config: true,
      });
      assert.equal(h.view.config.virtualServices.length, 1);
      // bb's endpoints and a's port in one batch: bb is listed, a is not (its change is not endpoints-only).
      const change = await onePublish(h, () =>
        Promise.all([h.store.create(we('b1', 'bb')), h.store.update(svc('a', 81)), h.store.create(we('a2', 'a'))]),
      );
      assert.deepEqual(change, { from: 2, to: 3, endpointsChanged: [host('bb')], config: true });
    });
  });

  void it('a DNS ServiceEntry endpoint change is listed and is a config change (its Cluster holds them)', async () => {
    const se = serviceEntry('vm', {
      hosts: ['vm.example'],
      resolution: 'DNS',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      workloadSelector: { labels: { app: 'vm' } },
    });
    await withHarness([se], async (h) => {
      const change = await onePublish(h, () =>
        h.store.create(workloadEntry('vm1', { address: 'vm1.example', labels: { app: 'vm' } })),
      );
      assert.deepEqual(change, { from: 1, to: 2, endpointsChanged: ['vm.example'], config: true });
    });
  });

  void it('batches the writes of one tick into one publish', async () => {
    await withHarness([svc('a')], async (h) => {
      const published = await h.during(() =>
        Promise.all(Array.from({ length: 10 }, (_, i) => h.store.create(we(`w${'x'.repeat(i)}`, 'a')))),
      );
      assert.equal(published.length, 1);
      assert.equal(h.service(host('a')).endpoints.length, 10);
      assert.deepEqual(published[0]!.endpointsChanged, [host('a')]);
    });
  });

  void it('orders VirtualServices, DestinationRules and Gateways by creation time, then namespace/name', async () => {
    const dr = (name: string, ns = 'default') => istio('DestinationRule', name, { host: host('a') }, { namespace: ns });
    await withHarness([dr('zeta'), dr('alpha')], async (h) => {
      // Created in this order, one second apart (the stepping clock): zeta, alpha.
      assert.deepEqual(
        h.view.config.destinationRules.map((d) => d.metadata.name),
        ['zeta', 'alpha'],
      );
      // Same second: by namespace/name.
      const t = '2030-01-01T00:00:00Z';
      const store = SqliteStore.open({ path: ':memory:', clock: () => new Date(t) });
      await Promise.all([store.create(dr('b', 'ns1')), store.create(dr('a', 'ns2')), store.create(dr('c', 'ns1'))]);
      const r = new Registry(store);
      await r.start();
      assert.deepEqual(
        r.view().config.destinationRules.map((d) => `${d.metadata.namespace}/${d.metadata.name}`),
        ['ns1/b', 'ns1/c', 'ns2/a'],
      );
      assert.ok(Object.isFrozen(r.view().config.destinationRules[0]!.spec));
      r.stop();
      await store.close();
    });
  });

  void it('a listener that throws is logged and the others still run; stop() ends publishing', async () => {
    await withHarness([svc('a')], async (h) => {
      const seen: number[] = [];
      h.registry.subscribe(() => {
        throw new Error('boom');
      });
      const unsubscribe = h.registry.subscribe((view) => seen.push(view.version));
      await h.during(() => h.store.create(we('a1', 'a')));
      assert.deepEqual(seen, [2]);
      assert.deepEqual(
        h.logger.at('error').map((l) => l.msg),
        ['mesh view listener threw'],
      );
      unsubscribe();
      await h.during(() => h.store.create(we('a2', 'a')));
      assert.deepEqual(seen, [2]);
      h.registry.stop();
      const before = h.published.length;
      await h.store.create(we('a3', 'a'));
      await settle();
      assert.equal(h.published.length, before);
      assert.equal(h.view.version, 3);
    });
  });
});

void describe('Registry: hostname collisions', () => {
  const entry = (name: string, hosts: string[], address: string) =>
    serviceEntry(name, {
      hosts,
      resolution: 'STATIC',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      endpoints: [{ address }],
    });

  void it('the oldest ServiceEntry wins a host; the next oldest takes over when it goes; warned once', async () => {
    await withHarness(
      [entry('old', ['api.example'], '10.9.0.1'), entry('new', ['api.example'], '10.9.0.2')],
      async (h) => {
        assert.equal(h.service('api.example').name, 'old');
        const warnings = () => h.logger.at('warn').filter((l) => l.msg?.startsWith('hostname defined more than once'));
        assert.equal(warnings().length, 1);
        assert.deepEqual(warnings()[0]!.obj, {
          hostname: 'api.example',
          winner: 'ServiceEntry/default/old',
          ignored: ['ServiceEntry/default/new'],
        });
        // A change to the loser publishes nothing and does not warn again.
        const loser = entry('new', ['api.example'], '10.9.0.3');
        assert.deepEqual(await h.during(() => h.store.update(loser)), []);
        assert.equal(warnings().length, 1);
        const change = await onePublish(h, () => h.store.delete('ServiceEntry', 'default', 'old'));
        assert.deepEqual(change, { from: 1, to: 2, endpointsChanged: [], config: true });
        assert.equal(h.service('api.example').name, 'new');
        assert.equal(h.service('api.example').endpoints[0]!.address, '10.9.0.3');
      },
    );
  });

  void it('a ServiceEntry cannot shadow an older Service hostname, but a newer Service loses to an older entry', async () => {
    const shadow = entry('shadow', [host('a'), 'other.example'], '10.9.0.9');
    await withHarness([svc('a'), shadow], async (h) => {
      assert.equal(h.service(host('a')).kind, 'Service');
      assert.equal(h.service('other.example').kind, 'ServiceEntry', 'its other hosts are served');
      await h.during(() => h.store.delete('Service', 'default', 'a'));
      assert.equal(h.service(host('a')).kind, 'ServiceEntry');
      await h.during(() => h.store.create(svc('a')));
      assert.equal(h.service(host('a')).kind, 'ServiceEntry', 'the entry is now the oldest');
      assert.equal(h.logger.at('warn').length, 2, 'one warning per collision');
    });
  });
});
