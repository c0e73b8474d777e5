/** `npm run bench [suite...]`: runs the benchmarks and prints Markdown for docs/benchmarks.md. */
import { benchApi } from './api.js';
import { benchDns } from './dns/index.js';
import { benchLb } from './lb/pickers.js';
import { benchProxyAb } from './proxy/ab.js';
import { benchProxy } from './proxy/index.js';
import { benchXds } from './xds/index.js';

const suites: Record<string, () => Promise<string>> = {
  api: benchApi,
  xds: benchXds,
  lb: benchLb,
  proxy: benchProxy,
  'proxy-ab': benchProxyAb,
  dns: benchDns,
};
/** Run only when named: proxy-ab compares two builds and needs BENCH_AB_A (bench/proxy/ab.ts). */
const onlyWhenNamed = new Set(['proxy-ab']);
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(suites).filter((name) => !onlyWhenNamed.has(name));
for (const name of names) {
  const suite = suites[name];
  if (!suite) {
    process.stderr.write(`unknown bench suite "${name}"; known: ${Object.keys(suites).join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write((await suite()) + '\n');
}
