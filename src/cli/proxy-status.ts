/**
 * `shoal proxy-status [PROXY-ID]`: every connected proxy and, per xDS type, whether it has ACKed what was last sent
 * (SYNCED), not yet (STALE), or rejected it (NACKED, with the proxy's error). istioctl proxy-status's columns.
 */
import type { Command } from 'commander';
import type { SyncStatus } from '../control/debug.js';
import { ShoalError } from '../core/errors.js';
import { action, addConnectionOptions, clientFrom, type ClientFlags } from './common.js';
import { renderTable } from './output.js';

const TYPES = ['CDS', 'LDS', 'EDS', 'RDS'] as const;

export function registerProxyStatus(program: Command): void {
  addConnectionOptions(
    program
      .command('proxy-status')
      .description('xDS sync state of every connected proxy (SYNCED, STALE, NACKED)')
      .argument('[proxy-id]', 'one proxy, with the error of any NACK')
      .option('-o, --output <format>', 'json for the raw status'),
  ).action(
    action(async (proxyId: string | undefined, flags: ClientFlags & { output?: string }) => {
      const all = await clientFrom(flags).request<SyncStatus[]>('GET', '/debug/syncz');
      const rows = proxyId === undefined ? all : all.filter((s) => s.proxyId === proxyId);
      if (proxyId !== undefined && rows.length === 0)
        throw new ShoalError('NotFound', `proxy "${proxyId}" is not connected`);
      if (flags.output === 'json') {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      if (rows.length === 0) {
        process.stderr.write('No proxies connected.\n');
        return;
      }
      const table = [['NAME', 'NAMESPACE', ...TYPES, 'PROTOCOL', 'AGENT']];
      for (const s of rows) {
        const cell = (t: string): string => {
          const st = s.types.find((x) => x.type === t);
          return st === undefined ? 'NOT SENT' : st.status.replace('NOT_SENT', 'NOT SENT');
        };
        table.push([s.proxyId, s.namespace ?? '', ...TYPES.map(cell), s.protocol, s.userAgent ?? '']);
      }
      process.stdout.write(renderTable(table));
      if (proxyId !== undefined) {
        for (const t of rows[0]!.types) {
          const detail = `${t.type}: ${t.status} sent=${t.sent ?? '-'} acked=${t.acked ?? '-'}`;
          process.stdout.write(`${detail}${t.error ? ` error: ${t.error}` : ''}\n`);
        }
      }
    }),
  );
}
