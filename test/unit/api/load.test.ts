/** parseDocuments, loadPaths and formatDocumentError: documents, lines, Lists, JSON, files and directories. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDocumentError, loadPaths, parseDocuments } from '../../../src/api/load.js';
import type { DocumentError } from '../../../src/api/load.js';

const MULTI = `# bookinfo, in pieces
apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: reviews
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 50
    - destination:
        host: reviews
        subset: v2
      weight: 150
    retry: {}
---
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: prod
spec:
  subsets:
  - name: v1
    labels: {version: v1}
`;

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

void test('multi-document YAML: documents, indexes, lines, and errors at the line of their field', () => {
  const { documents, errors } = parseDocuments(MULTI, 'bookinfo.yaml');
  assert.deepEqual(
    documents.map((d) => [d.index, d.line, d.object.kind, d.object.metadata.name]),
    [[0, 2, 'Service', 'reviews']],
  );
  assert.deepEqual(
    errors.map((e) => [e.index, e.line, e.kind, e.name, e.namespace, e.field, e.message]),
    [
      [
        1,
        29,
        'VirtualService',
        'reviews',
        undefined,
        'spec.http[0].route[1].weight',
        'must be an integer between 0 and 100',
      ],
      [1, 30, 'VirtualService', 'reviews', undefined, 'spec.http[0].retry', 'unknown field'],
      // a missing field points at its parent; the empty third document is skipped but counted
      [3, 38, 'DestinationRule', 'reviews', 'prod', 'spec.host', 'required'],
    ],
  );
  assert.equal(
    formatDocumentError(errors[0]!),
    'bookinfo.yaml: document 2 (line 29): VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer between 0 and 100',
  );
  assert.equal(
    formatDocumentError(errors[2]!),
    'bookinfo.yaml: document 4 (line 38): DestinationRule prod/reviews: spec.host: required',
  );
});

void test('a YAML syntax error is reported with its line and stops only its document', () => {
  const text =
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\nspec:\n  ports: [{port: 80}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec: {ports: [{port: 81}]}\n';
  const { documents, errors } = parseDocuments(text, 'dup.yaml');
  assert.deepEqual(
    documents.map((d) => [d.index, d.line, d.object.metadata.name]),
    [[1, 9, 'c']],
  );
  assert.deepEqual(errors, [{ source: 'dup.yaml', index: 0, line: 5, field: '', message: 'Map keys must be unique' }]);
  assert.equal(formatDocumentError(errors[0]!), 'dup.yaml: document 1 (line 5): Map keys must be unique');
  const bad = parseDocuments('a: [1, 2\nb: 3\n', 'bad.yaml');
  assert.equal(bad.errors.length, 1);
  assert.equal(bad.errors[0]!.field, '');
  assert.ok(bad.errors[0]!.line >= 1);
});

void test('a JSON document, with line numbers', () => {
  const json = JSON.stringify(
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system' },
      spec: { mtls: { mode: 'STRIKT' } },
    },
    null,
    2,
  );
  const { documents, errors } = parseDocuments(json, 'pa.json');
  assert.deepEqual(documents, []);
  assert.deepEqual(errors, [
    {
      source: 'pa.json',
      index: 0,
      line: lineOf(json, '"mode"'),
      kind: 'PeerAuthentication',
      name: 'default',
      namespace: 'istio-system',
      field: 'spec.mtls.mode',
      message: 'must be one of: UNSET, DISABLE, PERMISSIVE, STRICT (got "STRIKT")',
    },
  ]);
  const ok = parseDocuments(json.replace('STRIKT', 'STRICT'), 'pa.json');
  assert.equal(ok.documents[0]?.object.kind, 'PeerAuthentication');
  assert.equal(ok.documents[0]?.line, 1);
});

void test('a Kubernetes List: one object per item, each with its own line', () => {
  const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
  spec: {ports: [{port: 80}]}
- apiVersion: v1
  kind: Service
  metadata:
    name: b
  spec:
    ports:
    - port: 0
`;
  const { documents, errors } = parseDocuments(text, 'list.yaml');
  assert.deepEqual(
    documents.map((d) => [d.index, d.line, d.object.metadata.name]),
    [[0, 4, 'a']],
  );
  assert.deepEqual(
    errors.map((e) => [e.line, e.name, e.field, e.message]),
    [[14, 'b', 'spec.ports[0].port', 'must be an integer between 1 and 65535']],
  );
  const typed = parseDocuments('apiVersion: v1\nkind: ServiceList\nitems: {}\n', 'l.yaml');
  assert.deepEqual(
    typed.errors.map((e) => [e.line, e.kind, e.field, e.message]),
    [[3, 'ServiceList', 'items', 'must be a list']],
  );
});

void test('empty files and empty documents give nothing', () => {
  assert.deepEqual(parseDocuments('', 'e.yaml'), { documents: [], errors: [] });
  assert.deepEqual(parseDocuments('# nothing\n---\n---\n', 'e.yaml'), { documents: [], errors: [] });
});

void test('a scalar document and a document without kind', () => {
  const { errors } = parseDocuments('just text\n---\napiVersion: v1\nmetadata: {name: x}\nspec: {}\n', 's.yaml');
  assert.deepEqual(
    errors.map((e) => formatDocumentError(e)),
    [
      's.yaml: document 1 (line 1): must be an object with apiVersion, kind, metadata and spec, got "just text"',
      's.yaml: document 2 (line 3): kind: required',
    ],
  );
});

const service = (name: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: 80\n`;

void test('loadPaths: directories sorted and not recursive, explicit files of any name, stdin, missing files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-api-load-'));
  try {
    writeFileSync(join(dir, 'b.yaml'), service('b'));
    writeFileSync(join(dir, 'a.yml'), service('a'));
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' }, spec: { ports: [{ port: 80 }] } }),
    );
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'nested', 'd.yaml'), service('d'));
    writeFileSync(join(dir, 'extra.manifest'), service('e'));

    const result = await loadPaths([dir, join(dir, 'extra.manifest'), '-', join(dir, 'missing.yaml')], () =>
      Promise.resolve(service('from-stdin')),
    );
    assert.deepEqual(
      result.documents.map((d) => [d.source.replace(dir, 'DIR'), d.object.metadata.name]),
      [
        ['DIR/a.yml', 'a'],
        ['DIR/b.yaml', 'b'],
        ['DIR/c.json', 'c'],
        ['DIR/extra.manifest', 'e'],
        ['<stdin>', 'from-stdin'],
      ],
    );
    assert.deepEqual(result.errors, [
      { source: join(dir, 'missing.yaml'), index: 0, line: 0, field: '', message: 'no such file or directory' },
    ]);
    assert.equal(formatDocumentError(result.errors[0]!), `${join(dir, 'missing.yaml')}: no such file or directory`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('formatDocumentError leaves out what it does not know', () => {
  const base: DocumentError = { source: 'x.yaml', index: 0, line: 3, field: 'spec', message: 'required' };
  assert.equal(formatDocumentError(base), 'x.yaml: document 1 (line 3): spec: required');
  assert.equal(
    formatDocumentError({ ...base, kind: 'Gateway' }),
    'x.yaml: document 1 (line 3): Gateway: spec: required',
  );
  assert.equal(
    formatDocumentError({ ...base, kind: 'Gateway', name: 'gw', namespace: 'istio-system' }),
    'x.yaml: document 1 (line 3): Gateway istio-system/gw: spec: required',
  );
});
