/**
 * `shoal rollout restart deployment/NAME`: sets the pod template annotation `kubectl.kubernetes.io/restartedAt`,
 * as kubectl does, so the Deployment rolls out new pods (surge one, wait until ready, drain and stop one old).
 * `shoal rollout status deployment/NAME` waits until the rollout is complete.
 */
import type { Command } from 'commander';
import type { Deployment } from '../api/kinds/deployment.js';
import { DEFAULT_NAMESPACE } from '../api/resource.js';
import { ShoalError } from '../core/errors.js';
import { rfc3339 } from '../store/object-rules.js';
import { action, addConnectionOptions, clientFrom, type ClientFlags } from './common.js';
import { typeName } from './output.js';
import { parseRef, requireDeployment } from './workload-ref.js';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

interface RolloutFlags extends ClientFlags {
  namespace: string;
  timeout?: string;
}

/** Kubernetes' rollout-status message, or undefined when the rollout is complete. */
export function rolloutProgress(d: Deployment): string | undefined {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const name = d.metadata.name;
  if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 1)) {
    return `Waiting for deployment "${name}" spec update to be observed...`;
  }
  const updated = s.updatedReplicas ?? 0;
  if (updated < desired) {
    return `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...`;
  }
  if ((s.replicas ?? 0) > updated) {
    return `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...`;
  }
  if ((s.availableReplicas ?? 0) < updated) {
    return `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...`;
  }
  return undefined;
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 300_000;
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (!m) throw new ShoalError('BadRequest', `--timeout ${text}: expected a duration such as 90s or 5m`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('manage the rollout of a Deployment');
  addConnectionOptions(
    rollout
      .command('restart')
      .description('restart every pod of a Deployment, one at a time, without dropping requests')
      .argument('<resource>', 'deployment/NAME, or deployment NAME')
      .argument('[name]')
      .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE),
  ).action(
    action(async (resource: string, name: string | undefined, flags: RolloutFlags) => {
      const ref = parseRef(resource, name);
      requireDeployment(ref, 'rollout restart');
      const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: rfc3339(new Date()) } } } } };
      await clientFrom(flags).patch(ref.def, flags.namespace, ref.name, patch);
      process.stdout.write(`${typeName(ref.def)}/${ref.name} restarted\n`);
    }),
  );
  addConnectionOptions(
    rollout
      .command('status')
      .description('wait until the rollout of a Deployment is complete')
      .argument('<resource>', 'deployment/NAME, or deployment NAME')
      .argument('[name]')
      .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
      .option('--timeout <duration>', 'give up after this long (default 5m)'),
  ).action(
    action(async (resource: string, name: string | undefined, flags: RolloutFlags) => {
      const ref = parseRef(resource, name);
      requireDeployment(ref, 'rollout status');
      const deadline = Date.now() + parseTimeout(flags.timeout);
      const client = clientFrom(flags);
      let last = '';
      for (;;) {
        const d = (await client.get(ref.def, flags.namespace, ref.name)) as Deployment;
        const progress = rolloutProgress(d);
        if (progress === undefined) break;
        if (progress !== last) process.stdout.write(progress + '\n');
        last = progress;
        if (Date.now() > deadline) throw new ShoalError('Timeout', `timed out waiting for the rollout of ${ref.name}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      process.stdout.write(`deployment "${ref.name}" successfully rolled out\n`);
    }),
  );
}
