/**
 * `shoal up -f FILE|DIR`: a control plane, every document applied, and every Deployment's replicas run as local
 * processes, each pod with its own address and sidecar (src/runner/, docs/runner.md). SIGTERM/SIGINT stop the
 * gateways and the apps, then the sidecars, then the control plane, and exit 0; a second signal kills what is left
 * at once.
 */
import type { Command } from 'commander';
import { writeClientConfig } from '../control/auth.js';
import { ShoalError, errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { RunnerOptions } from '../runner/runner.js';
import { parseLogFormat, parsePort } from './flags.js';
import { onShutdown } from './shutdown.js';

/** The runner's own options as flags, plus the files and the log format (the rest is filled in by the command). */
type UpFlags = Omit<RunnerOptions, 'paths' | 'logger' | 'out' | 'tty' | 'writeClientConfig'> & {
  filename: string[];
  logFormat: 'json' | 'text';
};

export function registerUp(program: Command): void {
  program
    .command('up')
    .description("run a control plane and every Deployment's replicas as local processes, each with its own sidecar")
    .requiredOption('-f, --filename <path...>', 'manifest file or directory (repeatable)')
    .option('--data-dir <dir>', 'the store, tokens and pod logs (<dir>/logs)', '.shoal')
    .option('--server <url>', 'use this control plane instead of starting one')
    .option('--token <token>', 'bearer token for --server')
    .option('--xds <host:port>', 'xDS address of --server (default: its host, port 15010)')
    .option('--host <address>', "the control plane's address", '127.0.0.1')
    .option('--http-port <n>', 'HTTP API, /metrics, dashboard', parsePort, 15014)
    .option('--xds-port <n>', 'xDS over plaintext gRPC', parsePort, 15010)
    .option('--dns-port <n>', 'DNS over UDP and TCP', parsePort, 15053)
    .option('--pod-cidr <cidr>', 'where pod addresses come from', '127.1.0.0/16')
    .option('--service-cidr <cidr>', 'where Service virtual IPs come from', '127.2.0.0/16')
    .option('--log-format <format>', 'json or text', parseLogFormat, 'json')
    .action(async (flags: UpFlags) => {
      // On a terminal the live view owns the screen: info records (pod started, ...) would break its redraws.
      const interactive = process.stdout.isTTY && process.stderr.isTTY;
      const logger = createLogger({ format: flags.logFormat, name: 'shoal-up', level: interactive ? 'warn' : 'info' });
      const { Runner } = await import('../runner/runner.js');
      const runner = new Runner({
        paths: flags.filename,
        dataDir: flags.dataDir,
        ...(flags.server !== undefined ? { server: flags.server } : {}),
        ...(flags.token !== undefined ? { token: flags.token } : {}),
        ...(flags.xds !== undefined ? { xds: flags.xds } : {}),
        host: flags.host,
        httpPort: flags.httpPort,
        xdsPort: flags.xdsPort,
        dnsPort: flags.dnsPort,
        podCidr: flags.podCidr,
        serviceCidr: flags.serviceCidr,
        logger,
        out: process.stdout,
        tty: process.stdout.isTTY,
        writeClientConfig: (config) => writeClientConfig(config),
      });
      let started: Promise<void> = Promise.resolve();
      onShutdown(
        logger,
        async (signal) => {
          logger.info({ signal }, 'stopping: gateways, apps, sidecars, then the control plane');
          process.stdout.write(`shoal up: stopping (${signal})\n`);
          await started.catch(() => undefined);
          await runner.stop();
          process.stdout.write('shoal up: stopped\n');
        },
        (signal) => {
          logger.warn({ signal }, 'second signal: killing every process at once');
          for (const pid of runner.pids()) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          process.exit(130);
        },
      );
      try {
        started = runner.start();
        await started;
      } catch (err) {
        if (err instanceof ShoalError && (err.reason === 'Invalid' || err.reason === 'BadRequest')) {
          for (const line of err.message.split('\n')) process.stderr.write(`error: ${line}\n`);
        } else process.stderr.write(`shoal up: ${errorMessage(err)}\n`);
        await runner.stop().catch(() => undefined);
        process.exit(err instanceof ShoalError && err.reason === 'Invalid' ? 1 : 2);
      }
    });
}
