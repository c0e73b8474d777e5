/** The CLI driven like a user: a real `shoal control` process, real `shoal` commands, the client config they share. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runCli, startControl, tempDir, type RunningControl } from '../helpers/processes.js';

let control: RunningControl;
let dir: string;

before(async () => {
  control = await startControl();
  dir = tempDir('shoal-cli-');
});

after(async () => {
  assert.equal(await control.stop(), 0, 'shoal control exits 0 on SIGTERM');
});

const MULTI = `
apiVersion: v1
kind: Service
metadata:
  name: reviews
  labels: {app: reviews}
spec:
  selector: {app: reviews}
  ports:
    - {name: http, port: 9080}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
    - {name: v1, labels: {version: v1}}
    - {name: v2, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
  namespace: shop
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: {host: reviews, subset: v1}
          weight: 75
        - destination: {host: reviews, subset: v2}
          weight: 25
`;

test('apply a multi-document file, read it back, re-apply, change, delete', async () => {
  const file = join(dir, 'multi.yaml');
  writeFileSync(file, MULTI);
  const applied = await runCli(['apply', '-f', file], control.env);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(
    applied.stdout,
    'service/reviews created\ndestinationrule.networking.istio.io/reviews created\nvirtualservice.networking.istio.io/reviews created\n',
  );

  const got = await runCli(['get', 'vs', 'reviews', '-n', 'shop', '-o', 'yaml'], control.env);
  assert.equal(got.code, 0, got.stderr);
  const obj = parseYaml(got.stdout) as { spec: unknown; metadata: { namespace: string; resourceVersion: string } };
  const docs = MULTI.split('---').map((d) => parseYaml(d) as { spec: unknown });
  assert.deepEqual(obj.spec, docs[2]!.spec);
  assert.equal(obj.metadata.namespace, 'shop');

  const again = await runCli(['apply', '-f', file], control.env);
  assert.equal(
    again.stdout,
    'service/reviews unchanged\ndestinationrule.networking.istio.io/reviews unchanged\nvirtualservice.networking.istio.io/reviews unchanged\n',
  );

  writeFileSync(file, MULTI.replace('weight: 75', 'weight: 50').replace('weight: 25', 'weight: 50'));
  const changed = await runCli(['apply', '-f', file], control.env);
  assert.match(changed.stdout, /^virtualservice\.networking\.istio\.io\/reviews configured$/m);
  assert.match(changed.stdout, /^service\/reviews unchanged$/m);

  const table = await runCli(['get', 'dr'], control.env);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^NAME\s+.*AGE$/m);
  assert.match(table.stdout, /^reviews\s/m);

  const all = await runCli(['get', 'virtualservices', '-A', '-o', 'json'], control.env);
  const list = JSON.parse(all.stdout) as { items: { metadata: { namespace: string } }[] };
  assert.deepEqual(
    list.items.map((i) => i.metadata.namespace),
    ['shop'],
  );

  const deleted = await runCli(['delete', '-f', file], control.env);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(
    deleted.stdout,
    'service "reviews" deleted\ndestinationrule.networking.istio.io "reviews" deleted\nvirtualservice.networking.istio.io "reviews" deleted\n',
  );
  const missing = await runCli(['get', 'svc', 'reviews'], control.env);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /not found/);
});

test('an invalid file prints every error with its path and applies nothing', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Service
metadata: {name: good-one}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken}
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: {host: reviews}
          weight: 70
        - destination: {host: ratings}
          weight: 70
      corsPolicyy: {}
---
apiVersion: v1
kind: Service
metadata: {name: Bad_Name}
spec:
  ports: [{name: http, port: 99999}]
`,
  );
  const res = await runCli(['apply', '-f', file], control.env);
  assert.equal(res.code, 1);
  assert.equal(res.stdout, '');
  assert.match(res.stderr, /document 2 \(line \d+\): VirtualService default\/broken: spec\.http\[0\]\.corsPolicyy: /);
  assert.match(res.stderr, /spec\.http\[0\]\.route/);
  assert.match(res.stderr, /document 3 \(line \d+\): Service .*metadata\.name: /);
  assert.match(res.stderr, /spec\.ports\[0\]\.port: /);
  const none = await runCli(['get', 'svc', 'good-one'], control.env);
  assert.notEqual(none.code, 0, 'the valid document in an invalid file was not applied');
});

test('apply reads stdin and get of an unknown kind fails clearly', async () => {
  const res = await runCli(
    ['apply', '-f', '-'],
    control.env,
    'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  servers:\n    - port: {number: 8080, name: http, protocol: HTTP}\n      hosts: ["*"]\n',
  );
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, 'gateway.networking.istio.io/gw created\n');
  const unknown = await runCli(['get', 'widgets'], control.env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /doesn't have a resource type "widgets"/);
});

test('writes without a token are refused; bad flags fail with one line', async () => {
  const env = { ...control.env, SHOAL_CONFIG: join(dir, 'no-config'), SHOAL_SERVER: control.url };
  const file = join(dir, 'one.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata: {name: one}\nspec:\n  ports: [{port: 80}]\n');
  const res = await runCli(['apply', '-f', file], env);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /Unauthorized/);
  const flags = await runCli(['control', '--http-port', 'abc'], env);
  assert.notEqual(flags.code, 0);
  assert.match(flags.stderr.split('\n')[0]!, /--http-port/);
});
