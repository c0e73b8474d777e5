/** Printing for the CLI: kubectl-like tables, ages, YAML/JSON, and resource names like `virtualservice.networking.istio.io/reviews`. */
import { stringify as toYaml } from 'yaml';
import type { KindDefinition } from '../api/kind.js';
import type { Resource } from '../api/resource.js';

/** `virtualservice.networking.istio.io`, `service`, `deployment.apps`. */
export function typeName(def: KindDefinition): string {
  return def.group === '' ? def.singular : `${def.singular}.${def.group}`;
}

/** `virtualservices.networking.istio.io` (the way Kubernetes names a resource in errors). */
export function pluralTypeName(def: KindDefinition): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

export function formatAge(created: string | undefined, now = Date.now()): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 > 0 && h < 8 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d`;
}

export function renderTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function objectsTable(
  def: KindDefinition,
  items: readonly Resource[],
  opts: { allNamespaces: boolean; wide: boolean },
): string {
  const columns = (def.columns ?? []).filter((c) => opts.wide || !c.wide);
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'NAME', ...columns.map((c) => c.header), 'AGE'];
  const rows = items.map((o) => [
    ...(opts.allNamespaces ? [o.metadata.namespace ?? ''] : []),
    o.metadata.name,
    ...columns.map((c) => c.value(o)),
    formatAge(o.metadata.creationTimestamp),
  ]);
  return renderTable([header, ...rows]);
}

export function toYamlText(value: unknown): string {
  return toYaml(value, { lineWidth: 0 });
}
