/** The evaluation queue: streams evaluated in order, once each, in time slices on separate turns. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvaluationQueue } from '../../../src/control/xds/evaluation-queue.js';

/** A queue whose turns run when the test says, and whose clock advances 1 ms per evaluation. */
function manual(sliceMs: number): {
  queue: EvaluationQueue;
  turns: (() => void)[];
  log: string[];
  item: (n: string) => { evaluatePending(): void };
} {
  const turns: (() => void)[] = [];
  const log: string[] = [];
  let clock = 0;
  const queue = new EvaluationQueue({ sliceMs, defer: (run) => turns.push(run), now: () => clock });
  const item = (name: string): { evaluatePending(): void } => ({
    evaluatePending() {
      clock += 1;
      log.push(name);
    },
  });
  return { queue, turns, log, item };
}

void describe('EvaluationQueue', () => {
  void it('evaluates nothing synchronously, then everything in order over slices of sliceMs', () => {
    const { queue, turns, log, item } = manual(3);
    const items = Array.from({ length: 7 }, (_, i) => item(`s${i}`));
    for (const it of items) queue.add(it);
    assert.deepEqual(log, []);
    assert.equal(turns.length, 1, 'one turn scheduled, however many streams');
    turns.shift()!();
    assert.deepEqual(log, ['s0', 's1', 's2']);
    assert.equal(turns.length, 1, 'the rest waits for the next turn');
    turns.shift()!();
    turns.shift()!();
    assert.deepEqual(log, ['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
    assert.equal(turns.length, 0);
    assert.equal(queue.size, 0);
    assert.equal(queue.slices, 3);
  });

  void it('evaluates a stream queued twice once, in its first place; forgets a deleted one', () => {
    const { queue, turns, log, item } = manual(100);
    const [a, b, c] = [item('a'), item('b'), item('c')];
    queue.add(a);
    queue.add(b);
    queue.add(c);
    queue.add(a);
    queue.delete(b);
    turns.shift()!();
    assert.deepEqual(log, ['a', 'c']);
    queue.add(b);
    assert.equal(turns.length, 1, 'an empty queue schedules again on the next add');
    turns.shift()!();
    assert.deepEqual(log, ['a', 'c', 'b']);
  });

  void it('runs on setImmediate by default, letting other callbacks in between slices', async () => {
    const queue = new EvaluationQueue({ sliceMs: 0 });
    const log: string[] = [];
    for (const name of ['x', 'y']) queue.add({ evaluatePending: () => log.push(name) });
    setImmediate(() => log.push('other'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(log, ['x', 'other', 'y']);
  });
});
