/**
 * When a crashed pod's replacement starts: Kubernetes' CrashLoopBackOff, scaled down for local development. The
 * n-th consecutive crash of a replica waits min(max, base * 2^(n-1)); a pod that ran for `resetAfterMs` before
 * it crashed counts as a first crash again. Pure: the caller supplies times.
 */
export interface RestartBackoffOptions {
  baseMs?: number;
  maxMs?: number;
  resetAfterMs?: number;
}

export const DEFAULT_RESTART_BACKOFF = { baseMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 } as const;

export function restartDelayMs(consecutiveCrashes: number, opts: RestartBackoffOptions = {}): number {
  const base = opts.baseMs ?? DEFAULT_RESTART_BACKOFF.baseMs;
  const max = opts.maxMs ?? DEFAULT_RESTART_BACKOFF.maxMs;
  if (consecutiveCrashes <= 0) return 0;
  return Math.min(max, base * 2 ** (consecutiveCrashes - 1));
}

/** The consecutive-crash count after a pod that ran `ranMs` crashed, given the count before it. */
export function nextCrashCount(previous: number, ranMs: number, opts: RestartBackoffOptions = {}): number {
  const reset = opts.resetAfterMs ?? DEFAULT_RESTART_BACKOFF.resetAfterMs;
  return ranMs >= reset ? 1 : previous + 1;
}
