/** `shoal control` as a process: JSON logs, SIGTERM drains (watches end, exit 0), bad configuration fails in one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { runCli, startControl, tempDir } from '../helpers/processes.js';

test('SIGTERM ends open watches and exits 0, logging one JSON object per line', async () => {
  const control = await startControl();
  const ended = new Promise<string>((resolve, reject) => {
    const req = request(`${control.url}/api/v1/services?watch=true`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  await new Promise((r) => setTimeout(r, 200));
  const code = await control.stop();
  assert.equal(code, 0);
  assert.equal(await ended, '', 'the watch ended cleanly with nothing to report');
  const lines = control.stderr().trim().split('\n');
  const records = lines.map((l) => JSON.parse(l) as { msg: string; level: number });
  const messages = records.map((r) => r.msg);
  assert.ok(messages.includes('control plane ready'), messages.join(' | '));
  assert.ok(messages.indexOf('draining') < messages.indexOf('stopped'));
});

test('--log-format text writes lines for people', async () => {
  const control = await startControl({ args: ['--log-format', 'text'] });
  assert.equal(await control.stop(), 0);
  assert.match(control.stderr(), /^\S+Z INFO {2}control plane ready api=http:\/\/127\.0\.0\.1:\d+/m);
});

test('an unavailable store fails with one clear line and a non-zero code', async () => {
  const env = { ...process.env, SHOAL_CONFIG: `${tempDir()}/config` };
  const res = await runCli(
    ['control', '--data-dir', tempDir(), '--http-port', '0', '--xds-port', '0', '--store', 'etcd://127.0.0.1:1'],
    env,
  );
  assert.equal(res.code, 2);
  assert.deepEqual(res.stderr.trim().split('\n').length, 1, res.stderr);
  assert.match(res.stderr, /etcd store is not available/);
});
