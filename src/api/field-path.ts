/**
 * Field paths as Kubernetes prints them: `spec.http[0].route[1].weight`, `metadata.labels.app`,
 * `metadata.labels[app.kubernetes.io/name]` (a map key that is not a plain word goes in brackets).
 * Validation produces segment arrays; FieldError carries the string; load.ts parses it back to find a line.
 */

export type PathSegment = string | number;

/** A map key printed after a dot; anything else (dots, slashes, spaces, empty) goes in brackets. */
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

export function formatFieldPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (!PLAIN_KEY.test(segment)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** The inverse of formatFieldPath: `spec.http[0].route` -> ['spec', 'http', 0, 'route']. */
export function parseFieldPath(field: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < field.length) {
    const c = field[i];
    if (c === '.') {
      i++;
      continue;
    }
    if (c === '[') {
      const end = field.indexOf(']', i + 1);
      const inner = field.slice(i + 1, end < 0 ? field.length : end);
      out.push(/^\d+$/.test(inner) ? Number(inner) : inner);
      i = end < 0 ? field.length : end + 1;
      continue;
    }
    let j = i;
    while (j < field.length && field[j] !== '.' && field[j] !== '[') j++;
    out.push(field.slice(i, j));
    i = j;
  }
  return out;
}

/** Joins a prefix and a relative field: `joinField('spec.http[0]', 'route')` -> `spec.http[0].route`. */
export function joinFieldPath(prefix: readonly PathSegment[], rest: readonly PathSegment[]): string {
  return formatFieldPath([...prefix, ...rest]);
}
