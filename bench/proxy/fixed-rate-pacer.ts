/**
 * The fixed-rate client's clock (a worker thread). libuv's timers have a resolution of 1 ms, too coarse to pace
 * 1,000 requests a second; this thread sleeps in `Atomics.wait` (a timed condition-variable wait, sub-millisecond and
 * costing no CPU) until each request's intended send time and then posts its index, which wakes the main thread's
 * event loop at once. Posts run from `first` to `count - 1`; the main thread computes the intended times itself from
 * the same origin, so a late wake-up is measured as lateness, never hidden.
 */
import { parentPort, workerData } from 'node:worker_threads';

interface PacerData {
  /** performance.timeOrigin-relative ms (the main thread's `performance.now()` scale) of request 0. */
  startAt: number;
  intervalMs: number;
  count: number;
  /** The main thread's `performance.timeOrigin`, to convert this thread's clock to the main thread's. */
  timeOrigin: number;
}

const data = workerData as PacerData;
const port = parentPort!;
const cell = new Int32Array(new SharedArrayBuffer(4));
const offset = performance.timeOrigin - data.timeOrigin;
const now = (): number => performance.now() + offset;

for (let i = 0; i < data.count; i++) {
  const due = data.startAt + i * data.intervalMs;
  for (let wait = due - now(); wait > 0; wait = due - now()) Atomics.wait(cell, 0, 0, wait);
  port.postMessage(i);
}
port.postMessage(-1);
