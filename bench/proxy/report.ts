/** The proxy benchmark's result types and its Markdown report (for docs/benchmarks.md). */
import type { LoadRun } from './load-tools.js';
import { nodeLabel } from './measure.js';

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LatencySummary {
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  bad: number;
  errors: number;
  dropped: number;
  samples: number;
  /** From each request's intended send time (coordinated omission corrected): the headline figure. */
  fromIntended: Percentiles;
  /** From the actual write to the socket. */
  fromSend: Percentiles;
  /** How late the client wrote requests behind the schedule. */
  lateness: Percentiles;
  firstError?: string;
  /** The most vCPU that other work on the machine used during one of this path's latency segments. */
  otherVcpu: number;
}

export interface HopResult {
  name: string;
  pids: number[];
  /** CPU seconds per 1,000 requests during the fixed-rate phase. */
  cpuPer1000AtRate: number;
  /** CPU seconds per wall second during the fixed-rate phase. */
  vcpuAtRate: number;
  /** CPU seconds per 1,000 requests during the wrk phase (saturation). */
  cpuPer1000AtMax: number;
  vcpuAtMax: number;
  /** VmRSS right after start (the Shoal sidecar: once it had its configuration), before any load. */
  rssIdleMb: number;
  /** After all the load: VmRSS and VmHWM, summed over the hop's processes. */
  rssMb: number;
  hwmMb: number;
  /** RssAnon (the processes' own memory) and PSS (shared pages divided among their users), before and after. */
  anonIdleMb: number;
  anonMb: number;
  pssIdleMb: number;
  pssMb: number;
}

export interface PathResult {
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  notes: string[];
  /** Steps that failed or were not run; the figures of the others stand. */
  problems: string[];
  wrk?: LoadRun;
  h2load?: LoadRun;
  latency?: LatencySummary;
  hops: HopResult[];
}

export interface RunResult {
  date: string;
  /** `hopNode`: the Node release the Node hops ran on (BENCH_PROXY_NODE), when it is not `node`. */
  machine: { cpus: number; node: string; hopNode?: string };
  settings: {
    seconds: number;
    rate: number;
    latencyRounds: number;
    wrkConnections: number;
    h2Clients: number;
    h2Streams: number;
    latencyConnections: number;
    /** How the fixed-rate client was scheduled: `SCHED_FIFO <n>` or `normal (<why>)`. */
    clientPriority: string;
  };
  tools: Record<string, string | undefined>;
  build: { commit: string; srcDirty: boolean };
  /** What else the machine was doing: its load average, and its busy vCPU over 2 s before the run started. */
  background: { loadavg: string; busyVcpuBefore: number };
  paths: PathResult[];
  wallSeconds: number;
}

const f = (n: number | undefined, digits = 2): string =>
  n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
const rps = (run: LoadRun | undefined): string =>
  run ? `${Math.round(run.rps)}${run.errors > 0 ? ` (${run.errors} errors)` : ''}` : 'n/a';
