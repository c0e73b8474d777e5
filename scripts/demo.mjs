#!/usr/bin/env node
// The main job until `shoal up` lands: start a control plane on the embedded store, apply the bookstore
// example, show what the mesh now knows, and keep running until Ctrl-C.
// Overrides: SHOAL_DATA_DIR, SHOAL_HTTP_PORT (15014), SHOAL_XDS_PORT (15010); 0 picks free ports.
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
delete env.SHOAL_SERVER;
delete env.SHOAL_TOKEN;
const args = ['control', '--data-dir', dataDir, '--log-format', 'text'];
args.push('--http-port', process.env.SHOAL_HTTP_PORT ?? '15014', '--xds-port', process.env.SHOAL_XDS_PORT ?? '15010');

// Signals first: Ctrl-C at any moment stops the control plane and exits with its code.
let control;
const stop = () => (control ? control.kill('SIGTERM') : process.exit(130));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

control = spawn(process.execPath, [shoal, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
control.on('exit', (code) => process.exit(code ?? 0));
const api = await new Promise((resolve) => {
  let out = '';
  const onData = (d) => {
    out += d;
    process.stdout.write(d);
    const m = /api (http:\/\/\S+) xds \S+\n/.exec(out);
    if (m) {
      control.stdout.off('data', onData);
      control.stdout.pipe(process.stdout);
      resolve(m[1]);
    }
  };
  control.stdout.on('data', onData);
});

const cli = (...a) => spawnSync(process.execPath, [shoal, ...a], { env, stdio: 'inherit' }).status;
cli('apply', '-f', join(root, 'examples', 'bookstore'));
for (const kind of ['services', 'virtualservices', 'destinationrules', 'gateways']) cli('get', kind);
console.log(`\nThe control plane is running (API ${api}, client config ${env.SHOAL_CONFIG}). Ctrl-C stops it.`);
