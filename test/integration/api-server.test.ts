/** The HTTP API on a real socket, over a real SQLite store: Kubernetes REST conventions, errors, auth, watch. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ApiServer } from '../../src/control/api/server.js';
import { ResourceService } from '../../src/control/api/resources.js';
import { TokenSet } from '../../src/control/auth.js';
import { silentLogger } from '../../src/core/logger.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const TOKEN = 'test-token';
let base = '';
let api: ApiServer;
let store: SqliteStore;

before(async () => {
  store = SqliteStore.open({ path: ':memory:', historyLimit: 50 });
  api = new ApiServer({
    resources: new ResourceService(store),
    tokens: new TokenSet([TOKEN]),
    logger: silentLogger(),
    bodyLimit: 64 * 1024,
  });
  const addr = await api.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${addr.port}`;
});

after(async () => {
  await api.stop();
  await store.close();
});

const VS_PATH = '/apis/networking.istio.io/v1/namespaces/default/virtualservices';

function vs(name: string, weightA = 50, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, labels },
    spec: {
      hosts: ['reviews'],
      http: [
        {
          route: [
            { destination: { host: 'reviews', subset: 'v1' }, weight: weightA },
            { destination: { host: 'reviews', subset: 'v2' }, weight: 100 - weightA },
          ],
        },
      ],
    },
  };
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

test('health endpoints answer', async () => {
  assert.equal((await fetch(base + '/healthz')).status, 200);
  assert.equal((await fetch(base + '/readyz')).status, 200);
});

test('create, get, list, replace, patch, delete round trip', async () => {
  const created = await call('POST', VS_PATH, vs('rt', 50, { team: 'a' }));
  assert.equal(created.status, 201);
  assert.equal(created.json.metadata.namespace, 'default');
  assert.equal(created.json.metadata.generation, 1);
  assert.match(created.json.metadata.uid, /^[0-9a-f-]{36}$/);
  const rv1 = created.json.metadata.resourceVersion as string;

  const got = await call('GET', `${VS_PATH}/rt`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.json.spec, vs('rt').spec);

  const listed = await call('GET', `${VS_PATH}?labelSelector=team%3Da`);
  assert.equal(listed.json.kind, 'VirtualServiceList');
  assert.deepEqual(
    listed.json.items.map((i: any) => i.metadata.name),
    ['rt'],
  );
  assert.ok(Number(listed.json.metadata.resourceVersion) >= Number(rv1));

  const replaced = await call('PUT', `${VS_PATH}/rt`, {
    ...vs('rt', 70),
    metadata: { name: 'rt', resourceVersion: rv1 },
  });
  assert.equal(replaced.status, 200);
  assert.equal(replaced.json.metadata.generation, 2);

  const stale = await call('PUT', `${VS_PATH}/rt`, { ...vs('rt', 80), metadata: { name: 'rt', resourceVersion: rv1 } });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.kind, 'Status');
  assert.equal(stale.json.reason, 'Conflict');

  const patched = await call(
    'PATCH',
    `${VS_PATH}/rt`,
    { metadata: { labels: { team: 'b' } } },
    { 'content-type': 'application/merge-patch+json' },
  );
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.json.metadata.labels, { team: 'b' });
  assert.equal(patched.json.metadata.generation, 2, 'labels are not spec: generation stays');

  const deleted = await call('DELETE', `${VS_PATH}/rt`);
  assert.equal(deleted.status, 200);
  assert.equal((await call('GET', `${VS_PATH}/rt`)).status, 404);
});

test('version aliases address the same object and answer in the requested version', async () => {
  assert.equal((await call('POST', VS_PATH, vs('alias'))).status, 201);
  const old = await call('GET', '/apis/networking.istio.io/v1alpha3/namespaces/default/virtualservices/alias');
  assert.equal(old.status, 200);
  assert.equal(old.json.apiVersion, 'networking.istio.io/v1alpha3');
  await call('DELETE', `${VS_PATH}/alias`);
});

test('core Services live under /api/v1 and cluster-wide lists span namespaces', async () => {
  const svc = (ns: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
  });
  assert.equal((await call('POST', '/api/v1/namespaces/a/services', svc('a'))).status, 201);
  assert.equal((await call('POST', '/api/v1/namespaces/b/services', svc('b'))).status, 201);
  const all = await call('GET', '/api/v1/services');
  assert.deepEqual(
    all.json.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`),
    ['a/web', 'b/web'],
  );
});

test('errors are Status objects with the right codes', async () => {
  const invalid = await call('POST', VS_PATH, vs('bad', 150));
  assert.equal(invalid.status, 422);
  assert.equal(invalid.json.reason, 'Invalid');
  const fields = (invalid.json.details.causes as { field: string }[]).map((c) => c.field);
  assert.ok(fields.includes('spec.http[0].route[0].weight'), `causes: ${JSON.stringify(invalid.json.details.causes)}`);

  const unknown = await call('POST', VS_PATH, { ...vs('unk'), spec: { ...(vs('unk').spec as object), bogus: 1 } });
  assert.equal(unknown.status, 422);
  assert.ok((unknown.json.details.causes as { field: string }[]).some((c) => c.field === 'spec.bogus'));

  assert.equal((await call('POST', VS_PATH, '{not json')).status, 400);
  assert.equal((await call('GET', '/apis/networking.istio.io/v1/namespaces/default/widgets')).status, 404);
  assert.equal((await call('POST', VS_PATH, vs('dup'))).status, 201);
  const dup = await call('POST', VS_PATH, vs('dup'));
  assert.equal(dup.status, 409);
  assert.equal(dup.json.reason, 'AlreadyExists');
  const mismatch = await call('POST', '/apis/networking.istio.io/v1/namespaces/other/virtualservices', {
    ...vs('mm'),
    metadata: { name: 'mm', namespace: 'default' },
  });
  assert.equal(mismatch.status, 400);
  const big = await call('POST', VS_PATH, {
    ...vs('big'),
    metadata: { name: 'big', annotations: { a: 'x'.repeat(100_000) } },
  });
  assert.equal(big.status, 413);
  assert.equal(big.json.reason, 'RequestEntityTooLarge');
  const badPatch = await call(
    'PATCH',
    `${VS_PATH}/dup`,
    { spec: {} },
    { 'content-type': 'application/json-patch+json' },
  );
  assert.equal(badPatch.status, 415);
});

test('YAML bodies are accepted', async () => {
  const yaml =
    'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: fromyaml\nspec:\n  hosts: [ratings]\n  http:\n    - route:\n        - destination: {host: ratings}\n';
  const res = await call('POST', VS_PATH, yaml, { 'content-type': 'application/yaml' });
  assert.equal(res.status, 201);
  assert.deepEqual(res.json.spec, { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }] }] });
});

test('writes need a valid bearer token; reads do not', async () => {
  const anon = await fetch(base + VS_PATH, {
    method: 'POST',
    body: JSON.stringify(vs('anon')),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(anon.status, 401);
  const wrong = await call('POST', VS_PATH, vs('anon'), { authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  assert.equal((await fetch(base + VS_PATH)).status, 200);
});

interface WatchEventJson {
  type: string;
  object: { metadata: { name: string; resourceVersion: string } };
}

/** Opens a watch and collects events until `count` have arrived. */
function collectWatch(path: string, count: number): Promise<WatchEventJson[]> {
  return new Promise((resolve, reject) => {
    const events: WatchEventJson[] = [];
    const req = request(base + path, (res) => {
      assert.equal(res.statusCode, 200);
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, nl)) as WatchEventJson);
          buf = buf.slice(nl + 1);
          if (events.length === count) {
            req.destroy();
            resolve(events);
          }
        }
      });
    });
    req.on('error', (e) => (events.length === count ? undefined : reject(e)));
    req.end();
  });
}

