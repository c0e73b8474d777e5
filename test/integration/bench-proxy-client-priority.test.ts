/**
 * The proxy benchmark starts its fixed-rate latency client under SCHED_FIFO where the machine allows it
 * (bench/proxy/procs.ts clientPriority). A real process is started with the returned command prefix and its
 * scheduling policy is read back from /proc, so the label the report prints is checked against what the kernel did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { clientPriority } from '../../bench/proxy/procs.js';

/** Policy and real-time priority of a process started with `prefix` (fields 41 and 40 of /proc/<pid>/stat). */
function policyOf(prefix: readonly string[]): { policy: number; rtPriority: number } {
  const [command, ...args] = [...prefix, process.execPath];
  const out = execFileSync(
    command,
    [
      ...args,
      '-e',
      "const s = require('fs').readFileSync('/proc/self/stat', 'utf8'); " +
        "const f = s.slice(s.lastIndexOf(')') + 2).split(' '); " +
        'process.stdout.write(JSON.stringify({ policy: +f[38], rtPriority: +f[37] }));',
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { policy: number; rtPriority: number };
}

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;

test('clientPriority: the client runs under SCHED_FIFO at the given priority when chrt works, else normally', () => {
  const p = clientPriority(20);
  const seen = policyOf(p.command);
  if (p.label === 'SCHED_FIFO 20') {
    assert.deepEqual(p.command, ['chrt', '-f', '20']);
    assert.deepEqual(seen, { policy: SCHED_FIFO, rtPriority: 20 });
  } else {
    // Not allowed here (no root, no CAP_SYS_NICE, no chrt): the label says why and the client runs normally.
    assert.match(p.label, /^normal \(chrt -f 20 failed: /);
    assert.deepEqual(p.command, []);
    assert.equal(seen.policy, SCHED_OTHER);
  }
});

test('clientPriority(0) keeps the client at normal priority', () => {
  const p = clientPriority(0);
  assert.deepEqual(p, { command: [], label: 'normal (BENCH_PROXY_CLIENT_PRIORITY=0)' });
  assert.deepEqual(policyOf(p.command), { policy: SCHED_OTHER, rtPriority: 0 });
});
