/**
 * Checks a plain JS object against a protobuf message type before it is encoded, and returns a canonical copy.
 *
 * protobufjs's `fromObject` is forgiving in ways that hide translation bugs: an unknown field name is dropped, an
 * unknown enum name becomes 0, a nested Any whose `@type` is not loaded encodes as an empty Any, and two members of
 * one oneof both survive. Here each of those is an error naming the field path. The copy sorts map keys, so the same
 * content always encodes to the same bytes (protobufjs writes map entries in insertion order, and writes proto3 zero
 * values when the key is present), so resource versions, which hash those bytes, only change when the content does.
 *
 * Shape of the input: protobuf field names (snake_case, as in the .proto files); enums as their names or numbers;
 * int64 as numbers or decimal strings; bytes as Uint8Array or base64; a google.protobuf.Any as
 * `{ '@type': 'type.googleapis.com/<message>', ...fields of that message }` (or an already encoded
 * `{ type_url, value }`); well-known types in their message form (Duration `{ seconds, nanos }`, wrappers
 * `{ value }`, Struct `{ fields: { k: { stringValue } } }`: protobufjs bundles the well-known types with their JSON
 * names, so google.protobuf.Value's members are camelCase; use the helpers in well-known.ts).
 */
import protobuf from 'protobufjs';
import { messageNameOf } from './resource-types.js';

/** A plain object in protobufjs's "object" form for some message type. */
export type ProtoObject = { [field: string]: unknown };

export class ProtoShapeError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ProtoShapeError';
    this.path = path;
  }
}

const ANY = '.google.protobuf.Any';

function isPlainObject(value: unknown): value is ProtoObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Validates `value` as a `type` message and returns a canonical copy (throws ProtoShapeError). */
export function normalizeProtoObject(type: protobuf.Type, value: unknown, path = type.name): ProtoObject {
  if (!isPlainObject(value)) {
    throw new ProtoShapeError(path, `expected an object for ${type.fullName.slice(1)}`);
  }
  if (type.fullName === ANY && '@type' in value) {
    return normalizeAny(type, value, path);
  }
  const out: ProtoObject = {};
  for (const key of Object.keys(value)) {
    const fieldValue = value[key];
    if (fieldValue === undefined || fieldValue === null) continue;
    const field = type.fields[key];
    if (field === undefined) {
      throw new ProtoShapeError(`${path}.${key}`, `unknown field of ${type.fullName.slice(1)}`);
    }
    const normalized = normalizeField(field, fieldValue, `${path}.${key}`);
    if (!isImplicitDefault(field, normalized)) out[key] = normalized;
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((name) => name in out);
    if (set.length > 1) {
      throw new ProtoShapeError(path, `${set.join(' and ')} are members of oneof ${oneof.name}; set only one`);
    }
  }
  return out;
}

/**
 * A proto3 scalar without presence set to its zero value is not on the wire in canonical encoding (protobufjs would
 * write it when the key is present); dropping it keeps equal content byte-identical.
 */
function isImplicitDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.hasPresence || field.repeated || field.map || field.resolvedType instanceof protobuf.Type) return false;
  if (field.resolvedType instanceof protobuf.Enum) {
    return value === 0 || (typeof value === 'string' && field.resolvedType.values[value] === 0);
  }
  switch (field.type) {
    case 'string':
      return value === '';
    case 'bool':
      return value === false;
    case 'bytes':
      return (value instanceof Uint8Array && value.length === 0) || value === '';
    default:
      return (typeof value === 'number' || typeof value === 'string') && value !== '' && Number(value) === 0;
  }
}

function normalizeAny(anyType: protobuf.Type, value: ProtoObject, path: string): ProtoObject {
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string' || !typeUrl.includes('/')) {
    throw new ProtoShapeError(`${path}.@type`, 'must be a type URL such as type.googleapis.com/<message>');
  }
  let inner: protobuf.Type;
  try {
    inner = anyType.root.lookupType(messageNameOf(typeUrl));
  } catch {
    throw new ProtoShapeError(`${path}.@type`, `message type ${typeUrl} is not loaded`);
  }
  const rest: ProtoObject = { ...value };
  delete rest['@type'];
  return { '@type': typeUrl, ...normalizeProtoObject(inner, rest, `${path}<${inner.name}>`) };
}

function normalizeField(field: protobuf.Field, value: unknown, path: string): unknown {
  field.resolve();
  if (field.map) {
    if (!isPlainObject(value)) throw new ProtoShapeError(path, 'expected an object (map)');
    const out: ProtoObject = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = normalizeSingle(field, value[key], `${path}[${JSON.stringify(key)}]`);
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new ProtoShapeError(path, 'expected an array (repeated field)');
    return value.map((item: unknown, i) => normalizeSingle(field, item, `${path}[${i}]`));
  }
  return normalizeSingle(field, value, path);
}

function normalizeSingle(field: protobuf.Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    return normalizeProtoObject(resolved, value, path);
  }
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && !(value in resolved.values)) {
      const known = Object.keys(resolved.values).join(', ');
      throw new ProtoShapeError(path, `unknown ${resolved.name} value "${value}" (one of ${known})`);
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new ProtoShapeError(path, `expected an enum name or number for ${resolved.name}`);
    }
    return value;
  }
  if (isPlainObject(value)) {
    throw new ProtoShapeError(path, `expected a ${field.type}, got an object`);
  }
  return value;
}
