/**
 * `npm run bench dns`: Shoal's DNS server against unbound, same records, same query file, same load tool (dnsperf),
 * in one run.
 *
 * - Shoal: a real `shoal control` (port 0) with SERVICES Services `svc-<i>` (port http 80) made through the HTTP API.
 * - unbound: its own process on a loopback port with a temporary config: one thread, `local-zone: cluster.local.
 *   static` and `local-data` for the same A and SRV records and the same SOA (so unknown names get NXDOMAIN + SOA).
 * - Query file: per service 3 x A, 1 x SRV (`_http._tcp.svc-<i>...`), 1 x A for a name that does not exist
 *   (NXDOMAIN): 60 % A, 20 % SRV, 20 % NXDOMAIN, looped by dnsperf.
 * - Throughput: dnsperf at up to OUTSTANDING queries in flight for DURATION_S; the server's CPU seconds (utime+stime
 *   from /proc) over the run give qps per core = queries answered / CPU seconds. ROUNDS rounds, Shoal and unbound
 *   alternating (the machine is shared: alternating spreads its noise over both); the median round is reported.
 * - Latency: dnsperf at each fixed rate of RATES qps for DURATION_S with -v (one line per answer with its latency):
 *   p50/p99/max, Shoal and unbound alternating.
 *
 * Needs the Debian packages dnsperf and unbound (`apt-get install -y dnsperf unbound`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, summary } from '../lib/stats.js';
import { startBenchControl } from '../xds/control.js';
import { call, closeAgent, CONCURRENCY } from '../xds/mesh-setup.js';
import { sample } from '../xds/proc-stats.js';

const SERVICES = Number(process.env.BENCH_DNS_SERVICES ?? 500);
const DURATION_S = Number(process.env.BENCH_DNS_SECONDS ?? 10);
const OUTSTANDING = Number(process.env.BENCH_DNS_OUTSTANDING ?? 100);
const RATES = (process.env.BENCH_DNS_RATES ?? '1000,10000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_DNS_ROUNDS ?? 3);
const DOMAIN = 'cluster.local';
const SOA = `${DOMAIN}. 5 IN SOA ns.dns.${DOMAIN}. hostmaster.${DOMAIN}. 1 7200 1800 86400 5`;

interface Throughput {
  qps: number;
  completed: number;
  lost: number;
  cpuSeconds: number;
  qpsPerCore: number;
  rcodes: string;
}

interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function field(out: string, label: string): number {
  const m = new RegExp(`${label}:\\s+([\\d.]+)`).exec(out);
  if (!m) throw new Error(`dnsperf output has no "${label}":\n${out}`);
  return Number(m[1]);
}

async function throughput(port: number, queries: string, pid: number): Promise<Throughput> {
  const before = sample(pid);
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(DURATION_S)];
  const out = await run(
    'dnsperf',
    [...args, '-c', '1', '-q', String(OUTSTANDING), '-t', '2'],
    (DURATION_S + 30) * 1000,
  );
  const cpuSeconds = sample(pid).cpuSeconds - before.cpuSeconds;
  const completed = field(out, 'Queries completed');
  return {
    qps: field(out, 'Queries per second'),
    completed,
    lost: field(out, 'Queries lost'),
    cpuSeconds,
    qpsPerCore: completed / cpuSeconds,
    rcodes: /Response codes:\s+(.*)/.exec(out)?.[1]?.trim() ?? '',
  };
}

async function latency(port: number, queries: string, rate: number): Promise<Latency> {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(DURATION_S), '-Q', String(rate)];
  const out = await run('dnsperf', [...args, '-c', '1', '-t', '2', '-v'], (DURATION_S + 30) * 1000);
  const samples: number[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('> ')) continue;
    const ms = Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000;
    if (Number.isFinite(ms)) samples.push(ms);
  }
  const s = summary(samples);
  return { n: s.n, p50: s.p50, p99: s.p99, max: s.max, lost: field(out, 'Queries lost') };
}

function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  return new Promise((resolve) =>
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    }),
  );
}

async function waitForAnswer(port: number, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const out = await run(
      'dig',
      ['@127.0.0.1', '-p', String(port), name, 'A', '+short', '+tries=1', '+time=1'],
      5_000,
    ).catch(() => '');
    if (out.trim() !== '') return;
    if (Date.now() > deadline) throw new Error(`no answer for ${name} on port ${port} within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startUnbound(dir: string, records: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const config = [
    'server:',
    '  interface: 127.0.0.1',
    `  port: ${port}`,
    '  do-ip6: no',
    '  do-daemonize: no',
    '  chroot: ""',
    '  username: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 0',
    '  num-threads: 1',
    '  access-control: 127.0.0.0/8 allow',
    '  module-config: "iterator"',
    `  local-zone: "${DOMAIN}." static`,
    `  local-data: "${SOA}"`,
    ...records.map((r) => `  local-data: "${r}"`),
    'remote-control:',
    '  control-enable: no',
  ];
  const file = join(dir, 'unbound.conf');
  writeFileSync(file, config.join('\n') + '\n');
  const proc = spawn('unbound', ['-d', '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`unbound exited ${code}: ${err}`))),
  );
  await Promise.race([waitForAnswer(port, `svc-0.default.svc.${DOMAIN}`), exited]);
  return { proc, port };
}

export async function benchDns(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-dns-'));
  const control = await startBenchControl();
  let unbound: ChildProcess | undefined;
  try {
    const api = { url: control.url, token: control.token };
    const vips: string[] = new Array<string>(SERVICES);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < SERVICES; i = next++) {
          const reply = await call(api, 'POST', '/api/v1/namespaces/default/services', {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: `svc-${i}` },
            spec: { selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
          });
          if (reply.status !== 201) throw new Error(`create svc-${i}: ${reply.status} ${reply.text}`);
          vips[i] = (JSON.parse(reply.text) as { spec: { clusterIP: string } }).spec.clusterIP;
        }
      }),
    );
    const records: string[] = [];
    const lines: string[] = [];
    for (let i = 0; i < SERVICES; i++) {
      const host = `svc-${i}.default.svc.${DOMAIN}`;
      records.push(`${host}. 5 IN A ${vips[i]}`, `_http._tcp.${host}. 5 IN SRV 0 100 80 ${host}.`);
      lines.push(
        `${host} A`,
        `_http._tcp.${host} SRV`,
        `${host} A`,
        `missing-${i}.default.svc.${DOMAIN} A`,
        `${host} A`,
      );
    }
    const queries = join(dir, 'queries.txt');
    writeFileSync(queries, lines.join('\n') + '\n');
    const shoalPort = Number(control.dns.split(':').pop());
    await waitForAnswer(shoalPort, `svc-${SERVICES - 1}.default.svc.${DOMAIN}`);
    const ub = await startUnbound(dir, records);
    unbound = ub.proc;

    // Warm-up (JIT, caches), then the measured runs, one server at a time.
    await run('dnsperf', ['-s', '127.0.0.1', '-p', String(shoalPort), '-d', queries, '-l', '2', '-c', '1'], 60_000);
    const shoalT: Throughput[] = [];
    const unboundT: Throughput[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      shoalT.push(await throughput(shoalPort, queries, control.proc.pid!));
      unboundT.push(await throughput(ub.port, queries, unbound.pid!));
    }
    const latencies: { rate: number; shoal: Latency; unbound: Latency }[] = [];
    for (const rate of RATES) {
      latencies.push({
        rate,
        shoal: await latency(shoalPort, queries, rate),
        unbound: await latency(ub.port, queries, rate),
      });
    }
    return report(median(shoalT), median(unboundT), latencies, shoalT, unboundT);
  } finally {
    unbound?.kill('SIGTERM');
    closeAgent();
    await control.stop();
  }
}

function median(rounds: Throughput[]): Throughput {
  const sorted = [...rounds].sort((a, b) => a.qpsPerCore - b.qpsPerCore);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function report(
  st: Throughput,
  ut: Throughput,
  latencies: { rate: number; shoal: Latency; unbound: Latency }[],
  allShoal: Throughput[],
  allUnbound: Throughput[],
): string {
  const date = new Date().toISOString().slice(0, 10);
  const tRow = (name: string, t: Throughput): string =>
    `| ${name} | ${fmt(t.qps, 0)} | ${fmt(t.cpuSeconds, 2)} | **${fmt(t.qpsPerCore, 0)}** | ${t.lost} |`;
  const lCell = (l: Latency): string =>
    `${fmt(l.p50, 3)} / **${fmt(l.p99, 3)}** / ${fmt(l.max, 2)} ms (${l.n} answers, ${l.lost} lost)`;
  const perCore = (ts: Throughput[]): string => ts.map((t) => fmt(t.qpsPerCore, 0)).join(', ');
  return [
    `## DNS (issue 5)`,
    '',
    `\`npm run bench dns\` (measured ${date})`,
    '',
    `${SERVICES} Services; query mix 60 % A, 20 % SRV, 20 % NXDOMAIN; dnsperf (one client) on the same 2 cores. ` +
      `Throughput: ${DURATION_S} s at up to ${OUTSTANDING} queries in flight, median of ${ROUNDS} rounds by qps per core.`,
    '',
    '| server | qps | server CPU s | qps per core | lost |',
    '| --- | --- | --- | --- | --- |',
    tRow('Shoal (`shoal control`)', st),
    tRow('unbound (1 thread, local-data)', ut),
    '',
    `Shoal / unbound: qps ${fmt(st.qps / ut.qps)}, qps per core ${fmt(st.qpsPerCore / ut.qpsPerCore)}. ` +
      `All rounds, qps per core: Shoal ${perCore(allShoal)}; unbound ${perCore(allUnbound)}.`,
    '',
    `Latency at a fixed rate (${DURATION_S} s each, dnsperf -v: every answer's latency), p50 / p99 / max:`,
    '',
    '| rate | Shoal | unbound | p99 Shoal / unbound |',
    '| --- | --- | --- | --- |',
    ...latencies.map(
      ({ rate, shoal, unbound }) =>
        `| ${rate} qps | ${lCell(shoal)} | ${lCell(unbound)} | ${fmt(shoal.p99 / unbound.p99)} |`,
    ),
    '',
    `Response codes (Shoal): ${st.rcodes}; (unbound): ${ut.rcodes}.`,
    '',
  ].join('\n');
}
