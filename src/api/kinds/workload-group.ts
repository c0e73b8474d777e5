/**
 * networking.istio.io WorkloadGroup: a template for the WorkloadEntries of one workload (like a Deployment's
 * pod template), with the readiness probe its sidecars run.
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { labelsSchema } from '../resource.js';
import { crossCheck, exactlyOneOf } from '../schema-helpers.js';
import { intAtLeast, portSchema } from '../validators.js';
import { NETWORKING_GROUP, NETWORKING_VERSIONS } from './istio-common.js';
import { workloadEntryFields } from './workload-entry.js';

/** istio.networking.v1alpha3.ReadinessProbe: exactly one of httpGet, tcpSocket, exec, grpc. */
export const readinessProbeSchema = crossCheck(
  z.strictObject({
    initialDelaySeconds: intAtLeast(0).optional(),
    timeoutSeconds: intAtLeast(1).optional(),
    periodSeconds: intAtLeast(1).optional(),
    successThreshold: intAtLeast(1).optional(),
    failureThreshold: intAtLeast(1).optional(),
    httpGet: z
      .strictObject({
        path: z.string().optional(),
        port: portSchema,
        host: z.string().optional(),
        scheme: z.enum(['HTTP', 'HTTPS']).optional(),
        httpHeaders: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
      })
      .optional(),
    tcpSocket: z.strictObject({ host: z.string().optional(), port: portSchema }).optional(),
    exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
    grpc: z.strictObject({ port: portSchema, service: z.string().optional() }).optional(),
  }),
  (value, report) => exactlyOneOf(value, ['httpGet', 'tcpSocket', 'exec', 'grpc'], report),
);
export type ReadinessProbe = z.infer<typeof readinessProbeSchema>;

export const workloadGroupSpecSchema = z.strictObject({
  metadata: z
    .strictObject({ labels: labelsSchema.optional(), annotations: z.record(z.string(), z.string()).optional() })
    .optional(),
  template: z.strictObject(workloadEntryFields),
  probe: readinessProbeSchema.optional(),
});

export type WorkloadGroupSpec = z.infer<typeof workloadGroupSpecSchema>;
export type WorkloadGroup = Resource<WorkloadGroupSpec>;

export const workloadGroupKind: KindDefinition = {
  kind: 'WorkloadGroup',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  plural: 'workloadgroups',
  singular: 'workloadgroup',
  shortNames: ['wg'],
  namespaced: true,
  spec: workloadGroupSpecSchema,
};
