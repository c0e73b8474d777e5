/**
 * Building blocks the kind schemas share: the one "not supported" helper, enums with values Shoal knows but
 * does not implement, cross-field checks that run even when a sibling field is invalid (so that one document
 * reports all its errors at once), and Istio's oneof and weight rules.
 */
import { z } from 'zod';
import type { PathSegment } from './field-errors.js';

export const NOT_SUPPORTED = 'not supported';

/**
 * A field of the upstream API (Istio, Kubernetes) that Shoal does not implement. Absent is fine; any value is
 * rejected with "not supported" at the field's path. Every use is listed in docs/resources.md.
 */
export function notSupported(): z.ZodOptional<z.ZodNever> {
  return z.never({ error: NOT_SUPPORTED }).optional();
}

/**
 * An enum of which Shoal implements `supported`; the upstream values in `unsupported` are rejected with
 * "not supported" rather than "must be one of".
 */
export function supportedEnum<const T extends readonly [string, ...string[]]>(
  supported: T,
  unsupported: readonly string[],
): z.ZodEnum<{ [K in T[number]]: K }> {
  return z.enum(supported, {
    error: (issue) =>
      typeof issue.input === 'string' && unsupported.includes(issue.input)
        ? `${NOT_SUPPORTED}: "${issue.input}" (supported: ${supported.join(', ')})`
        : undefined,
  });
}

export type Report = (path: readonly PathSegment[], message: string) => void;

/**
 * Adds a cross-field check that runs even when other parts of the value failed (zod skips refinements of an
 * object with issues otherwise). The check sees the raw input (an object or an array; it is not called for
 * anything else), so it must not trust its shape: use the guards below.
 */
export function crossCheck<T extends z.ZodType>(schema: T, check: (value: unknown, report: Report) => void): T {
  return schema.superRefine(
    (value: unknown, ctx) => {
      if (typeof value !== 'object' || value === null) return; // the type error says it all
      check(value, (path, message) => ctx.addIssue({ code: 'custom', message, path: [...path], input: value }));
    },
    { when: () => true },
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Which of `fields` are present (not undefined) in `value`. */
function presentFields(value: unknown, fields: readonly string[]): string[] {
  const record = asRecord(value);
  return fields.filter((f) => record[f] !== undefined);
}

/** Istio's oneof: exactly one of `fields` must be set. */
export function exactlyOneOf(
  value: unknown,
  fields: readonly string[],
  report: Report,
  path: readonly PathSegment[] = [],
): void {
  if (!isRecord(value)) return;
  const present = presentFields(value, fields);
  if (present.length === 0) report(path, `must set one of: ${fields.join(', ')}`);
  else if (present.length > 1) report(path, `must set only one of: ${fields.join(', ')} (got ${present.join(', ')})`);
}

/** At most one of `fields` may be set. */
export function atMostOneOf(
  value: unknown,
  fields: readonly string[],
  report: Report,
  path: readonly PathSegment[] = [],
): void {
  const present = presentFields(value, fields);
  if (present.length > 1) report(path, `must set only one of: ${fields.join(', ')} (got ${present.join(', ')})`);
}

/**
 * The weight rule for one route list: a single destination may omit its weight (it gets all the traffic);
 * otherwise the weights must sum to 100, an omitted one counting 0. Only runs on well-formed weights: a bad
 * weight has its own error.
 */
export function checkWeightSum(routes: unknown, report: Report): void {
  const list = asArray(routes);
  if (list.length === 0) return;
  const weights = list.map((r) => asRecord(r)['weight']);
  if (weights.some((w) => w !== undefined && (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 100)))
    return;
  if (weights.every((w) => w === undefined)) {
    if (list.length > 1) report([], 'weights must sum to 100, got 0 (set a weight on each destination)');
    return;
  }
  const sum = weights.reduce<number>((acc, w) => acc + (typeof w === 'number' ? w : 0), 0);
  if (sum !== 100) report([], `weights must sum to 100, got ${sum}`);
}

/** Reports entries of a list whose `key` repeats an earlier entry's. */
export function checkUnique(list: unknown, key: string, report: Report, what = key): void {
  const seen = new Set<unknown>();
  asArray(list).forEach((item, i) => {
    const v = asRecord(item)[key];
    if (v === undefined) return;
    if (seen.has(v)) report([i, key], `duplicate ${what} ${JSON.stringify(v)}`);
    seen.add(v);
  });
}
