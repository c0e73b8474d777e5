/**
 * Reconnection policy for the ADS stream: which control-plane address to try next, and after how long.
 *
 * - Delays grow exponentially from `baseMs` (0.5 s) to `maxMs` (30 s) with "equal jitter": the n-th consecutive
 *   failure waits a uniformly random time in [c/2, c), c = min(max, base * 2^(n-1)), so a fleet of sidecars that
 *   lost the same control plane does not come back in lockstep, yet none retries in a tight loop.
 * - A failure (the stream ended without a single response: refused, unreachable, rejected) moves to the next
 *   address of `--control`, so a dead replica is skipped on the next attempt.
 * - A stream that did get responses and then ended (the control plane restarted or shed load) resets the failure
 *   count; the next attempt goes to the same address after a base delay.
 *
 * The clock and the random source are injected (tests advance time by hand).
 */
import type { Timers } from '../../core/debounce.js';

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 30_000 } as const;

export class Reconnector {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private failures = 0;
  private index = 0;
  private timer?: unknown;

  constructor(
    private readonly addresses: readonly string[],
    private readonly timers: Timers,
    private readonly random: () => number,
    options: BackoffOptions = {},
  ) {
    if (addresses.length === 0) throw new Error('Reconnector: no addresses');
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
    this.maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  }

  /** The address to connect to now. */
  get address(): string {
    return this.addresses[this.index]!;
  }

  /** Consecutive failed attempts. */
  get failureCount(): number {
    return this.failures;
  }

  /** The wait before the next attempt after `failures` consecutive failures (0: after a healthy stream). */
  delayMs(failures: number): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.max(0, failures - 1));
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  /** Records how the last stream ended and schedules `connect` after the delay; returns the delay. */
  schedule(healthy: boolean, connect: () => void): number {
    if (healthy) this.failures = 0;
    else {
      this.failures++;
      this.index = (this.index + 1) % this.addresses.length;
    }
    this.cancel();
    const delay = this.delayMs(this.failures);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      connect();
    }, delay);
    return delay;
  }

  /** A stream got its first response: the address works. */
  succeeded(): void {
    this.failures = 0;
  }

  cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }
}
