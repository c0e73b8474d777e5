/**
 * networking.istio.io Gateway: the ports, protocols, hosts and TLS settings an ingress or egress gateway
 * (`shoal gateway`, selected by labels) listens with. VirtualServices bind to it through `gateways`.
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { isDns1123Label, labelsSchema } from '../resource.js';
import { asArray, asRecord, checkUnique, crossCheck, notSupported, supportedEnum } from '../schema-helpers.js';
import { hostProblem, portSchema } from '../validators.js';
import { fieldColumn } from './columns.js';
import { NETWORKING_GROUP, NETWORKING_VERSIONS, portProtocolSchema } from './istio-common.js';

const TLS_VERSION = z.enum(['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3']);

export const serverTlsSettingsSchema = crossCheck(
  z.strictObject({
    httpsRedirect: z.boolean().optional(),
    mode: supportedEnum(
      ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'],
      ['AUTO_PASSTHROUGH'],
    ).optional(),
    serverCertificate: z.string().optional(),
    privateKey: z.string().optional(),
    caCertificates: z.string().optional(),
    caCrl: z.string().optional(),
    credentialName: notSupported(),
    credentialNames: notSupported(),
    caCertCredentialName: notSupported(),
    tlsCertificates: notSupported(),
    subjectAltNames: z.array(z.string()).optional(),
    verifyCertificateSpki: z.array(z.string()).optional(),
    verifyCertificateHash: z.array(z.string()).optional(),
    minProtocolVersion: TLS_VERSION.optional(),
    maxProtocolVersion: TLS_VERSION.optional(),
    cipherSuites: z.array(z.string()).optional(),
  }),
  (value, report) => {
    const tls = asRecord(value);
    const mode = tls['mode'];
    if (mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') {
      for (const field of ['serverCertificate', 'privateKey']) {
        if (tls[field] === undefined) report([field], `required when mode is ${mode}`);
      }
    }
    if ((mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') && tls['caCertificates'] === undefined) {
      report(['caCertificates'], `required when mode is ${mode}`);
    }
  },
);

/** A server's host: `[namespace/]host`, namespace `*`, `.` or a name; host as in hostProblem. */
export function gatewayHostProblem(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  const namespace = slash >= 0 ? entry.slice(0, slash) : undefined;
  const host = slash >= 0 ? entry.slice(slash + 1) : entry;
  if (namespace !== undefined && namespace !== '*' && namespace !== '.' && !isDns1123Label(namespace)) {
    return `invalid namespace "${namespace}": must be "*", "." or a namespace name`;
  }
  return hostProblem(host, { ip: true });
}

export const serverSchema = crossCheck(
  z.strictObject({
    port: z.strictObject({
      number: portSchema,
      protocol: portProtocolSchema,
      name: z.string().min(1),
      targetPort: portSchema.optional(),
    }),
    bind: z.string().optional(),
    hosts: z
      .array(
        z.string().superRefine((entry, ctx) => {
          const problem = gatewayHostProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: problem, input: entry });
        }),
      )
      .min(1),
    tls: serverTlsSettingsSchema.optional(),
    name: z.string().optional(),
  }),
  (value, report) => {
    const server = asRecord(value);
    const protocol = asRecord(server['port'])['protocol'];
    if ((protocol === 'HTTPS' || protocol === 'TLS') && server['tls'] === undefined) {
      report(['tls'], `required when port.protocol is ${protocol}`);
    }
  },
);
export type Server = z.infer<typeof serverSchema>;

export const gatewaySpecSchema = crossCheck(
  z.strictObject({
    selector: labelsSchema.optional(),
    servers: z.array(serverSchema).min(1),
  }),
  (value, report) => {
    const servers = asRecord(value)['servers'];
    checkUnique(servers, 'name', (path, message) => report(['servers', ...path], message), 'server name');
    const protocols = new Map<number, string>();
    asArray(servers).forEach((s, i) => {
      const { number, protocol } = asRecord(asRecord(s)['port']);
      if (typeof number !== 'number' || typeof protocol !== 'string') return;
      const seen = protocols.get(number);
      if (seen === undefined) protocols.set(number, protocol);
      else if (seen !== protocol) {
        report(['servers', i, 'port', 'protocol'], `port ${number} is already used with protocol ${seen}`);
      }
    });
  },
);

export type GatewaySpec = z.infer<typeof gatewaySpecSchema>;
export type Gateway = Resource<GatewaySpec>;

export const gatewayKind: KindDefinition = {
  kind: 'Gateway',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  plural: 'gateways',
  singular: 'gateway',
  shortNames: ['gw'],
  namespaced: true,
  spec: gatewaySpecSchema,
  columns: [fieldColumn('SELECTOR', 'spec', ['selector'], true)],
};
