/**
 * `shoal logs POD | deployment/NAME [-c CONTAINER] [-f]`: prints a pod's log file that `shoal up` writes to
 * `<data-dir>/logs/<pod>.log` (the app; `-c shoal-proxy` for its sidecar). A Deployment's logs are those of its
 * oldest pod, as with kubectl. The data directory is `--data-dir`, else the one `shoal up` wrote to the client
 * config, else `.shoal`. A pod that is gone (crashed and replaced) still has its log file.
 */
import type { Command } from 'commander';
import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Deployment } from '../api/kinds/deployment.js';
import { podKind, PROXY_CONTAINER } from '../api/kinds/pod.js';
import { DEFAULT_NAMESPACE } from '../api/resource.js';
import { readClientConfig } from '../control/auth.js';
import { ShoalError } from '../core/errors.js';
import type { ApiClient } from './client.js';
import { action, addConnectionOptions, clientFrom, type ClientFlags } from './common.js';
import { parseRef } from './workload-ref.js';

interface LogsFlags extends ClientFlags {
  namespace: string;
  container?: string;
  follow?: boolean;
  dataDir?: string;
}

export function logFile(logDir: string, pod: string, container: string | undefined): string {
  return join(logDir, container === PROXY_CONTAINER ? `${pod}.${PROXY_CONTAINER}.log` : `${pod}.log`);
}

async function podOfDeployment(
  client: ApiClient,
  def: Parameters<ApiClient['get']>[0],
  ns: string,
  name: string,
): Promise<string> {
  const d = (await client.get(def, ns, name)) as Deployment;
  const selector = Object.entries(d.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = (await client.list(podKind, ns, selector || undefined)).items.filter(
    (p) => d.spec === undefined || p.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name),
  );
  if (pods.length === 0) throw new ShoalError('NotFound', `deployment "${name}" has no pods`);
  pods.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
  if (pods.length > 1) process.stderr.write(`Found ${pods.length} pods, using pod/${pods[0]!.metadata.name}\n`);
  return pods[0]!.metadata.name;
}

function print(file: string, from: number): Promise<number> {
  const size = statSync(file).size;
  if (size <= from) return Promise.resolve(from);
  return new Promise((resolvePos, reject) => {
    const stream = createReadStream(file, { start: from, end: size - 1 });
    stream.on('data', (c) => process.stdout.write(c));
    stream.on('error', reject);
    stream.on('end', () => resolvePos(size));
  });
}

async function follow(file: string, from: number): Promise<void> {
  let pos = from;
  let busy = false;
  const pump = (): void => {
    if (busy) return;
    busy = true;
    void print(file, pos)
      .then((p) => (pos = p))
      .catch(() => undefined)
      .finally(() => (busy = false));
  };
  // fs.watch reports appends at once; the timer catches what a watcher may coalesce away.
  watch(file, pump);
  setInterval(pump, 500);
  await new Promise<never>(() => undefined);
}

export function registerLogs(program: Command): void {
  addConnectionOptions(
    program
      .command('logs')
      .description('print the logs of a pod started by shoal up (or of one pod of a deployment)')
      .argument('<pod|type/name>', 'a pod name, pod/NAME or deployment/NAME')
      .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
      .option('-c, --container <name>', `the app's container (default) or ${PROXY_CONTAINER} for its sidecar`)
      .option('-f, --follow', 'keep printing as the log grows')
      .option('--data-dir <dir>', "shoal up's data directory (default: from the client config, else .shoal)"),
  ).action(
    action(async (target: string, flags: LogsFlags) => {
      const dataDir = resolve(flags.dataDir ?? readClientConfig()?.dataDir ?? '.shoal');
      const logDir = join(dataDir, 'logs');
      const ref = parseRef(target, undefined, 'pod');
      let pod = ref.name;
      if (ref.def.kind === 'Deployment') {
        pod = await podOfDeployment(clientFrom(flags), ref.def, flags.namespace, ref.name);
      } else if (ref.def.kind !== 'Pod') {
        throw new ShoalError('BadRequest', `logs: ${ref.def.plural} have no logs; use a pod or a deployment`);
      }
      const file = logFile(logDir, pod, flags.container);
      if (!existsSync(file)) {
        // No file: say whether the pod exists at all.
        const exists = await clientFrom(flags)
          .find(podKind, flags.namespace, pod)
          .catch(() => undefined);
        throw new ShoalError(
          'NotFound',
          exists ? `pod "${pod}" has no log in ${logDir} yet` : `pods "${pod}" not found (no log in ${logDir})`,
        );
      }
      const end = await print(file, 0);
      if (flags.follow) await follow(file, end);
    }),
  );
}
