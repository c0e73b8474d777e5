/**
 * Coalesces bursts: `trigger()` schedules `fire` after `quietMs` without a new trigger, but never later than `maxMs`
 * after the first trigger of the burst (Istio's PILOT_DEBOUNCE_AFTER / PILOT_DEBOUNCE_MAX). Timers are injectable so
 * tests run without sleeping.
 */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Debouncer {
  private first?: number;
  private handle?: unknown;

  constructor(
    private readonly fire: () => void,
    private readonly quietMs: number,
    private readonly maxMs: number,
    private readonly timers: Timers = realTimers,
  ) {}

  trigger(): void {
    const now = this.timers.now();
    this.first ??= now;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    const wait = Math.max(0, Math.min(this.quietMs, this.first + this.maxMs - now));
    this.handle = this.timers.setTimeout(() => this.flush(), wait);
  }

  /** Fires now if a burst is pending. */
  flush(): void {
    if (this.first === undefined) return;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.first = undefined;
    this.handle = undefined;
    this.fire();
  }

  cancel(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.first = undefined;
    this.handle = undefined;
  }

  get pending(): boolean {
    return this.first !== undefined;
  }
}
