/**
 * `apps/v1` Deployment, for `shoal up`: how many replicas of one process to run, with which labels (the
 * selector must match the template's labels), and how to roll out a change. The pod template is in
 * pod-template.ts. Its status is written by the runner, with Kubernetes' field names.
 */
import { z } from 'zod';
import type { LabelSelector, Requirement } from '../../store/label-selector.js';
import { fromMatchLabels, matches } from '../../store/label-selector.js';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { labelsSchema } from '../resource.js';
import { asArray, asRecord, crossCheck, supportedEnum } from '../schema-helpers.js';
import { intAtLeast, intBetween } from '../validators.js';
import { columnText, pick } from './columns.js';
import { podTemplateSpecSchema } from './pod-template.js';

export const labelSelectorRequirementSchema = crossCheck(
  z.strictObject({
    key: z.string().min(1),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(z.string()).optional(),
  }),
  (value, report) => {
    const r = asRecord(value);
    const values = asArray(r['values']);
    if ((r['operator'] === 'In' || r['operator'] === 'NotIn') && values.length === 0) {
      report(['values'], `required (at least one value) when operator is ${r['operator']}`);
    }
    if ((r['operator'] === 'Exists' || r['operator'] === 'DoesNotExist') && values.length > 0) {
      report(['values'], `must be empty when operator is ${r['operator']}`);
    }
  },
);

/** metav1.LabelSelector. */
export const labelSelectorSchema = z.strictObject({
  matchLabels: labelsSchema.optional(),
  matchExpressions: z.array(labelSelectorRequirementSchema).optional(),
});
export type LabelSelectorSpec = z.infer<typeof labelSelectorSchema>;

/** The store's LabelSelector for a well-formed metav1.LabelSelector: `matches()` it against pod labels. */
export function toLabelSelector(selector: LabelSelectorSpec): LabelSelector {
  const expressions = (selector.matchExpressions ?? []).map((r): Requirement =>
    r.operator === 'In' || r.operator === 'NotIn'
      ? { key: r.key, op: r.operator, values: r.values ?? [] }
      : { key: r.key, op: r.operator },
  );
  return { requirements: [...fromMatchLabels(selector.matchLabels).requirements, ...expressions] };
}

const INT_OR_PERCENT = 'must be an integer of at least 0 or a percentage such as "25%"';

const intOrPercentSchema = z.union([intAtLeast(0), z.string().regex(/^\d+%$/, { error: INT_OR_PERCENT })], {
  error: INT_OR_PERCENT,
});

export const deploymentStrategySchema = z.strictObject({
  type: supportedEnum(['RollingUpdate'], ['Recreate']).optional(),
  rollingUpdate: z
    .strictObject({ maxSurge: intOrPercentSchema.optional(), maxUnavailable: intOrPercentSchema.optional() })
    .optional(),
});

export const deploymentSpecSchema = crossCheck(
  z.strictObject({
    replicas: intAtLeast(0).optional(),
    selector: labelSelectorSchema,
    template: podTemplateSpecSchema,
    strategy: deploymentStrategySchema.optional(),
  }),
  (value, report) => {
    const spec = asRecord(value);
    const selector = labelSelectorSchema.safeParse(spec['selector']);
    if (!selector.success) return;
    const { matchLabels, matchExpressions } = selector.data;
    if (Object.keys(matchLabels ?? {}).length === 0 && (matchExpressions ?? []).length === 0) {
      report(['selector'], 'must not be empty: set matchLabels or matchExpressions');
      return;
    }
    const labels = labelsSchema.safeParse(pick(spec, 'template', 'metadata', 'labels') ?? {});
    if (labels.success && !matches(toLabelSelector(selector.data), labels.data)) {
      report(['template', 'metadata', 'labels'], 'selector does not match template labels');
    }
    const rolling = asRecord(pick(spec, 'strategy', 'rollingUpdate'));
    const isZero = (v: unknown): boolean => v === 0 || v === '0%';
    if (isZero(rolling['maxSurge']) && isZero(rolling['maxUnavailable'])) {
      report(['strategy', 'rollingUpdate', 'maxUnavailable'], 'may not be 0 when maxSurge is 0');
    }
  },
);

export type DeploymentSpec = z.infer<typeof deploymentSpecSchema>;

const count = intBetween(0, 2 ** 31 - 1).optional();

/** apps/v1 DeploymentStatus, written by the runner. */
export const deploymentStatusSchema = z.strictObject({
  observedGeneration: intBetween(0, Number.MAX_SAFE_INTEGER).optional(),
  replicas: count,
  updatedReplicas: count,
  readyReplicas: count,
  availableReplicas: count,
  unavailableReplicas: count,
  conditions: z
    .array(
      z.strictObject({
        type: z.string().min(1),
        status: z.enum(['True', 'False', 'Unknown']),
        reason: z.string().optional(),
        message: z.string().optional(),
        lastUpdateTime: z.string().optional(),
        lastTransitionTime: z.string().optional(),
      }),
    )
    .optional(),
});
export type DeploymentStatus = z.infer<typeof deploymentStatusSchema>;

export type Deployment = Resource<DeploymentSpec, DeploymentStatus>;

export const deploymentKind: KindDefinition = {
  kind: 'Deployment',
  group: 'apps',
  versions: ['v1'],
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  namespaced: true,
  spec: deploymentSpecSchema,
  status: deploymentStatusSchema,
  columns: [
    {
      header: 'READY',
      value: (obj) =>
        `${columnText(pick(obj.status, 'readyReplicas')) || '0'}/${columnText(pick(obj.spec, 'replicas')) || '1'}`,
    },
    { header: 'UP-TO-DATE', value: (obj) => columnText(pick(obj.status, 'updatedReplicas')) || '0' },
    { header: 'AVAILABLE', value: (obj) => columnText(pick(obj.status, 'availableReplicas')) || '0' },
  ],
};
