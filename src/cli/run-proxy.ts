/**
 * What `shoal sidecar` and `shoal gateway` do once their proxy is built: shut down gracefully on SIGTERM, SIGINT or
 * POST /quitquitquit (exit 0), start the admin servers and print where they listen, then print the ready line once
 * the listeners are bound.
 */
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import type { BoundListener } from '../proxy/listener/listener-manager.js';
import type { Sidecar } from '../proxy/sidecar.js';

export async function runProxy(
  proxy: Sidecar,
  command: 'sidecar' | 'gateway',
  logger: Logger,
  describe: (listener: BoundListener) => string,
): Promise<void> {
  let exiting = false;
  const shutdown = (reason: string): void => {
    if (exiting) return;
    exiting = true;
    logger.info({ reason }, 'shutting down');
    proxy.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: errorMessage(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  proxy.onQuit(() => shutdown('quitquitquit'));
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
  if (exiting) return;
  process.stdout.write(`shoal ${command}: ready ${[...proxy.listeners.listeners()].map(describe).join(' ')}\n`);
}
