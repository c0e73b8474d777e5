/** `shoal scale deployment/NAME --replicas N`: PATCHes spec.replicas, as `kubectl scale` does; `shoal up` follows. */
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../api/resource.js';
import { action, addConnectionOptions, clientFrom, type ClientFlags } from './common.js';
import { typeName } from './output.js';
import { parseRef, requireDeployment } from './workload-ref.js';

interface ScaleFlags extends ClientFlags {
  replicas: number;
  namespace: string;
}

function parseReplicas(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 2 ** 31 - 1) {
    throw new InvalidArgumentError('expected a whole number of replicas (0 or more)');
  }
  return Number(value);
}

export function registerScale(program: Command): void {
  addConnectionOptions(
    program
      .command('scale')
      .description('set the number of replicas of a Deployment')
      .argument('<resource>', 'deployment/NAME, or deployment NAME')
      .argument('[name]')
      .requiredOption('--replicas <n>', 'the new number of replicas', parseReplicas)
      .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE),
  ).action(
    action(async (resource: string, name: string | undefined, flags: ScaleFlags) => {
      const ref = parseRef(resource, name);
      requireDeployment(ref, 'scale');
      await clientFrom(flags).patch(ref.def, flags.namespace, ref.name, { spec: { replicas: flags.replicas } });
      process.stdout.write(`${typeName(ref.def)}/${ref.name} scaled\n`);
    }),
  );
}