test('watch from a resourceVersion delivers every later change in order, once', async () => {
  const ns = '/apis/networking.istio.io/v1/namespaces/watched/virtualservices';
  const start = (await call('GET', ns)).json.metadata.resourceVersion as string;
  const watching = collectWatch(`${ns}?watch=true&resourceVersion=${start}`, 6);
  for (let i = 0; i < 3; i++)
    assert.equal((await call('POST', ns, { ...vs(`w${i}`), metadata: { name: `w${i}` } })).status, 201);
  await call(
    'PATCH',
    `${ns}/w0`,
    { metadata: { labels: { x: 'y' } } },
    { 'content-type': 'application/merge-patch+json' },
  );
  await call('DELETE', `${ns}/w1`);
  await call('POST', ns, { ...vs('w3'), metadata: { name: 'w3' } });
  const events = await watching;
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED w0', 'ADDED w1', 'ADDED w2', 'MODIFIED w0', 'DELETED w1', 'ADDED w3'],
  );
  const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
  assert.deepEqual(
    rvs,
    [...rvs].sort((a, b) => a - b),
  );

  // Resuming from the third event's version replays exactly the last three.
  const resumed = await collectWatch(`${ns}?watch=true&resourceVersion=${rvs[2]}`, 3);
  assert.deepEqual(
    resumed.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['MODIFIED w0', 'DELETED w1', 'ADDED w3'],
  );
});

test('a watch from a resourceVersion older than the history answers 410 Gone', async () => {
  const ns = '/apis/networking.istio.io/v1/namespaces/churn/virtualservices';
  for (let i = 0; i < 60; i++) await call('POST', ns, { ...vs(`c${i}`), metadata: { name: `c${i}` } });
  const res = await call('GET', `${ns}?watch=true&resourceVersion=1`);
  assert.equal(res.status, 410);
  assert.equal(res.json.reason, 'Expired');
});
