/**
 * The request hash for ring_hash and maglev, from a route's Envoy hash_policy entries: `header`, `cookie`,
 * `connection_properties.source_ip` and `query_parameter` (`filter_state` is accepted and never yields a value:
 * the sidecar keeps no filter state, and in Envoy an absent key yields nothing either). As in Envoy's HashPolicyImpl, every entry that yields a
 * value is folded into the hash in order (rotate the hash so far left by one bit, xor the new value; the first
 * value is taken as is), and an entry with `terminal: true` stops the evaluation once a hash exists, so "the first
 * policy that yields a value wins" is written as terminal entries. No value at all means no hash: the picker then
 * takes a random point, as Envoy does.
 *
 * Values are hashed with murmur3_32 over their UTF-8 bytes (hash.ts), straight from the strings the request view
 * returns: a cookie is found and hashed in place in the Cookie header, nothing is split or copied.
 */
import { err, ok, type Result } from '../../core/result.js';
import { asObject, field, unknownField, type JsonObject } from './config.js';
import { combineHashes, murmur3String } from './hash.js';

/** What the hash policies read from a request. Multiple Cookie headers are expected joined with "; ". */
export interface HashRequestView {
  /** A header's value (name lower-case); several values joined with ", " as Node does. */
  header(name: string): string | undefined;
  /** The downstream peer's IP address as text ('' when the connection has none, e.g. a Unix socket). */
  readonly sourceIp: string;
  /** The first value of a query parameter, percent-decoded. */
  query(name: string): string | undefined;
}

/** One parsed hash_policy entry (Envoy's HashMethod). */
export type HashMethod =
  | { readonly kind: 'header'; readonly name: string; readonly terminal: boolean }
  | {
      readonly kind: 'cookie';
      readonly name: string;
      /** Envoy generates the cookie when it is absent and a ttl is set: that is the router's job (docs). */
      readonly ttlMs: number | undefined;
      readonly path: string | undefined;
      readonly terminal: boolean;
    }
  | { readonly kind: 'source_ip'; readonly terminal: boolean }
  | { readonly kind: 'query_parameter'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'filter_state'; readonly key: string; readonly terminal: boolean };

const KINDS = ['header', 'cookie', 'connection_properties', 'query_parameter', 'filter_state'] as const;

/** A cookie ttl: milliseconds (the sidecar's decoded form), a Duration string ("3600s") or { seconds, nanos }. */
function ttlMs(value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value >= 0 ? value : null;
  if (typeof value === 'string') {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(value);
    return m ? Number(m[1]) * 1000 : null;
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    const { seconds, nanos } = value as JsonObject;
    const s = Number(seconds ?? 0);
    const n = Number(nanos ?? 0);
    return Number.isFinite(s) && Number.isFinite(n) && s >= 0 && n >= 0 ? s * 1000 + n / 1e6 : null;
  }
  return null;
}

function nonEmptyString(obj: JsonObject, name: string, what: string): Result<string, string> {
  const value = field(obj, name);
  return typeof value === 'string' && value !== '' ? ok(value) : err(`${what}.${name}: must be a non-empty string`);
}

function parseOne(entry: unknown, what: string): Result<HashMethod | undefined, string> {
  const obj = asObject(entry, what);
  if (!obj.ok) return obj;
  const unknown = unknownField(obj.value, [...KINDS, 'terminal'], what);
  if (unknown !== undefined) return err(unknown);
  const present = KINDS.filter((k) => field(obj.value, k) !== undefined);
  if (present.length !== 1) return err(`${what}: exactly one of ${KINDS.join(', ')} is required`);
  const kind = present[0]!;
  const terminal = field(obj.value, 'terminal') ?? false;
  if (typeof terminal !== 'boolean') return err(`${what}.terminal: must be a boolean`);
  const inner = asObject(field(obj.value, kind), `${what}.${kind}`);
  if (!inner.ok) return inner;
  const at = `${what}.${kind}`;
  const allowed = {
    header: ['header_name'],
    cookie: ['name', 'ttl', 'path'],
    query_parameter: ['name'],
    filter_state: ['key'],
  };
  const extra = unknownField(inner.value, kind === 'connection_properties' ? ['source_ip'] : allowed[kind], at);
  if (extra !== undefined) return err(extra);
  if (kind === 'connection_properties') {
    const sourceIp = field(inner.value, 'source_ip') ?? false;
    if (typeof sourceIp !== 'boolean') return err(`${at}.source_ip: must be a boolean`);
    return ok(sourceIp ? { kind: 'source_ip', terminal } : undefined);
  }
  const nameField = kind === 'header' ? 'header_name' : kind === 'filter_state' ? 'key' : 'name';
  const name = nonEmptyString(inner.value, nameField, at);
  if (!name.ok) return name;
  if (kind === 'header') return ok({ kind, name: name.value.toLowerCase(), terminal });
  if (kind === 'query_parameter') return ok({ kind, name: name.value, terminal });
  if (kind === 'filter_state') return ok({ kind, key: name.value, terminal });
  const path = field(inner.value, 'path');
  if (path !== undefined && typeof path !== 'string') return err(`${at}.path: must be a string`);
  const ttl = ttlMs(field(inner.value, 'ttl'));
  if (ttl === null) return err(`${at}.ttl: must be a duration`);
  return ok({ kind, name: name.value, ttlMs: ttl, path: path === '' ? undefined : path, terminal });
}

