/**
 * Kubernetes label selectors: the string form used by `?labelSelector=` and `-l`
 * (`app=web,tier!=db,env in (a,b),!legacy,version`) and the structured form used in specs
 * (`matchLabels` / `matchExpressions`). Both compile to one LabelSelector.
 */
import { ShoalError } from '../core/errors.js';

export type Requirement =
  { key: string; op: 'In' | 'NotIn'; values: readonly string[] } | { key: string; op: 'Exists' | 'DoesNotExist' };

export interface LabelSelector {
  requirements: readonly Requirement[];
}

export const EVERYTHING: LabelSelector = { requirements: [] };

export function matches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const r of selector.requirements) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      case 'In':
        if (!has || !r.values.includes(l[r.key]!)) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(l[r.key]!)) return false;
        break;
    }
  }
  return true;
}

/** `{app: 'web'}` -> app=web. An empty map selects everything. */
export function fromMatchLabels(matchLabels: Record<string, string> | undefined): LabelSelector {
  return {
    requirements: Object.entries(matchLabels ?? {}).map(([key, v]) => ({ key, op: 'In' as const, values: [v] })),
  };
}

const KEY = /^[A-Za-z0-9][-A-Za-z0-9_./]*$/;
const VALUE = /^[-A-Za-z0-9_.]*$/;

/** Parses the string form; throws ShoalError BadRequest naming the bad term. */
export function parseLabelSelector(text: string): LabelSelector {
  const requirements: Requirement[] = [];
  const terms = splitTerms(text.trim());
  for (const raw of terms) {
    const term = raw.trim();
    if (term === '') continue;
    const bad = (why: string): ShoalError =>
      new ShoalError('BadRequest', `unable to parse labelSelector "${text}": ${why} in "${term}"`);
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^!\s*(\S+)$/))) {
      if (!KEY.test(m[1]!)) throw bad('invalid key');
      requirements.push({ key: m[1]!, op: 'DoesNotExist' });
    } else if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (!KEY.test(m[1]!) || values.some((v) => !VALUE.test(v))) throw bad('invalid key or value');
      requirements.push({ key: m[1]!, op: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = term.match(/^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      if (!KEY.test(m[1]!) || !VALUE.test(m[3]!)) throw bad('invalid key or value');
      requirements.push({ key: m[1]!, op: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]!] });
    } else if (KEY.test(term)) {
      requirements.push({ key: term, op: 'Exists' });
    } else {
      throw bad('unexpected term');
    }
  }
  return { requirements };
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export function formatLabelSelector(selector: LabelSelector): string {
  return selector.requirements
    .map((r) => {
      switch (r.op) {
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'In':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
      }
    })
    .join(',');
}
