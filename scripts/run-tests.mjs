#!/usr/bin/env node
// Runs the compiled node:test suites: dist/test/{unit,integration,e2e}/**/*.test.js.
// Usage: node scripts/run-tests.mjs [unit|integration|e2e ...] [--only PATTERN]
// Every test (and hook) fails after 5 minutes rather than hang the run: a stuck test is a failure CI can report.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args.splice(onlyIdx, 2)[1] : undefined;
const suites = args.length > 0 ? args : ['unit', 'integration', 'e2e'];

function walk(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = suites.flatMap((s) => walk(join('dist', 'test', s))).filter((f) => !only || f.includes(only));
if (files.length === 0) {
  console.error('run-tests: no test files found (did the build run?)');
  process.exit(1);
}
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
