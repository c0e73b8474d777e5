/**
 * Maps a field path to the line it is written on in a parsed YAML (or JSON) document, so that an error can
 * point at `line 14` rather than at "somewhere in document 2".
 */
import type { Document, LineCounter, Node } from 'yaml';
import { isMap, isNode, isPair, isScalar, isSeq } from 'yaml';
import type { PathSegment } from './field-path.js';

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
export function lineOfPath(doc: Document, lines: LineCounter, path: readonly PathSegment[]): number | undefined {
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
export function lineOfNode(node: Node | null | undefined, lines: LineCounter): number | undefined {
  return lineAt(node, lines);
}
