/**
 * An open-loop, fixed-rate HTTP/1.1 client (a separate process, forked by the proxy benchmark with its config as
 * JSON in argv[2] and an IPC channel).
 *
 * Request i is due at start + i / rate, by the wall clock (fixed-rate-pacer.ts wakes this thread at each due time),
 * whatever happened to earlier requests. It goes out on an idle keep-alive connection of a fixed pool (the one used
 * last first, as a client's pool would), or waits for one. Its latency runs from its intended send time to the last
 * byte of the response (process.hrtime.bigint), so a stall that holds requests back is counted in full: the
 * coordinated-omission correction. The time from the actual write is recorded too (the service time), and the
 * lateness of sends, which shows how well the client itself kept the pace.
 *
 * Connections are raw sockets with a minimal response parser (Content-Length or chunked), so the client adds as
 * little as possible of its own. Every sample is kept (10,000 at 1,000 rps for 10 s), so percentiles are exact.
 *
 * Messages to the parent: `{type:'measuring'}` when the first measured request is due (after the warm-up), then
 * `{type:'result', ...}` once every measured request has completed or timed out.
 */
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

export interface FixedRateConfig {
  host: string;
  port: number;
  /** Host header. */
  authority: string;
  path: string;
  rate: number;
  warmupMs: number;
  durationMs: number;
  connections: number;
  /** How long to wait for the last responses after the last send. */
  drainMs: number;
}

/** Counts are of the measured requests only (not the warm-up's). */
export interface FixedRateResult {
  type: 'result';
  sent: number;
  ok: number;
  /** Non-2xx answers. */
  bad: number;
  /** Connection errors, and requests with no answer by the end of the drain. */
  errors: number;
  /** Requests that never found a connection (the queue limit was reached). */
  dropped: number;
  /** Sorted latencies (ms) from the intended send time. */
  latencyMs: number[];
  /** Sorted latencies (ms) from the actual write. */
  serviceMs: number[];
  /** Sorted lateness (ms) of the writes behind the schedule. */
  lateMs: number[];
  measuredWallMs: number;
  firstError?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as FixedRateConfig;
const send = (m: unknown): void => void process.send?.(m);

/**
 * Sends the last message, then disconnects once it has been written: a result of 10,000 latencies is about 1 MB of
 * JSON, more than the IPC pipe takes at once, and a disconnect right after send() would drop it.
 */
function sendLast(m: unknown): void {
  if (process.send === undefined) return;
  process.send(m, () => process.disconnect?.());
}
const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

const interval = 1000 / config.rate;
const warmCount = Math.round((config.warmupMs / 1000) * config.rate);
const measuredCount = Math.round((config.durationMs / 1000) * config.rate);
const total = warmCount + measuredCount;
const request = Buffer.from(
  `GET ${config.path} HTTP/1.1\r\nHost: ${config.authority}\r\nUser-Agent: shoal-bench\r\n\r\n`,
);
const maxQueue = config.rate * 2;

const latency = new Float64Array(measuredCount);
const service = new Float64Array(measuredCount);
const lateness = new Float64Array(measuredCount);
let recorded = 0;
let ok = 0;
let bad = 0;
let errors = 0;
let dropped = 0;
let firstError: string | undefined;

// hrtime origin: intended time of request i = origin + i * interval (ns).
let originNs = 0n;
const intendedNs = (i: number): bigint => originNs + BigInt(Math.round(i * interval * 1e6));

interface Pending {
  index: number;
  sentNs: bigint;
}

class Conn {
  private socket!: Socket;
  private buf: Buffer = Buffer.alloc(0);
  current: Pending | undefined;
  private ready = false;

  constructor(private readonly onFree: (c: Conn) => void) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: config.host, port: config.port, noDelay: true });
      this.socket = s;
      this.buf = Buffer.alloc(0);
      s.once('connect', () => {
        this.ready = true;
        resolve();
      });
      s.on('data', (d: Buffer) => this.onData(d));
      s.on('error', (err) => {
        firstError ??= err.message;
        reject(err);
      });
      s.on('close', () => {
        const wasReady = this.ready;
        this.ready = false;
        if (this.current) {
          if (this.current.index >= warmCount) errors++;
          firstError ??= 'connection closed with a request in flight';
          this.current = undefined;
        }
        // Reopen once the peer closed a connection that had worked (keep-alive limits); a refused one stays closed.
        if (wasReady && !finished)
          this.open().then(
            () => this.onFree(this),
            () => undefined,
          );
      });
    });
  }

  get usable(): boolean {
    return this.ready && this.current === undefined;
  }

  write(index: number): void {
    const sentNs = process.hrtime.bigint();
    this.current = { index, sentNs };
    this.socket.write(request);
  }

  close(): void {
    this.ready = false;
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const parsed = parseResponse(this.buf);
    if (parsed === undefined) return;
    const doneNs = process.hrtime.bigint();
    this.buf = this.buf.subarray(parsed.length);
    const pending = this.current;
    this.current = undefined;
    if (pending) complete(pending, parsed.status, doneNs);
    if (parsed.close) this.socket.end();
    else this.onFree(this);
  }
}

