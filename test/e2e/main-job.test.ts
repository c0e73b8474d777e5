/**
 * The README's main job, run as a new user runs it: a fresh clone of this repository, the first command of the
 * README's first code block executed literally by a shell (`npm ci && npx shoal up -f examples/bookstore`), the
 * printed ingress URL opened 60 times, then Ctrl-C (SIGINT to the foreground process group, as a terminal sends it).
 * It checks that the storefront shows reviews from all three versions, and that no process is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/processes.js';

/** The first command line of the README's first ```sh block, without its comment. */
function readmeMainJob(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has a sh code block');
  const line = block[1]!.split('\n')[0]!;
  return line.replace(/\s+#.*$/, '').trim();
}

/** PIDs of the processes whose command line or working directory is inside `dir`. */
function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // A process that just exited, or one we may not inspect.
      }
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

test(
  'README main job: a fresh clone runs the bookstore mesh; 60 requests show all three reviews versions; Ctrl-C leaves nothing running',
  { timeout: 420_000 },
  async () => {
    const command = readmeMainJob();
    assert.match(command, /shoal up -f examples\/bookstore/);
    const home = tempDir('shoal-readme-');
    const clone = join(home, 'shoal');
    execFileSync('git', ['clone', '--quiet', REPO_ROOT, clone]);

    const shell = spawn('bash', ['-c', command], {
      cwd: clone,
      // A new process group, like a terminal's foreground job; the user's own config stays untouched.
      detached: true,
      env: {
        ...process.env,
        SHOAL_CONFIG: join(home, '.shoal', 'config'),
        SHOAL_SERVER: '',
        SHOAL_TOKEN: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    shell.stdout.on('data', (d: Buffer) => (out += d.toString()));
    shell.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => shell.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 360_000;
      let ingress: string | undefined;
      while (ingress === undefined) {
        if (Date.now() > deadline || shell.exitCode !== null) {
          assert.fail(`shoal up did not become ready:\n${out}\n${err.slice(-3000)}`);
        }
        ingress = /shoal up: ingress (http:\/\/\S+)/.exec(out)?.[1];
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.match(out, /shoal up: ready/);

      const versions = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const res = await fetch(ingress);
        const html = await res.text();
        assert.equal(res.status, 200, html);
        assert.match(html, /<h1>Bookstore<\/h1>/);
        const version = res.headers.get('x-reviews-version') ?? 'none';
        versions.set(version, (versions.get(version) ?? 0) + 1);
      }
      assert.deepEqual([...versions.keys()].sort(), ['v1', 'v2', 'v3'], JSON.stringify([...versions]));
    } finally {
      if (shell.exitCode === null) process.kill(-shell.pid!, 'SIGINT');
    }
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    // The shell's own status is npm's answer to the signal; what the user sees is shoal up stopping cleanly.
    assert.notEqual(code, 'timeout', `still running 30 s after Ctrl-C:\n${out.slice(-2000)}`);
    assert.match(out, /shoal up: stopping \(SIGINT\)\n[\s\S]*shoal up: stopped\n/);
    // Every process the job started (npm, shoal up, the control plane, apps, sidecars, gateway) is gone.
    let left = processesUnder(clone);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      left = processesUnder(clone);
    }
    assert.deepEqual(left, [], `processes left running: ${left.join(' ')}`);
  },
);
