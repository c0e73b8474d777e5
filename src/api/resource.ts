/**
 * The shape every stored object shares: Kubernetes' TypeMeta + ObjectMeta, a spec and an optional status.
 * Kind-specific schemas (src/api/kinds/*) validate `spec`; this module validates the envelope.
 */
import { z } from 'zod';

/** Kubernetes ObjectMeta, the subset Shoal keeps. Server-set fields are accepted on input and overwritten. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  creationTimestamp?: string;
  /** Who created this object (a Pod names its Deployment), as in Kubernetes. */
  ownerReferences?: OwnerReference[];
}

/** metav1.OwnerReference. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Resource<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
}

/** A Resource as the store hands it out: the server-set metadata is always present. */
export interface StoredResource<Spec = unknown, Status = unknown> extends Resource<Spec, Status> {
  metadata: ObjectMeta & {
    namespace: string;
    resourceVersion: string;
    generation: number;
    uid: string;
    creationTimestamp: string;
  };
}

export const DEFAULT_NAMESPACE = 'default';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** A label key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix))
    return `label key prefix "${prefix}" must be a DNS-1123 subdomain`;
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `label key "${key}" must be at most 63 characters of alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    return `label value "${value}" must be at most 63 characters of alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric`;
  }
  return undefined;
}

export const labelsSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [k, v] of Object.entries(labels)) {
    const problem = labelKeyProblem(k) ?? labelValueProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [k] });
  }
});

export const objectMetaSchema = z.strictObject({
  name: z
    .string({ error: 'required' })
    .refine(
      isDns1123Subdomain,
      'must be a DNS-1123 subdomain: lower-case alphanumerics, "-" and ".", at most 253 characters',
    ),
  namespace: z
    .string()
    .refine(isDns1123Label, 'must be a DNS-1123 label: lower-case alphanumerics and "-", at most 63 characters')
    .optional(),
  labels: labelsSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  uid: z.string().optional(),
  creationTimestamp: z.string().optional(),
  ownerReferences: z
    .array(
      z.strictObject({
        apiVersion: z.string().min(1),
        kind: z.string().min(1),
        name: z.string().min(1),
        uid: z.string().min(1),
        controller: z.boolean().optional(),
        blockOwnerDeletion: z.boolean().optional(),
      }),
    )
    .optional(),
});

/** The key a store files an object under. */
export interface ObjectKey {
  kind: string;
  namespace: string;
  name: string;
}

export function keyOf(obj: Resource): ObjectKey {
  return { kind: obj.kind, namespace: obj.metadata.namespace ?? DEFAULT_NAMESPACE, name: obj.metadata.name };
}
