/** What every client command shares: connection flags, the error printer and the exit path. */
import type { Command } from 'commander';
import { ShoalError, errorMessage } from '../core/errors.js';
import { ApiClient } from './client.js';

export interface ClientFlags {
  server?: string;
  token?: string;
}

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--server <url>',
      'control plane HTTP API (default: $SHOAL_SERVER, the client config, http://127.0.0.1:15014)',
    )
    .option('--token <token>', 'bearer token for writes (default: $SHOAL_TOKEN, the client config)');
}

export function clientFrom(flags: ClientFlags): ApiClient {
  return new ApiClient({ server: flags.server, token: flags.token });
}

/** kubectl-style: `Error from server (NotFound): ...`, and one line per field cause. */
export function formatError(err: unknown): string {
  if (err instanceof ShoalError) {
    const head =
      err.reason === 'ServiceUnavailable' && err.message.startsWith('unable to connect')
        ? `error: ${err.message}`
        : `Error from server (${err.reason}): ${err.message}`;
    const causes = err.details.causes ?? [];
    if (err.reason === 'Invalid' && causes.length > 0) {
      const name = err.details.name ?? '';
      return [
        `Error from server (Invalid): ${err.details.kind ?? ''} "${name}" is invalid:`,
        ...causes.map((c) => `  ${c.field}: ${c.message}`),
      ].join('\n');
    }
    return head;
  }
  return `error: ${errorMessage(err)}`;
}

/** Runs a command body; prints errors the CLI way and sets the exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(formatError(err) + '\n');
      process.exitCode = 1;
    }
  };
}
