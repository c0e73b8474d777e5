/**
 * Envoy's string, header and query-parameter matchers, compiled once when a route configuration is decoded: names
 * lowercased, case-insensitive values lowered, regexes compiled (anchored: Envoy's safe_regex is a full match).
 *
 * Regexes are Envoy's RE2 syntax run by JavaScript's engine. What translates is translated (`(?i)` and other
 * leading flags, `(?P<name>`); what RE2 rejects but JavaScript would accept (lookaround, backreferences) is
 * rejected here too, so a configuration Envoy would NACK is NACKed by the sidecar.
 */
import { compileRegex } from '../../api/regex.js';
import { at, bool, fail, num, obj, required, str, type Json } from './read.js';

export interface StringMatcher {
  readonly kind: 'exact' | 'prefix' | 'suffix' | 'contains' | 'regex';
  /** The pattern as configured (lowercased for `ignoreCase`, which does not apply to regexes). */
  readonly value: string;
  readonly ignoreCase: boolean;
  /** `regex` only: the anchored, compiled pattern. */
  readonly regex?: RegExp;
}

export type ValueMatch =
  | { readonly kind: 'present'; readonly present: boolean }
  | { readonly kind: 'string'; readonly matcher: StringMatcher }
  | { readonly kind: 'range'; readonly start: number; readonly end: number };

export interface HeaderMatcher {
  /** Lowercase; pseudo-headers (`:method`, `:authority`) included. */
  readonly name: string;
  readonly match: ValueMatch;
  readonly invert: boolean;
  /** A missing header is matched as the empty string. */
  readonly treatMissingAsEmpty: boolean;
}

export interface QueryParameterMatcher {
  readonly name: string;
  readonly match: ValueMatch;
}

