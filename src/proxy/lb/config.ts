/**
 * Reading a policy's config object: Envoy's JSON (`ring_hash_lb_config` and friends, snake_case as Shoal's
 * translator writes it) or the sidecar's decoded form (lowerCamelCase, src/proxy/config/cluster-policies.ts);
 * numbers plain, as strings (uint64 in proto JSON) or wrapped (`{ value: n }` for UInt32Value, `{ default_value: x }`
 * for RuntimeDouble). Anything not understood is an error naming the field, so the cluster is NACKed rather than
 * balanced differently from what was asked.
 */
import { err, ok, type Result } from '../../core/result.js';

export type JsonObject = Readonly<Record<string, unknown>>;

const camel = (snake: string): string => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The object form of a config (undefined and null count as `{}`). */
export function asObject(json: unknown, what: string): Result<JsonObject, string> {
  if (json === undefined || json === null) return ok({});
  if (typeof json !== 'object' || Array.isArray(json)) return err(`${what}: must be an object`);
  return ok(json as JsonObject);
}

/** An error for the first field not in `allowed` (snake_case names; their camelCase forms are allowed too). */
export function unknownField(obj: JsonObject, allowed: readonly string[], what: string): string | undefined {
  const names = new Set(allowed.flatMap((a) => [a, camel(a)]));
  const extra = Object.keys(obj).find((k) => !names.has(k));
  return extra === undefined ? undefined : `${what}.${extra}: not supported`;
}

export function field(obj: JsonObject, snake: string): unknown {
  return obj[snake] ?? obj[camel(snake)];
}

function unwrap(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as JsonObject;
    return o.value ?? o.default_value ?? o.defaultValue;
  }
  return value;
}

export interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly fallback: number;
}

/** A number field, unwrapped and range-checked; the fallback when absent. */
export function readNumber(obj: JsonObject, snake: string, what: string, rule: NumberRule): Result<number, string> {
  const raw = field(obj, snake);
  if (raw === undefined || raw === null) return ok(rule.fallback);
  const inner = unwrap(raw);
  const value = typeof inner === 'string' && inner.trim() !== '' ? Number(inner) : inner;
  if (typeof value !== 'number' || !Number.isFinite(value)) return err(`${what}.${snake}: must be a number`);
  if (rule.integer && !Number.isInteger(value)) return err(`${what}.${snake}: must be an integer`);
  if (value < rule.min || value > rule.max) return err(`${what}.${snake}: must be ${rule.min}..${rule.max}`);
  return ok(value);
}
