/**
 * The sidecar's request statistics, kept as plain numbers on the hot path (an increment, one histogram bucket) and
 * turned into Prometheus metrics only when scraped (src/proxy/admin/metrics.ts). Per listener: requests by status
 * class and by response flag, in flight, and the duration histogram (Istio's buckets, milliseconds).
 */

/** Istio's istio_request_duration_milliseconds buckets. */
export const DURATION_BUCKETS_MS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export class Histogram {
  /** counts[i]: observations <= DURATION_BUCKETS_MS[i] and > the previous bound; last slot: above every bound. */
  readonly counts = new Float64Array(DURATION_BUCKETS_MS.length + 1);
  sum = 0;
  count = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS_MS.length && ms > DURATION_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sum += ms;
    this.count++;
  }

  /** Cumulative counts per bucket bound (Prometheus `le`), then +Inf. */
  cumulative(): number[] {
    const out: number[] = [];
    let total = 0;
    for (const c of this.counts) {
      total += c;
      out.push(total);
    }
    return out;
  }
}

export class ListenerStats {
  rqTotal = 0;
  rqActive = 0;
  /** Index: status / 100 (1..5). */
  readonly byClass = new Float64Array(6);
  /** Requests the mesh failed, by response flag (`NR`, `UH`, `UF,URX`, ...). */
  readonly byFlags = new Map<string, number>();
  readonly duration = new Histogram();
  /** Downstream connections refused or closed by a limit, malformed requests answered 400/431/408. */
  cxProtocolError = 0;
  cxTotal = 0;

  constructor(readonly name: string) {}

  begin(): void {
    this.rqTotal++;
    this.rqActive++;
  }

  end(status: number, flags: string, ms: number): void {
    this.rqActive--;
    const c = (status / 100) | 0;
    if (c >= 1 && c <= 5) this.byClass[c]!++;
    if (flags !== '') this.byFlags.set(flags, (this.byFlags.get(flags) ?? 0) + 1);
    this.duration.observe(ms);
  }
}
