/** Pod addresses, restart back-off and the rollout plan: the runner's pure decisions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressAllocator, formatIp, parseCidr } from '../../../src/runner/address-allocator.js';
import { nextCrashCount, restartDelayMs } from '../../../src/runner/restart-backoff.js';
import { planReplicas, rollingLimits, type PlannedPod } from '../../../src/runner/rollout-plan.js';
import { ShoalError } from '../../../src/core/errors.js';
import { addressIsFree } from '../../../src/runner/deployment-controller.js';
import { createServer, type AddressInfo } from 'node:net';

void test('parseCidr: network, prefix and usable size; bad input names the flag', () => {
  assert.deepEqual(parseCidr('127.1.0.0/16'), { base: 127 * 2 ** 24 + 2 ** 16, prefix: 16, size: 65534 });
  assert.equal(formatIp(parseCidr('10.9.8.77/24').base), '10.9.8.0');
  for (const bad of ['127.1.0.0', '127.1.0.0/31', '127.1.0.0/7', '300.1.0.0/16', 'x/16']) {
    assert.throws(
      () => parseCidr(bad),
      (err: unknown) => err instanceof ShoalError && err.message.startsWith(`--pod-cidr ${bad}: expected an IPv4 CIDR`),
    );
  }
});

void test('addresses go round-robin, skip ones someone else holds, and a released one comes back last', async () => {
  const a = new AddressAllocator('127.1.5.0/29'); // 6 usable: .1 - .6
  assert.equal(await a.allocate(), '127.1.5.1');
  assert.equal(await a.allocate((ip) => ip !== '127.1.5.2'), '127.1.5.3', '.2 is bound by someone else');
  a.release('127.1.5.1');
  assert.equal(await a.allocate(), '127.1.5.4', 'a released address is not reused at once');
  assert.equal(await a.allocate(), '127.1.5.5');
  assert.equal(await a.allocate(), '127.1.5.6');
  assert.equal(await a.allocate(), '127.1.5.1', 'wraps around to free addresses');
  assert.equal(await a.allocate(), '127.1.5.2', 'the skipped address is tried again');
  assert.equal(a.inUse, 6);
  await assert.rejects(a.allocate(), /no free pod address left in 127\.1\.5\.0\/29/);
  // A failing check does not keep the address.
  const b = new AddressAllocator('127.1.6.0/30');
  await assert.rejects(
    b.allocate(() => Promise.reject(new Error('no such address'))),
    /no such address/,
  );
  assert.equal(b.inUse, 0);
});

void test('restart back-off doubles from 1 s to 30 s; a long run resets it', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((n) => restartDelayMs(n)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000],
  );
  assert.equal(restartDelayMs(3, { baseMs: 100, maxMs: 250 }), 250);
  assert.equal(nextCrashCount(4, 5_000), 5);
  assert.equal(nextCrashCount(4, 60_000), 1);
});

const pod = (name: string, updated: boolean, ready: boolean, createdAt: number): PlannedPod => ({
  name,
  updated,
  ready,
  createdAt,
});

void test('scaling: create up to desired; remove unready pods first, then the newest', () => {
  assert.deepEqual(planReplicas(3, []), { create: 3, remove: [] });
  assert.deepEqual(planReplicas(2, [pod('a', true, true, 1)]), { create: 1, remove: [] });
  assert.deepEqual(planReplicas(1, [pod('a', true, true, 1), pod('b', true, false, 2), pod('c', true, true, 3)]), {
    create: 0,
    remove: ['b', 'c'],
  });
  assert.deepEqual(planReplicas(0, [pod('a', true, true, 1)]), { create: 0, remove: ['a'] });
});

void test('rolling update with surge 1: one new pod, an old one goes only once the new one is ready', () => {
  const old = [pod('o1', false, true, 1), pod('o2', false, true, 2)];
  // Step 1: surge one updated pod.
  assert.deepEqual(planReplicas(2, old), { create: 1, remove: [] });
  // While it starts: nothing else.
  assert.deepEqual(planReplicas(2, [...old, pod('n1', true, false, 3)]), { create: 0, remove: [] });
  // It is ready: the oldest old pod goes, and the next updated pod is surged in its place.
  assert.deepEqual(planReplicas(2, [...old, pod('n1', true, true, 3)]), { create: 1, remove: ['o1'] });
  assert.deepEqual(planReplicas(2, [old[1]!, pod('n1', true, true, 3), pod('n2', true, true, 4)]), {
    create: 0,
    remove: ['o2'],
  });
  // An old pod that is not ready goes at once (and the surge refills up to desired + 1).
  assert.deepEqual(planReplicas(2, [pod('o1', false, false, 1), old[1]!]), { create: 2, remove: ['o1'] });
  // Scaled down during a rollout: ready old pods beyond desired go.
  assert.deepEqual(planReplicas(1, [...old, pod('n1', true, false, 3)]), { create: 0, remove: ['o1'] });
});

void test("rolling limits: Kubernetes' 25% defaults, percentages rounded like Kubernetes, never both 0", () => {
  assert.deepEqual(rollingLimits(1, undefined, undefined), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(rollingLimits(4, undefined, undefined), { maxSurge: 1, maxUnavailable: 1 });
  assert.deepEqual(rollingLimits(10, '30%', '30%'), { maxSurge: 3, maxUnavailable: 3 });
  assert.deepEqual(rollingLimits(3, 2, 0), { maxSurge: 2, maxUnavailable: 0 });
  assert.deepEqual(rollingLimits(3, '0%', '10%'), { maxSurge: 0, maxUnavailable: 1 });
});

void test('rolling update with maxUnavailable 1: an old pod goes at once, two new ones start', () => {
  const old = ['o1', 'o2', 'o3', 'o4'].map((n, i) => pod(n, false, true, i));
  const limits = rollingLimits(4, undefined, undefined);
  assert.deepEqual(planReplicas(4, old, limits), { create: 2, remove: ['o1'] });
  const next = [...old.slice(1), pod('n1', true, false, 5), pod('n2', true, false, 6)];
  assert.deepEqual(planReplicas(4, next, limits), { create: 0, remove: [] });
});

void test('addressIsFree: a listener on the pod address makes it taken; an address not on this machine is an error', async () => {
  const ip = `127.1.${(process.pid % 250) + 1}.250`;
  assert.equal(await addressIsFree(ip, 0), true);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const { port } = server.address() as AddressInfo;
  try {
    assert.equal(await addressIsFree(ip, port), false);
  } finally {
    server.close();
  }
  await assert.rejects(addressIsFree('192.0.2.1'), /pod address 192\.0\.2\.1 is not an address of this machine/);
});
