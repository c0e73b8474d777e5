/**
 * Helpers for google.protobuf well-known types in the object form protobufjs encodes and decodes (snake_case field
 * names). Struct is the one that matters most: node metadata arrives as a Struct, and typed_struct configs, filter
 * metadata and Istio's metadata exchange all use it.
 *
 * One wrinkle: protobufjs bundles the well-known types as JSON descriptors with JSON (camelCase) field names, and the
 * `keepCase` option does not reach them, so google.protobuf.Value's members are `stringValue`, `numberValue`, ...
 * (grpc-js-xds sees the same). Build and read Structs through `toStruct` / `fromStruct` and this never shows.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** google.protobuf.Value in object form (exactly one member set). */
export interface ValueMessage {
  nullValue?: 'NULL_VALUE' | 0;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage;
  listValue?: { values?: ValueMessage[] };
}

/** google.protobuf.Struct in object form. */
export interface StructMessage {
  fields?: { [key: string]: ValueMessage };
}

export interface DurationMessage {
  seconds: number;
  nanos: number;
}

/** A google.protobuf.Duration for a number of milliseconds (negative durations are clamped to zero). */
export function duration(ms: number): DurationMessage {
  const total = Math.max(0, Math.round(ms * 1_000_000)); // nanoseconds
  return { seconds: Math.floor(total / 1_000_000_000), nanos: total % 1_000_000_000 };
}

/** Milliseconds in a Duration as decoded (seconds may be a string when it came through int64 decoding). */
export function durationMs(d: { seconds?: number | string; nanos?: number } | null | undefined): number {
  if (d === null || d === undefined) return 0;
  return Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1_000_000;
}

/** A google.protobuf.UInt32Value / BoolValue / StringValue etc. */
export function wrap<T extends number | boolean | string>(value: T): { value: T } {
  return { value };
}

export function toValue(value: JsonValue): ValueMessage {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  return { structValue: toStruct(value) };
}

/** A plain JSON object as a google.protobuf.Struct. */
export function toStruct(object: JsonObject): StructMessage {
  const fields: { [key: string]: ValueMessage } = {};
  for (const [key, value] of Object.entries(object)) fields[key] = toValue(value);
  return { fields };
}

export function fromValue(value: ValueMessage | null | undefined): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.numberValue === 'number') return value.numberValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.structValue) return fromStruct(value.structValue);
  if (value.listValue) return (value.listValue.values ?? []).map(fromValue);
  return null;
}

/** A decoded google.protobuf.Struct as plain JSON (an absent struct gives `{}`). */
export function fromStruct(struct: StructMessage | null | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = fromValue(value);
  return out;
}
