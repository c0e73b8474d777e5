/**
 * Reading decoded Envoy resources: the plain objects `getXdsProtos().fromAny()` returns (snake_case field names,
 * enums as names, int64 as decimal strings, wrappers as `{ value }` with proto3 zeros dropped, so `{}` is an
 * explicit 0/false, Duration as `{ seconds, nanos }`, nested Anys expanded to `{ '@type', ...fields }` when their
 * type is loaded, else left as `{ type_url, value }`).
 *
 * Every reader takes the field path it is reading, and a value of the wrong shape throws a `ConfigError` carrying
 * that path. The decoders catch it at their boundary (`decodeResource`) and return it as a `Result`, so the message
 * of a NACK always says which resource and which field.
 */
import { err, ok, type Result } from '../../core/result.js';
import { fromStruct, type JsonObject, type StructMessage } from '../../control/xds/well-known.js';

export type Json = { readonly [field: string]: unknown };

export class ConfigError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export function fail(path: string, reason: string): never {
  throw new ConfigError(path, reason);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Runs a decoder over one resource: `<Kind> "<name>": <field path>: <reason>` on failure. The path is relative to
 * the resource (`virtual_hosts[0].routes[2].match.safe_regex.regex`).
 */
export function decodeResource<T>(kind: string, resource: unknown, decode: (r: Json) => T): Result<T, string> {
  if (!isObject(resource)) return err(`${kind}: not an object`);
  const name = kind === 'ClusterLoadAssignment' ? resource.cluster_name : resource.name;
  const label = typeof name === 'string' && name !== '' ? `${kind} "${name}"` : kind;
  try {
    return ok(decode(resource));
  } catch (error) {
    if (error instanceof ConfigError) return err(`${label}: ${error.message}`);
    return err(`${label}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function obj(value: unknown, path: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail(path, 'expected a message');
  return value;
}

export function list(value: unknown, path: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, 'expected a list');
  return value as unknown[];
}

/** A list of messages, each with its indexed path. */
export function messages(value: unknown, path: string): { item: Json; path: string }[] {
  return list(value, path).map((item, i) => ({ item: obj(item, `${path}[${i}]`) ?? {}, path: `${path}[${i}]` }));
}

export function str(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(path, 'expected a string');
  return value;
}

export function required(value: unknown, path: string): string {
  const s = str(value, path);
  if (s === undefined || s === '') fail(path, 'required');
  return s;
}

/** A number, also from an int64 decimal string. */
export function num(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) fail(path, 'expected a number');
  return n;
}

export function bool(value: unknown, path: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') fail(path, 'expected a boolean');
  return value;
}

/** A wrapper message (UInt32Value, DoubleValue, ...): undefined when absent, its value (0 when dropped) otherwise. */
export function wrapped(value: unknown, path: string): number | undefined {
  const o = obj(value, path);
  return o === undefined ? undefined : (num(o.value, `${path}.value`) ?? 0);
}

export function wrappedBool(value: unknown, path: string): boolean | undefined {
  const o = obj(value, path);
  return o === undefined ? undefined : bool(o.value, `${path}.value`);
}

/** A google.protobuf.Duration in milliseconds, undefined when absent (`{}` is an explicit zero). */
export function durationMs(value: unknown, path: string): number | undefined {
  const o = obj(value, path);
  if (o === undefined) return undefined;
  const ms = (num(o.seconds, `${path}.seconds`) ?? 0) * 1000 + (num(o.nanos, `${path}.nanos`) ?? 0) / 1e6;
  if (ms < 0) fail(path, 'negative duration');
  return ms;
}

/** An enum by name; absent (proto3 zero dropped) is the first allowed name. */
export function enumOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (value === undefined || value === null) return allowed[0]!;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  fail(path, `${typeof value === 'string' ? value : JSON.stringify(value)} is not supported (${allowed.join(', ')})`);
}

/** The type URL of a nested Any, expanded (`@type`) or not (`type_url`). */
export function anyType(value: Json): string | undefined {
  const t = value['@type'] ?? (value.value !== undefined ? value.type_url : undefined);
  return typeof t === 'string' ? t : undefined;
}

/** The message name of a type URL: what follows the last '/'. */
export function messageName(typeUrl: string | undefined): string {
  return typeUrl === undefined ? '' : typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

/** Fields the sidecar cannot honour: present means NACK, with the field's path. */
export function unsupported(o: Json, path: string, fields: readonly string[], why = 'not supported by the sidecar') {
  for (const field of fields) {
    const v = o[field];
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
    fail(path === '' ? field : `${path}.${field}`, why);
  }
}

/** `a.b` joined, without a leading dot for the resource's top level. */
export function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

/** A FractionalPercent as parts per million (HUNDRED, TEN_THOUSAND, MILLION). */
export function perMillion(value: unknown, path: string): number {
  const o = obj(value, path) ?? {};
  const numerator = num(o.numerator, `${path}.numerator`) ?? 0;
  const scale = { HUNDRED: 10_000, TEN_THOUSAND: 100, MILLION: 1 }[
    enumOf(o.denominator, `${path}.denominator`, ['HUNDRED', 'TEN_THOUSAND', 'MILLION'] as const)
  ];
  return Math.min(1_000_000, numerator * scale);
}

/** envoy.config.core.v3.Metadata's filter_metadata as plain JSON per filter namespace. */
export function filterMetadata(value: unknown, path: string): Readonly<Record<string, JsonObject>> {
  const fm = obj(obj(value, path)?.filter_metadata, `${path}.filter_metadata`) ?? {};
  const out: Record<string, JsonObject> = {};
  for (const [key, struct] of Object.entries(fm)) out[key] = fromStruct(struct as StructMessage);
  return out;
}

/** Freezes a decoded config deeply (not RegExps, buffers or functions' internals), for immutable snapshots. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (value instanceof RegExp || ArrayBuffer.isView(value)) return value;
  if (value instanceof Map || value instanceof Set) {
    for (const v of value.values()) deepFreeze(v);
    return Object.freeze(value);
  }
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

const TYPED_STRUCTS = new Set(['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct']);

/** An extension's typed_config: its message name, and its fields when readable (TypedStruct or a loaded type). */
export interface ExtensionConfig {
  readonly type: string;
  readonly config?: Json;
}

/**
 * Reads a `typed_config` Any: a TypedStruct (xds.type.v3 or udpa.type.v1, as the control plane writes retry
 * predicates) gives its inner type and its Struct as JSON; an expanded Any gives its type and fields; an Any of a
 * type that is not loaded gives only its type.
 */
export function extensionConfig(value: unknown, path: string): ExtensionConfig {
  const o = obj(value, path);
  if (o === undefined) return { type: '' };
  const type = messageName(anyType(o));
  if (TYPED_STRUCTS.has(type)) {
    const inner = messageName(str(o.type_url, at(path, 'type_url')));
    return { type: inner, config: fromStruct(obj(o.value, at(path, 'value'))) };
  }
  return o['@type'] !== undefined ? { type, config: o } : { type };
}
