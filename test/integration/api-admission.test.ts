/** Server-side allocation of virtual IPs: Service spec.clusterIP and ServiceEntry status.addresses. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from '../../src/control/control-plane.js';
import { silentLogger } from '../../src/core/logger.js';
import { tempDir } from '../helpers/processes.js';

let cp: ControlPlane;
let base = '';

before(async () => {
  cp = new ControlPlane({
    dataDir: tempDir(),
    httpPort: 0,
    xdsPort: 0,
    serviceCidr: '127.2.0.0/29',
    logger: silentLogger(),
  });
  base = (await cp.start()).http.url;
});

after(async () => {
  await cp.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${cp.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const SVC = '/api/v1/namespaces/default/services';
const SE = '/apis/networking.istio.io/v1/namespaces/default/serviceentries';

function service(name: string, clusterIP?: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ name: 'http', port: 80 }], ...(clusterIP ? { clusterIP } : {}) },
  };
}

test('Services get a stable clusterIP from the service CIDR', async () => {
  const a = await call('POST', SVC, service('a'));
  const b = await call('POST', SVC, service('b'));
  assert.equal(a.status, 201);
  assert.match(a.json.spec.clusterIP, /^127\.2\.0\.[1-6]$/);
  assert.notEqual(a.json.spec.clusterIP, b.json.spec.clusterIP);

  // A replace that leaves clusterIP out keeps it; one that changes it is refused.
  const kept = await call('PUT', `${SVC}/a`, service('a'));
  assert.equal(kept.status, 200);
  assert.equal(kept.json.spec.clusterIP, a.json.spec.clusterIP);
  assert.equal(kept.json.metadata.resourceVersion, a.json.metadata.resourceVersion, 'nothing changed');
  const other = a.json.spec.clusterIP === '127.2.0.6' ? '127.2.0.5' : '127.2.0.6';
  const changed = await call('PUT', `${SVC}/a`, service('a', other));
  assert.equal(changed.status, 422);
  assert.equal(changed.json.details.causes[0].field, 'spec.clusterIP');

  const headless = await call('POST', SVC, service('h', 'None'));
  assert.equal(headless.json.spec.clusterIP, 'None');
  const outside = await call('POST', SVC, service('x', '10.0.0.1'));
  assert.equal(outside.status, 422);
  assert.match(outside.json.details.causes[0].message, /not in the service CIDR/);
  const taken = await call('POST', SVC, service('y', b.json.spec.clusterIP));
  assert.equal(taken.status, 422);
  assert.match(taken.json.details.causes[0].message, /already allocated/);

  // A deleted Service gives its address back.
  assert.equal((await call('DELETE', `${SVC}/b`)).status, 200);
  assert.equal((await call('POST', SVC, service('c', b.json.spec.clusterIP))).status, 201);
});

test('ServiceEntries without addresses get one per non-wildcard host in status.addresses', async () => {
  const se = (hosts: string[], addresses?: string[]): unknown => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'ext' },
    spec: {
      hosts,
      ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
      resolution: 'DNS',
      ...(addresses ? { addresses } : {}),
    },
  });
  const created = await call('POST', SE, se(['api.example.com']));
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const [first] = created.json.status.addresses as { host: string; value: string }[];
  assert.equal(first!.host, 'api.example.com');
  assert.match(first!.value, /^127\.2\.0\.[1-6]$/);

  const grown = await call('PUT', `${SE}/ext`, se(['api.example.com', 'cdn.example.com']));
  assert.equal(grown.status, 200, JSON.stringify(grown.json));
  const addrs = grown.json.status.addresses as { host: string; value: string }[];
  assert.deepEqual(
    addrs.find((a) => a.host === 'api.example.com'),
    first,
    'kept for the host that stayed',
  );
  assert.ok(addrs.some((a) => a.host === 'cdn.example.com' && a.value !== first!.value));

  const explicit = await call('PUT', `${SE}/ext`, se(['api.example.com'], ['192.0.2.10']));
  assert.equal(explicit.status, 200);
  assert.equal(explicit.json.status, undefined, 'explicit addresses need no allocation');
});

test('the address range running out is a clear error, not a duplicate', async () => {
  // The /29 has six usable addresses; the tests above hold some of them.
  const results: number[] = [];
  for (let i = 0; i < 8; i++) results.push((await call('POST', SVC, service(`fill-${i}`))).status);
  assert.ok(results.includes(503), `statuses: ${results.join(',')}`);
  const list = await call('GET', SVC);
  const ips = (list.json.items as { spec: { clusterIP?: string } }[])
    .map((i) => i.spec.clusterIP)
    .filter((ip) => ip && ip !== 'None');
  assert.equal(new Set(ips).size, ips.length, 'no address given twice');
});
