import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sourceAddressFor } from '../../../src/proxy/upstream/source-address.js';

describe('sourceAddressFor', () => {
  it('leaves from a loopback pod address to loopback endpoints', () => {
    assert.equal(sourceAddressFor('127.1.0.5', '127.1.0.9'), '127.1.0.5');
    assert.equal(sourceAddressFor('127.1.0.5', '127.0.0.1'), '127.1.0.5');
  });

  it('leaves from a routable pod address to routable endpoints of its family', () => {
    assert.equal(sourceAddressFor('10.0.0.5', '10.0.0.9'), '10.0.0.5');
    assert.equal(sourceAddressFor('fd00::5', 'fd00::9'), 'fd00::5');
  });

  it('uses the default address where the pod address cannot reach the endpoint', () => {
    assert.equal(sourceAddressFor('127.1.0.5', '10.0.0.9'), undefined);
    assert.equal(sourceAddressFor('10.0.0.5', '127.0.0.1'), undefined);
    assert.equal(sourceAddressFor('10.0.0.5', 'fd00::9'), undefined);
    assert.equal(sourceAddressFor('127.1.0.5', 'api.example.com'), undefined);
    assert.equal(sourceAddressFor('0.0.0.0', '127.0.0.1'), undefined);
    assert.equal(sourceAddressFor(undefined, '127.0.0.1'), undefined);
  });
});
