/**
 * networking.istio.io WorkloadEntry: one workload instance (a VM, a process started by `shoal up`) with its
 * address, ports and labels. Sidecars register themselves as WorkloadEntries and report health in `status`
 * with Istio's condition shape (`type: Healthy`). The same message is ServiceEntry's endpoint and
 * WorkloadGroup's template.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { labelsSchema } from '../resource.js';
import { dns1123SubdomainSchema, hostProblem, intAtLeast, intBetween, portSchema, typeError } from '../validators.js';
import { fieldColumn } from './columns.js';
import { NETWORKING_GROUP, NETWORKING_VERSIONS } from './istio-common.js';

const ADDRESS_MESSAGE = 'must be an IP address, a DNS name or a unix:// socket path';

/** An IP, a DNS name (ServiceEntry endpoints with DNS resolution) or `unix:///path`. */
export function isWorkloadAddress(address: string): boolean {
  if (address.startsWith('unix://')) return address.length > 'unix://'.length;
  return isIP(address) !== 0 || hostProblem(address, { wildcard: false }) === undefined;
}

export const workloadAddressSchema = z
  .string(typeError(ADDRESS_MESSAGE))
  .refine(isWorkloadAddress, { error: ADDRESS_MESSAGE });

/** The fields of istio.networking.v1alpha3.WorkloadEntry; `address` is optional here, required where noted. */
export const workloadEntryFields = {
  address: workloadAddressSchema.optional(),
  ports: z.record(z.string().min(1), portSchema).optional(),
  labels: labelsSchema.optional(),
  network: z.string().optional(),
  locality: z.string().optional(),
  weight: intAtLeast(0).optional(),
  serviceAccount: dns1123SubdomainSchema.optional(),
};

/** WorkloadEntry's spec: an instance must have an address. */
export const workloadEntrySpecSchema = z.strictObject({ ...workloadEntryFields, address: workloadAddressSchema });
export type WorkloadEntrySpec = z.infer<typeof workloadEntrySpecSchema>;

const TIMESTAMP_MESSAGE = 'must be an RFC 3339 timestamp such as "2024-01-02T15:04:05Z"';

const timestampSchema = z
  .string(typeError(TIMESTAMP_MESSAGE))
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
    {
      error: TIMESTAMP_MESSAGE,
    },
  );

/** istio.meta.v1alpha1.IstioCondition. */
export const istioConditionSchema = z.strictObject({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  lastProbeTime: timestampSchema.optional(),
  lastTransitionTime: timestampSchema.optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  observedGeneration: intBetween(0, Number.MAX_SAFE_INTEGER).optional(),
});
export type IstioCondition = z.infer<typeof istioConditionSchema>;

export const workloadEntryStatusSchema = z.strictObject({
  conditions: z.array(istioConditionSchema).optional(),
  observedGeneration: intBetween(0, Number.MAX_SAFE_INTEGER).optional(),
});
export type WorkloadEntryStatus = z.infer<typeof workloadEntryStatusSchema>;

export type WorkloadEntry = Resource<WorkloadEntrySpec, WorkloadEntryStatus>;

/** The `Healthy` condition's status, for tables: True, False, Unknown or ''. */
function healthy(status: unknown): string {
  const conditions = (status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conditions)) return '';
  const found = conditions.find((c) => (c as { type?: unknown } | null)?.type === 'Healthy') as
    { status?: unknown } | undefined;
  return typeof found?.status === 'string' ? found.status : '';
}

export const workloadEntryKind: KindDefinition = {
  kind: 'WorkloadEntry',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  plural: 'workloadentries',
  singular: 'workloadentry',
  shortNames: ['we'],
  namespaced: true,
  spec: workloadEntrySpecSchema,
  status: workloadEntryStatusSchema,
  columns: [
    fieldColumn('ADDRESS', 'spec', ['address']),
    { header: 'HEALTHY', value: (obj) => healthy(obj.status) },
    fieldColumn('SERVICE-ACCOUNT', 'spec', ['serviceAccount'], true),
  ],
};
