/**
 * The part of a Kubernetes PodTemplateSpec that `shoal up` runs: one container, started as a local process
 * (its image is accepted and ignored), with its environment, ports and probes.
 */
import { z } from 'zod';
import { labelsSchema } from '../resource.js';
import { asArray, asRecord, checkUnique, crossCheck, exactlyOneOf, notSupported } from '../schema-helpers.js';
import {
  dns1123LabelSchema,
  dns1123SubdomainSchema,
  ianaServiceNameSchema,
  intAtLeast,
  portOrNameSchema,
  portSchema,
  typeError,
} from '../validators.js';
import { PROTOCOLS } from './service.js';

/** core/v1 Probe with the handlers Shoal runs: httpGet, tcpSocket, grpc, exec (exactly one). */
export const probeSchema = crossCheck(
  z.strictObject({
    httpGet: z
      .strictObject({
        path: z.string().optional(),
        port: portOrNameSchema,
        scheme: z.enum(['HTTP', 'HTTPS']).optional(),
      })
      .optional(),
    tcpSocket: z.strictObject({ port: portOrNameSchema }).optional(),
    grpc: z.strictObject({ port: portSchema, service: z.string().optional() }).optional(),
    exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
    initialDelaySeconds: intAtLeast(0).optional(),
    periodSeconds: intAtLeast(1).optional(),
    timeoutSeconds: intAtLeast(1).optional(),
    successThreshold: intAtLeast(1).optional(),
    failureThreshold: intAtLeast(1).optional(),
  }),
  (value, report) => exactlyOneOf(value, ['httpGet', 'tcpSocket', 'grpc', 'exec'], report),
);
export type Probe = z.infer<typeof probeSchema>;

const ENV_NAME_MESSAGE = 'must be a non-empty name without "="';

export const envVarSchema = z.strictObject({
  name: z.string(typeError(ENV_NAME_MESSAGE)).regex(/^[^=]+$/, { error: ENV_NAME_MESSAGE }),
  value: z.string().optional(),
  valueFrom: notSupported(),
});

export const containerPortSchema = z.strictObject({
  containerPort: portSchema,
  name: ianaServiceNameSchema.optional(),
  protocol: z.enum(PROTOCOLS).optional(),
});

/** A probe port given by name must name one of the container's ports. */
function checkProbePorts(container: Record<string, unknown>, report: (path: (string | number)[], m: string) => void) {
  const names = new Set(asArray(container['ports']).map((p) => asRecord(p)['name']));
  for (const probe of ['readinessProbe', 'livenessProbe']) {
    for (const handler of ['httpGet', 'tcpSocket']) {
      const port = asRecord(asRecord(asRecord(container[probe])[handler]))['port'];
      if (typeof port === 'string' && !names.has(port)) {
        report([probe, handler, 'port'], `no container port is named "${port}"`);
      }
    }
  }
}

export const containerSchema = crossCheck(
  z.strictObject({
    name: dns1123LabelSchema,
    image: z.string().optional(),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    env: z.array(envVarSchema).optional(),
    ports: z.array(containerPortSchema).optional(),
    readinessProbe: probeSchema.optional(),
    livenessProbe: probeSchema.optional(),
    startupProbe: notSupported(),
    resources: notSupported(),
    workingDir: z.string().optional(),
  }),
  (value, report) => {
    const container = asRecord(value);
    checkUnique(container['ports'], 'name', (path, m) => report(['ports', ...path], m), 'port name');
    checkProbePorts(container, report);
  },
);
export type Container = z.infer<typeof containerSchema>;

const ONE_CONTAINER = 'must have exactly one container: shoal up runs each pod as one local process';

export const podTemplateSpecSchema = z.strictObject({
  metadata: z
    .strictObject({ labels: labelsSchema.optional(), annotations: z.record(z.string(), z.string()).optional() })
    .optional(),
  spec: z.strictObject({
    serviceAccountName: dns1123SubdomainSchema.optional(),
    containers: z.array(containerSchema).min(1, { error: ONE_CONTAINER }).max(1, { error: ONE_CONTAINER }),
  }),
});
export type PodTemplateSpec = z.infer<typeof podTemplateSpecSchema>;
