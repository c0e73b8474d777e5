/**
 * networking.istio.io DestinationRule: what happens to traffic for a host after routing: subsets (named sets
 * of endpoints by labels) and traffic policies. TrafficPolicy lives in traffic-policy.ts.
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { labelsSchema } from '../resource.js';
import { asRecord, checkUnique, crossCheck } from '../schema-helpers.js';
import { dns1123LabelSchema, hostSchema } from '../validators.js';
import { fieldColumn } from './columns.js';
import { exportToSchema, NETWORKING_GROUP, NETWORKING_VERSIONS, workloadSelectorSchema } from './istio-common.js';
import { trafficPolicySchema } from './traffic-policy.js';

export const subsetSchema = z.strictObject({
  name: dns1123LabelSchema,
  labels: labelsSchema.optional(),
  trafficPolicy: trafficPolicySchema.optional(),
});
export type Subset = z.infer<typeof subsetSchema>;

export const destinationRuleSpecSchema = crossCheck(
  z.strictObject({
    host: hostSchema(),
    trafficPolicy: trafficPolicySchema.optional(),
    subsets: z.array(subsetSchema).optional(),
    exportTo: exportToSchema.optional(),
    workloadSelector: workloadSelectorSchema.optional(),
  }),
  (value, report) => {
    const subsets = asRecord(value)['subsets'];
    checkUnique(subsets, 'name', (path, message) => report(['subsets', ...path], message), 'subset name');
  },
);

export type DestinationRuleSpec = z.infer<typeof destinationRuleSpecSchema>;
export type DestinationRule = Resource<DestinationRuleSpec>;

export const destinationRuleKind: KindDefinition = {
  kind: 'DestinationRule',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  plural: 'destinationrules',
  singular: 'destinationrule',
  shortNames: ['dr'],
  namespaced: true,
  spec: destinationRuleSpecSchema,
  columns: [fieldColumn('HOST', 'spec', ['host'])],
};
