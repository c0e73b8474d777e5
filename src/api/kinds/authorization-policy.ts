/**
 * security.istio.io AuthorizationPolicy: ALLOW, DENY or AUDIT requests to selected workloads by source
 * (principals, namespaces, IPs), operation (hosts, ports, methods, paths) and conditions (`when`).
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { asRecord, crossCheck, notSupported, supportedEnum } from '../schema-helpers.js';
import { ipOrCidrSchema, typeError } from '../validators.js';
import { columnText } from './columns.js';
import { SECURITY_GROUP, SECURITY_VERSIONS, targetRefFields, workloadSelectorSchema } from './istio-common.js';

const strings = z.array(z.string().min(1)).optional();
const ipBlocks = z.array(ipOrCidrSchema).optional();

const PORT_MESSAGE = 'must be a port number between 1 and 65535, as a string';
const ports = z
  .array(
    z
      .string(typeError(PORT_MESSAGE))
      .refine((p) => /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 65535, { error: PORT_MESSAGE }),
  )
  .optional();

export const sourceSchema = z.strictObject({
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  serviceAccounts: strings,
  notServiceAccounts: strings,
  ipBlocks,
  notIpBlocks: ipBlocks,
  remoteIpBlocks: ipBlocks,
  notRemoteIpBlocks: ipBlocks,
});

export const operationSchema = z.strictObject({
  hosts: strings,
  notHosts: strings,
  ports,
  notPorts: ports,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});

/** The condition keys Shoal evaluates (Istio's list, less the experimental ones). */
const CONDITION_KEYS = [
  /^request\.headers\[[^\]]+\]$/,
  /^source\.ip$/,
  /^remote\.ip$/,
  /^source\.namespace$/,
  /^source\.principal$/,
  /^source\.serviceAccount$/,
  /^request\.auth\.principal$/,
  /^request\.auth\.audiences$/,
  /^request\.auth\.presenter$/,
  /^request\.auth\.claims(\[[^\]]+\])+$/,
  /^destination\.ip$/,
  /^destination\.port$/,
  /^connection\.sni$/,
];

export const CONDITION_KEY_MESSAGE =
  'must be a supported attribute: request.headers[<name>], source.ip, remote.ip, source.namespace, ' +
  'source.principal, source.serviceAccount, request.auth.principal, request.auth.audiences, ' +
  'request.auth.presenter, request.auth.claims[<name>], destination.ip, destination.port or connection.sni';

export const conditionSchema = crossCheck(
  z.strictObject({
    key: z.string().refine((k) => CONDITION_KEYS.some((re) => re.test(k)), { error: CONDITION_KEY_MESSAGE }),
    values: strings,
    notValues: strings,
  }),
  (value, report) => {
    const c = asRecord(value);
    if (c['values'] === undefined && c['notValues'] === undefined) report([], 'must set values or notValues');
  },
);

export const ruleSchema = z.strictObject({
  from: z.array(z.strictObject({ source: sourceSchema })).optional(),
  to: z.array(z.strictObject({ operation: operationSchema })).optional(),
  when: z.array(conditionSchema).optional(),
});
export type Rule = z.infer<typeof ruleSchema>;

export const authorizationPolicySpecSchema = z.strictObject({
  selector: workloadSelectorSchema.optional(),
  ...targetRefFields,
  rules: z.array(ruleSchema).optional(),
  action: supportedEnum(['ALLOW', 'DENY', 'AUDIT'], ['CUSTOM']).optional(),
  provider: notSupported(),
});

export type AuthorizationPolicySpec = z.infer<typeof authorizationPolicySpecSchema>;
export type AuthorizationPolicy = Resource<AuthorizationPolicySpec>;

export const authorizationPolicyKind: KindDefinition = {
  kind: 'AuthorizationPolicy',
  group: SECURITY_GROUP,
  versions: SECURITY_VERSIONS,
  plural: 'authorizationpolicies',
  singular: 'authorizationpolicy',
  shortNames: ['ap'],
  namespaced: true,
  spec: authorizationPolicySpecSchema,
  columns: [{ header: 'ACTION', value: (obj) => columnText(asRecord(obj.spec)['action']) || 'ALLOW' }],
};
