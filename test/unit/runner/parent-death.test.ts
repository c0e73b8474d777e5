/**
 * How the runner starts its children (src/runner/parent-death.ts): through `setpriv --pdeathsig TERM` when a setpriv
 * is on PATH, directly when none is. The e2e test in up-lifecycle checks what the kernel does with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endWithParent, setprivPath } from '../../../src/runner/parent-death.js';
import { tempDir } from '../../helpers/processes.js';

test('with a setpriv on PATH, a command is wrapped in setpriv --pdeathsig TERM', () => {
  const dir = tempDir('shoal-setpriv-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'setpriv'), '#!/bin/sh\nexec "$@"\n');
  chmodSync(join(bin, 'setpriv'), 0o755);
  const path = [join(dir, 'empty'), bin].join(':');
  assert.equal(setprivPath(path), join(bin, 'setpriv'));
  assert.deepEqual(endWithParent('node', ['app.js', '--port', '80'], path), {
    command: join(bin, 'setpriv'),
    args: ['--pdeathsig', 'TERM', '--', 'node', 'app.js', '--port', '80'],
  });
});

test('without one, the command is started as it is', () => {
  const dir = tempDir('shoal-nosetpriv-');
  // A setpriv that is not executable does not count.
  writeFileSync(join(dir, 'setpriv'), '');
  assert.equal(setprivPath(dir), null);
  assert.deepEqual(endWithParent('python3', ['-m', 'http.server'], dir), {
    command: 'python3',
    args: ['-m', 'http.server'],
  });
});
