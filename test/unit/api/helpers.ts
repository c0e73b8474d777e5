/** Shared helpers for the resource-model tests: build a document, list its errors as `field: message`. */
import assert from 'node:assert/strict';
import { validateResource } from '../../../src/api/validate.js';

export interface Case {
  name: string;
  spec: unknown;
  /** Expected `field: message` lines, in any order; empty for a valid spec. */
  errors: string[];
}

export function doc(apiVersion: string, kind: string, spec: unknown, extra: Record<string, unknown> = {}): unknown {
  return { apiVersion, kind, metadata: { name: 'test', namespace: 'default' }, spec, ...extra };
}

/** Every error of a document as `field: message`, sorted. */
export function errorsOf(obj: unknown): string[] {
  const result = validateResource(obj);
  return result.ok ? [] : result.error.map((e) => `${e.field}: ${e.message}`).sort();
}

export function assertValid(obj: unknown): void {
  assert.deepEqual(errorsOf(obj), []);
}

/** Runs a table of specs against one kind. */
export function checkCases(apiVersion: string, kind: string, cases: readonly Case[]): void {
  for (const c of cases) {
    assert.deepEqual(errorsOf(doc(apiVersion, kind, c.spec)), [...c.errors].sort(), c.name);
  }
}
