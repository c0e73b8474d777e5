/**
 * Reads resources from files, directories and stdin, the way `kubectl apply -f` does: multi-document YAML
 * (`---`), JSON, and `kind: List` documents. Every object is validated; every problem is reported with the
 * file, the document, the line of the offending field and its path.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Document, Node } from 'yaml';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { errorMessage } from '../core/errors.js';
import type { PathSegment } from './field-errors.js';
import { parseFieldPath } from './field-errors.js';
import { kindByName } from './registry.js';
import type { Resource } from './resource.js';
import { DEFAULT_NAMESPACE } from './resource.js';
import { isRecord } from './schema-helpers.js';
import { validateResource } from './validate.js';

export interface LoadedDocument {
  /** The file name as given, or `<stdin>`. */
  source: string;
  /** 0-based position of the document in its file (a List's items share their document's index). */
  index: number;
  /** 1-based line where the object starts. */
  line: number;
  object: Resource;
}

export interface DocumentError {
  source: string;
  index: number;
  /** 1-based line of the offending field when it can be found, else of the document; 0 when there is no file. */
  line: number;
  kind?: string;
  name?: string;
  namespace?: string;
  /** Field path (`spec.http[0].route`), `''` for the document as a whole (YAML syntax, unreadable file). */
  field: string;
  message: string;
}

export interface LoadResult {
  documents: LoadedDocument[];
  errors: DocumentError[];
}

export const STDIN_SOURCE = '<stdin>';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** `Map keys must be unique at line 17, column 1:\n\n...` -> `Map keys must be unique`. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

function identity(obj: unknown): Pick<DocumentError, 'kind' | 'name' | 'namespace'> {
  if (!isRecord(obj)) return {};
  const meta = isRecord(obj['metadata']) ? obj['metadata'] : {};
  const out: Pick<DocumentError, 'kind' | 'name' | 'namespace'> = {};
  if (typeof obj['kind'] === 'string') out.kind = obj['kind'];
  if (typeof meta['name'] === 'string') out.name = meta['name'];
  if (typeof meta['namespace'] === 'string') out.namespace = meta['namespace'];
  return out;
}

/** `kind: List`, or `kind: VirtualServiceList`, with `items`. */
function isList(obj: unknown): obj is Record<string, unknown> {
  if (!isRecord(obj) || typeof obj['kind'] !== 'string') return false;
  const kind = obj['kind'];
  return kind === 'List' || (kind.endsWith('List') && kindByName(kind.slice(0, -4)) !== undefined);
}

// ---- field path -> line ----------------------------------------------------------------------------------

function lineAt(node: { range?: readonly number[] | null } | null | undefined, lines: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}

function keyMatches(key: unknown, segment: PathSegment): boolean {
  const value = isScalar(key) ? key.value : key;
  return (
    (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') &&
    String(value) === String(segment)
  );
}

/**
 * The 1-based line of the deepest node along `path` that exists: the key's line for a map entry (where the
 * field is named), the item's line for a list element. Undefined when the document has no content.
 */
function lineOfPath(doc: Document, lines: LineCounter, path: readonly PathSegment[]): number | undefined {
  let node: unknown = doc.contents;
  let line = isNode(node) ? lineAt(node, lines) : undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyMatches(p.key, segment));
      if (!pair) break;
      line = lineAt(isNode(pair.key) ? pair.key : null, lines) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!isNode(item)) break;
      line = lineAt(item, lines) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

/** The 1-based line where a node (a document's content, a List item) starts. */
function lineOfNode(node: Node | null | undefined, lines: LineCounter): number | undefined {
  return lineAt(node, lines);
}

/** Parses every document of one file's text. Empty documents are skipped. */
export function parseDocuments(text: string, source: string): LoadResult {
  const result: LoadResult = { documents: [], errors: [] };
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  docs.forEach((doc, index) => parseOne(doc, index, lines, source, result));
  return result;
}