function complete(p: Pending, status: number, doneNs: bigint): void {
  if (p.index < warmCount || recorded >= measuredCount) return;
  if (status < 200 || status >= 300) {
    bad++;
    firstError ??= `status ${status}`;
  } else ok++;
  const intended = intendedNs(p.index);
  latency[recorded] = nsToMs(doneNs - intended);
  service[recorded] = nsToMs(doneNs - p.sentNs);
  lateness[recorded] = nsToMs(p.sentNs - intended);
  recorded++;
}

/** One complete response at the start of `b`: its status, length in bytes and whether the server closes. */
function parseResponse(b: Buffer): { status: number; length: number; close: boolean } | undefined {
  const headEnd = b.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = b.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const close = /\r\nconnection:\s*close/.test(lower);
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  let at = headEnd + 4;
  if (cl) {
    const end = at + Number(cl[1]);
    return b.length >= end ? { status, length: end, close } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
    for (;;) {
      const lineEnd = b.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(b.toString('latin1', at, lineEnd), 16);
      at = lineEnd + 2;
      if (size === 0) {
        // Trailers (none expected) end with an empty line.
        const trailerEnd = b.indexOf('\r\n', at);
        if (trailerEnd < 0) return undefined;
        if (trailerEnd === at) return { status, length: at + 2, close };
        const end = b.indexOf('\r\n\r\n', at);
        return end < 0 ? undefined : { status, length: end + 4, close };
      }
      at += size + 2;
      if (b.length < at) return undefined;
    }
  }
  // 204/304 or a body up to close: the benchmark's backend sends neither.
  return { status, length: at, close: true };
}

let finished = false;
const idle: Conn[] = [];
const queue: number[] = [];

function onFree(c: Conn): void {
  const next = queue.shift();
  if (next !== undefined && c.usable) c.write(next);
  else if (c.usable) idle.push(c);
}

function dispatch(index: number): void {
  let c = idle.pop();
  while (c !== undefined && !c.usable) c = idle.pop();
  if (c) c.write(index);
  else if (queue.length < maxQueue) queue.push(index);
  else if (index >= warmCount) dropped++;
}

async function main(): Promise<void> {
  const conns = Array.from({ length: config.connections }, () => new Conn(onFree));
  await Promise.all(conns.map((c) => c.open()));
  idle.push(...conns);

  const startAt = performance.now() + 50;
  originNs = process.hrtime.bigint() + BigInt(Math.round(50 * 1e6));
  const pacer = new Worker(new URL('./fixed-rate-pacer.js', import.meta.url), {
    workerData: { startAt, intervalMs: interval, count: total, timeOrigin: performance.timeOrigin },
  });
  let measureStart = 0;
  let next = 0;
  const allSent = new Promise<void>((resolve, reject) => {
    pacer.on('error', reject);
    pacer.on('message', (i: number) => {
      if (i < 0) return resolve();
      // Everything due up to i (the pacer's messages can bunch up behind a busy turn of the loop).
      for (; next <= i; next++) {
        if (next === warmCount) {
          measureStart = performance.now();
          send({ type: 'measuring' });
        }
        dispatch(next);
      }
    });
  });
  await allSent;
  await pacer.terminate();
  const deadline = performance.now() + config.drainMs;
  while (performance.now() < deadline && (queue.length > 0 || conns.some((c) => c.current !== undefined))) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const measuredWallMs = performance.now() - measureStart;
  finished = true;
  const unanswered = queue.length + conns.filter((c) => c.current !== undefined && c.current.index >= warmCount).length;
  errors += unanswered;
  for (const c of conns) c.close();
  const sorted = (a: Float64Array): number[] => Array.from(a.subarray(0, recorded)).sort((x, y) => x - y);
  const result: FixedRateResult = {
    type: 'result',
    sent: measuredCount - dropped - queue.length,
    ok,
    bad,
    errors,
    dropped,
    latencyMs: sorted(latency),
    serviceMs: sorted(service),
    lateMs: sorted(lateness),
    measuredWallMs,
    firstError,
  };
  sendLast(result);
}

main().catch((err: Error) => {
  process.exitCode = 1;
  sendLast({ type: 'failed', message: err.message });
});
