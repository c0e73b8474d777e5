/**
 * How a long-running command ends (src/cli/shutdown.ts), in a real child process: the first SIGTERM or SIGINT (or a
 * trigger, as POST /quitquitquit does) runs `stop` once and exits 0; a `stop` that throws exits 1 with the error
 * logged; a later signal is ignored, or calls the command's `onRepeat` (`shoal up`: exit 130).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const SHUTDOWN = new URL('../../../src/cli/shutdown.js', import.meta.url).href;
const LOGGER = new URL('../../../src/core/logger.js', import.meta.url).href;

const CHILD = `
import { onShutdown } from '${SHUTDOWN}';
import { createLogger } from '${LOGGER}';
const mode = process.argv[1];
const say = (line) => process.stdout.write(line + '\\n');
const shutdown = onShutdown(
  createLogger({ name: 'shutdown-test' }),
  async (reason) => {
    say('stop ' + reason + ' ' + shutdown.stopping);
    if (mode === 'fail') throw new Error('disk on fire');
    if (mode === 'hang') return new Promise(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
  },
  mode === 'hang' ? (signal) => { say('again ' + signal); process.exit(130); } : undefined,
);
setInterval(() => undefined, 1000);
say('ready ' + shutdown.stopping);
if (mode === 'quit') shutdown.trigger('quitquitquit');
`;

interface Outcome {
  code: number | null;
  stdout: string[];
  stderr: string;
}

/** Runs the child in `mode`; once it is ready, sends `signals` 30 ms apart; resolves when it exits (10 s at most). */
function run(mode: string, signals: NodeJS.Signals[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, mode], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 10 s; stdout: ${stdout} stderr: ${stderr}`));
    }, 10_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!sent && stdout.includes('ready')) {
        sent = true;
        signals.forEach((s, i) => setTimeout(() => child.kill(s), 30 * i));
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: stdout.trimEnd().split('\n'), stderr });
    });
  });
}

test('SIGTERM runs stop once and exits 0; a second SIGTERM while stopping is ignored', async () => {
  const r = await run('ok', ['SIGTERM', 'SIGTERM']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout, ['ready false', 'stop SIGTERM true']);
});

test('SIGINT does the same', async () => {
  const r = await run('ok', ['SIGINT']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout, ['ready false', 'stop SIGINT true']);
});

test('a trigger (POST /quitquitquit) stops it with its reason', async () => {
  const r = await run('quit', []);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout, ['ready false', 'stop quitquitquit true']);
});

test('a stop that throws exits 1 with the error logged', async () => {
  const r = await run('fail', ['SIGTERM']);
  assert.equal(r.code, 1);
  assert.deepEqual(r.stdout, ['ready false', 'stop SIGTERM true']);
  const logged = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; err?: string });
  assert.ok(
    logged.some((l) => l.msg === 'error while stopping' && l.err === 'disk on fire'),
    r.stderr,
  );
});

test("a second signal while stopping goes to the command's onRepeat", async () => {
  const r = await run('hang', ['SIGINT', 'SIGTERM']);
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(r.stdout, ['ready false', 'stop SIGINT true', 'again SIGTERM']);
});
