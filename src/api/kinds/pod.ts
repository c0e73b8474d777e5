/**
 * `v1` Pod: one running instance of a Deployment under `shoal up` (one app process and its sidecar). The runner
 * creates, updates and deletes Pods; people read them (`shoal get pods`) and may delete one, which the runner
 * answers as the kubelet would: it stops the processes, and the Deployment gets a replacement. The spec is the
 * Deployment's pod template; the status uses Kubernetes' field names (phase, podIP, conditions,
 * containerStatuses), with the sidecar listed as a second container (`shoal-proxy`), as Istio's injected one is.
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { ipOrCidrSchema, intAtLeast } from '../validators.js';
import { columnText, pick } from './columns.js';
import { podTemplateSpecSchema } from './pod-template.js';

export const PROXY_CONTAINER = 'shoal-proxy';

export const podSpecSchema = podTemplateSpecSchema.shape.spec;
export type PodSpec = z.infer<typeof podSpecSchema>;

const conditionSchema = z.strictObject({
  type: z.enum(['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});

const containerStateSchema = z.strictObject({
  waiting: z.strictObject({ reason: z.string().optional(), message: z.string().optional() }).optional(),
  running: z.strictObject({ startedAt: z.string().optional() }).optional(),
  terminated: z
    .strictObject({
      exitCode: z.number().int(),
      signal: z.number().int().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      startedAt: z.string().optional(),
      finishedAt: z.string().optional(),
    })
    .optional(),
});

const containerStatusSchema = z.strictObject({
  name: z.string().min(1),
  ready: z.boolean(),
  started: z.boolean().optional(),
  restartCount: intAtLeast(0),
  state: containerStateSchema.optional(),
  lastState: containerStateSchema.optional(),
});

export const podStatusSchema = z.strictObject({
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(),
  /** Set while the pod is being stopped (kubectl shows `Terminating`). */
  reason: z.string().optional(),
  message: z.string().optional(),
  podIP: ipOrCidrSchema.optional(),
  podIPs: z.array(z.strictObject({ ip: ipOrCidrSchema })).optional(),
  hostIP: ipOrCidrSchema.optional(),
  startTime: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
  containerStatuses: z.array(containerStatusSchema).optional(),
});
export type PodStatus = z.infer<typeof podStatusSchema>;
export type ContainerStatus = z.infer<typeof containerStatusSchema>;

export type Pod = Resource<PodSpec, PodStatus>;

/** What kubectl's STATUS column shows: a stopping pod's reason, else a waiting container's, else the phase. */
export function podStatusText(status: PodStatus | undefined): string {
  if (status?.reason) return status.reason;
  for (const c of status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting?.reason;
    if (waiting) return waiting;
  }
  return status?.phase ?? 'Pending';
}

export const podKind: KindDefinition = {
  kind: 'Pod',
  group: '',
  versions: ['v1'],
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  namespaced: true,
  spec: podSpecSchema,
  status: podStatusSchema,
  columns: [
    {
      header: 'READY',
      value: (obj) => {
        const statuses = (pick(obj.status, 'containerStatuses') ?? []) as ContainerStatus[];
        const total = statuses.length || (pick(obj.spec, 'containers') as unknown[] | undefined)?.length || 1;
        return `${statuses.filter((c) => c.ready).length}/${total}`;
      },
    },
    { header: 'STATUS', value: (obj) => podStatusText(obj.status as PodStatus | undefined) },
    {
      header: 'RESTARTS',
      value: (obj) => columnText(pick(obj.status, 'containerStatuses', 0, 'restartCount')) || '0',
    },
    { header: 'IP', wide: true, value: (obj) => columnText(pick(obj.status, 'podIP')) || '<none>' },
  ],
};
