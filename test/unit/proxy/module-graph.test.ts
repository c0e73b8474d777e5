/**
 * What a sidecar or gateway process loads: the modules `shoal sidecar` and `shoal gateway` reach through their static
 * imports, and the proxy they import when they run, must not include zod, YAML, SQLite, the API schemas or the
 * control plane beyond the xDS wire format. Read from the compiled JavaScript (`import type` is erased there).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const SRC = new URL('../../../src/', import.meta.url);
const IMPORT = /^\s*(?:import|export)\s[^;]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'/gm;

/** Every module statically reached from `entries`, and the packages they import, each with who imports it first. */
function moduleGraph(entries: readonly URL[]): Map<string, string> {
  const seen = new Map<string, string>(entries.map((e) => [e.href, '(entry)']));
  const queue = [...entries];
  for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
    for (const m of readFileSync(url, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('node:')) continue;
      const key = spec.startsWith('.') ? new URL(spec, url).href : spec;
      if (seen.has(key)) continue;
      seen.set(key, url.href);
      if (spec.startsWith('.')) queue.push(new URL(key));
    }
  }
  return seen;
}

test('shoal sidecar and shoal gateway load neither zod, YAML, SQLite, the API schemas nor the control plane', () => {
  // Dynamic imports are not followed: the proxy (imported by both commands' actions) is an entry; the Probe schema,
  // imported only when --readiness-probe is given, is not.
  const graph = moduleGraph([
    new URL('cli/sidecar.js', SRC),
    new URL('cli/gateway.js', SRC),
    new URL('proxy/sidecar.js', SRC),
  ]);
  const relative = (key: string): string => key.replace(SRC.href, 'src/');
  const allowed = [/^src\/(cli|core|proxy)\//, /^src\/api\/regex\.js$/, /^src\/control\/xds\/[a-z-]+\.js$/];
  const forbidden = ['zod', 'yaml', 'better-sqlite3', 'undici'];
  for (const [key, from] of graph) {
    const name = relative(key);
    if (key.startsWith('file:')) {
      assert.ok(
        allowed.some((re) => re.test(name)),
        `${name} (imported by ${relative(from)})`,
      );
    } else assert.ok(!forbidden.includes(key), `${key} (imported by ${relative(from)})`);
  }
  // The xDS modules it may load are the wire format, not the server or the translation.
  const control = [...graph.keys()].map(relative).filter((n) => n.startsWith('src/control/'));
  for (const n of control) assert.ok(!/server|snapshot|translate|mesh-provider/.test(n), n);
  assert.ok(graph.has(new URL('proxy/listener/listener-manager.js', SRC).href), 'the walk follows the imports');
});
