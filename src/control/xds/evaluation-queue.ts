/**
 * Spreads a push over the event loop. A push delivers a new snapshot to thousands of streams at once; evaluating and
 * writing all of them in one synchronous loop would hold every response back until the last stream is done (HTTP/2
 * writes leave on a later turn of the event loop) and let no ACK in meanwhile. Streams given a snapshot are queued
 * instead and evaluated in slices of a few milliseconds, each slice on its own turn (`setImmediate`), so the first
 * responses are on the wire, and their ACKs being read, while later streams are still being evaluated.
 *
 * A stream queued again before its turn keeps its place and is evaluated once, against its latest snapshot.
 */
import { performance } from 'node:perf_hooks';

export interface Evaluable {
  /** Evaluates every subscribed type against the latest snapshot; must not throw. */
  evaluatePending(): void;
}

export interface EvaluationQueueOptions {
  /** Longest slice of evaluations on one turn of the event loop, in ms (default 5). */
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
    this.sliceMs = options.sliceMs ?? 5;
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
