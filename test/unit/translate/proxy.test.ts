/** proxyContextOf: proxy type from the node id and GENERATOR, Istio's and Shoal's metadata keys. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode } from '../../../src/control/xds/node.js';
import { proxyContextOf } from '../../../src/control/xds/translate/proxy.js';
import { toStruct, type JsonObject } from '../../../src/control/xds/well-known.js';

function node(id: string, metadata: JsonObject = {}, locality?: { region: string; zone: string; sub_zone: string }) {
  return parseNode({
    id,
    cluster: '',
    metadata: toStruct(metadata),
    locality: locality ?? null,
    user_agent_name: '',
    client_features: [],
  });
}

void describe('proxyContextOf', () => {
  void it('reads a sidecar node: id, metadata, Shoal ports, locality', () => {
    const proxy = proxyContextOf(
      node(
        'sidecar~127.1.0.5~reviews-v1-1.bookinfo~bookinfo.svc.cluster.local',
        {
          NAMESPACE: 'bookinfo',
          LABELS: { app: 'reviews', version: 'v1' },
          INSTANCE_IPS: '127.1.0.5,fd00::5',
          SERVICE_ACCOUNT: 'bookinfo-reviews',
          WORKLOAD_NAME: 'reviews-v1',
          SHOAL_APP_PORT: '9080',
          SHOAL_INBOUND_PORT: 15106,
          SHOAL_OUTBOUND_PORT: '15101',
        },
        { region: 'eu', zone: 'eu-a', sub_zone: '' },
      ),
    );
    assert.deepEqual(proxy, {
      type: 'sidecar',
      id: 'sidecar~127.1.0.5~reviews-v1-1.bookinfo~bookinfo.svc.cluster.local',
      namespace: 'bookinfo',
      labels: { app: 'reviews', version: 'v1' },
      workloadName: 'reviews-v1',
      ip: '127.1.0.5',
      inboundPort: 15106,
      outboundPort: 15101,
      appPort: 9080,
      serviceAccount: 'bookinfo-reviews',
      locality: { region: 'eu', zone: 'eu-a', subZone: '' },
    });
  });

  void it('takes the namespace and IP from the id when metadata lacks them', () => {
    const proxy = proxyContextOf(node('sidecar~10.0.0.7~web-1.shop~shop.svc.cluster.local'));
    assert.deepEqual(proxy, {
      type: 'sidecar',
      id: 'sidecar~10.0.0.7~web-1.shop~shop.svc.cluster.local',
      namespace: 'shop',
      labels: {},
      ip: '10.0.0.7',
    });
  });

  void it('router~ is a gateway', () => {
    const proxy = proxyContextOf(
      node('router~127.1.0.2~ingress-1.istio-system~istio-system.svc.cluster.local', {
        LABELS: { istio: 'ingressgateway' },
      }),
    );
    assert.equal(proxy.type, 'gateway');
    assert.equal(proxy.namespace, 'istio-system');
    assert.deepEqual(proxy.labels, { istio: 'ingressgateway' });
  });

  void it('anything else is proxyless gRPC, and GENERATOR=grpc wins over a sidecar id', () => {
    assert.deepEqual(proxyContextOf(node('grpc-client-1', { NAMESPACE: 'shop' })), {
      type: 'grpc',
      id: 'grpc-client-1',
      namespace: 'shop',
      labels: {},
    });
    assert.deepEqual(proxyContextOf(node('client')), { type: 'grpc', id: 'client', namespace: 'default', labels: {} });
    const istioStyle = proxyContextOf(
      node('sidecar~127.1.0.8~echo-client.default~default.svc.cluster.local', { GENERATOR: 'grpc' }),
    );
    assert.equal(istioStyle.type, 'grpc');
    assert.equal(istioStyle.ip, '127.1.0.8');
  });

  void it('ignores ports that are not port numbers', () => {
    const proxy = proxyContextOf(
      node('sidecar~127.1.0.5~a.default~default.svc.cluster.local', {
        SHOAL_APP_PORT: 'http',
        SHOAL_INBOUND_PORT: 70000,
        INSTANCE_IPS: 'not-an-ip',
      }),
    );
    assert.equal(proxy.appPort, undefined);
    assert.equal(proxy.inboundPort, undefined);
    assert.equal(proxy.ip, '127.1.0.5');
  });
});
