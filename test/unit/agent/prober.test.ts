import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prober, probeTiming } from '../../../src/proxy/agent/prober.js';
import type { ProbeOutcome } from '../../../src/proxy/agent/probe-checks.js';
import { FakeTimers } from '../../helpers/fake-timers.js';

/** A check that answers from a script of outcomes (true = success). */
function scripted(results: boolean[]): { check: (t: number) => Promise<ProbeOutcome>; calls: number[] } {
  const calls: number[] = [];
  let i = 0;
  return {
    calls,
    check: (timeoutMs) => {
      calls.push(timeoutMs);
      const ok = results[Math.min(i++, results.length - 1)]!;
      return Promise.resolve({ ok, message: ok ? 'fine' : 'broken' });
    },
  };
}

test('Kubernetes defaults', () => {
  assert.deepEqual(probeTiming(undefined), {
    initialDelayMs: 0,
    periodMs: 10_000,
    timeoutMs: 1_000,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.deepEqual(probeTiming({ tcpSocket: { port: 80 }, periodSeconds: 2, failureThreshold: 1 }), {
    initialDelayMs: 0,
    periodMs: 2_000,
    timeoutMs: 1_000,
    successThreshold: 1,
    failureThreshold: 1,
  });
});

test('starts unready; successThreshold successes make it ready; failureThreshold failures make it unready', async () => {
  const { check } = scripted([false, true, true, false, false, true, false, false, false]);
  const p = new Prober(check, {
    initialDelayMs: 0,
    periodMs: 1,
    timeoutMs: 5,
    successThreshold: 2,
    failureThreshold: 3,
  });
  const changes: boolean[] = [];
  p.onChange((ready) => changes.push(ready));
  const states: boolean[] = [];
  for (let i = 0; i < 9; i++) {
    await p.tick();
    states.push(p.ready);
  }
  assert.deepEqual(states, [false, false, true, true, true, true, true, true, false]);
  assert.deepEqual(changes, [true, false]);
  assert.equal(p.last?.message, 'broken');
});

test('the loop waits the initial delay, then probes every period, and stops', async () => {
  const timers = new FakeTimers();
  const { check, calls } = scripted([true]);
  const p = new Prober(
    check,
    { initialDelayMs: 500, periodMs: 100, timeoutMs: 50, successThreshold: 1, failureThreshold: 1 },
    timers,
  );
  p.start();
  timers.advance(499);
  assert.equal(calls.length, 0);
  timers.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, [50]);
  assert.equal(p.ready, true);
  for (let i = 0; i < 3; i++) {
    timers.advance(100);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(calls.length, 4);
  p.stop();
  timers.advance(1000);
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.length, 4);
  assert.equal(timers.size, 0);
});
