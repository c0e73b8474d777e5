/** Registry: how Services, WorkloadEntries and ServiceEntries become MeshServices (real SqliteStore). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointSummary, service, serviceEntry, withHarness, workloadEntry } from './helpers.js';

const REVIEWS = 'reviews.default.svc.cluster.local';

const reviews = service('reviews', {
  clusterIP: '10.96.0.10',
  selector: { app: 'reviews' },
  ports: [
    { name: 'http', port: 80, targetPort: 8080 },
    { name: 'grpc-api', port: 9000, targetPort: 'grpc' },
    { name: 'metrics', port: 9090 },
    { name: 'tcp-admin', port: 81, targetPort: 'missing' },
  ],
});

void describe('Registry: Services and WorkloadEntries', () => {
  void it('builds a Service: hostname, VIP, ports with protocols, selected endpoints sorted by address', async () => {
    const objects = [
      reviews,
      workloadEntry('r2', {
        address: '10.0.0.2',
        labels: { app: 'reviews', version: 'v2' },
        serviceAccount: 'bookinfo',
      }),
      workloadEntry('r1', { address: '10.0.0.1', labels: { app: 'reviews' }, network: 'net1' }),
      workloadEntry('other', { address: '10.0.0.3', labels: { app: 'ratings' } }),
      workloadEntry('elsewhere', { address: '10.0.0.4', labels: { app: 'reviews' } }, { namespace: 'prod' }),
    ];
    await withHarness(objects, (h) => {
      assert.equal(h.view.version, 1);
      assert.equal(h.view.domain, 'cluster.local');
      const s = h.service(REVIEWS);
      assert.equal(s.name, 'reviews');
      assert.equal(s.namespace, 'default');
      assert.equal(s.kind, 'Service');
      assert.equal(s.vip, '10.96.0.10');
      assert.equal(s.headless, false);
      assert.equal(s.resolution, 'STATIC');
      assert.equal(s.location, 'MESH_INTERNAL');
      assert.deepEqual(s.exportTo, ['*']);
      assert.deepEqual(s.ports, [
        { name: 'http', port: 80, protocol: 'HTTP' },
        { name: 'grpc-api', port: 9000, protocol: 'GRPC' },
        { name: 'metrics', port: 9090, protocol: 'UNKNOWN' },
        { name: 'tcp-admin', port: 81, protocol: 'TCP' },
      ]);
      assert.deepEqual(
        s.endpoints.map((e) => [e.address, e.source, e.serviceAccount, e.network]),
        [
          ['10.0.0.1', 'default/r1', undefined, 'net1'],
          ['10.0.0.2', 'default/r2', 'bookinfo', undefined],
        ],
      );
      assert.deepEqual(s.endpoints[1]!.labels, { app: 'reviews', version: 'v2' });
      assert.ok(Object.isFrozen(s) && Object.isFrozen(s.endpoints) && Object.isFrozen(s.endpoints[0]));
    });
  });

  void it('resolves endpoint ports: named port, then named targetPort, then numeric targetPort, then port', async () => {
    const objects = [
      reviews,
      workloadEntry('named', {
        address: '10.0.0.1',
        labels: { app: 'reviews' },
        ports: { http: 18080, grpc: 19000, metrics: 19090 },
      }),
      workloadEntry('bare', { address: '10.0.0.2', labels: { app: 'reviews' } }),
    ];
    await withHarness(objects, (h) => {
      assert.deepEqual(endpointSummary(h.service(REVIEWS)), [
        // http by its own name; grpc-api via targetPort "grpc"; metrics by name; tcp-admin's "missing" -> port
        '10.0.0.1 80->18080,9000->19000,9090->19090,81->81 HEALTHY w1',
        // no named ports: numeric targetPort, unresolved named targetPort -> port, else port
        '10.0.0.2 80->8080,9000->9000,9090->9090,81->81 HEALTHY w1',
      ]);
    });
  });

  void it('follows WorkloadEntries joining, changing labels, going unhealthy and leaving', async () => {
    await withHarness([reviews], async (h) => {
      assert.deepEqual(h.service(REVIEWS).endpoints, []);
      const we = (labels: Record<string, string>, healthy?: 'True' | 'False') =>
        workloadEntry('r1', { address: '10.0.0.1', labels }, { healthy });

      await h.during(() => h.store.create(we({ app: 'reviews' })));
      assert.deepEqual(endpointSummary(h.service(REVIEWS)).length, 1);

      await h.during(() => h.store.update(we({ app: 'reviews' }, 'False')));
      assert.equal(h.service(REVIEWS).endpoints[0]!.health, 'UNHEALTHY', 'unhealthy endpoints stay listed');

      await h.during(() => h.store.update(we({ app: 'reviews' }, 'True')));
      assert.equal(h.service(REVIEWS).endpoints[0]!.health, 'HEALTHY');

      await h.during(() => h.store.update(we({ app: 'ratings' })));
      assert.deepEqual(h.service(REVIEWS).endpoints, [], 'labels no longer match');

      await h.during(() => h.store.update(we({ app: 'reviews', extra: 'x' })));
      assert.equal(h.service(REVIEWS).endpoints.length, 1, 'labels match again');

      await h.during(() => h.store.delete('WorkloadEntry', 'default', 'r1'));
      assert.deepEqual(h.service(REVIEWS).endpoints, []);
    });
  });

  void it('metadata.labels count for selection too, and win over spec.labels', async () => {
    const objects = [
      reviews,
      workloadEntry('m', { address: '10.0.0.1', labels: { app: 'ratings' } }, { labels: { app: 'reviews' } }),
    ];
    await withHarness(objects, (h) => {
      assert.deepEqual(h.service(REVIEWS).endpoints[0]!.labels, { app: 'reviews' });
    });
  });

  void it('a headless Service has no VIP; a Service without selector has no endpoints', async () => {
    const objects = [
      service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'tcp', port: 5432 }] }),
      service('external', { clusterIP: '10.96.0.11', ports: [{ name: 'http', port: 80 }] }),
      service('unallocated', { selector: { app: 'db' }, ports: [{ port: 80 }] }),
      workloadEntry('db-0', { address: '10.0.1.1', labels: { app: 'db' } }),
    ];
    await withHarness(objects, (h) => {
      const db = h.service('db.default.svc.cluster.local');
      assert.equal(db.headless, true);
      assert.equal(db.vip, undefined);
      assert.deepEqual(endpointSummary(db), ['10.0.1.1 5432->5432 HEALTHY w1']);
      assert.deepEqual(h.service('external.default.svc.cluster.local').endpoints, []);
      const unallocated = h.service('unallocated.default.svc.cluster.local');
      assert.equal(unallocated.vip, undefined);
      assert.equal(unallocated.headless, false);
      assert.deepEqual(unallocated.ports, [{ name: '', port: 80, protocol: 'UNKNOWN' }]);
    });
  });

  void it('parses locality, defaults weight to 1 (0 too), honours the domain and the exportTo annotation', async () => {
    const objects = [
      service(
        'api',
        { clusterIP: '10.96.0.12', selector: { app: 'api' }, ports: [{ name: 'http', port: 80 }] },
        {
          namespace: 'prod',
          annotations: { 'networking.istio.io/exportTo': '., web' },
        },
      ),
      workloadEntry(
        'a',
        { address: '10.0.0.1', labels: { app: 'api' }, locality: 'us-east/us-east-1a/rack1', weight: 5 },
        { namespace: 'prod' },
      ),
      workloadEntry('b', { address: '10.0.0.2', labels: { app: 'api' }, locality: 'eu' }, { namespace: 'prod' }),
      workloadEntry('c', { address: '10.0.0.3', labels: { app: 'api' }, weight: 0 }, { namespace: 'prod' }),
    ];
    await withHarness(
      objects,
      (h) => {
        const s = h.service('api.prod.svc.mesh.example');
        assert.deepEqual(s.exportTo, ['prod', 'web']);
        assert.deepEqual(
          s.endpoints.map((e) => [e.locality, e.weight]),
          [
            [{ region: 'us-east', zone: 'us-east-1a', subZone: 'rack1' }, 5],
            [{ region: 'eu', zone: '', subZone: '' }, 1],
            [{ region: '', zone: '', subZone: '' }, 1],
          ],
        );
        assert.equal(h.view.domain, 'mesh.example');
      },
      { domain: 'mesh.example' },
    );
  });

  void it('maps every port of a sidecar-registered WorkloadEntry to the sidecar inbound port', async () => {
    const sidecar = { 'sidecar.shoal.io/inbound-port': '15006' };
    const objects = [
      reviews,
      workloadEntry(
        'pod-1',
        { address: '127.1.0.5', labels: { app: 'reviews' }, ports: { http: 8080 } },
        { annotations: sidecar },
      ),
      workloadEntry(
        'bad',
        { address: '127.1.0.6', labels: { app: 'reviews' } },
        { annotations: { 'sidecar.shoal.io/inbound-port': 'x' } },
      ),
    ];
    await withHarness(objects, async (h) => {
      assert.deepEqual(endpointSummary(h.service(REVIEWS)), [
        '127.1.0.5 80->15006,9000->15006,9090->15006,81->15006 HEALTHY w1',
        '127.1.0.6 80->8080,9000->9000,9090->9090,81->81 HEALTHY w1',
      ]);
      const warnings = h.logger.at('warn').map((l) => l.msg);
      assert.deepEqual(warnings, ['ignoring sidecar.shoal.io/inbound-port: not a port number']);
      // Logged once per value, not on every change of the entry.
      await h.during(() =>
        h.store.update(
          workloadEntry(
            'bad',
            { address: '127.1.0.6', labels: { app: 'reviews' }, weight: 2 },
            { annotations: { 'sidecar.shoal.io/inbound-port': 'x' } },
          ),
        ),
      );
      assert.equal(h.logger.at('warn').length, 1);
    });
  });
});

void describe('Registry: ServiceEntries', () => {
  void it('STATIC with endpoints: one service per host, VIP from addresses, endpoint ports by name/targetPort/number', async () => {
    const se = serviceEntry(
      'payments',
      {
        hosts: ['payments.internal', 'pay.internal'],
        addresses: ['240.0.0.1/32'],
        location: 'MESH_INTERNAL',
        resolution: 'STATIC',
        ports: [
          { number: 443, name: 'https', protocol: 'HTTPS', targetPort: 8443 },
          { number: 80, name: 'http', protocol: 'HTTP' },
        ],
        endpoints: [
          { address: '10.1.0.2', ports: { http: 8080 }, locality: 'r1/z1', labels: { v: '2' } },
          { address: '10.1.0.1', weight: 3 },
        ],
        exportTo: ['.'],
      },
      { namespace: 'shop' },
    );
    await withHarness([se], (h) => {
      const a = h.service('payments.internal');
      const b = h.service('pay.internal');
      for (const s of [a, b]) {
        assert.equal(s.kind, 'ServiceEntry');
        assert.equal(s.name, 'payments');
        assert.equal(s.namespace, 'shop');
        assert.equal(s.vip, '240.0.0.1');
        assert.equal(s.resolution, 'STATIC');
        assert.equal(s.location, 'MESH_INTERNAL');
        assert.deepEqual(s.exportTo, ['shop']);
        assert.deepEqual(s.ports, [
          { name: 'https', port: 443, protocol: 'HTTPS' },
          { name: 'http', port: 80, protocol: 'HTTP' },
        ]);
        assert.deepEqual(endpointSummary(s), [
          '10.1.0.1 443->8443,80->80 HEALTHY w3',
          '10.1.0.2 443->8443,80->8080 HEALTHY w1',
        ]);
      }
      assert.deepEqual(
        a.endpoints.map((e) => e.source),
        ['serviceentry:shop/payments[1]', 'serviceentry:shop/payments[0]'],
      );
      assert.deepEqual(a.endpoints[1]!.locality, { region: 'r1', zone: 'z1', subZone: '' });
      assert.deepEqual(a.endpoints[1]!.labels, { v: '2' });
    });
  });

  void it('DNS without endpoints: the host is the endpoint; defaults are MESH_EXTERNAL, NONE, exportTo *', async () => {
    const objects = [
      serviceEntry('google', {
        hosts: ['www.google.com'],
        resolution: 'DNS',
        ports: [{ number: 443, name: 'tls', protocol: 'TLS' }],
      }),
      serviceEntry('db', {
        hosts: ['db.example.com'],
        resolution: 'DNS',
        ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }],
        endpoints: [{ address: 'db-1.example.com' }, { address: 'db-0.example.com' }],
      }),
      serviceEntry('passthrough', { hosts: ['*.wikipedia.org'], ports: [{ number: 443, name: 'tls' }] }),
      serviceEntry('wide', {
        hosts: ['range.example'],
        addresses: ['240.1.0.0/16'],
        resolution: 'NONE',
        ports: [{ number: 1, name: 'tcp' }],
      }),
    ];
    await withHarness(objects, (h) => {
      const g = h.service('www.google.com');
      assert.equal(g.location, 'MESH_EXTERNAL');
      assert.equal(g.resolution, 'DNS');
      assert.equal(g.vip, undefined);
      assert.deepEqual(g.exportTo, ['*']);
      assert.deepEqual(endpointSummary(g), ['www.google.com 443->443 HEALTHY w1']);
      assert.equal(g.endpoints[0]!.source, 'serviceentry:default/google[www.google.com]');
      assert.deepEqual(
        h.service('db.example.com').endpoints.map((e) => e.address),
        ['db-0.example.com', 'db-1.example.com'],
      );
      const p = h.service('*.wikipedia.org');
      assert.equal(p.resolution, 'NONE');
      assert.deepEqual(p.endpoints, []);
      assert.deepEqual(p.ports, [{ name: 'tls', port: 443, protocol: 'UNKNOWN' }]);
      assert.equal(h.service('range.example').vip, undefined, 'a CIDR wider than one address is not a VIP');
    });
  });

  void it('workloadSelector picks WorkloadEntries of its namespace, with health and the sidecar port', async () => {
    const se = serviceEntry('vm', {
      hosts: ['vm.internal'],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 }],
      workloadSelector: { labels: { app: 'vm' } },
    });
    const objects = [
      se,
      workloadEntry('vm-1', { address: '10.2.0.1', labels: { app: 'vm' } }, { healthy: 'False' }),
      workloadEntry('vm-2', { address: '10.2.0.2', labels: { app: 'vm' }, ports: { http: 9080 } }),
      workloadEntry(
        'vm-3',
        { address: '10.2.0.3', labels: { app: 'vm' } },
        { annotations: { 'sidecar.shoal.io/inbound-port': '15006' } },
      ),
      workloadEntry('vm-x', { address: '10.2.0.9', labels: { app: 'vm' } }, { namespace: 'other' }),
    ];
    await withHarness(objects, async (h) => {
      assert.deepEqual(endpointSummary(h.service('vm.internal')), [
        '10.2.0.1 80->8080 UNHEALTHY w1',
        '10.2.0.2 80->9080 HEALTHY w1',
        '10.2.0.3 80->15006 HEALTHY w1',
      ]);
      await h.during(() => h.store.delete('WorkloadEntry', 'default', 'vm-2'));
      assert.deepEqual(
        h.service('vm.internal').endpoints.map((e) => e.source),
        ['default/vm-1', 'default/vm-3'],
      );
    });
  });
});
