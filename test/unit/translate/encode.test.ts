/** Every resource translation produces for a realistic mesh encodes as its Envoy message, for every proxy type. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translate } from '../../../src/control/xds/translate/index.js';
import { bookinfoView } from './bookinfo.js';
import { assertEncodes, grpcClient, sidecar } from './fixtures.js';

void describe('translate: every resource encodes', () => {
  for (const proxy of [
    sidecar(),
    sidecar({ namespace: 'infra', labels: { app: 'vault' }, locality: { region: 'eu', zone: 'eu-a', subZone: '' } }),
    grpcClient(),
    {
      type: 'gateway' as const,
      id: 'router~127.1.0.2~ingress-1.istio-system~istio-system.svc.cluster.local',
      namespace: 'istio-system',
      labels: { istio: 'ingressgateway' },
    },
  ]) {
    void it(`for a ${proxy.type} in ${proxy.namespace}`, () => {
      const result = translate(bookinfoView(), proxy);
      assertEncodes(result.resources);
      assert.ok(Object.keys(result.resources).length > 0);
    });
  }
});