/** A route's `hash_policy` list: Envoy's RouteAction.hash_policy JSON, or the sidecar's decoded HashPolicy list. */
export function parseHashPolicies(json: unknown): Result<readonly HashMethod[], string> {
  if (json === undefined || json === null) return ok([]);
  if (!Array.isArray(json)) return err('hash_policy: must be a list');
  const out: HashMethod[] = [];
  for (let i = 0; i < json.length; i++) {
    const one = parseOne(json[i], `hash_policy[${i}]`);
    if (!one.ok) return one;
    if (one.value !== undefined) out.push(one.value);
  }
  return ok(out);
}

const SPACE = 0x20;
const TAB = 0x09;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;

/** murmur3 of cookie `name`'s value in a Cookie header (quotes stripped, as Envoy does), or -1 when absent. */
export function hashCookie(header: string, name: string): number {
  const n = header.length;
  let i = 0;
  while (i < n) {
    let c = header.charCodeAt(i);
    while (i < n && (c === SPACE || c === TAB || c === SEMICOLON)) c = header.charCodeAt(++i);
    if (i >= n) break;
    let stop = header.indexOf(';', i);
    if (stop < 0) stop = n;
    if (header.startsWith(name, i) && header.charCodeAt(i + name.length) === EQUALS && i + name.length < stop) {
      let start = i + name.length + 1;
      let end = stop;
      while (end > start && (header.charCodeAt(end - 1) === SPACE || header.charCodeAt(end - 1) === TAB)) end--;
      if (end - start >= 2 && header.charCodeAt(start) === QUOTE && header.charCodeAt(end - 1) === QUOTE) {
        start++;
        end--;
      }
      return murmur3String(header, 0, start, end);
    }
    i = stop + 1;
  }
  return -1;
}

function evaluate(policy: HashMethod, request: HashRequestView): number {
  switch (policy.kind) {
    case 'header': {
      const value = request.header(policy.name);
      return value === undefined ? -1 : murmur3String(value);
    }
    case 'cookie': {
      const header = request.header('cookie');
      return header === undefined ? -1 : hashCookie(header, policy.name);
    }
    case 'source_ip':
      return request.sourceIp === '' ? -1 : murmur3String(request.sourceIp);
    case 'query_parameter': {
      const value = request.query(policy.name);
      return value === undefined ? -1 : murmur3String(value);
    }
    case 'filter_state':
      return -1;
  }
}

/**
 * The request's hash for PickInput.hash, or undefined when no policy yields one. Returned as a signed int32 (the
 * same 32 bits as the unsigned murmur3 value): V8 keeps int32 values unboxed, so storing it in a reused PickInput
 * allocates nothing.
 */
export function computeRequestHash(policies: readonly HashMethod[], request: HashRequestView): number | undefined {
  let hash = 0;
  let have = false;
  for (let i = 0; i < policies.length; i++) {
    const policy = policies[i]!;
    const value = evaluate(policy, request);
    if (value >= 0) {
      hash = have ? combineHashes(hash, value) : value;
      have = true;
    }
    if (have && policy.terminal) break;
  }
  return have ? hash | 0 : undefined;
}
