/**
 * The hot spots of a V8 CPU profile (`node --cpu-prof`, e.g. the control plane's under BENCH_XDS_CPU_PROF), by self
 * time and by inclusive time, with compiled locations mapped back to the TypeScript sources through their source
 * maps.
 *
 *   node dist/bench/xds/profile-top.js <file.cpuprofile> [count] [fromMs] [toMs]
 *
 * fromMs/toMs restrict it to a window of the monotonic clock (`process.hrtime` milliseconds, which V8's profile
 * timestamps share): the benchmark logs the window of its spaced changes when BENCH_XDS_CPU_PROF is set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../test/helpers/processes.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const maps = new Map<string, SourceMap | undefined>();

function sourceMapOf(url: string): SourceMap | undefined {
  if (!maps.has(url)) {
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    const mapPath = `${path}.map`;
    maps.set(url, existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as never) : undefined);
  }
  return maps.get(url);
}

/** `file:line` in the sources where a source map knows it, else in the compiled file or Node's internals. */
function location(frame: ProfileNode['callFrame']): string {
  if (frame.url === '') return '(native)';
  const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const entry = sourceMapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry && 'originalSource' in entry) {
    const original = entry.originalSource;
    const source = original.startsWith('file://') ? fileURLToPath(original) : resolve(dirname(file), original);
    return `${relative(REPO_ROOT, source)}:${entry.originalLine + 1}`;
  }
  return `${isAbsolute(file) ? relative(REPO_ROOT, file) : file}:${frame.lineNumber + 1}`;
}

function keyOf(node: ProfileNode): string {
  return `${node.callFrame.functionName || '(anonymous)'} ${location(node.callFrame)}`;
}

export function topOfProfile(profile: CpuProfile, count = 25, window?: { fromMs: number; toMs: number }): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  let atUs = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    atUs += delta;
    if (window !== undefined && (atUs < window.fromMs * 1000 || atUs > window.toMs * 1000)) return;
    selfMs.set(id, (selfMs.get(id) ?? 0) + delta / 1000);
  });
  const totalMs =
    window === undefined
      ? (profile.endTime - profile.startTime) / 1000
      : Math.min(window.toMs, profile.endTime / 1000) - Math.max(window.fromMs, profile.startTime / 1000);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const node = byId.get(id)!;
    const key = keyOf(node);
    const own = selfMs.get(id) ?? 0;
    self.set(key, (self.get(key) ?? 0) + own);
    const nested = onStack.has(key);
    if (!nested) onStack.add(key);
    let sum = own;
    for (const child of node.children ?? []) sum += walk(child, onStack);
    if (!nested) {
      onStack.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    }
    return sum;
  };
  walk(profile.nodes[0]!.id, new Set());

  const idle = new Set(['(idle) (native)', '(program) (native)', '(root) (native)', '(garbage collector) (native)']);
  const busyMs = [...self].filter(([k]) => !idle.has(k) || k.startsWith('(garbage')).reduce((s, [, v]) => s + v, 0);
  const table = (title: string, entries: Map<string, number>): string[] => [
    `${title} (ms, % of ${busyMs.toFixed(0)} ms busy in a ${totalMs.toFixed(0)} ms profile)`,
    ...[...entries]
      .filter(([k]) => !idle.has(k) || k.startsWith('(garbage'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([k, v]) => `${v.toFixed(0).padStart(8)} ${((100 * v) / busyMs).toFixed(1).padStart(5)}%  ${k}`),
  ];
  return [...table('self time', self), '', ...table('inclusive time', inclusive)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/xds/profile-top.js <file.cpuprofile> [count]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const [fromMs, toMs] = [process.argv[4], process.argv[5]].map(Number);
  const window = Number.isFinite(fromMs) && Number.isFinite(toMs) ? { fromMs: fromMs!, toMs: toMs! } : undefined;
  process.stdout.write(topOfProfile(profile, Number(process.argv[3] ?? 25), window) + '\n');
}
