/** Label selectors: parse (valid and invalid strings), format, matches, fromMatchLabels. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EVERYTHING,
  formatLabelSelector,
  fromMatchLabels,
  matches,
  parseLabelSelector,
  type Requirement,
} from '../../../src/store/label-selector.js';

const VALID: [string, Requirement[], string][] = [
  ['app=web', [{ key: 'app', op: 'In', values: ['web'] }], 'app=web'],
  ['app==web', [{ key: 'app', op: 'In', values: ['web'] }], 'app=web'],
  [' app = web ', [{ key: 'app', op: 'In', values: ['web'] }], 'app=web'],
  ['app!=web', [{ key: 'app', op: 'NotIn', values: ['web'] }], 'app!=web'],
  ['app=', [{ key: 'app', op: 'In', values: [''] }], 'app='],
  ['env in (a, b)', [{ key: 'env', op: 'In', values: ['a', 'b'] }], 'env in (a,b)'],
  ['env in(a)', [{ key: 'env', op: 'In', values: ['a'] }], 'env=a'],
  ['env notin (a,b)', [{ key: 'env', op: 'NotIn', values: ['a', 'b'] }], 'env notin (a,b)'],
  ['!legacy', [{ key: 'legacy', op: 'DoesNotExist' }], '!legacy'],
  ['version', [{ key: 'version', op: 'Exists' }], 'version'],
  ['example.com/app=web', [{ key: 'example.com/app', op: 'In', values: ['web'] }], 'example.com/app=web'],
  [
    'app=web,tier!=db,env in (a,b),!legacy,version',
    [
      { key: 'app', op: 'In', values: ['web'] },
      { key: 'tier', op: 'NotIn', values: ['db'] },
      { key: 'env', op: 'In', values: ['a', 'b'] },
      { key: 'legacy', op: 'DoesNotExist' },
      { key: 'version', op: 'Exists' },
    ],
    'app=web,tier!=db,env in (a,b),!legacy,version',
  ],
  ['', [], ''],
  ['   ', [], ''],
];

const INVALID: [string, RegExp][] = [
  ['app=web=x', /term "app=web=x": label value "web=x" must be/],
  ['a b', /term "a b": unexpected term/],
  ['!', /term "!": unexpected term/],
  ['env in (a,b', /term "env in \(a,b": unexpected term/],
  ['env in ()', /values for "in" must not be empty/],
  ['env notin ( , )', /values for "notin" must not be empty/],
  ['-a=b', /label key "-a" must be/],
  ['a=-b', /label value "-b" must be/],
  ['a=b)', /unexpected term/],
  ['a,,b', /term "": empty term/],
  ['a=b,', /term "": empty term/],
  [`k=${'v'.repeat(64)}`, /must be at most 63 characters/],
  [`${'k'.repeat(64)}=v`, /label key "k{64}" must be/],
  ['Bad_Prefix.com/a=b', /label key prefix "Bad_Prefix.com" must be a DNS-1123 subdomain/],
];

void describe('label selectors', () => {
  for (const [text, requirements, formatted] of VALID) {
    void it(`parses ${JSON.stringify(text)}`, () => {
      const sel = parseLabelSelector(text);
      assert.deepEqual(sel.requirements, requirements);
      assert.equal(formatLabelSelector(sel), formatted);
      assert.deepEqual(parseLabelSelector(formatted), sel, 'the formatted form parses back to the same selector');
    });
  }

  for (const [text, message] of INVALID) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseLabelSelector(text),
        (err: Error & { reason?: string }) => {
          assert.equal(err.reason, 'BadRequest');
          assert.ok(err.message.startsWith(`unable to parse labelSelector "${text}": `), err.message);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  void it('matches: each operator, absent labels, and every requirement at once', () => {
    const labels = { app: 'web', tier: 'front' };
    const cases: [string, Record<string, string> | undefined, boolean][] = [
      ['app=web', labels, true],
      ['app=db', labels, false],
      ['app!=db', labels, true],
      ['app!=web', labels, false],
      ['missing!=x', labels, true],
      ['tier in (front,back)', labels, true],
      ['tier in (back)', labels, false],
      ['missing in (x)', labels, false],
      ['tier notin (back)', labels, true],
      ['tier notin (front)', labels, false],
      ['missing notin (x)', labels, true],
      ['tier', labels, true],
      ['missing', labels, false],
      ['!missing', labels, true],
      ['!tier', labels, false],
      ['app=web,tier=front', labels, true],
      ['app=web,tier=back', labels, false],
      ['app=web', undefined, false],
      ['!app', undefined, true],
      ['', undefined, true],
      ['app=', { app: '' }, true],
      ['app=', {}, false],
    ];
    for (const [text, l, want] of cases) {
      assert.equal(matches(parseLabelSelector(text), l), want, `${text} on ${JSON.stringify(l)}`);
    }
    assert.equal(matches(undefined, undefined), true);
    assert.equal(matches(EVERYTHING, { a: 'b' }), true);
    // Inherited properties are not labels.
    assert.equal(matches(parseLabelSelector('toString'), {}), false);
  });

  void it('fromMatchLabels: one In requirement per label; an empty or absent map selects everything', () => {
    assert.deepEqual(fromMatchLabels({ app: 'web', v: '1' }).requirements, [
      { key: 'app', op: 'In', values: ['web'] },
      { key: 'v', op: 'In', values: ['1'] },
    ]);
    assert.equal(formatLabelSelector(fromMatchLabels({ app: 'web', v: '1' })), 'app=web,v=1');
    assert.deepEqual(fromMatchLabels({}), EVERYTHING);
    assert.deepEqual(fromMatchLabels(undefined), EVERYTHING);
  });
});
