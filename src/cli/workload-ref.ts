/** `deployment/web`, `deploy web`, `pod/web-x`: the object references scale, rollout and logs take, kubectl-style. */
import type { KindDefinition } from '../api/kind.js';
import { ShoalError } from '../core/errors.js';
import { resolveKind } from './get.js';

export interface WorkloadRef {
  def: KindDefinition;
  name: string;
}

/** Parses `TYPE/NAME` or `TYPE NAME`; `defaultKind` applies to a bare NAME when given. */
export function parseRef(first: string, second: string | undefined, defaultKind?: string): WorkloadRef {
  const slash = first.indexOf('/');
  if (slash >= 0) {
    if (second !== undefined) throw new ShoalError('BadRequest', `there is no need to give a name after ${first}`);
    const name = first.slice(slash + 1);
    if (name === '') throw new ShoalError('BadRequest', `${first}: the name is missing (TYPE/NAME)`);
    return { def: resolveKind(first.slice(0, slash)), name };
  }
  if (second !== undefined) return { def: resolveKind(first), name: second };
  if (defaultKind !== undefined) return { def: resolveKind(defaultKind), name: first };
  throw new ShoalError('BadRequest', `${first}: expected TYPE/NAME, e.g. deployment/${first}`);
}

/** Only Deployments can be scaled or restarted here. */
export function requireDeployment(ref: WorkloadRef, verb: string): void {
  if (ref.def.kind !== 'Deployment') {
    throw new ShoalError('BadRequest', `${verb}: ${ref.def.plural} are not supported, only deployments`);
  }
}
