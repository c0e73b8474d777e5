/**
 * What translation gives a proxyless gRPC client passes @grpc/grpc-js-xds's own resource validation (the decode()
 * of each of its resource types, which is what decides ACK or NACK), including under DestinationRules and
 * VirtualServices that use features gRPC lacks. A LEAST_REQUEST cluster is the negative control.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { ProtoObject } from '../../../src/control/xds/proto-object.js';
import { getXdsProtos } from '../../../src/control/xds/protos.js';
import { CLUSTER_TYPE_URL, type XdsTypeUrl } from '../../../src/control/xds/resource-types.js';
import { translate } from '../../../src/control/xds/translate/index.js';
import { bookinfoView, echo, reviews } from './bookinfo.js';
import { destinationRule, grpcClient, view, virtualService } from './fixtures.js';

interface Decoded {
  name: string;
  error?: string;
}
interface ResourceType {
  get(): { decode(context: unknown, resource: { type_url: string; value: Buffer }): Decoded };
}

const require = createRequire(import.meta.url);
const xds = require('@grpc/grpc-js-xds') as { register(): void };
xds.register(); // registers the HTTP filters (router, fault) the listener validation looks up
const dir = '@grpc/grpc-js-xds/build/src/xds-resource-type/';
const decoders: Record<string, ResourceType> = {
  Cluster: (require(`${dir}cluster-resource-type.js`) as { ClusterResourceType: ResourceType }).ClusterResourceType,
  ClusterLoadAssignment: (require(`${dir}endpoint-resource-type.js`) as { EndpointResourceType: ResourceType })
    .EndpointResourceType,
  Listener: (require(`${dir}listener-resource-type.js`) as { ListenerResourceType: ResourceType }).ListenerResourceType,
  RouteConfiguration: (
    require(`${dir}route-config-resource-type.js`) as { RouteConfigurationResourceType: ResourceType }
  ).RouteConfigurationResourceType,
};
const CONTEXT = { server: {}, bootstrap: { certificateProviders: {} } };

function grpcErrors(resources: Partial<Record<XdsTypeUrl, readonly ProtoObject[]>>): string[] {
  const protos = getXdsProtos();
  const errors: string[] = [];
  for (const [typeUrl, list] of Object.entries(resources) as [XdsTypeUrl, readonly ProtoObject[]][]) {
    const decoder = decoders[typeUrl.slice(typeUrl.lastIndexOf('.') + 1)]!;
    for (const object of list) {
      const any = protos.toAny(typeUrl, object);
      const result = decoder.get().decode(CONTEXT, { type_url: any.type_url, value: Buffer.from(any.value) });
      if (result.error !== undefined) errors.push(`${result.name}: ${result.error}`);
    }
  }
  return errors;
}

void describe('proxyless gRPC acceptance (grpc-js-xds validators)', () => {
  void it('accepts every resource of the bookinfo mesh', () => {
    const { resources } = translate(bookinfoView(), grpcClient());
    assert.ok((resources[CLUSTER_TYPE_URL] ?? []).length > 5);
    assert.deepEqual(grpcErrors(resources), []);
  });

  void it('accepts them when the rules use what gRPC lacks (degraded and reported instead)', () => {
    const v = view([reviews, echo], {
      destinationRules: [
        destinationRule('reviews', {
          host: 'reviews',
          trafficPolicy: {
            loadBalancer: { simple: 'LEAST_REQUEST', localityLbSetting: { failover: [{ from: 'eu', to: 'us' }] } },
            outlierDetection: { consecutive5xxErrors: 1 },
            tls: { mode: 'SIMPLE' },
          },
          subsets: [
            {
              name: 'v1',
              labels: { version: 'v1' },
              trafficPolicy: { loadBalancer: { consistentHash: { maglev: {}, httpCookie: { name: 'c' } } } },
            },
          ],
        }),
      ],
      virtualServices: [
        virtualService('reviews', {
          hosts: ['reviews'],
          http: [
            { match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new' } },
            { match: [{ queryParams: { a: { exact: 'b' } } }], directResponse: { status: 404 } },
            {
              match: [{ headers: { 'x-user': { regex: 'a.*' } }, ignoreUriCase: true, uri: { prefix: '/Reviews' } }],
              fault: { abort: { httpStatus: 503 } },
              retries: { attempts: 2, retryOn: '5xx' },
              mirror: { host: 'echo' },
              headers: { request: { set: { a: 'b' } } },
              rewrite: { uri: '/r' },
              route: [
                { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
                { destination: { host: 'reviews' }, weight: 10 },
              ],
            },
          ],
        }),
      ],
    });
    const { resources, warnings } = translate(v, grpcClient({ locality: { region: 'eu', zone: 'eu-a', subZone: '' } }));
    assert.deepEqual(grpcErrors(resources), []);
    assert.ok(warnings.length >= 8, warnings.join('\n'));
  });

  void it('would NACK what a sidecar gets (LEAST_REQUEST), so the check has teeth', () => {
    const { resources } = translate(bookinfoView(), { type: 'sidecar', id: 's', namespace: 'default', labels: {} });
    const errors = grpcErrors({ [CLUSTER_TYPE_URL]: resources[CLUSTER_TYPE_URL] ?? [] });
    assert.ok(
      errors.some((e) => e.includes('unsupported lb_policy')),
      errors.join('\n'),
    );
  });
});
