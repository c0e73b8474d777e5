/** VipAllocator: IPv4 CIDR bookkeeping for service VIPs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isShoalError } from '../../../src/core/errors.js';
import { VipAllocator, ipv4ToNumber, numberToIpv4 } from '../../../src/registry/vip-allocator.js';

function rejects(fn: () => unknown, reason: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isShoalError(err), String(err));
    assert.equal(err.reason, reason);
    assert.match(err.message, pattern);
    return true;
  });
}

void describe('VipAllocator', () => {
  void it('hands out addresses in order, skipping the network address', () => {
    const a = new VipAllocator('127.2.0.0/16');
    assert.equal(a.capacity, 65534);
    assert.deepEqual([a.allocate(), a.allocate(), a.allocate()], ['127.2.0.1', '127.2.0.2', '127.2.0.3']);
    assert.equal(a.size, 3);
  });

  void it('never hands out the broadcast address, and throws ServiceUnavailable when exhausted', () => {
    const a = new VipAllocator('10.0.0.0/30');
    assert.equal(a.capacity, 2);
    assert.deepEqual([a.allocate(), a.allocate()], ['10.0.0.1', '10.0.0.2']);
    rejects(() => a.allocate(), 'ServiceUnavailable', /no free virtual IP left in 10\.0\.0\.0\/30/);
    assert.equal(a.reserve('10.0.0.3'), false, 'broadcast is not usable');
    assert.equal(a.reserve('10.0.0.0'), false, 'network is not usable');
  });

  void it('/31 and /32 use every address', () => {
    const a = new VipAllocator('10.0.0.4/31');
    assert.deepEqual([a.allocate(), a.allocate()], ['10.0.0.4', '10.0.0.5']);
    const b = new VipAllocator('10.0.0.9/32');
    assert.equal(b.allocate(), '10.0.0.9');
    assert.throws(() => b.allocate());
  });

  void it('continues after the last allocation and does not reuse a released address at once', () => {
    const a = new VipAllocator('10.1.0.0/29'); // .1 .. .6
    const got = [a.allocate(), a.allocate(), a.allocate()];
    assert.equal(a.release('10.1.0.1'), true);
    assert.equal(a.release('10.1.0.1'), false, 'already free');
    assert.equal(a.allocate(), '10.1.0.4');
    assert.deepEqual(got, ['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    assert.equal(a.allocate(), '10.1.0.5');
    assert.equal(a.allocate(), '10.1.0.6');
    assert.equal(a.allocate(), '10.1.0.1', 'wraps around to the released one');
    assert.throws(() => a.allocate());
  });

  void it('reserve marks seeded addresses taken; allocate skips them', () => {
    const a = new VipAllocator('10.2.0.0/24');
    assert.equal(a.reserve('10.2.0.1'), true);
    assert.equal(a.reserve('10.2.0.1'), false, 'already taken');
    assert.equal(a.reserve('10.2.0.2'), true);
    assert.equal(a.reserve('10.3.0.1'), false, 'outside the range');
    assert.equal(a.reserve('not-an-ip'), false);
    assert.equal(a.allocate(), '10.2.0.3');
    assert.equal(a.isAllocated('10.2.0.2'), true);
    assert.equal(a.isAllocated('10.2.0.9'), false);
  });

  void it('contains means a usable address of the range, taken or not', () => {
    const a = new VipAllocator('10.2.0.0/24');
    assert.equal(a.contains('10.2.0.77'), true);
    assert.equal(a.contains('10.2.0.0'), false);
    assert.equal(a.contains('10.2.0.255'), false);
    assert.equal(a.contains('10.2.1.1'), false);
    assert.equal(a.contains('::1'), false);
  });

  void it('finds the free address in a nearly full /16 by skipping full words', () => {
    const a = new VipAllocator('127.3.0.0/16');
    for (let i = 0; i < a.capacity; i++) a.allocate();
    assert.equal(a.release('127.3.200.7'), true);
    assert.equal(a.release('127.3.0.9'), true);
    const started = process.hrtime.bigint();
    assert.equal(a.allocate(), '127.3.0.9', 'wrapped: searching from the start');
    assert.equal(a.allocate(), '127.3.200.7');
    assert.ok(process.hrtime.bigint() - started < 50_000_000n);
  });

  void it('rejects bad ranges with BadRequest', () => {
    rejects(() => new VipAllocator('10.0.0.0'), 'BadRequest', /expected an IPv4 CIDR/);
    rejects(() => new VipAllocator('10.0.0.256/24'), 'BadRequest', /is not an IPv4 address/);
    rejects(() => new VipAllocator('fd00::/64'), 'BadRequest', /not an IPv4 address/);
    rejects(() => new VipAllocator('10.0.0.0/4'), 'BadRequest', /between \/8 and \/32/);
    rejects(() => new VipAllocator('10.0.0.0/33'), 'BadRequest', /between \/8 and \/32/);
    rejects(() => new VipAllocator('127.2.0.5/16'), 'BadRequest', /did you mean 127\.2\.0\.0\/16/);
  });

  void it('converts addresses to numbers and back', () => {
    assert.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
    assert.equal(numberToIpv4(0xffffffff), '255.255.255.255');
    assert.equal(numberToIpv4(ipv4ToNumber('10.20.30.40')!), '10.20.30.40');
    assert.equal(ipv4ToNumber('1.2.3'), undefined);
  });
});
