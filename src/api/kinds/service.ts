/**
 * Core `v1` Service: a stable name for the instances its selector picks, with their ports. Shoal serves it as
 * `<name>.<namespace>.svc.cluster.local`; `clusterIP: None` makes it headless (one DNS name per instance).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { labelsSchema } from '../resource.js';
import { asArray, asRecord, checkUnique, crossCheck, supportedEnum } from '../schema-helpers.js';
import { dns1123LabelSchema, portOrNameSchema, portSchema, typeError } from '../validators.js';
import { columnText, fieldColumn, pick } from './columns.js';

export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

export const serviceSpecPortSchema = z.strictObject({
  name: dns1123LabelSchema.optional(),
  port: portSchema,
  targetPort: portOrNameSchema.optional(),
  protocol: z.enum(PROTOCOLS).optional(),
  appProtocol: z.string().min(1).optional(),
});
export type ServiceSpecPort = z.infer<typeof serviceSpecPortSchema>;

const CLUSTER_IP_MESSAGE = 'must be "None" (a headless service) or an IP address';

export const serviceSpecSchema = crossCheck(
  z.strictObject({
    ports: z.array(serviceSpecPortSchema).optional(),
    selector: labelsSchema.optional(),
    clusterIP: z
      .string(typeError(CLUSTER_IP_MESSAGE))
      .refine((s) => s === 'None' || isIP(s) !== 0, { error: CLUSTER_IP_MESSAGE })
      .optional(),
    type: supportedEnum(['ClusterIP'], ['NodePort', 'LoadBalancer', 'ExternalName']).optional(),
  }),
  (value, report) => {
    const spec = asRecord(value);
    const ports = asArray(spec['ports']);
    if (ports.length === 0 && spec['clusterIP'] !== 'None') {
      report(['ports'], 'required: at least one port (only a headless service, clusterIP: None, may have none)');
    }
    if (ports.length > 1) {
      ports.forEach((p, i) => {
        if (asRecord(p)['name'] === undefined)
          report(['ports', i, 'name'], 'required when there is more than one port');
      });
    }
    checkUnique(ports, 'name', (path, message) => report(['ports', ...path], message), 'port name');
    const seen = new Set<string>();
    ports.forEach((p, i) => {
      const port = asRecord(p);
      const key = `${columnText(port['port'])}/${columnText(port['protocol']) || 'TCP'}`;
      if (seen.has(key)) report(['ports', i], `duplicate port ${key}`);
      seen.add(key);
    });
  },
);

export type ServiceSpec = z.infer<typeof serviceSpecSchema>;
export type Service = Resource<ServiceSpec>;

function portsColumn(spec: unknown): string {
  return asArray(pick(spec, 'ports'))
    .map((p) => `${columnText(pick(p, 'port'))}/${columnText(pick(p, 'protocol')) || 'TCP'}`)
    .join(',');
}

export const serviceKind: KindDefinition = {
  kind: 'Service',
  group: '',
  versions: ['v1'],
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  namespaced: true,
  spec: serviceSpecSchema,
  columns: [
    { header: 'TYPE', value: (obj) => columnText(pick(obj.spec, 'type')) || 'ClusterIP' },
    fieldColumn('CLUSTER-IP', 'spec', ['clusterIP']),
    { header: 'PORT(S)', value: (obj) => portsColumn(obj.spec) },
    fieldColumn('SELECTOR', 'spec', ['selector'], true),
  ],
};
