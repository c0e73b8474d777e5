/**
 * LEAST_REQUEST, Envoy's algorithm per source:
 * - equal weights: power of N choices (choice_count, default 2): draw N hosts uniformly (with replacement) and
 *   take the one with the fewest active requests, the first drawn on a tie;
 * - different weights: EDF (edf.ts) where a host's weight, recomputed each time it is picked, is
 *   weight / (active + 1)^active_request_bias (bias default 1.0; 0 makes it weighted round robin). With no
 *   requests in flight this is exactly weighted round robin, so the weights are honoured; busy hosts fall behind.
 * Active requests are the EndpointState counts the data path maintains.
 */
import { err, ok, type Result } from '../../core/result.js';
import { asObject, readNumber, unknownField } from './config.js';
import { LeastRequestSchedule } from './edf.js';
import { drawsFor, type Draws } from './hash.js';
import type { HostSet, HostSource } from './host-set.js';
import {
  NO_HEALTHY_UPSTREAM,
  type BuildOptions,
  type EndpointState,
  type LoadBalancerFactory,
  type PickComplete,
  type Picker,
  type PickResult,
} from './types.js';

export interface LeastRequestConfig {
  readonly choiceCount: number;
  readonly activeRequestBias: number;
}

export class LeastRequestPicker implements Picker {
  private readonly schedules: (LeastRequestSchedule | undefined)[];
  private readonly results: readonly PickComplete[];
  private readonly states: readonly EndpointState[];
  private readonly fixed: number;
  private readonly choices: number;

  constructor(
    private readonly hostSet: HostSet,
    config: LeastRequestConfig,
    private readonly draws: Draws,
  ) {
    this.results = hostSet.results;
    this.states = hostSet.states;
    this.fixed = hostSet.fixedSource ?? -2;
    this.choices = config.choiceCount;
    this.schedules = hostSet.sources.map((s: HostSource) =>
      s.equalWeights ? undefined : new LeastRequestSchedule(s.hosts, s.weights, this.states, config.activeRequestBias),
    );
  }

  pick(): PickResult {
    const id = this.fixed !== -2 ? this.fixed : this.hostSet.chooseSource(this.draws.next());
    if (id < 0) return NO_HEALTHY_UPSTREAM;
    const schedule = this.schedules[id];
    if (schedule !== undefined) return this.results[schedule.next()]!;
    const hosts = this.hostSet.sources[id]!.hosts;
    const n = hosts.length;
    // Index = floor(draw / 2^32 * n), written out: a helper returning a double could box it when not inlined.
    let best = hosts[Math.floor(((this.draws.next() >>> 0) / 4294967296) * n)]!;
    let bestActive = this.states[best]!.activeRequests;
    for (let c = 1; c < this.choices; c++) {
      const candidate = hosts[Math.floor(((this.draws.next() >>> 0) / 4294967296) * n)]!;
      const active = this.states[candidate]!.activeRequests;
      if (active < bestActive) {
        best = candidate;
        bestActive = active;
      }
    }
    return this.results[best]!;
  }
}

const WHAT = 'least_request_lb_config';

export const leastRequest: LoadBalancerFactory<LeastRequestConfig> = {
  name: 'least_request',
  /** least_request_lb_config: choice_count (>= 2, default 2), active_request_bias (>= 0, default 1.0). */
  parseConfig(json: unknown): Result<LeastRequestConfig, string> {
    const obj = asObject(json, WHAT);
    if (!obj.ok) return obj;
    const unknown = unknownField(obj.value, ['choice_count', 'active_request_bias'], WHAT);
    if (unknown !== undefined) return err(unknown);
    const choiceCount = readNumber(obj.value, 'choice_count', WHAT, { min: 2, max: 100, integer: true, fallback: 2 });
    if (!choiceCount.ok) return choiceCount;
    const bias = readNumber(obj.value, 'active_request_bias', WHAT, { min: 0, max: 100, integer: false, fallback: 1 });
    if (!bias.ok) return bias;
    return ok({ choiceCount: choiceCount.value, activeRequestBias: bias.value });
  },
  build(hostSet: HostSet, config: LeastRequestConfig, options?: BuildOptions): Picker {
    return new LeastRequestPicker(hostSet, config, drawsFor(options));
  },
};
