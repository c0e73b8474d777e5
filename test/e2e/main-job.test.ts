/** The README's main-job command (`npm run demo` = scripts/demo.mjs) as a user runs it, on free ports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/processes.js';

test('the demo starts a control plane, applies the bookstore, and stops cleanly on Ctrl-C', async () => {
  const dir = tempDir('shoal-demo-test-');
  const proc = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.mjs')], {
    env: {
      ...process.env,
      SHOAL_DATA_DIR: dir,
      SHOAL_CONFIG: join(dir, 'config'),
      SHOAL_HTTP_PORT: '0',
      SHOAL_XDS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  while (!out.includes('Ctrl-C stops it')) {
    if (Date.now() > deadline || proc.exitCode !== null) assert.fail(`the demo did not come up: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const line of [
    'service/storefront created',
    'service/reviews created',
    'gateway.networking.istio.io/bookstore-gateway created',
    'virtualservice.networking.istio.io/reviews created',
    'destinationrule.networking.istio.io/reviews created',
  ]) {
    assert.ok(out.includes(line), `missing "${line}" in:\n${out}`);
  }
  assert.match(out, /^reviews\s+ClusterIP\s+127\.2\.\d+\.\d+\s+80\/TCP/m);
  const api = /API (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  assert.equal((await fetch(`${api}/readyz`)).status, 200);
  proc.kill('SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(`${api}/healthz`), 'nothing is left listening');
});
