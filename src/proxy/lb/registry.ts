/**
 * Load-balancing policies by name, grpc-js style. Names are Envoy's load-balancing extension names
 * (`envoy.extensions.load_balancing_policies.<name>`): round_robin, least_request, random, ring_hash, maglev; the
 * legacy Cluster.lb_policy enum names (ROUND_ROBIN, ...) are accepted as aliases. A cluster configures its policy
 * once per Cluster resource (`configureLoadBalancer`; an error means NACK), then builds a new Picker from it on
 * every host-set change. The five policies are registered when this module loads.
 */
import { err, ok, type Result } from '../../core/result.js';
import type { HostSet } from './host-set.js';
import { leastRequest } from './least-request.js';
import { maglev } from './maglev.js';
import { random } from './random.js';
import { ringHash } from './ring-hash.js';
import { roundRobin } from './round-robin.js';
import type { BuildOptions, LoadBalancerFactory, Picker } from './types.js';

/** A policy with its parsed config: all that is needed to turn host sets into pickers. */
export interface ConfiguredLoadBalancer {
  readonly name: string;
  /** True for ring_hash and maglev: the router should compute PickInput.hash from the route's hash policy. */
  readonly usesHash: boolean;
  build(hostSet: HostSet, options?: BuildOptions): Picker;
}

type Configure = (json: unknown) => Result<ConfiguredLoadBalancer, string>;

const registry = new Map<string, Configure>();
const HASH_POLICIES = new Set(['ring_hash', 'maglev']);
const LEGACY_NAMES: ReadonlyMap<string, string> = new Map([
  ['ROUND_ROBIN', 'round_robin'],
  ['LEAST_REQUEST', 'least_request'],
  ['RANDOM', 'random'],
  ['RING_HASH', 'ring_hash'],
  ['MAGLEV', 'maglev'],
]);

/** Registers (or replaces) a policy under its name. */
export function registerLoadBalancer<C>(factory: LoadBalancerFactory<C>): void {
  const usesHash = HASH_POLICIES.has(factory.name);
  registry.set(factory.name, (json) => {
    const config = factory.parseConfig(json);
    if (!config.ok) return config;
    const parsed = config.value;
    return ok({
      name: factory.name,
      usesHash,
      build: (hostSet: HostSet, options?: BuildOptions): Picker => factory.build(hostSet, parsed, options),
    });
  });
}

export function registeredLoadBalancers(): string[] {
  return [...registry.keys()];
}

/**
 * The policy `name` with its config object: Envoy's `<policy>_lb_config` JSON or the sidecar's decoded config
 * (undefined: the policy's defaults).
 */
export function configureLoadBalancer(name: string, config?: unknown): Result<ConfiguredLoadBalancer, string> {
  const configure = registry.get(LEGACY_NAMES.get(name) ?? name);
  if (configure === undefined) return err(`load balancing policy ${name} is not supported`);
  return configure(config);
}

registerLoadBalancer(roundRobin);
registerLoadBalancer(leastRequest);
registerLoadBalancer(random);
registerLoadBalancer(ringHash);
registerLoadBalancer(maglev);
