/** parseNode: Istio's node metadata keys. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode } from '../../../src/control/xds/node.js';
import { toStruct } from '../../../src/control/xds/well-known.js';

void describe('parseNode', () => {
  void it('lifts Istio metadata keys out of the Struct', () => {
    const node = parseNode({
      id: 'sidecar~127.1.0.5~web-1.default~default.svc.cluster.local',
      cluster: 'web.default',
      metadata: toStruct({
        NAMESPACE: 'default',
        LABELS: { app: 'web', version: 'v1', ignored: 3 },
        SERVICE_ACCOUNT: 'web',
        WORKLOAD_NAME: 'web',
        CLUSTER_ID: 'Kubernetes',
        ISTIO_VERSION: '1.22.0',
      }),
      locality: { region: 'r', zone: 'z', sub_zone: '' },
      user_agent_name: 'grpc-node-js',
      user_agent_version: '1.14.1',
      client_features: ['envoy.lb.does_not_support_overprovisioning'],
    });
    assert.deepEqual(node, {
      id: 'sidecar~127.1.0.5~web-1.default~default.svc.cluster.local',
      cluster: 'web.default',
      metadata: {
        NAMESPACE: 'default',
        LABELS: { app: 'web', version: 'v1', ignored: 3 },
        SERVICE_ACCOUNT: 'web',
        WORKLOAD_NAME: 'web',
        CLUSTER_ID: 'Kubernetes',
        ISTIO_VERSION: '1.22.0',
      },
      namespace: 'default',
      labels: { app: 'web', version: 'v1' },
      serviceAccount: 'web',
      workloadName: 'web',
      clusterId: 'Kubernetes',
      locality: { region: 'r', zone: 'z', subZone: '' },
      userAgent: 'grpc-node-js 1.14.1',
      clientFeatures: ['envoy.lb.does_not_support_overprovisioning'],
    });
  });

  void it('tolerates a node with nothing but an id', () => {
    const node = parseNode({
      id: 'x',
      cluster: '',
      metadata: null,
      locality: null,
      user_agent_name: '',
      client_features: [],
    });
    assert.deepEqual(node, { id: 'x', cluster: '', metadata: {}, labels: {}, clientFeatures: [] });
  });
});
