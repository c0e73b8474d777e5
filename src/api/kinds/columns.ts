/** Helpers for KindDefinition.columns: read fields of an object that has not been narrowed to its kind. */

/** Reads `obj.a.b` from an unknown value; undefined when any step is missing. */
export function pick(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

/** A column value: lists joined with ",", label maps as `k=v,k=v`, scalars as text, absent as "". */
export function columnText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => columnText(v)).join(',');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  const entries = Object.entries(value);
  if (entries.every(([, v]) => typeof v === 'string')) return entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
  return JSON.stringify(value) ?? '';
}

/** A column that shows one field of spec or status. */
export function fieldColumn(
  header: string,
  root: 'spec' | 'status',
  path: (string | number)[],
  wide = false,
): { header: string; wide?: boolean; value: (obj: { spec?: unknown; status?: unknown }) => string } {
  return { header, ...(wide ? { wide } : {}), value: (obj) => columnText(pick(obj[root], ...path)) };
}
