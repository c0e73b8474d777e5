/** The registry: names, aliases, configs from Envoy JSON and from the sidecar's decoded cluster. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHostSet } from '../../../src/proxy/lb/host-set.js';
import {
  configureLoadBalancer,
  registerLoadBalancer,
  registeredLoadBalancers,
} from '../../../src/proxy/lb/registry.js';
import { FAIL_PICKER, NO_HEALTHY_UPSTREAM, type LoadBalancerFactory } from '../../../src/proxy/lb/types.js';
import { ok } from '../../../src/core/result.js';
import { eps } from './helpers.js';

void describe('load balancer registry', () => {
  void it("registers Envoy's five policies under their extension names", () => {
    assert.deepEqual(registeredLoadBalancers().sort(), [
      'least_request',
      'maglev',
      'random',
      'ring_hash',
      'round_robin',
    ]);
  });

  void it('configures by name or legacy lb_policy name; hash policies say so', () => {
    for (const [name, expected, usesHash] of [
      ['ROUND_ROBIN', 'round_robin', false],
      ['least_request', 'least_request', false],
      ['RANDOM', 'random', false],
      ['RING_HASH', 'ring_hash', true],
      ['maglev', 'maglev', true],
    ] as const) {
      const lb = configureLoadBalancer(name);
      assert.ok(lb.ok);
      assert.equal(lb.value.name, expected);
      assert.equal(lb.value.usesHash, usesHash);
      const r = lb.value.build(buildHostSet({ endpoints: eps(1) })).pick();
      assert.equal(r.type === 'complete' ? r.endpoint.key : r.reason, eps(1)[0]!.key);
    }
  });

  void it("takes the translator's JSON and the sidecar's decoded configs", () => {
    assert.ok(configureLoadBalancer('RING_HASH', { minimum_ring_size: { value: 1024 } }).ok);
    assert.ok(
      configureLoadBalancer('ring_hash', { minimumRingSize: 1024, maximumRingSize: 8388608, hashFunction: 'XX_HASH' })
        .ok,
    );
    assert.ok(configureLoadBalancer('least_request', { choiceCount: 2, activeRequestBias: 1 }).ok);
    assert.ok(configureLoadBalancer('maglev', { tableSize: 65537 }).ok);
    assert.ok(configureLoadBalancer('round_robin', {}).ok);
  });

  void it('rejects unknown policies and configs it cannot honour', () => {
    assert.deepEqual(configureLoadBalancer('CLUSTER_PROVIDED'), {
      ok: false,
      error: 'load balancing policy CLUSTER_PROVIDED is not supported',
    });
    assert.deepEqual(configureLoadBalancer('round_robin', { slowStart: { windowMs: 1000 } }), {
      ok: false,
      error: 'round_robin_lb_config.slowStart: not supported',
    });
  });

  void it('accepts new policies (grpc-js style): here one that always fails', () => {
    const never: LoadBalancerFactory<Record<string, never>> = {
      name: 'test_never',
      parseConfig: () => ok({}),
      build: () => FAIL_PICKER,
    };
    registerLoadBalancer(never);
    const lb = configureLoadBalancer('test_never');
    assert.ok(lb.ok);
    assert.equal(lb.value.build(buildHostSet({ endpoints: eps(2) })).pick(), NO_HEALTHY_UPSTREAM);
  });
});