const ms3 = (p: Percentiles): string => `${f(p.p50, 3)} / ${f(p.p90, 3)} / ${f(p.p99, 3)}`;
const signed = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(3)}` : 'n/a');
const perHop = (hops: HopResult[], pick: (h: HopResult) => string): string =>
  hops.length === 0 ? '-' : hops.map(pick).join(', ');

function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && b > 0 ? a / b : NaN;
}

/**
 * How far the sidecars are from a Node reference path (node-floor: two node:net forwarders; node-http: two minimal
 * HTTP/1.1 proxies): Shoal/reference for max rps (below 1: slower; h2load only where the reference has an h2c
 * endpoint) and for CPU per 1000 requests, hop by hop (above 1: costlier).
 */
function referenceRatios(
  shoal: PathResult,
  ref: PathResult | undefined,
  name: string,
  what: string,
  rate: number,
  withH2load: boolean,
): string {
  if (ref?.status !== 'ok') {
    return `Shoal/${name}: n/a (${name} ${ref ? `${ref.status}: ${ref.reason}` : 'not run'}).`;
  }
  const cpu = (pick: (h: HopResult) => number): string =>
    shoal.hops.map((h, i) => f(ratio(pick(h), ref.hops[i] ? pick(ref.hops[i]) : undefined))).join(', ');
  const wrk = f(ratio(shoal.wrk?.rps, ref.wrk?.rps));
  const max = withH2load ? `, wrk / h2load ${wrk} / ${f(ratio(shoal.h2load?.rps, ref.h2load?.rps))}` : ` (wrk) ${wrk}`;
  return (
    `Shoal/${name} (${what}): max rps${max}; CPU s per 1000 requests per hop (hop 1, hop 2), at ${rate} rps ` +
    `${cpu((h) => h.cpuPer1000AtRate)}, under wrk ${cpu((h) => h.cpuPer1000AtMax)}.`
  );
}

export function report(run: RunResult): string {
  const byName = new Map(run.paths.map((p) => [p.name, p]));
  const direct = byName.get('direct')?.latency?.fromIntended;
  const s = run.settings;
  const lines: string[] = [];
  lines.push(
    `\`npm run bench proxy\` (measured ${run.date.slice(0, 10)}, ${run.machine.cpus} cores, Node ${nodeLabel(run.machine)}, ` +
      `Shoal at ${run.build.commit}${run.build.srcDirty ? ' with uncommitted changes in src/' : ''})`,
  );
  lines.push('');
  lines.push(
    `Backend: one nginx process (1 worker) answering 200 with a 101-byte body, HTTP/1.1 keep-alive and h2c. ` +
      `Every proxy hop is one single-threaded worker; every connection is keep-alive, hop to hop in HTTP/1.1. ` +
      `Load: wrk -t1 -c${s.wrkConnections} (HTTP/1.1) and h2load -t1 -c${s.h2Clients} -m${s.h2Streams} (h2c to the ` +
      `first hop), ${s.seconds} s each; latency from an open-loop client at ${s.rate} rps over ` +
      `${s.latencyConnections} keep-alive connections for ${s.seconds} s, measured from each request's intended ` +
      `send time (client scheduling: ${s.clientPriority}). Client, hops and backend share the same cores. Before ` +
      `the run the machine was already busy with ` +
      `${f(run.background.busyVcpuBefore)} vCPU of other work (load average ${run.background.loadavg}).`,
  );
  lines.push('');
  lines.push(
    `| path | wrk HTTP/1.1 max rps | h2load h2c max rps | latency at ${s.rate} rps, p50 / p90 / p99 (ms) | added over direct (ms) | CPU s per 1000 req per hop, at ${s.rate} rps | same, under wrk | RSS before load / after / peak, per hop (MB) | RssAnon before / after, per hop (MB) | PSS before / after, per hop (MB) |`,
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const p of run.paths) {
    if (p.status !== 'ok') {
      const why = p.status === 'skipped' ? p.reason : `failed: ${p.reason?.split('\n')[0]?.slice(0, 200)}`;
      lines.push(`| ${p.name} | ${why} | | | | | | | | |`);
      continue;
    }
    const l = p.latency?.fromIntended;
    const added =
      p.name === 'direct' || !l || !direct
        ? '-'
        : `${signed(l.p50 - direct.p50)} / ${signed(l.p90 - direct.p90)} / ${signed(l.p99 - direct.p99)}`;
    lines.push(
      `| ${p.name} | ${rps(p.wrk)} | ${rps(p.h2load)} | ${l ? ms3(l) : 'n/a'} | ${added} | ` +
        `${perHop(p.hops, (h) => f(h.cpuPer1000AtRate, 3))} | ${perHop(p.hops, (h) => f(h.cpuPer1000AtMax, 3))} | ` +
        `${perHop(p.hops, (h) => `${f(h.rssIdleMb, 0)} / ${f(h.rssMb, 0)} / ${f(h.hwmMb, 0)}`)} | ` +
        `${perHop(p.hops, (h) => `${f(h.anonIdleMb, 0)} / ${f(h.anonMb, 0)}`)} | ` +
        `${perHop(p.hops, (h) => `${f(h.pssIdleMb, 0)} / ${f(h.pssMb, 0)}`)} |`,
    );
  }
  lines.push('');
  lines.push(
    `Per-hop figures: hop 1 (the client side), hop 2 (the backend side). CPU seconds per 1000 requests at ` +
      `${s.rate} rps equal vCPU per 1000 rps. Latency: ${s.latencyRounds} rounds of ${s.seconds / s.latencyRounds} s ` +
      `per path, alternating the order of the paths. Memory, summed over a hop's processes (nginx: master + ` +
      `worker): RSS counts every resident page, the executable's too (a bare \`node\` is about 40 MB, 34 MB of it ` +
      `the node binary, shared by every Node process); RssAnon is the process's own memory (heap, stacks, malloc); ` +
      `PSS divides each shared page among the processes that map it. Other work on the machine: its busy time ` +
      `(/proc/stat) minus the benchmark's own processes', an estimate: the machine's figure is sampled at clock ` +
      `ticks and misses many of the short runs a light load is made of, so at 1000 rps it reads low, below zero at ` +
      `times.`,
  );
  lines.push('');
  lines.push(
    `| path | fixed-rate: answered / errors | from the write, p50 / p99 (ms) | client lateness p99 (ms) | other work on the machine (vCPU) | hop vCPU at ${s.rate} rps | hop vCPU under wrk |`,
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const p of run.paths) {
    const l = p.latency;
    if (p.status !== 'ok' || !l) continue;
    lines.push(
      `| ${p.name} | ${l.ok} / ${l.bad + l.errors + l.dropped} | ${f(l.fromSend.p50, 3)} / ${f(l.fromSend.p99, 3)} | ` +
        `${f(l.lateness.p99, 3)} | ${f(l.otherVcpu)} | ${perHop(p.hops, (h) => f(h.vcpuAtRate, 3))} | ${perHop(p.hops, (h) => f(h.vcpuAtMax, 2))} |`,
    );
  }

  const shoal = byName.get('shoal');
  const nginx = byName.get('nginx');
  const haproxy = byName.get('haproxy');
  const ran = shoal?.status === 'ok';
  lines.push('');
  if (!ran) {
    lines.push(`Shoal: ${shoal ? `${shoal.status}: ${shoal.reason}` : 'not run'}; its ratios and goals are pending.`);
  } else {
    lines.push(
      `Max throughput ratios, wrk (HTTP/1.1) / h2load (h2c): Shoal/nginx ` +
        `${f(ratio(shoal.wrk?.rps, nginx?.wrk?.rps))} / ${f(ratio(shoal.h2load?.rps, nginx?.h2load?.rps))}, ` +
        `Shoal/HAProxy ${f(ratio(shoal.wrk?.rps, haproxy?.wrk?.rps))} / ${f(ratio(shoal.h2load?.rps, haproxy?.h2load?.rps))}.`,
    );
    lines.push('');
    lines.push(
      referenceRatios(
        shoal,
        byName.get('node-floor'),
        'node-floor',
        'the least a Node process costs per request and hop',
        s.rate,
        true,
      ),
    );
    lines.push('');
    lines.push(
      referenceRatios(shoal, byName.get('node-http'), 'node-http', 'a minimal HTTP/1.1 proxy in Node', s.rate, false),
    );
    lines.push('');
    const l = shoal.latency?.fromIntended;
    const addedP99 = l && direct ? l.p99 - direct.p99 : NaN;
    // The client's own lateness (its event loop or the machine being busy) lands in every path's latency; when it
    // is larger than the goal itself, a difference of two p99s says nothing.
    const lateP99 = Math.max(shoal.latency?.lateness.p99 ?? NaN, byName.get('direct')?.latency?.lateness.p99 ?? NaN);
    const latencyJudged = Number.isFinite(addedP99) && addedP99 >= 0 && lateP99 <= 0.3;
    const throughput = ratio(shoal.wrk?.rps, nginx?.wrk?.rps);
    const vcpuPer1000 = Math.max(...shoal.hops.map((h) => h.cpuPer1000AtRate));
    const rss = Math.max(...shoal.hops.map((h) => h.rssMb));
    const hwm = Math.max(...shoal.hops.map((h) => h.hwmMb));
    const anon = Math.max(...shoal.hops.map((h) => h.anonMb));
    const pss = Math.max(...shoal.hops.map((h) => h.pssMb));
    const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
    lines.push('| goal (issue 4) | measured | |');
    lines.push('| --- | --- | --- |');
    lines.push(`| >= 0.7 of nginx 2-hop throughput (wrk) | ${f(throughput)} | ${verdict(throughput >= 0.7)} |`);
    lines.push(
      `| p99 added <= 0.3 ms at ${s.rate} rps | ${f(addedP99, 3)} ms (p50 ${signed(l && direct ? l.p50 - direct.p50 : NaN)} ms) | ` +
        `${latencyJudged ? verdict(addedP99 <= 0.3) : `not judged: too noisy (client lateness p99 ${f(lateP99, 3)} ms)`} |`,
    );
    lines.push(
      `| <= 0.10 vCPU per 1000 rps per sidecar | ${f(vcpuPer1000, 3)} (worst hop) | ${verdict(vcpuPer1000 <= 0.1)} |`,
    );
    lines.push(
      `| <= 40 MB RSS per sidecar | ${f(rss, 1)} MB (peak ${f(hwm, 1)} MB; RssAnon ${f(anon, 1)} MB, PSS ${f(pss, 1)} MB) | ${verdict(rss <= 40)} |`,
    );
  }
  const notes = run.paths.flatMap((p) => [...p.problems, ...p.notes].map((n) => `- ${p.name}: ${n}`));
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n');
}
