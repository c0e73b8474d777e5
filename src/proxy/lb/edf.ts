import type { EndpointState } from './types.js';

/**
 * Earliest-deadline-first schedulers over a source's hosts, the structure Envoy uses for weighted round robin and
 * weighted least request: a binary min-heap of positions keyed by (deadline, tie-break) in typed arrays, so a pick
 * is O(log n) and allocates nothing.
 */

class DeadlineHeap {
  protected readonly heap: Int32Array;
  protected readonly deadline: Float64Array;
  protected readonly tie: Float64Array;

  constructor(size: number) {
    this.heap = new Int32Array(size);
    this.deadline = new Float64Array(size);
    this.tie = new Float64Array(size);
    for (let i = 0; i < size; i++) this.heap[i] = i;
  }

  private less(a: number, b: number): boolean {
    const da = this.deadline[a]!;
    const db = this.deadline[b]!;
    return da < db || (da === db && this.tie[a]! < this.tie[b]!);
  }

  protected heapify(): void {
    for (let i = (this.heap.length >>> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** Restores the heap after the entry at `pos` got a later deadline. */
  protected siftDown(pos: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[pos]!;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && this.less(heap[child + 1]!, heap[child]!)) child++;
      if (!this.less(heap[child]!, item)) break;
      heap[pos] = heap[child]!;
      pos = child;
    }
    heap[pos] = item;
  }
}

/**
 * Weighted round robin with static integer weights. The k-th pick (k = 0, 1, ...) of entry i is due at
 * (2k + 1) / (2 * w_i) — Webster's (Sainte-Laguë) divisors, the most evenly interleaved order — ties to the lower
 * position. Each deadline is computed from its count, never accumulated, so equal rationals compare equal and the
 * order is exact; after W = sum(w) picks every entry has had exactly w_i picks and the schedule starts over.
 * Weights 3:1 give A A B A, A A B A, ...
 */
export class SmoothWeightedSchedule extends DeadlineHeap {
  private readonly weights: Float64Array;
  private readonly count: Float64Array;
  private readonly period: number;
  private picks = 0;

  constructor(weights: Float64Array) {
    super(weights.length);
    this.weights = weights;
    this.count = new Float64Array(weights.length);
    let period = 0;
    for (let i = 0; i < weights.length; i++) period += weights[i]!;
    this.period = Number.isInteger(period) ? period : Infinity;
    this.reset();
  }

  private reset(): void {
    this.picks = 0;
    for (let i = 0; i < this.weights.length; i++) {
      this.count[i] = 0;
      this.deadline[i] = 1 / (2 * this.weights[i]!);
      this.tie[i] = i;
    }
    this.heapify();
  }

  /** The position of the next entry. */
  next(): number {
    const i = this.heap[0]!;
    const k = ++this.count[i]!;
    this.deadline[i] = (2 * k + 1) / (2 * this.weights[i]!);
    this.siftDown(0);
    if (++this.picks === this.period) this.reset();
    return i;
  }
}

/**
 * Envoy's weighted LEAST_REQUEST scheduler: EDF where an entry's weight is recomputed each time it is picked,
 * weight / (active + 1)^bias with its active requests at that moment; it is then due at its old deadline plus
 * 1 / that weight. Ties go to the entry scheduled first, as in Envoy's order offset. Everything happens inside
 * `next()`, which returns an endpoint index: no floating-point value crosses a call on the pick path.
 */
export class LeastRequestSchedule extends DeadlineHeap {
  private order: number;

  constructor(
    private readonly hosts: Int32Array,
    private readonly weights: Float64Array,
    private readonly states: readonly EndpointState[],
    private readonly bias: number,
  ) {
    super(hosts.length);
    for (let i = 0; i < hosts.length; i++) {
      this.deadline[i] = 0;
      this.tie[i] = i;
      this.reschedule(i);
    }
    this.order = hosts.length;
    this.heapify();
  }

  /** Moves entry i to its deadline + 1 / its current weight (written inline: no double crosses a call). */
  private reschedule(i: number): void {
    const active = Math.max(0, this.states[this.hosts[i]!]!.activeRequests);
    const bias = this.bias;
    const divisor = bias === 1 ? active + 1 : bias === 0 ? 1 : Math.pow(active + 1, bias);
    this.deadline[i] = this.deadline[i]! + divisor / this.weights[i]!;
  }

  /** The endpoint index of the next pick. */
  next(): number {
    const i = this.heap[0]!;
    this.reschedule(i);
    this.tie[i] = this.order++;
    this.siftDown(0);
    return this.hosts[i]!;
  }
}