const NOT_RE2: readonly [RegExp, string][] = [
  [/(^|[^\\])(\\\\)*\(\?<?[=!]/, 'lookaround is not RE2 syntax'],
  [/(^|[^\\])(\\\\)*\\([1-9]|k<)/, 'backreferences are not RE2 syntax'],
];

/**
 * An Envoy RegexMatcher's pattern as a RegExp, or a ConfigError at `path`: anchored for matching (RE2 full match),
 * global for rewriting (RE2 GlobalReplace).
 */
export function compileEnvoyRegex(pattern: string, path: string, use: 'match' | 'rewrite' = 'match'): RegExp {
  for (const [check, why] of NOT_RE2) {
    if (check.test(pattern)) fail(path, `invalid regex ${JSON.stringify(pattern)}: ${why}`);
  }
  const compiled = compileRegex(pattern, use === 'match');
  if (typeof compiled === 'string') fail(path, `invalid regex ${JSON.stringify(pattern)}: ${compiled}`);
  return use === 'match' ? compiled : new RegExp(compiled.source, compiled.flags + 'g');
}

/** A RegexMatcher message (`{ regex, google_re2 }`) compiled. */
export function regexMatcher(value: unknown, path: string, use: 'match' | 'rewrite' = 'match'): RegExp {
  const o = obj(value, path) ?? {};
  return compileEnvoyRegex(str(o.regex, at(path, 'regex')) ?? '', at(path, 'regex'), use);
}

/** envoy.type.matcher.v3.RegexMatchAndSubstitute: RE2's backslash-1 groups become JavaScript's `$1`. */
export function regexRewrite(value: unknown, path: string): { regex: RegExp; substitution: string } {
  const o = obj(value, path) ?? {};
  const regex = regexMatcher(o.pattern, at(path, 'pattern'), 'rewrite');
  const raw = str(o.substitution, at(path, 'substitution')) ?? '';
  // One pass: an escaped backslash is a backslash, backslash-N is group N, and `$` stays literal (`$$`).
  const substitution = raw.replace(/\\(\\|\d)|\$/g, (m: string, g: string | undefined) =>
    m === '$' ? '$$' : g === '\\' ? '\\' : `$${g}`,
  );
  return { regex, substitution };
}

/** envoy.type.matcher.v3.StringMatcher */
export function stringMatcher(value: unknown, path: string): StringMatcher {
  const o = obj(value, path) ?? {};
  const ignoreCase = bool(o.ignore_case, at(path, 'ignore_case'));
  if (o.custom !== undefined) fail(at(path, 'custom'), 'custom string matchers are not supported');
  if (o.safe_regex !== undefined) {
    const regex = regexMatcher(o.safe_regex, at(path, 'safe_regex'));
    return { kind: 'regex', value: str(obj(o.safe_regex, path)?.regex, path) ?? '', ignoreCase: false, regex };
  }
  for (const kind of ['exact', 'prefix', 'suffix', 'contains'] as const) {
    const v = str(o[kind], at(path, kind));
    if (v === undefined) continue;
    if (kind !== 'exact' && v === '') fail(at(path, kind), 'must not be empty');
    return { kind, value: ignoreCase ? v.toLowerCase() : v, ignoreCase };
  }
  // proto3 drops an empty `exact`: a matcher with no member is `exact: ""`.
  return { kind: 'exact', value: '', ignoreCase };
}

export function matchString(m: StringMatcher, input: string): boolean {
  if (m.kind === 'regex') return m.regex!.test(input);
  const s = m.ignoreCase ? input.toLowerCase() : input;
  switch (m.kind) {
    case 'exact':
      return s === m.value;
    case 'prefix':
      return s.startsWith(m.value);
    case 'suffix':
      return s.endsWith(m.value);
    case 'contains':
      return s.includes(m.value);
  }
}

/** Header and query matchers share the value part (`present_match`, `string_match`, `range_match`). */
function valueMatch(o: Json, path: string, legacy: boolean): ValueMatch {
  if (o.present_match !== undefined)
    return { kind: 'present', present: bool(o.present_match, at(path, 'present_match')) };
  if (o.string_match !== undefined)
    return { kind: 'string', matcher: stringMatcher(o.string_match, at(path, 'string_match')) };
  if (legacy && o.range_match !== undefined) {
    const r = obj(o.range_match, at(path, 'range_match')) ?? {};
    return {
      kind: 'range',
      start: num(r.start, at(path, 'range_match.start')) ?? 0,
      end: num(r.end, at(path, 'range_match.end')) ?? 0,
    };
  }
  if (legacy) {
    // Deprecated members, still valid v3.
    const deprecated: Record<string, StringMatcher['kind']> = {
      exact_match: 'exact',
      prefix_match: 'prefix',
      suffix_match: 'suffix',
      contains_match: 'contains',
    };
    for (const [field, kind] of Object.entries(deprecated)) {
      const v = str(o[field], at(path, field));
      if (v !== undefined) return { kind: 'string', matcher: { kind, value: v, ignoreCase: false } };
    }
    if (o.safe_regex_match !== undefined) {
      const regex = regexMatcher(o.safe_regex_match, at(path, 'safe_regex_match'));
      return { kind: 'string', matcher: { kind: 'regex', value: regex.source, ignoreCase: false, regex } };
    }
  }
  // Nothing set: Envoy treats a header matcher without a specifier as "present".
  return { kind: 'present', present: true };
}

/** envoy.config.route.v3.HeaderMatcher */
export function headerMatcher(o: Json, path: string): HeaderMatcher {
  return {
    name: required(o.name, at(path, 'name')).toLowerCase(),
    match: valueMatch(o, path, true),
    invert: bool(o.invert_match, at(path, 'invert_match')),
    treatMissingAsEmpty: bool(o.treat_missing_header_as_empty, at(path, 'treat_missing_header_as_empty')),
  };
}

/** envoy.config.route.v3.QueryParameterMatcher */
export function queryParameterMatcher(o: Json, path: string): QueryParameterMatcher {
  return { name: required(o.name, at(path, 'name')), match: valueMatch(o, path, false) };
}

function matchValue(m: ValueMatch, value: string | undefined): boolean {
  if (m.kind === 'present') return (value !== undefined) === m.present;
  if (value === undefined) return false;
  if (m.kind === 'string') return matchString(m.matcher, value);
  if (!/^-?\d+$/.test(value)) return false;
  const n = Number(value);
  return n >= m.start && n < m.end;
}

/** Envoy's HeaderUtility::matchHeaders for one matcher; `value` is the header's values joined with ','. */
export function matchHeader(m: HeaderMatcher, value: string | undefined): boolean {
  const v = value === undefined && m.treatMissingAsEmpty ? '' : value;
  return matchValue(m.match, v) !== m.invert;
}

export function matchQueryParameter(m: QueryParameterMatcher, value: string | undefined): boolean {
  return matchValue(m.match, value);
}
