/**
 * Configured header values on the wire: the proxy carries header values one character per octet, so a configured
 * value with characters above U+007F is held as its UTF-8 octets (src/proxy/config/route-policies.ts wireValue).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerMutations, wireValue } from '../../../src/proxy/config/route-policies.js';

describe('configured header values', () => {
  it('keeps ASCII as it is and holds anything else as its UTF-8 octets', () => {
    assert.equal(wireValue('plain value; q=1'), 'plain value; q=1');
    assert.equal(wireValue('é'), '\u00c3\u00a9');
    assert.equal(Buffer.from(wireValue('grüße 😀'), 'latin1').toString('utf8'), 'grüße 😀');
  });

  it('headers_to_add values are parsed into that form', () => {
    const m = headerMutations(
      { request_headers_to_add: [{ header: { key: 'x-note', value: 'grüße 😀' } }] },
      'route',
      'request',
    );
    assert.equal(m.add.length, 1);
    assert.equal(m.add[0]!.value, Buffer.from('grüße 😀', 'utf8').toString('latin1'));
  });
});
