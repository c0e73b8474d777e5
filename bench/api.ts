/**
 * Control-plane API benchmark (issue 2): a real `shoal control` process on the embedded store.
 *  - apply 10,000 resources at concurrency 16 (resources/s), beside the store's own in-process create rate;
 *  - latency of a list of 10,000;
 *  - delivery latency of one change to 100 watchers (p50/p99 over 50 changes).
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { startControl, tempDir } from '../test/helpers/processes.js';
import { fmt, summary } from './lib/stats.js';

const N = Number(process.env.BENCH_API_N ?? 10_000);
const CONCURRENCY = 16;
const WATCHERS = 100;
const CHANGES = 50;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(url: string, method: string, token: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const headers = { authorization: `Bearer ${token}`, 'content-type': contentType };
    const req = request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function service(name: string, ns = 'bench'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { app: name, tier: 'bench' } },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

async function storeBaseline(): Promise<number> {
  const store = SqliteStore.open({ path: join(tempDir('shoal-bench-store-'), 'shoal.db') });
  const n = Math.min(N, 5000);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await store.create(service(`s${next++}`) as never);
    }),
  );
  const rate = n / ((performance.now() - t0) / 1000);
  await store.close();
  return rate;
}

export async function benchApi(): Promise<string> {
  const baseline = await storeBaseline();
  const cp = await startControl();
  const collection = `${cp.url}/api/v1/namespaces/bench/services`;
  try {
    // 1. Apply N resources at concurrency 16.
    let next = 0;
    let failures = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          const i = next++;
          const res = await call(collection, 'POST', cp.token, service(`svc-${i}`));
          if (res.status !== 201) failures++;
        }
      }),
    );
    const applySecs = (performance.now() - t0) / 1000;

    // 2. List latency (10 lists of N).
    const listMs: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const res = await call(collection, 'GET', cp.token);
      listMs.push(performance.now() - t);
      listBytes = res.text.length;
    }

    // 3. One change delivered to 100 watchers.
    const rv = (
      JSON.parse((await call(collection + '?limit=1', 'GET', cp.token)).text) as {
        metadata: { resourceVersion: string };
      }
    ).metadata.resourceVersion;
    const waiting = new Map<string, { t0: number; remaining: number; done: () => void }>();
    const samples: number[] = [];
    const watchReqs = [];
    for (let w = 0; w < WATCHERS; w++) {
      const req = request(
        `${collection}?watch=true&resourceVersion=${rv}&labelSelector=app%3Dwatched`,
        { agent: false },
        (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            buf += d;
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const ev = JSON.parse(buf.slice(0, nl)) as {
                object: { metadata: { annotations?: Record<string, string> } };
              };
              buf = buf.slice(nl + 1);
              const id = ev.object.metadata.annotations?.change;
              const entry = id === undefined ? undefined : waiting.get(id);
              if (entry) {
                samples.push(performance.now() - entry.t0);
                if (--entry.remaining === 0) entry.done();
              }
            }
          });
        },
      );
      req.on('error', () => undefined);
      req.end();
      watchReqs.push(req);
    }
    await new Promise((r) => setTimeout(r, 500));
    const target = {
      ...service('watched'),
      metadata: { name: 'watched', namespace: 'bench', labels: { app: 'watched' } },
    };
    await call(collection, 'POST', cp.token, target);
    await new Promise((r) => setTimeout(r, 200));
    samples.length = 0;
    for (let c = 0; c < CHANGES; c++) {
      const id = String(c);
      const delivered = new Promise<void>((done) =>
        waiting.set(id, { t0: performance.now(), remaining: WATCHERS, done }),
      );
      const res = await call(`${collection}/watched`, 'PATCH', cp.token, { metadata: { annotations: { change: id } } });
      if (res.status !== 200) throw new Error(`PATCH answered ${res.status}: ${res.text}`);
      const timeout = new Promise<void>((_, reject) =>
        setTimeout(() => reject(new Error(`change ${id} not delivered to every watcher within 10 s`)), 10_000).unref(),
      );
      await Promise.race([delivered, timeout]);
    }
    for (const r of watchReqs) r.destroy();

    const list = summary(listMs);
    const watch = summary(samples);
    return [
      '### Control-plane API (issue 2)',
      '',
      `Real \`shoal control\` process, SQLite store in WAL mode, HTTP/1.1 keep-alive clients in one Node process on the same 2 cores.`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| apply ${N} Services at concurrency ${CONCURRENCY} | **${fmt(N / applySecs, 0)} resources/s** (${fmt(applySecs, 1)} s, ${failures} failures) |`,
      `| baseline: the store's own create rate, in-process, same concurrency | ${fmt(baseline, 0)} resources/s (API/store ratio ${fmt(N / applySecs / baseline)}) |`,
      `| list of ${N} (${fmt(listBytes / 1e6, 1)} MB JSON), 10 runs | p50 ${fmt(list.p50, 1)} ms, p99 ${fmt(list.p99, 1)} ms |`,
      `| one change to ${WATCHERS} watchers, ${CHANGES} changes (${watch.n} deliveries), from the write's send | p50 ${fmt(watch.p50)} ms, p99 ${fmt(watch.p99)} ms, max ${fmt(watch.max)} ms |`,
      '',
    ].join('\n');
  } finally {
    agent.destroy();
    await cp.stop();
  }
}
