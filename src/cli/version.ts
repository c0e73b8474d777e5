/** `shoal version`: the client's version and, when reachable, the server's. */
import type { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { errorMessage } from '../core/errors.js';
import { addConnectionOptions, clientFrom, type ClientFlags } from './common.js';

export function registerVersion(program: Command): void {
  addConnectionOptions(
    program
      .command('version')
      .description("print the client's and the server's version")
      .option('--client', 'client version only'),
  ).action(async (flags: ClientFlags & { client?: boolean }) => {
    process.stdout.write(`Client Version: ${VERSION}\n`);
    if (flags.client) return;
    try {
      const v = await clientFrom(flags).request<{ shoalVersion: string }>('GET', '/version');
      process.stdout.write(`Server Version: ${v.shoalVersion}\n`);
    } catch (err) {
      process.stdout.write(`Server Version: unavailable (${errorMessage(err)})\n`);
    }
  });
}
