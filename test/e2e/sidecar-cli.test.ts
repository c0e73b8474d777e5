/** `shoal sidecar`'s command line: SPEC's stable flags are there, and bad flags end it with one clear line. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/processes.js';

const BASE = ['sidecar', '--control', '127.0.0.1:1', '--workload', 'w', '--pod-ip', '127.1.0.1', '--app-port', '80'];

describe('shoal sidecar flags', () => {
  it('lists the stable flags of SPEC.md in its help', async () => {
    const r = await runCli(['sidecar', '--help'], process.env);
    assert.equal(r.code, 0);
    for (const flag of [
      '--control',
      '--namespace',
      '--workload',
      '--service-account',
      '--pod-ip',
      '--app-port',
      '--labels',
      '--token-file',
      '--outbound-port',
      '--inbound-port',
      '--admin-port',
      '--stats-port',
      '--health-port',
      '--xds-mode',
    ]) {
      assert.ok(r.stdout.includes(flag), `help lists ${flag}`);
    }
  });

  const bad: [string, string[], RegExp][] = [
    ['a missing --pod-ip', ['sidecar', '--control', '127.0.0.1:1', '--workload', 'w', '--app-port', '80'], /--pod-ip/],
    ['a pod IP that is not an IP', [...BASE, '--pod-ip', 'pod-1'], /--pod-ip.*expected an IP address/],
    ['an app port out of range', [...BASE, '--app-port', '70000'], /--app-port.*port number/],
    ['a control address without a port', [...BASE, '--control', 'nonsense'], /--control: nonsense is not host:port/],
    ['an unknown xDS mode', [...BASE, '--xds-mode', 'bogus'], /--xds-mode.*expected auto, delta or sotw/],
    ['labels that are not k=v', [...BASE, '--labels', 'app'], /--labels.*expected k=v/],
    [
      'a probe that is not JSON',
      [...BASE, '--readiness-probe', '{nope'],
      /--readiness-probe.*Kubernetes probe as JSON/,
    ],
    ['a probe with a bad field', [...BASE, '--readiness-probe', '{"httpGet":{"port":"x y"}}'], /httpGet\.port/],
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what} with a non-zero exit and one clear line`, async () => {
      const r = await runCli(args, process.env);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});
