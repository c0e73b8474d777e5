/**
 * Children of `shoal up` end when it ends, even by `kill -9`, which no handler of its own can catch: every process
 * the runner starts (sidecars, apps, gateways) is started through util-linux's `setpriv --pdeathsig TERM`, which asks
 * the kernel (prctl PR_SET_PDEATHSIG) to send the child SIGTERM when the thread that started it ends, and then execs
 * the command in the same process (same PID, so stopping by PID is unchanged). Node spawns from its main thread, so
 * "the thread" is `shoal up` itself. A sidecar that gets this SIGTERM drains and exits as on any SIGTERM; an app gets
 * the signal Kubernetes would send it.
 *
 * Where `setpriv` is missing (not Linux, or a minimal image without util-linux), commands start directly and a
 * `kill -9` of `shoal up` leaves them running, as before.
 */
import { spawn, type ChildProcessByStdio, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';

const found = new Map<string, string | null>();

/** The `setpriv` on a PATH (the process's by default), looked up once per PATH; null when there is none. */
export function setprivPath(pathEnv = process.env.PATH ?? ''): string | null {
  let hit = found.get(pathEnv);
  if (hit === undefined) {
    hit = null;
    for (const dir of pathEnv.split(delimiter)) {
      if (dir === '') continue;
      const candidate = join(dir, 'setpriv');
      try {
        accessSync(candidate, constants.X_OK);
        hit = candidate;
        break;
      } catch {
        // not here
      }
    }
    found.set(pathEnv, hit);
  }
  return hit;
}

/** `command args` to spawn so that the child gets SIGTERM when this process ends (see above). */
export function endWithParent(
  command: string,
  args: readonly string[],
  pathEnv?: string,
): { command: string; args: string[] } {
  const wrapper = setprivPath(pathEnv);
  if (wrapper === null) return { command, args: [...args] };
  return { command: wrapper, args: ['--pdeathsig', 'TERM', '--', command, ...args] };
}

/**
 * Starts `command args` as endWithParent() says, stdin ignored and stdout and stderr piped (the runner logs both).
 */
export function spawnEndingWithParent(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio'> = {},
): ChildProcessByStdio<null, Readable, Readable> {
  const wrapped = endWithParent(command, args);
  return spawn(wrapped.command, wrapped.args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
}
