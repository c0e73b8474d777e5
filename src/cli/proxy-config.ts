/**
 * `shoal proxy-config <clusters|listeners|routes|endpoints|all> <proxy-id> [-o json|yaml]`: what the control plane
 * sends that proxy, as istioctl proxy-config shows it, to answer "why did this request go there?".
 */
import type { Command } from 'commander';
import { ShoalError } from '../core/errors.js';
import { action, addConnectionOptions, clientFrom, type ClientFlags } from './common.js';
import { renderTable, toYamlText } from './output.js';

/** Decoded Envoy JSON. */
type Json = Record<string, unknown>;

interface ConfigDump {
  proxyId: string;
  version: string;
  warnings: string[];
  configs: Record<string, { name: string; version: string; resource: Json }[]>;
}

const SECTIONS: Record<string, { type: string; table: (items: Json[]) => string[][] }> = {
  clusters: { type: 'CDS', table: clustersTable },
  listeners: { type: 'LDS', table: listenersTable },
  routes: { type: 'RDS', table: routesTable },
  endpoints: { type: 'EDS', table: endpointsTable },
};

export function registerProxyConfig(program: Command): void {
  addConnectionOptions(
    program
      .command('proxy-config')
      .description('the configuration the control plane sends one proxy: clusters, listeners, routes, endpoints, all')
      .argument('<section>', Object.keys(SECTIONS).join('|') + '|all')
      .argument('<proxy-id>', 'as listed by shoal proxy-status')
      .option('-o, --output <format>', 'json or yaml for the full Envoy objects'),
  ).action(
    action(async (section: string, proxyId: string, flags: ClientFlags & { output?: string }) => {
      if (section !== 'all' && !SECTIONS[section]) {
        throw new ShoalError(
          'BadRequest',
          `unknown section "${section}": expected ${Object.keys(SECTIONS).join(', ')} or all`,
        );
      }
      const dump = await clientFrom(flags).request<ConfigDump>(
        'GET',
        `/debug/config_dump?proxyID=${encodeURIComponent(proxyId)}`,
      );
      const names = section === 'all' ? Object.keys(SECTIONS) : [section];
      if (flags.output === 'json' || flags.output === 'yaml') {
        const out = Object.fromEntries(
          names.map((n) => [n, (dump.configs[SECTIONS[n]!.type] ?? []).map((r) => r.resource)]),
        );
        const doc = section === 'all' ? out : out[section];
        process.stdout.write(flags.output === 'json' ? JSON.stringify(doc, null, 2) + '\n' : toYamlText(doc));
        return;
      }
      for (const n of names) {
        const s = SECTIONS[n]!;
        if (names.length > 1) process.stdout.write(`\n${n.toUpperCase()}\n`);
        process.stdout.write(renderTable(s.table((dump.configs[s.type] ?? []).map((r) => r.resource))));
      }
      for (const w of dump.warnings) process.stderr.write(`warning: ${w}\n`);
    }),
  );
}

/** `at(o, 'a', 0, 'b')`: a value deep in decoded JSON, or undefined. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

function text(value: unknown, fallback = '-'): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function clustersTable(items: Json[]): string[][] {
  const rows = [['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'LB POLICY']];
  for (const c of items) {
    const [direction, port, subset, fqdn] = text(c.name).split('|');
    rows.push([
      fqdn || '-',
      port ?? '-',
      subset || '-',
      direction ?? '-',
      text(c.type, 'STATIC'),
      text(c.lb_policy, 'ROUND_ROBIN'),
    ]);
  }
  return rows;
}

function listenersTable(items: Json[]): string[][] {
  const rows = [['NAME', 'ADDRESS', 'PORT', 'TYPE', 'ROUTE CONFIG']];
  for (const l of items) {
    const hcm = at(l, 'api_listener', 'api_listener') ?? at(l, 'filter_chains', 0, 'filters', 0, 'typed_config');
    rows.push([
      text(l.name),
      text(at(l, 'address', 'socket_address', 'address')),
      text(at(l, 'address', 'socket_address', 'port_value')),
      l.api_listener ? 'gRPC (api listener)' : 'HTTP',
      text(at(hcm, 'rds', 'route_config_name') ?? at(hcm, 'route_config', 'name')),
    ]);
  }
  return rows;
}

function routesTable(items: Json[]): string[][] {
  const rows = [['NAME', 'VHOST', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE']];
  for (const rc of items) {
    for (const vh of list(rc.virtual_hosts)) {
      const domains = list(at(vh, 'domains')).map((d) => text(d));
      const shown = domains.length > 2 ? `${domains[0]} + ${domains.length - 1} more` : domains.join(', ');
      for (const r of list(at(vh, 'routes'))) {
        const path = at(r, 'match', 'path');
        const prefix = at(r, 'match', 'prefix');
        const regex = at(r, 'match', 'safe_regex', 'regex');
        const match =
          path !== undefined
            ? text(path)
            : prefix !== undefined
              ? `${text(prefix)}*`
              : regex !== undefined
                ? `~${text(regex)}`
                : '/*';
        // filter_metadata.istio.config = /apis/networking.istio.io/v1/namespaces/<ns>/virtual-service/<name>, a
        // google.protobuf.Struct as the config dump decodes it ({fields: {config: {stringValue}}})
        const istio = at(r, 'metadata', 'filter_metadata', 'istio');
        const cfg = text(at(istio, 'config') ?? at(istio, 'fields', 'config', 'stringValue'), '');
        const parts = cfg.split('/');
        const vs = cfg ? `${parts[parts.length - 1]}.${parts[parts.length - 3]}` : '-';
        rows.push([text(rc.name), text(at(vh, 'name')), shown, match, vs]);
      }
    }
  }
  return rows;
}

function endpointsTable(items: Json[]): string[][] {
  const rows = [['ENDPOINT', 'STATUS', 'WEIGHT', 'LOCALITY', 'CLUSTER']];
  for (const cla of items) {
    for (const group of list(cla.endpoints)) {
      const locality =
        ['region', 'zone', 'sub_zone']
          .map((k) => text(at(group, 'locality', k), ''))
          .filter((p) => p)
          .join('/') || '-';
      for (const e of list(at(group, 'lb_endpoints'))) {
        const sock = at(e, 'endpoint', 'address', 'socket_address');
        const weight = at(e, 'load_balancing_weight');
        rows.push([
          `${text(at(sock, 'address'))}:${text(at(sock, 'port_value'))}`,
          text(at(e, 'health_status'), 'UNKNOWN'),
          text(at(weight, 'value') ?? weight, '1'),
          locality,
          text(cla.cluster_name),
        ]);
      }
    }
  }
  return rows;
}
