/**
 * security.istio.io PeerAuthentication: whether sidecars accept plaintext, mutual TLS or both from peers,
 * mesh-wide (in the root namespace), per namespace, per workload (selector) and per port.
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { asRecord, crossCheck } from '../schema-helpers.js';
import { fieldColumn } from './columns.js';
import { SECURITY_GROUP, SECURITY_VERSIONS, workloadSelectorSchema } from './istio-common.js';

export const mutualTlsSchema = z.strictObject({
  mode: z.enum(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']).optional(),
});
export type MutualTls = z.infer<typeof mutualTlsSchema>;

const PORT_KEY_MESSAGE = 'must be a port number between 1 and 65535';

export const peerAuthenticationSpecSchema = crossCheck(
  z.strictObject({
    selector: workloadSelectorSchema.optional(),
    mtls: mutualTlsSchema.optional(),
    portLevelMtls: z
      .record(
        z.string().refine((k) => /^\d+$/.test(k) && Number(k) >= 1 && Number(k) <= 65535, { error: PORT_KEY_MESSAGE }),
        mutualTlsSchema,
      )
      .optional(),
  }),
  (value, report) => {
    const spec = asRecord(value);
    const ports = Object.keys(asRecord(spec['portLevelMtls']));
    if (ports.length > 0 && Object.keys(asRecord(asRecord(spec['selector'])['matchLabels'])).length === 0) {
      report(['portLevelMtls'], 'requires selector.matchLabels (port-level settings apply to selected workloads)');
    }
  },
);

export type PeerAuthenticationSpec = z.infer<typeof peerAuthenticationSpecSchema>;
export type PeerAuthentication = Resource<PeerAuthenticationSpec>;

export const peerAuthenticationKind: KindDefinition = {
  kind: 'PeerAuthentication',
  group: SECURITY_GROUP,
  versions: SECURITY_VERSIONS,
  plural: 'peerauthentications',
  singular: 'peerauthentication',
  shortNames: ['pa'],
  namespaced: true,
  spec: peerAuthenticationSpecSchema,
  columns: [fieldColumn('MODE', 'spec', ['mtls', 'mode'])],
};
