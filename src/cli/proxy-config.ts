/**
 * `shoal proxy-config <clusters|listeners|routes|endpoints|all> <proxy-id> [-o json|yaml]`: what the control plane
 * sends that proxy, as istioctl proxy-config shows it, to answer "why did this request go there?".
 */
import type { Command } from 'commander';
import { ShoalError } from '../core/errors.js';
import { action, addConnectionOptions, clientFrom, type ClientFlags } from './common.js';
import { renderTable, toYamlText } from './output.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- decoded Envoy JSON

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

function clustersTable(items: Json[]): string[][] {
  const rows = [['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'LB POLICY']];
  for (const c of items) {
    const [direction, port, subset, fqdn] = String(c.name).split('|');
    rows.push([
      fqdn || '-',
      port ?? '-',
      subset || '-',
      direction ?? '-',
      String(c.type ?? 'STATIC'),
      String(c.lb_policy ?? 'ROUND_ROBIN'),
    ]);
  }
  return rows;
}

function listenersTable(items: Json[]): string[][] {
  const rows = [['NAME', 'ADDRESS', 'PORT', 'TYPE', 'ROUTE CONFIG']];
  for (const l of items) {
    const sock = l.address?.socket_address ?? {};
    const hcm = l.api_listener?.api_listener ?? l.filter_chains?.[0]?.filters?.[0]?.typed_config ?? {};
    rows.push([
      String(l.name),
      String(sock.address ?? '-'),
      String(sock.port_value ?? '-'),
      l.api_listener ? 'gRPC (api listener)' : 'HTTP',
      String(hcm.rds?.route_config_name ?? hcm.route_config?.name ?? '-'),
    ]);
  }
  return rows;
}

function routesTable(items: Json[]): string[][] {
  const rows = [['NAME', 'VHOST', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE']];
  for (const rc of items) {
    for (const vh of (rc.virtual_hosts ?? []) as Json[]) {
      const domains = (vh.domains ?? []) as string[];
      const shown = domains.length > 2 ? `${domains[0]} + ${domains.length - 1} more` : domains.join(', ');
      for (const r of (vh.routes ?? []) as Json[]) {
        const m = r.match ?? {};
        const match =
          m.path ?? (m.prefix !== undefined ? `${m.prefix}*` : m.safe_regex?.regex ? `~${m.safe_regex.regex}` : '/*');
        const cfg =
          r.metadata?.filter_metadata?.istio?.config ??
          r.metadata?.filter_metadata?.istio?.fields?.config?.string_value;
        const vs = typeof cfg === 'string' ? cfg.split('/').slice(-1)[0] + '.' + cfg.split('/').slice(-3)[0] : '-';
        rows.push([String(rc.name), String(vh.name), shown, String(match), vs]);
      }
    }
  }
  return rows;
}

function endpointsTable(items: Json[]): string[][] {
  const rows = [['ENDPOINT', 'STATUS', 'WEIGHT', 'LOCALITY', 'CLUSTER']];
  for (const cla of items) {
    for (const group of (cla.endpoints ?? []) as Json[]) {
      const loc = group.locality ?? {};
      const locality = [loc.region, loc.zone, loc.sub_zone].filter((p: unknown) => p).join('/') || '-';
      for (const e of (group.lb_endpoints ?? []) as Json[]) {
        const sock = e.endpoint?.address?.socket_address ?? {};
        rows.push([
          `${sock.address}:${sock.port_value}`,
          String(e.health_status ?? 'UNKNOWN'),
          String(e.load_balancing_weight?.value ?? e.load_balancing_weight ?? 1),
          locality,
          String(cla.cluster_name),
        ]);
      }
    }
  }
  return rows;
}
