/**
 * Spreads a long push over the event loop. A push delivers a new snapshot to thousands of streams at once; the
 * streams are queued and evaluated in slices (50 ms by default), each on its own turn (`setImmediate`), so a push
 * that takes long (a full CDS to thousands of streams) does not hold the event loop whole, and the push engine's own
 * loop ends before the writes begin.
 *
 * Slices much shorter than a push are not better: measured at 2,000 proxies (docs/xds.md), 5 ms slices let the ACKs
 * of the first streams (60 KB each in SotW) be read before the last streams are written, and the last response left
 * later than with no slicing at all. An endpoint push to 2,000 streams fits in one or two 50 ms slices.
 *
 * A stream queued again before its turn keeps its place and is evaluated once, against its latest snapshot.
 */
import { performance } from 'node:perf_hooks';

export interface Evaluable {
  /** Evaluates every subscribed type against the latest snapshot; must not throw. */
  evaluatePending(): void;
}

export interface EvaluationQueueOptions {
  /** Longest slice of evaluations on one turn of the event loop, in ms (default 50). */
  sliceMs?: number;
  /** How the next slice is scheduled (default setImmediate). */
  defer?: (run: () => void) => void;
  now?: () => number;
}

export class EvaluationQueue {
  private readonly pending = new Set<Evaluable>();
  private readonly sliceMs: number;
  private readonly defer: (run: () => void) => void;
  private readonly now: () => number;
  private scheduled = false;
  /** Slices run so far (tests and diagnostics). */
  slices = 0;

  constructor(options: EvaluationQueueOptions = {}) {
    this.sliceMs = options.sliceMs ?? 50;
    this.defer = options.defer ?? ((run) => setImmediate(run));
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.pending.size;
  }

  add(item: Evaluable): void {
    this.pending.add(item);
    this.schedule();
  }

  /** Forgets an item (a closed stream). */
  delete(item: Evaluable): void {
    this.pending.delete(item);
  }

  private schedule(): void {
    if (this.scheduled || this.pending.size === 0) return;
    this.scheduled = true;
    this.defer(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    this.slices++;
    const deadline = this.now() + this.sliceMs;
    for (const item of this.pending) {
      this.pending.delete(item);
      item.evaluatePending();
      if (this.now() >= deadline) break;
    }
    this.schedule();
  }
}
