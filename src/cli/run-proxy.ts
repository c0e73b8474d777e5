/**
 * What `shoal sidecar` and `shoal gateway` do once their proxy is built: shut down gracefully on SIGTERM, SIGINT or
 * POST /quitquitquit (exit 0), start the admin servers and print where they listen, then print the ready line once
 * the listeners are bound.
 */
import type { Command } from 'commander';
import { createLogger, type Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import type { BoundListener } from '../proxy/listener/listener-manager.js';
import type { Sidecar } from '../proxy/sidecar.js';
import { parseControlAddresses } from '../proxy/xds-client/node.js';
import { parseLogFormat, parsePort, parsePositiveSeconds, parseSeconds, parseXdsMode } from './flags.js';
import { onShutdown } from './shutdown.js';

/** The flags `shoal sidecar` and `shoal gateway` share after their own: shutdown, limits, xDS and logging. */
export function proxyOptions(command: Command): void {
  command
    .option('--admin-port <port>', 'admin port (loopback only)', parsePort, 15000)
    .option('--stats-port <port>', 'Prometheus port', parsePort, 15090)
    .option('--health-port <port>', '/healthz/ready port', parsePort, 15021)
    .option('--termination-drain-duration <seconds>', 'then wait this long for requests in flight', parseSeconds, 10)
    .option(
      '--headers-timeout <seconds>',
      'close a downstream connection whose request headers are not complete in this time',
      parsePositiveSeconds,
      10,
    )
    .option(
      '--xds-mode <mode>',
      'ADS protocol: auto (delta, else state of the world), delta or sotw',
      parseXdsMode,
      'auto',
    )
    .option('--access-log', 'log every request (failed requests are always logged)', false)
    .option('--log-format <format>', 'json or text', parseLogFormat, 'json');
}

/**
 * What both commands read from their flags before building the proxy: the logger, the control-plane addresses (a
 * bad list exits 2 with one line), and where the admin server listens (the proxy's own address when it is a
 * loopback address, else 127.0.0.1: admin stays on loopback).
 */
export function proxySetup(
  command: 'sidecar' | 'gateway',
  flags: { logFormat: 'json' | 'text'; workload: string; control: string },
  address: string,
): { logger: Logger; control: string[]; adminHost: string } {
  const logger = createLogger({ format: flags.logFormat }).child({ component: command, workload: flags.workload });
  const control = parseControlAddresses(flags.control);
  if (!control.ok) {
    process.stderr.write(`shoal ${command}: ${control.error}\n`);
    process.exit(2);
  }
  const loopback = address.startsWith('127.') || address === '::1';
  return { logger, control: control.value, adminHost: loopback ? address : '127.0.0.1' };
}

export async function runProxy(
  proxy: Sidecar,
  command: 'sidecar' | 'gateway',
  logger: Logger,
  describe: (listener: BoundListener) => string,
): Promise<void> {
  const shutdown = onShutdown(logger, (reason) => {
    logger.info({ reason }, 'shutting down');
    return proxy.stop();
  });
  proxy.onQuit(() => shutdown.trigger('quitquitquit'));
  let addresses;
  try {
    addresses = await proxy.start();
  } catch (err) {
    process.stderr.write(`shoal ${command}: ${errorMessage(err)}\n`);
    process.exit(2);
  }
  process.stdout.write(
    `shoal ${command}: admin ${addresses.admin ?? '-'} health ${addresses.health ?? '-'} stats ${addresses.stats ?? '-'}\n`,
  );
  await proxy.whenReady();
  if (shutdown.stopping) return;
  process.stdout.write(`shoal ${command}: ready ${[...proxy.listeners.listeners()].map(describe).join(' ')}\n`);
}
