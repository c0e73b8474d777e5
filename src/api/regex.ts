/** Istio's regular expressions (RE2 syntax) compiled with JavaScript's RegExp. No zod here: the sidecar uses it. */

/**
 * Compiles an RE2-style pattern with JavaScript's RegExp, translating the common RE2-only spellings
 * (a leading `(?i)` flag group, `(?P<name>`). Returns the error text when it does not compile.
 * Istio's regexes match the whole string: callers that match should anchor with `^(?:...)$`.
 */
export function compileRegex(pattern: string, anchored = false): RegExp | string {
  let source = pattern.replace(/\(\?P</g, '(?<');
  let flags = '';
  const flagGroup = /^\(\?([ims]+)\)/.exec(source);
  if (flagGroup) {
    flags = flagGroup[1]!.replace('m', '');
    source = source.slice(flagGroup[0].length);
  }
  try {
    return new RegExp(anchored ? `^(?:${source})$` : source, flags);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
