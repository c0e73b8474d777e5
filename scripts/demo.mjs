#!/usr/bin/env node
// The main job until `shoal up` lands: start a control plane on the embedded store, apply the bookstore
// example, show what the mesh now knows, and keep running until Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shoal = join(root, 'dist', 'src', 'cli', 'main.js');
const dataDir = process.env.SHOAL_DATA_DIR ?? join(root, '.shoal');
const env = {
  ...process.env,
  SHOAL_CONFIG: process.env.SHOAL_CONFIG ?? join(mkdtempSync(join(tmpdir(), 'shoal-demo-')), 'config'),
};
const port = process.env.SHOAL_HTTP_PORT ?? '15014';

const control = spawn(
  process.execPath,
  [shoal, 'control', '--data-dir', dataDir, '--http-port', port, '--log-format', 'text'],
  {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const ready = await new Promise((resolve) => {
  let out = '';
  control.stdout.on('data', (d) => {
    out += d;
    process.stdout.write(d);
    if (out.includes('api http')) resolve(true);
  });
  control.on('exit', () => resolve(false));
});
if (!ready) process.exit(1);

const cli = (...args) => spawnSync(process.execPath, [shoal, ...args], { env, stdio: 'inherit' }).status;
cli('apply', '-f', join(root, 'examples', 'bookstore'));
for (const kind of ['services', 'virtualservices', 'destinationrules', 'gateways']) cli('get', kind);
console.log(
  `\nThe control plane is running (API http://127.0.0.1:${port}, client config ${env.SHOAL_CONFIG}). Ctrl-C stops it.`,
);

const stop = () => control.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
control.on('exit', (code) => process.exit(code ?? 0));
