/**
 * Validates a whole object: apiVersion and kind served, metadata, spec against the kind's schema, status
 * against its status schema (kinds without one reject a status). Every problem of the document is reported,
 * each with its full field path (`spec.http[0].route[1].weight`).
 * The object is returned as given, with no defaults applied: `metadata.namespace` stays absent when absent
 * (the API server and the CLI default it), `apiVersion` stays the alias it was written with.
 */
import type { FieldError } from '../core/errors.js';
import type { Result } from '../core/result.js';
import { err, ok } from '../core/result.js';
import type { PathError } from './field-errors.js';
import { describeValue, formatFieldPath, parseWith } from './field-errors.js';
import type { KindDefinition } from './kind.js';
import { apiVersionOf } from './kind.js';
import { KINDS, kindByName, kindForApiVersion } from './registry.js';
import type { Resource } from './resource.js';
import { objectMetaSchema } from './resource.js';
import { isRecord, NOT_SUPPORTED } from './schema-helpers.js';

const TOP_LEVEL_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

function servedAt(def: KindDefinition): string {
  return def.versions.map((v) => apiVersionOf(def, v)).join(', ');
}

/** Checks apiVersion and kind; the definition when both are right. */
function checkType(obj: Record<string, unknown>, errors: PathError[]): KindDefinition | undefined {
  const { apiVersion, kind } = obj;
  if (apiVersion === undefined) errors.push({ path: ['apiVersion'], message: 'required' });
  else if (typeof apiVersion !== 'string') {
    errors.push({ path: ['apiVersion'], message: `must be a string, got ${describeValue(apiVersion)}` });
  }
  if (kind === undefined) {
    errors.push({ path: ['kind'], message: 'required' });
    return undefined;
  }
  if (typeof kind !== 'string') {
    errors.push({ path: ['kind'], message: `must be a string, got ${describeValue(kind)}` });
    return undefined;
  }
  const def = kindByName(kind);
  if (!def) {
    const near = KINDS.find((k) => k.kind.toLowerCase() === kind.toLowerCase());
    const hint = near ? `did you mean ${near.kind}? ` : '';
    errors.push({
      path: ['kind'],
      message: `unknown kind "${kind}": ${hint}Shoal serves ${KINDS.map((k) => k.kind).join(', ')}`,
    });
    return undefined;
  }
  if (typeof apiVersion === 'string' && !kindForApiVersion(apiVersion, kind)) {
    errors.push({ path: ['apiVersion'], message: `${def.kind} is served at ${servedAt(def)}, not "${apiVersion}"` });
  }
  return def;
}

function toFieldErrors(errors: readonly PathError[]): FieldError[] {
  return errors.map((e) => ({ field: formatFieldPath(e.path), message: e.message }));
}

export function validateResource(input: unknown): Result<Resource, FieldError[]> {
  if (!isRecord(input)) {
    return err([
      { field: '', message: `must be an object with apiVersion, kind, metadata and spec, got ${describeValue(input)}` },
    ]);
  }
  const errors: PathError[] = [];
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL_FIELDS.has(key)) errors.push({ path: [key], message: 'unknown field' });
  }
  const def = checkType(input, errors);

  const metadata = parseWith(objectMetaSchema, input['metadata'], ['metadata']);
  if (!metadata.ok) errors.push(...metadata.errors);

  let spec: unknown;
  let status: unknown;
  if (def) {
    const parsedSpec = parseWith(def.spec, input['spec'], ['spec']);
    if (parsedSpec.ok) spec = parsedSpec.value;
    else errors.push(...parsedSpec.errors);
    if (input['status'] !== undefined) {
      if (!def.status) errors.push({ path: ['status'], message: NOT_SUPPORTED });
      else {
        const parsedStatus = parseWith(def.status, input['status'], ['status']);
        if (parsedStatus.ok) status = parsedStatus.value;
        else errors.push(...parsedStatus.errors);
      }
    }
  }

  if (errors.length > 0 || !def || !metadata.ok) return err(toFieldErrors(errors));
  const resource: Resource = {
    apiVersion: input['apiVersion'] as string,
    kind: def.kind,
    metadata: metadata.value,
    spec,
  };
  if (status !== undefined) resource.status = status;
  return ok(resource);
}