function parseOne(doc: Document, index: number, lines: LineCounter, source: string, result: LoadResult): void {
  const docLine = lineOfNode(doc.contents, lines) ?? lines.linePos(doc.range?.[0] ?? 0).line;
  const [syntax] = doc.errors;
  if (syntax) {
    const line = syntax.linePos?.[0].line ?? docLine;
    result.errors.push({ source, index, line, field: '', message: yamlMessage(syntax.message) });
    return;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    result.errors.push({ source, index, line: docLine, field: '', message: errorMessage(e) });
    return;
  }
  if (value === null || value === undefined) return;
  const check = (obj: unknown, prefix: PathSegment[]): void => {
    const line = prefix.length === 0 ? docLine : (lineOfPath(doc, lines, prefix) ?? docLine);
    const validated = validateResource(obj);
    if (validated.ok) {
      result.documents.push({ source, index, line, object: validated.value });
      return;
    }
    const who = identity(obj);
    for (const e of validated.error) {
      const fieldLine = lineOfPath(doc, lines, [...prefix, ...parseFieldPath(e.field)]) ?? line;
      result.errors.push({ source, index, line: fieldLine, ...who, field: e.field, message: e.message });
    }
  };
  if (!isList(value)) {
    check(value, []);
    return;
  }
  const items = value['items'];
  if (!Array.isArray(items)) {
    const line = lineOfPath(doc, lines, ['items']) ?? docLine;
    result.errors.push({ source, index, line, kind: String(value['kind']), field: 'items', message: 'must be a list' });
    return;
  }
  items.forEach((item, i) => check(item, ['items', i]));
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function fileError(source: string, e: unknown): DocumentError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const message = code === 'ENOENT' ? 'no such file or directory' : errorMessage(e);
  return { source, index: 0, line: 0, field: '', message };
}

/** Reads one source (a file, stdin) and parses it; a read failure is one error for the source. */
async function loadSource(source: string, read: () => Promise<string>, into: LoadResult): Promise<void> {
  let text: string;
  try {
    text = await read();
  } catch (e) {
    into.errors.push(fileError(source, e));
    return;
  }
  const parsed = parseDocuments(text, source);
  into.documents.push(...parsed.documents);
  into.errors.push(...parsed.errors);
}

const readText = (path: string) => (): Promise<string> => readFile(path, 'utf8');

/**
 * Loads files (any name), directories (their .yaml, .yml and .json files sorted by name, not recursive,
 * like kubectl) and `-` (stdin), in the order given.
 */
export async function loadPaths(
  paths: string[],
  readStdin: () => Promise<string> = readProcessStdin,
): Promise<LoadResult> {
  const result: LoadResult = { documents: [], errors: [] };
  for (const path of paths) {
    if (path === '-') {
      await loadSource(STDIN_SOURCE, readStdin, result);
      continue;
    }
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (e) {
      result.errors.push(fileError(path, e));
      continue;
    }
    if (!isDirectory) {
      await loadSource(path, readText(path), result);
      continue;
    }
    let names: string[];
    try {
      names = (await readdir(path)).filter((n) => EXTENSIONS.has(extname(n).toLowerCase())).sort();
    } catch (e) {
      result.errors.push(fileError(path, e));
      continue;
    }
    for (const name of names) await loadSource(join(path, name), readText(join(path, name)), result);
  }
  return result;
}

/**
 * One line per error: `examples/bad.yaml: document 2 (line 14): VirtualService default/reviews:
 * spec.http[0].route[1].weight: must be an integer between 0 and 100`.
 */
export function formatDocumentError(e: DocumentError): string {
  const parts: string[] = [e.source];
  if (e.line > 0) parts.push(`document ${e.index + 1} (line ${e.line})`);
  if (e.kind !== undefined) {
    parts.push(e.name !== undefined ? `${e.kind} ${e.namespace ?? DEFAULT_NAMESPACE}/${e.name}` : e.kind);
  }
  if (e.field !== '') parts.push(e.field);
  parts.push(e.message);
  return parts.join(': ');
}
