import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer } from '../../../src/core/debounce.js';
import { FakeTimers } from '../../helpers/fake-timers.js';

test('fires once after the quiet period', () => {
  const timers = new FakeTimers();
  let fired = 0;
  const d = new Debouncer(() => fired++, 100, 1000, timers);
  d.trigger();
  timers.advance(60);
  d.trigger();
  timers.advance(60);
  assert.equal(fired, 0, 'the second trigger restarted the quiet period');
  timers.advance(40);
  assert.equal(fired, 1);
  timers.advance(1000);
  assert.equal(fired, 1);
});

test('a steady stream of triggers still fires at the max delay', () => {
  const timers = new FakeTimers();
  const at: number[] = [];
  const d = new Debouncer(() => at.push(timers.now()), 100, 1000, timers);
  for (let t = 0; t < 2500; t += 50) {
    d.trigger();
    timers.advance(50);
  }
  assert.deepEqual(at.slice(0, 2), [1000, 2000]);
});

test('flush fires a pending burst now; cancel drops it', () => {
  const timers = new FakeTimers();
  let fired = 0;
  const d = new Debouncer(() => fired++, 100, 1000, timers);
  d.flush();
  assert.equal(fired, 0, 'nothing pending, nothing fired');
  d.trigger();
  d.flush();
  assert.equal(fired, 1);
  d.trigger();
  d.cancel();
  timers.advance(2000);
  assert.equal(fired, 1);
  assert.equal(d.pending, false);
});
