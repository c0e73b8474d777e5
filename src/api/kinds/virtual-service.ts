/**
 * networking.istio.io VirtualService: routing rules for HTTP, TLS (by SNI) and opaque TCP traffic to hosts.
 * HTTPRoute lives in http-route.ts.
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { labelsSchema } from '../resource.js';
import { asArray, asRecord, checkWeightSum, crossCheck } from '../schema-helpers.js';
import { dns1123LabelSchema, hostSchema, portSchema, weightSchema } from '../validators.js';
import { fieldColumn } from './columns.js';
import { httpRouteSchema } from './http-route.js';
import {
  destinationSchema,
  exportToSchema,
  gatewayRefSchema,
  NETWORKING_GROUP,
  NETWORKING_VERSIONS,
  subnetListSchema,
} from './istio-common.js';

export const routeDestinationSchema = z.strictObject({
  destination: destinationSchema,
  weight: weightSchema.optional(),
});

const routeListSchema = crossCheck(z.array(routeDestinationSchema), checkWeightSum);

const l4MatchFields = {
  destinationSubnets: subnetListSchema.optional(),
  port: portSchema.optional(),
  sourceLabels: labelsSchema.optional(),
  gateways: z.array(gatewayRefSchema).optional(),
  sourceNamespace: dns1123LabelSchema.optional(),
};

export const l4MatchAttributesSchema = z.strictObject(l4MatchFields);

export const tlsMatchAttributesSchema = z.strictObject({ sniHosts: z.array(hostSchema()).min(1), ...l4MatchFields });

export const tcpRouteSchema = z.strictObject({
  match: z.array(l4MatchAttributesSchema).optional(),
  route: routeListSchema.min(1),
});

export const tlsRouteSchema = z.strictObject({
  match: z.array(tlsMatchAttributesSchema).min(1),
  route: routeListSchema.min(1),
});

export const virtualServiceSpecSchema = crossCheck(
  z.strictObject({
    hosts: z.array(hostSchema({ ip: true })).min(1),
    gateways: z.array(gatewayRefSchema).optional(),
    http: z.array(httpRouteSchema).optional(),
    tls: z.array(tlsRouteSchema).optional(),
    tcp: z.array(tcpRouteSchema).optional(),
    exportTo: exportToSchema.optional(),
  }),
  (value, report) => {
    const spec = asRecord(value);
    if (['http', 'tls', 'tcp'].every((k) => asArray(spec[k]).length === 0)) {
      report([], 'must set at least one of: http, tls, tcp');
    }
  },
);

export type VirtualServiceSpec = z.infer<typeof virtualServiceSpecSchema>;
export type VirtualService = Resource<VirtualServiceSpec>;

export const virtualServiceKind: KindDefinition = {
  kind: 'VirtualService',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  plural: 'virtualservices',
  singular: 'virtualservice',
  shortNames: ['vs'],
  namespaced: true,
  spec: virtualServiceSpecSchema,
  columns: [fieldColumn('GATEWAYS', 'spec', ['gateways']), fieldColumn('HOSTS', 'spec', ['hosts'])],
};
