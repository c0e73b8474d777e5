/** Every registered policy runs the shared conformance suite. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { leastRequest } from '../../../src/proxy/lb/least-request.js';
import { maglev } from '../../../src/proxy/lb/maglev.js';
import { random } from '../../../src/proxy/lb/random.js';
import { registeredLoadBalancers } from '../../../src/proxy/lb/registry.js';
import { ringHash } from '../../../src/proxy/lb/ring-hash.js';
import { roundRobin } from '../../../src/proxy/lb/round-robin.js';
import { lbConformance } from './conformance.js';

lbConformance('ROUND_ROBIN', roundRobin, {});
lbConformance('LEAST_REQUEST', leastRequest, { choiceCount: 2, activeRequestBias: 1 });
lbConformance('RANDOM', random, {});
// A ring's shares carry the granularity of its points (about 1/sqrt(points) relative): the suite measures the
// selection logic with a 64k-point ring; ring-hash.test.ts measures the default 1024 ring on its own.
lbConformance('RING_HASH', ringHash, { minimumRingSize: 65536, maximumRingSize: 8_388_608 });
lbConformance('MAGLEV', maglev, { tableSize: 65537 });

void it('the suite covers every registered policy', () => {
  assert.deepEqual(registeredLoadBalancers().sort(), ['least_request', 'maglev', 'random', 'ring_hash', 'round_robin']);
});
