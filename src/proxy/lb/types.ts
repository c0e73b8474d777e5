/**
 * The load-balancing vocabulary shared by every policy (grpc-js' Picker model, Envoy's words).
 *
 * A load balancer turns a HostSet (the endpoints of one cluster, grouped by priority and locality, built once per
 * configuration change) into an immutable Picker. The data path calls `pick()` on every request; a picker never
 * sees a configuration change: a new host set means a new picker, and the old one keeps answering from its own
 * snapshot until the caller drops it. The only mutable state a picker has is private bookkeeping (a round-robin
 * cursor, a scheduler's deadlines) and the per-endpoint EndpointState the data path updates.
 */
import type { Result } from '../../core/result.js';
import type { HostSet } from './host-set.js';

/** Envoy's health statuses as they arrive in a ClusterLoadAssignment. UNKNOWN counts as healthy, as in Envoy. */
export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'DEGRADED' | 'UNKNOWN';

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** One upstream endpoint of a cluster. Immutable: a change of health or weight is a new host set. */
export interface LbEndpoint {
  /** `ip:port` (`[ip6]:port` for IPv6); unique in a host set, and the identity used by consistent hashing. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** load_balancing_weight: an integer >= 1. */
  readonly weight: number;
  readonly health: HealthStatus;
  readonly locality: Locality;
  /** 0 is the highest priority; traffic spills to 1, 2, ... as priority 0 loses health. */
  readonly priority: number;
}

/**
 * Mutable per-endpoint state the data path keeps: increment `activeRequests` when a request is sent to the
 * endpoint, decrement when it ends. Owned by EndpointStates, keyed by endpoint key, so it survives picker rebuilds.
 */
export interface EndpointState {
  activeRequests: number;
}

/**
 * What the caller knows about the request. `hash` is the route's hash policy result (hash-policy.ts): a 32-bit
 * integer, read as its 32 bits (`hash | 0`), so the signed and unsigned forms of the same bits are the same hash;
 * computeRequestHash gives the signed form, which V8 never boxes. Callers may reuse one PickInput object; pickers
 * read it synchronously and never keep it.
 */
export interface PickInput {
  readonly hash?: number | undefined;
}

/** A chosen endpoint. Pickers return precomputed, frozen results: a pick allocates nothing. */
export interface PickComplete {
  readonly type: 'complete';
  readonly endpoint: LbEndpoint;
  readonly state: EndpointState;
}

/** No endpoint can take the request: the router answers 503 with response flag `UH`. */
export interface PickFail {
  readonly type: 'fail';
  readonly reason: 'no_healthy_upstream';
}

export type PickResult = PickComplete | PickFail;

export interface Picker {
  pick(input?: PickInput): PickResult;
}

/** A uniform random number in [0, 1), like Math.random. Injectable so tests and benchmarks are deterministic. */
export type RandomSource = () => number;

export interface BuildOptions {
  /** The picker's random numbers (tests). Default: its own mulberry32 generator (hash.ts: drawsFor). */
  readonly random?: RandomSource;
  /** Seed for the default generator (benchmarks); a seed from Math.random when omitted. */
  readonly seed?: number;
}

/**
 * One load-balancing policy, registered by name (registry.ts). `parseConfig` reads the policy's own Envoy config
 * object (`ring_hash_lb_config`, `least_request_lb_config`, ...; undefined for the defaults) and rejects what it
 * cannot honour; `build` is called on every host-set change and must not fail.
 */
export interface LoadBalancerFactory<C> {
  readonly name: string;
  parseConfig(json: unknown): Result<C, string>;
  build(hostSet: HostSet, config: C, options?: BuildOptions): Picker;
}

/**
 * Per-endpoint states that outlive pickers: a cluster keeps one EndpointStates and passes it to every buildHostSet,
 * so an endpoint that stays across a configuration change keeps its EndpointState object (and its in-flight count,
 * which LEAST_REQUEST reads). The data path holds the object it got from a PickComplete and decrements that same
 * object when the request ends, even if the endpoint has left the host set since.
 */
export class EndpointStates {
  private readonly byKey = new Map<string, EndpointState>();

  /** The state for `key`, created with no request in flight the first time. */
  acquire(key: string): EndpointState {
    let state = this.byKey.get(key);
    if (state === undefined) {
      state = { activeRequests: 0 };
      this.byKey.set(key, state);
    }
    return state;
  }

  get(key: string): EndpointState | undefined {
    return this.byKey.get(key);
  }

  /**
   * Forgets the endpoints not in `keys` that have no request in flight. One that still has requests in flight is
   * kept, so that if it comes back before they finish, its count is still right.
   */
  retainOnly(keys: ReadonlySet<string>): void {
    for (const [key, state] of this.byKey) {
      if (!keys.has(key) && state.activeRequests <= 0) this.byKey.delete(key);
    }
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** The single failure value every picker returns. */
export const NO_HEALTHY_UPSTREAM: PickFail = Object.freeze({ type: 'fail', reason: 'no_healthy_upstream' });

/** A picker for a cluster with nothing to pick from. */
export const FAIL_PICKER: Picker = Object.freeze({ pick: (): PickResult => NO_HEALTHY_UPSTREAM });
