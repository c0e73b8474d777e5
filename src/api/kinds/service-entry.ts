/**
 * networking.istio.io ServiceEntry: adds a service to the mesh's registry: an external API (MESH_EXTERNAL,
 * resolved by DNS), or internal instances listed as endpoints or selected by labels (MESH_INTERNAL).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { labelsSchema } from '../resource.js';
import { asArray, asRecord, atMostOneOf, checkUnique, crossCheck } from '../schema-helpers.js';
import { hostSchema, ipOrCidrSchema, portSchema } from '../validators.js';
import { fieldColumn } from './columns.js';
import { exportToSchema, NETWORKING_GROUP, NETWORKING_VERSIONS, portProtocolSchema } from './istio-common.js';
import { workloadEntryFields, workloadAddressSchema } from './workload-entry.js';

export const servicePortSchema = z.strictObject({
  number: portSchema,
  protocol: portProtocolSchema.optional(),
  name: z.string().min(1),
  targetPort: portSchema.optional(),
});
export type ServicePort = z.infer<typeof servicePortSchema>;

export const serviceEntryEndpointSchema = z.strictObject({ ...workloadEntryFields, address: workloadAddressSchema });

type Report = (path: readonly (string | number)[], message: string) => void;

function checkEndpoints(spec: Record<string, unknown>, report: Report): void {
  const resolution = spec['resolution'] ?? 'NONE';
  const endpoints = asArray(spec['endpoints']);
  const portNames = new Set(asArray(spec['ports']).map((p) => asRecord(p)['name']));
  if (resolution === 'NONE' && endpoints.length > 0) {
    report(['endpoints'], 'must be empty when resolution is NONE');
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    report(['endpoints'], 'must have at most one endpoint when resolution is DNS_ROUND_ROBIN');
  }
  endpoints.forEach((endpoint, i) => {
    const e = asRecord(endpoint);
    const address = e['address'];
    if (
      resolution === 'STATIC' &&
      typeof address === 'string' &&
      !address.startsWith('unix://') &&
      isIP(address) === 0
    ) {
      report(['endpoints', i, 'address'], 'must be an IP address or a unix:// path when resolution is STATIC');
    }
    for (const name of Object.keys(asRecord(e['ports']))) {
      if (!portNames.has(name)) report(['endpoints', i, 'ports', name], `port "${name}" is not defined in spec.ports`);
    }
  });
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && endpoints.length === 0) {
    asArray(spec['hosts']).forEach((host, i) => {
      if (typeof host === 'string' && host.startsWith('*')) {
        report(['hosts', i], `a wildcard host needs endpoints when resolution is ${String(resolution)}`);
      }
    });
  }
}

export const serviceEntrySpecSchema = crossCheck(
  z.strictObject({
    hosts: z.array(hostSchema()).min(1),
    addresses: z.array(ipOrCidrSchema).optional(),
    ports: z.array(servicePortSchema).optional(),
    location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
    resolution: z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']).optional(),
    endpoints: z.array(serviceEntryEndpointSchema).optional(),
    workloadSelector: z.strictObject({ labels: labelsSchema.optional() }).optional(),
    exportTo: exportToSchema.optional(),
    subjectAltNames: z.array(z.string()).optional(),
  }),
  (value, report) => {
    const spec = asRecord(value);
    atMostOneOf(spec, ['endpoints', 'workloadSelector'], report);
    checkUnique(spec['ports'], 'number', (path, message) => report(['ports', ...path], message), 'port number');
    checkUnique(spec['ports'], 'name', (path, message) => report(['ports', ...path], message), 'port name');
    checkEndpoints(spec, report);
  },
);

export type ServiceEntrySpec = z.infer<typeof serviceEntrySpecSchema>;

/** Istio's ServiceEntryStatus: the control plane writes the addresses it allocated for hosts without spec.addresses. */
export const serviceEntryStatusSchema = z.strictObject({
  addresses: z.array(z.strictObject({ value: z.string(), host: z.string() })).optional(),
});
export type ServiceEntryStatus = z.infer<typeof serviceEntryStatusSchema>;
export type ServiceEntry = Resource<ServiceEntrySpec, ServiceEntryStatus>;

export const serviceEntryKind: KindDefinition = {
  kind: 'ServiceEntry',
  group: NETWORKING_GROUP,
  versions: NETWORKING_VERSIONS,
  plural: 'serviceentries',
  singular: 'serviceentry',
  shortNames: ['se'],
  namespaced: true,
  spec: serviceEntrySpecSchema,
  status: serviceEntryStatusSchema,
  columns: [
    fieldColumn('HOSTS', 'spec', ['hosts']),
    fieldColumn('LOCATION', 'spec', ['location']),
    fieldColumn('RESOLUTION', 'spec', ['resolution']),
  ],
};
