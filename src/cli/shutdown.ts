/**
 * How a long-running command (`shoal control`, `shoal up`, `shoal sidecar`, `shoal gateway`) ends: the first SIGTERM
 * or SIGINT, or a call of `trigger` (POST /quitquitquit), runs its `stop` once; the process then exits 0, or 1 with
 * the error logged when `stop` throws. A later signal calls `onRepeat` when the command has one (`shoal up` kills
 * its processes at once) and is otherwise ignored, as is a later trigger.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface Shutdown {
  /** Starts the shutdown (once) for `reason`, e.g. 'quitquitquit'. */
  trigger(reason: string): void;
  /** The shutdown has started: a command still starting up prints no ready line. */
  readonly stopping: boolean;
}

export function onShutdown(
  logger: Logger,
  stop: (reason: string) => Promise<unknown>,
  onRepeat?: (signal: string) => void,
): Shutdown {
  let stopping = false;
  const trigger = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    stop(reason).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: errorMessage(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  const signal = (name: string): void => {
    if (stopping && onRepeat !== undefined) onRepeat(name);
    else trigger(name);
  };
  process.on('SIGTERM', () => signal('SIGTERM'));
  process.on('SIGINT', () => signal('SIGINT'));
  return {
    trigger,
    get stopping() {
      return stopping;
    },
  };
}
