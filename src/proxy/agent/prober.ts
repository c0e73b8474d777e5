/**
 * Kubernetes probe semantics around a ProbeCheck: after `initialDelaySeconds`, one attempt every `periodSeconds`
 * (bounded by `timeoutSeconds`); `successThreshold` consecutive successes make the target ready, `failureThreshold`
 * consecutive failures make it unready. A readiness prober starts unready. Attempts never overlap. Timers are
 * injectable; `tick()` runs one attempt for tests.
 */
import { realTimers, type Timers } from '../../core/debounce.js';
import type { Probe } from '../../api/kinds/pod-template.js';
import type { ProbeCheck, ProbeOutcome } from './probe-checks.js';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** Kubernetes' defaults: no delay, every 10 s, 1 s timeout, 1 success, 3 failures. */
export function probeTiming(probe: Probe | undefined): ProbeTiming {
  return {
    initialDelayMs: (probe?.initialDelaySeconds ?? 0) * 1000,
    periodMs: (probe?.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe?.timeoutSeconds ?? 1) * 1000,
    successThreshold: probe?.successThreshold ?? 1,
    failureThreshold: probe?.failureThreshold ?? 3,
  };
}

export type ProbeListener = (ready: boolean, outcome: ProbeOutcome) => void;

export class Prober {
  private successes = 0;
  private failures = 0;
  private timer?: unknown;
  private running = false;
  private stopped = true;
  private readonly listeners = new Set<ProbeListener>();
  ready = false;
  last?: ProbeOutcome;

  constructor(
    private readonly check: ProbeCheck,
    private readonly timing: ProbeTiming,
    private readonly timers: Timers = realTimers,
  ) {}

  onChange(listener: ProbeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.timing.initialDelayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One attempt; applies the thresholds and notifies on a change of readiness. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const outcome = await this.check(this.timing.timeoutMs);
      this.last = outcome;
      if (outcome.ok) {
        this.successes++;
        this.failures = 0;
        if (!this.ready && this.successes >= this.timing.successThreshold) this.set(true, outcome);
      } else {
        this.failures++;
        this.successes = 0;
        if (this.ready && this.failures >= this.timing.failureThreshold) this.set(false, outcome);
      }
    } finally {
      this.running = false;
    }
  }

  private set(ready: boolean, outcome: ProbeOutcome): void {
    this.ready = ready;
    for (const l of [...this.listeners]) l(ready, outcome);
  }

  private schedule(ms: number): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.tick().then(() => {
        if (!this.stopped) this.schedule(this.timing.periodMs);
      });
    }, ms);
  }
}
