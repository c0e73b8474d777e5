/**
 * Field errors: paths printed the way Kubernetes prints them (`spec.http[0].route[1].weight`,
 * `metadata.labels.app`, `metadata.labels[app.kubernetes.io/name]`: a map key that is not a plain word goes in
 * brackets), and zod issues turned into errors people can act on: one error per unknown key, the most specific
 * branch of a failed union, messages that say what was expected and what was found.
 */
import type { z } from 'zod';

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

export interface PathError {
  path: PathSegment[];
  message: string;
}

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  record: 'a map',
  map: 'a map',
  array: 'a list',
  tuple: 'a list',
  null: 'null',
  never: 'absent',
};

/** A short rendering of a value for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

/** The default message for an issue raised without a schema-specific one (zod's per-parse error map). */
function defaultMessage(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const want = TYPE_NAMES[issue.expected] ?? issue.expected;
      return `must be ${want}, got ${describeValue(issue.input)}`;
    }
    case 'too_small': {
      const n = issue.minimum;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${plural(n, 'item')}`;
      if (issue.origin === 'string')
        return Number(n) === 1 ? 'must not be empty' : `must be at least ${plural(n, 'character')}`;
      return issue.inclusive === false ? `must be greater than ${n}` : `must be at least ${n}`;
    }
    case 'too_big': {
      const n = issue.maximum;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${plural(n, 'item')}`;
      if (issue.origin === 'string') return `must be at most ${plural(n, 'character')}`;
      return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
    }
    case 'invalid_value': {
      if (issue.input === undefined) return 'required';
      const values = issue.values.map((v) => (typeof v === 'string' ? v : String(v)));
      const got = describeValue(issue.input);
      return values.length === 1
        ? `must be ${values[0]}, got ${got}`
        : `must be one of: ${values.join(', ')} (got ${got})`;
    }
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_key':
      return 'invalid key';
    case 'invalid_union':
      return 'does not match any of the allowed forms';
    default:
      return 'invalid value';
  }
}

/** Expected type of a branch that failed at its root with a type mismatch, else undefined. */
function rootTypeMismatch(branch: readonly Issue[]): string | undefined {
  const [only] = branch;
  if (branch.length !== 1 || !only || only.path.length !== 0 || only.code !== 'invalid_type') return undefined;
  return only.expected;
}

function unionErrors(issue: Extract<Issue, { code: 'invalid_union' }>, base: PathSegment[]): PathError[] {
  const branches = issue.errors;
  const expected = branches.map(rootTypeMismatch);
  if (branches.length > 0 && expected.every((e) => e !== undefined)) {
    if (issue.input === undefined) return [{ path: base, message: 'required' }];
    const names = [...new Set(expected.map((e) => TYPE_NAMES[e] ?? e))];
    return [{ path: base, message: `must be ${names.join(' or ')}, got ${describeValue(issue.input)}` }];
  }
  // The branch whose type matched and that has the fewest problems says best what is wrong.
  const candidates = branches.filter((_, i) => expected[i] === undefined);
  const score = (b: readonly Issue[]): number =>
    b.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length * 2 : 1), 0);
  const best = candidates.reduce<readonly Issue[] | undefined>(
    (acc, b) => (acc === undefined || score(b) < score(acc) ? b : acc),
    undefined,
  );
  if (!best || best.length === 0) return [{ path: base, message: issue.message }];
  return toPathErrors(best, base);
}

/** Flattens zod issues into path errors, relative to `base`. */
function toPathErrors(issues: readonly Issue[], base: PathSegment[] = []): PathError[] {
  const out: PathError[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown field' });
        break;
      case 'invalid_union':
        out.push(...unionErrors(issue, path));
        break;
      case 'invalid_key': {
        const inner = toPathErrors(issue.issues, path);
        out.push(...inner.map((e) => ({ path: e.path, message: `invalid key: ${e.message}` })));
        break;
      }
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** Parses with Shoal's messages and returns the value or every problem found. */
export function parseWith<T>(
  schema: z.ZodType<T>,
  input: unknown,
  base: PathSegment[],
): { ok: true; value: T } | { ok: false; errors: PathError[] } {
  const result = schema.safeParse(input, { error: defaultMessage, reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: toPathErrors(result.error.issues, base) };
}
