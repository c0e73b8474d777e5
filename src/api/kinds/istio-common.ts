/**
 * Messages shared by the networking.istio.io and security.istio.io kinds, with Istio's JSON field names:
 * StringMatch, Destination, PortSelector, Headers, WorkloadSelector, exportTo, and the served versions.
 */
import { z } from 'zod';
import { labelsSchema } from '../resource.js';
import { crossCheck, exactlyOneOf, notSupported, supportedEnum } from '../schema-helpers.js';
import { dns1123LabelSchema, hostSchema, isIpOrCidr, portSchema, regexSchema, typeError } from '../validators.js';
import { isDns1123Label } from '../resource.js';

export const NETWORKING_GROUP = 'networking.istio.io';
export const SECURITY_GROUP = 'security.istio.io';
export const NETWORKING_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'] as const;
export const SECURITY_VERSIONS = ['v1', 'v1beta1'] as const;

/** `exact`, `prefix` or `regex`: exactly one. */
export const stringMatchSchema = crossCheck(
  z.strictObject({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: regexSchema.optional(),
  }),
  (value, report) => exactlyOneOf(value, ['exact', 'prefix', 'regex'], report),
);
export type StringMatch = z.infer<typeof stringMatchSchema>;

export const portSelectorSchema = z.strictObject({ number: portSchema });

/** A service in the registry, optionally a subset of it and a port. */
export const destinationSchema = z.strictObject({
  host: hostSchema({ wildcard: false }),
  subset: dns1123LabelSchema.optional(),
  port: portSelectorSchema.optional(),
});
export type Destination = z.infer<typeof destinationSchema>;

const headerMapSchema = z.record(z.string(), z.string());

export const headerOperationsSchema = z.strictObject({
  set: headerMapSchema.optional(),
  add: headerMapSchema.optional(),
  remove: z.array(z.string()).optional(),
});

export const headersSchema = z.strictObject({
  request: headerOperationsSchema.optional(),
  response: headerOperationsSchema.optional(),
});
export type Headers = z.infer<typeof headersSchema>;

/** istio.type.v1beta1.WorkloadSelector (security kinds, DestinationRule): `matchLabels`. */
export const workloadSelectorSchema = z.strictObject({ matchLabels: labelsSchema.optional() });

/** The policy-attachment field of the Kubernetes Gateway API: Shoal selects workloads by labels only. */
export const targetRefFields = { targetRef: notSupported(), targetRefs: notSupported() };

const EXPORT_TO_MESSAGE = 'must be ".", "*", "~" or a namespace name';

/** `exportTo`: "." (this namespace), "*" (all), "~" (none) or namespace names. */
export const exportToSchema = z.array(
  z
    .string(typeError(EXPORT_TO_MESSAGE))
    .refine((s) => s === '.' || s === '*' || s === '~' || isDns1123Label(s), { error: EXPORT_TO_MESSAGE }),
);

export const subnetListSchema = z.array(
  z.string().refine(isIpOrCidr, { error: 'must be an IP address or a CIDR block such as "10.0.0.0/8"' }),
);

const GATEWAY_REF_MESSAGE = 'must be "mesh", a gateway name, or "<namespace>/<gateway name>"';

/** A VirtualService's `gateways` entry: `mesh`, `name` or `namespace/name`. */
export const gatewayRefSchema = z.string(typeError(GATEWAY_REF_MESSAGE)).refine(
  (s) => {
    const parts = s.split('/');
    if (parts.length === 1) return s === 'mesh' || /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s);
    return parts.length === 2 && isDns1123Label(parts[0]!) && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(parts[1]!);
  },
  { error: GATEWAY_REF_MESSAGE },
);

/** Istio's port protocols (`Port.protocol`): the ones Shoal proxies, and the rest of Istio's list. */
export const portProtocolSchema = supportedEnum(
  ['HTTP', 'HTTPS', 'GRPC', 'HTTP2', 'TCP', 'TLS'],
  ['GRPC-WEB', 'HTTP_PROXY', 'MONGO', 'MYSQL', 'REDIS', 'UDP'],
);
export type PortProtocol = z.infer<typeof portProtocolSchema>;
