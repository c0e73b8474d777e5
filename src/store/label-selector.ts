/**
 * Kubernetes label selectors: the string form used by `?labelSelector=` and `-l`
 * (`app=web,tier!=db,env in (a,b),!legacy,version`) and the structured form used in specs
 * (`matchLabels` / `matchExpressions`). Both compile to one LabelSelector.
 */
import { ShoalError } from '../core/errors.js';
import { labelKeyProblem, labelValueProblem } from '../api/resource.js';

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

/** Parses the string form; throws ShoalError BadRequest naming the bad term and why. */
export function parseLabelSelector(text: string): LabelSelector {
  const requirements: Requirement[] = [];
  if (text.trim() === '') return { requirements };
  for (const raw of splitTerms(text.trim())) {
    const term = raw.trim();
    const bad = (why: string): ShoalError =>
      new ShoalError('BadRequest', `unable to parse labelSelector "${text}": term "${term}": ${why}`);
    if (term === '') throw bad('empty term');
    const checkKey = (key: string): string => {
      const problem = labelKeyProblem(key);
      if (problem) throw bad(problem);
      return key;
    };
    const checkValue = (value: string): string => {
      const problem = labelValueProblem(value);
      if (problem) throw bad(problem);
      return value;
    };
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^!\s*(\S+)$/))) {
      requirements.push({ key: checkKey(m[1]!), op: 'DoesNotExist' });
    } else if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/))) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
        .map(checkValue);
      if (values.length === 0) throw bad(`values for "${m[2]}" must not be empty`);
      requirements.push({ key: checkKey(m[1]!), op: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = term.match(/^([^!=\s()]+)\s*(==|=|!=)\s*([^\s()]*)$/))) {
      requirements.push({ key: checkKey(m[1]!), op: m[2] === '!=' ? 'NotIn' : 'In', values: [checkValue(m[3]!)] });
    } else if (/^[^\s!=(),]+$/.test(term)) {
      requirements.push({ key: checkKey(term), op: 'Exists' });
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
