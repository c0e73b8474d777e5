/**
 * DestinationRule's TrafficPolicy (istio/api networking/v1alpha3/destination_rule.proto, JSON names):
 * load balancing, connection pools, outlier detection and client TLS, for all ports or per port.
 */
import { z } from 'zod';
import {
  asArray,
  asRecord,
  atMostOneOf,
  crossCheck,
  exactlyOneOf,
  notSupported,
  supportedEnum,
} from '../schema-helpers.js';
import { durationSchema, intAtLeast, intBetween } from '../validators.js';
import { portSelectorSchema } from './istio-common.js';

const consistentHashSchema = crossCheck(
  z.strictObject({
    httpHeaderName: z.string().min(1).optional(),
    httpCookie: z
      .strictObject({ name: z.string().min(1), path: z.string().optional(), ttl: durationSchema.optional() })
      .optional(),
    useSourceIp: z.boolean().optional(),
    httpQueryParameterName: z.string().min(1).optional(),
    ringHash: z.strictObject({ minimumRingSize: intAtLeast(1).optional() }).optional(),
    maglev: z.strictObject({ tableSize: intAtLeast(1).optional() }).optional(),
    minimumRingSize: intAtLeast(1).optional(),
  }),
  (value, report) => {
    exactlyOneOf(value, ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'], report);
    atMostOneOf(value, ['ringHash', 'maglev', 'minimumRingSize'], report);
  },
);

const localityLbSettingSchema = crossCheck(
  z.strictObject({
    distribute: z
      .array(z.strictObject({ from: z.string().min(1), to: z.record(z.string(), intBetween(0, 100)) }))
      .optional(),
    failover: z.array(z.strictObject({ from: z.string().min(1), to: z.string().min(1) })).optional(),
    failoverPriority: z.array(z.string()).optional(),
    enabled: z.boolean().optional(),
  }),
  (value, report) => {
    atMostOneOf(value, ['distribute', 'failover'], report);
    asArray(asRecord(value)['distribute']).forEach((d, i) => {
      const to = Object.values(asRecord(asRecord(d)['to']));
      if (to.length > 0 && to.every((w) => typeof w === 'number')) {
        const sum = to.reduce((a, b) => a + b, 0);
        if (sum !== 100) report(['distribute', i, 'to'], `weights must sum to 100, got ${sum}`);
      }
    });
  },
);

export const loadBalancerSettingsSchema = crossCheck(
  z.strictObject({
    simple: supportedEnum(
      ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'ROUND_ROBIN', 'LEAST_REQUEST'],
      ['PASSTHROUGH'],
    ).optional(),
    consistentHash: consistentHashSchema.optional(),
    localityLbSetting: localityLbSettingSchema.optional(),
    // Slow start: the sidecar's load balancers do not ramp new endpoints up yet.
    warmupDurationSecs: notSupported(),
    warmup: notSupported(),
  }),
  (value, report) => {
    atMostOneOf(value, ['simple', 'consistentHash'], report);
  },
);

export const connectionPoolSettingsSchema = z.strictObject({
  tcp: z
    .strictObject({
      maxConnections: intAtLeast(1).optional(),
      connectTimeout: durationSchema.optional(),
      tcpKeepalive: z
        .strictObject({
          probes: intAtLeast(1).optional(),
          time: durationSchema.optional(),
          interval: durationSchema.optional(),
        })
        .optional(),
      maxConnectionDuration: durationSchema.optional(),
      idleTimeout: durationSchema.optional(),
    })
    .optional(),
  http: z
    .strictObject({
      http1MaxPendingRequests: intAtLeast(1).optional(),
      http2MaxRequests: intAtLeast(1).optional(),
      maxRequestsPerConnection: intAtLeast(0).optional(),
      maxRetries: intAtLeast(0).optional(),
      idleTimeout: durationSchema.optional(),
      h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
      useClientProtocol: z.boolean().optional(),
      maxConcurrentStreams: intAtLeast(1).optional(),
    })
    .optional(),
});

export const outlierDetectionSchema = z.strictObject({
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: intAtLeast(0).optional(),
  consecutiveGatewayErrors: intAtLeast(0).optional(),
  consecutive5xxErrors: intAtLeast(0).optional(),
  interval: durationSchema.optional(),
  baseEjectionTime: durationSchema.optional(),
  maxEjectionPercent: intBetween(0, 100).optional(),
  minHealthPercent: intBetween(0, 100).optional(),
});

export const clientTlsSettingsSchema = crossCheck(
  z.strictObject({
    mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']),
    clientCertificate: z.string().optional(),
    privateKey: z.string().optional(),
    caCertificates: z.string().optional(),
    credentialName: notSupported(),
    subjectAltNames: z.array(z.string()).optional(),
    sni: z.string().optional(),
    insecureSkipVerify: z.boolean().optional(),
    caCrl: z.string().optional(),
  }),
  (value, report) => {
    const tls = asRecord(value);
    if (tls['mode'] !== 'MUTUAL') return;
    for (const field of ['clientCertificate', 'privateKey']) {
      if (tls[field] === undefined) report([field], 'required when mode is MUTUAL');
    }
  },
);

export const portTrafficPolicySchema = z.strictObject({
  port: portSelectorSchema,
  loadBalancer: loadBalancerSettingsSchema.optional(),
  connectionPool: connectionPoolSettingsSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
  tls: clientTlsSettingsSchema.optional(),
});

export const trafficPolicySchema = z.strictObject({
  loadBalancer: loadBalancerSettingsSchema.optional(),
  connectionPool: connectionPoolSettingsSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
  tls: clientTlsSettingsSchema.optional(),
  portLevelSettings: z.array(portTrafficPolicySchema).optional(),
  tunnel: notSupported(),
  proxyProtocol: notSupported(),
  retryBudget: notSupported(),
});
export type TrafficPolicy = z.infer<typeof trafficPolicySchema>;
