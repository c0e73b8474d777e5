/** Snapshot: names, per-resource versions (hash of the encoded bytes), per-type versions, structural sharing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getXdsProtos } from '../../../src/control/xds/protos.js';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  SECRET_TYPE_URL,
} from '../../../src/control/xds/resource-types.js';
import { Snapshot } from '../../../src/control/xds/snapshot.js';
import { CLUSTER_NAME, echoCluster, echoEndpoints, echoSnapshot, LISTENER_NAME, ROUTE_NAME } from './fixtures.js';

void describe('Snapshot', () => {
  void it('names resources by name (cluster_name for endpoints) and versions them by content', () => {
    const snapshot = echoSnapshot([7001]);
    assert.deepEqual([...snapshot.resources(LISTENER_TYPE_URL).keys()], [LISTENER_NAME]);
    assert.deepEqual([...snapshot.resources(ROUTE_TYPE_URL).keys()], [ROUTE_NAME]);
    assert.deepEqual([...snapshot.resources(CLUSTER_TYPE_URL).keys()], [CLUSTER_NAME]);
    assert.deepEqual([...snapshot.resources(ENDPOINT_TYPE_URL).keys()], [CLUSTER_NAME]);
    assert.equal(snapshot.resources(SECRET_TYPE_URL).size, 0);
    assert.deepEqual(snapshot.counts(), {
      [CLUSTER_TYPE_URL]: 1,
      [ENDPOINT_TYPE_URL]: 1,
      [LISTENER_TYPE_URL]: 1,
      [ROUTE_TYPE_URL]: 1,
      [SECRET_TYPE_URL]: 0,
    });
    const cluster = snapshot.get(CLUSTER_TYPE_URL, CLUSTER_NAME);
    assert.ok(cluster);
    assert.match(cluster.version, /^[0-9a-f]{16}$/);
    assert.equal(cluster.resource.type_url, CLUSTER_TYPE_URL);
    assert.equal(getXdsProtos().fromAny(cluster.resource).name, CLUSTER_NAME);
  });

  void it('is deterministic: equal content gives equal versions, at every level', () => {
    const a = echoSnapshot([7001, 7002]);
    const b = echoSnapshot([7001, 7002]);
    assert.equal(a.version, b.version);
    assert.equal(a.typeVersion(ENDPOINT_TYPE_URL), b.typeVersion(ENDPOINT_TYPE_URL));
    assert.equal(a.get(ENDPOINT_TYPE_URL, CLUSTER_NAME)?.version, b.get(ENDPOINT_TYPE_URL, CLUSTER_NAME)?.version);
    // A zero value written explicitly is the same content as one left out.
    const explicit = Snapshot.fromResources({ [CLUSTER_TYPE_URL]: [{ ...echoCluster(), lb_policy: 'ROUND_ROBIN' }] });
    const implicit = Snapshot.fromResources({ [CLUSTER_TYPE_URL]: [echoCluster()] });
    assert.equal(explicit.typeVersion(CLUSTER_TYPE_URL), implicit.typeVersion(CLUSTER_TYPE_URL));
  });

  void it('changes only what changed, and shares untouched types', () => {
    const before = echoSnapshot([7001]);
    const after = before.withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([7002])] });
    assert.notEqual(after.version, before.version);
    assert.notEqual(after.typeVersion(ENDPOINT_TYPE_URL), before.typeVersion(ENDPOINT_TYPE_URL));
    for (const typeUrl of [LISTENER_TYPE_URL, ROUTE_TYPE_URL, CLUSTER_TYPE_URL] as const) {
      assert.equal(after.typeVersion(typeUrl), before.typeVersion(typeUrl));
      assert.equal(after.resources(typeUrl), before.resources(typeUrl));
    }
    const same = before.withResources({ [ENDPOINT_TYPE_URL]: [echoEndpoints([7001])] });
    assert.equal(same.resources(ENDPOINT_TYPE_URL), before.resources(ENDPOINT_TYPE_URL));
    assert.equal(same.version, before.version);
  });

  void it('gives every empty type the same version and rejects duplicates and nameless resources', () => {
    assert.equal(Snapshot.empty().typeVersion(SECRET_TYPE_URL), echoSnapshot([1]).typeVersion(SECRET_TYPE_URL));
    assert.equal(Snapshot.empty().typeVersion(SECRET_TYPE_URL), Snapshot.empty().typeVersion(LISTENER_TYPE_URL));
    assert.throws(
      () => Snapshot.fromResources({ [CLUSTER_TYPE_URL]: [echoCluster(), echoCluster()] }),
      /duplicate resource name "outbound\|8080\|\|echo.default.svc.cluster.local"/,
    );
    assert.throws(() => Snapshot.fromResources({ [CLUSTER_TYPE_URL]: [{ type: 'EDS' }] }), /without a name/);
    const listener = getXdsProtos().toAny(LISTENER_TYPE_URL, { name: 'l' });
    assert.throws(
      () => Snapshot.fromEncoded({ [CLUSTER_TYPE_URL]: [{ name: 'l', resource: listener }] }),
      /has type .*Listener, expected .*Cluster/,
    );
  });

  void it('is immutable', () => {
    const snapshot = echoSnapshot([7001]);
    assert.ok(Object.isFrozen(snapshot));
    assert.ok(Object.isFrozen(snapshot.get(CLUSTER_TYPE_URL, CLUSTER_NAME)));
  });
});
