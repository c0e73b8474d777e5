/**
 * VirtualService's HTTPRoute and everything under it (istio/api networking/v1alpha3/virtual_service.proto,
 * JSON names). Cross-field rules follow Istio's validation: one action per route, oneof fields, weights.
 */
import { z } from 'zod';
import { labelsSchema } from '../resource.js';
import {
  asArray,
  asRecord,
  atMostOneOf,
  checkWeightSum,
  crossCheck,
  exactlyOneOf,
  notSupported,
} from '../schema-helpers.js';
import {
  dns1123LabelSchema,
  durationSchema,
  intAtLeast,
  intBetween,
  percentSchema,
  portSchema,
  regexSchema,
  typeError,
  weightSchema,
} from '../validators.js';
import { destinationSchema, gatewayRefSchema, headersSchema, stringMatchSchema } from './istio-common.js';

const LOWER_CASE_HEADER = /^[a-z0-9!#$%&'*+\-.^_`|~:]+$/;

/** Header matches: keys are lower-case header names. */
const headerMatchMapSchema = z.record(
  z.string().regex(LOWER_CASE_HEADER, { error: 'header names must be lower-case' }),
  stringMatchSchema,
);

/** Query parameters: Istio matches them exactly or by regex only. */
const queryParamMatchSchema = crossCheck(
  z.strictObject({ exact: z.string().optional(), prefix: notSupported(), regex: regexSchema.optional() }),
  (value, report) => exactlyOneOf(value, ['exact', 'regex'], report),
);

export const httpMatchRequestSchema = z.strictObject({
  name: z.string().optional(),
  uri: stringMatchSchema.optional(),
  scheme: stringMatchSchema.optional(),
  method: stringMatchSchema.optional(),
  authority: stringMatchSchema.optional(),
  headers: headerMatchMapSchema.optional(),
  port: portSchema.optional(),
  sourceLabels: labelsSchema.optional(),
  gateways: z.array(gatewayRefSchema).optional(),
  queryParams: z.record(z.string(), queryParamMatchSchema).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: headerMatchMapSchema.optional(),
  sourceNamespace: dns1123LabelSchema.optional(),
  statPrefix: z.string().optional(),
});
export type HTTPMatchRequest = z.infer<typeof httpMatchRequestSchema>;

export const httpRouteDestinationSchema = z.strictObject({
  destination: destinationSchema,
  weight: weightSchema.optional(),
  headers: headersSchema.optional(),
});
export type HTTPRouteDestination = z.infer<typeof httpRouteDestinationSchema>;

const REDIRECT_CODES = [301, 302, 303, 307, 308];
const REDIRECT_CODE_MESSAGE = 'must be one of: 301, 302, 303, 307, 308';

export const httpRedirectSchema = crossCheck(
  z.strictObject({
    uri: z.string().optional(),
    authority: z.string().optional(),
    port: portSchema.optional(),
    derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
    scheme: z.string().optional(),
    redirectCode: z
      .number(typeError(REDIRECT_CODE_MESSAGE))
      .refine((n) => REDIRECT_CODES.includes(n), { error: REDIRECT_CODE_MESSAGE })
      .optional(),
  }),
  (value, report) => atMostOneOf(value, ['port', 'derivePort'], report),
);

export const httpDirectResponseSchema = z.strictObject({
  status: intBetween(200, 599),
  body: crossCheck(z.strictObject({ string: z.string().optional(), bytes: z.base64().optional() }), (value, report) =>
    exactlyOneOf(value, ['string', 'bytes'], report),
  ).optional(),
});

export const httpRewriteSchema = crossCheck(
  z.strictObject({
    uri: z.string().optional(),
    authority: z.string().optional(),
    uriRegexRewrite: z.strictObject({ match: regexSchema, rewrite: z.string() }).optional(),
  }),
  (value, report) => atMostOneOf(value, ['uri', 'uriRegexRewrite'], report),
);

export const httpRetrySchema = z.strictObject({
  attempts: intAtLeast(0),
  perTryTimeout: durationSchema.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: durationSchema.optional(),
});

const GRPC_STATUS =
  /^(OK|CANCELLED|UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|NOT_FOUND|ALREADY_EXISTS|PERMISSION_DENIED|RESOURCE_EXHAUSTED|FAILED_PRECONDITION|ABORTED|OUT_OF_RANGE|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS|UNAUTHENTICATED)$/;

export const httpFaultInjectionSchema = crossCheck(
  z.strictObject({
    delay: z.strictObject({ fixedDelay: durationSchema, percentage: percentSchema.optional() }).optional(),
    abort: crossCheck(
      z.strictObject({
        httpStatus: intBetween(200, 599).optional(),
        grpcStatus: z
          .string()
          .regex(GRPC_STATUS, { error: 'must be a gRPC status name such as "UNAVAILABLE"' })
          .optional(),
        percentage: percentSchema.optional(),
      }),
      (value, report) => exactlyOneOf(value, ['httpStatus', 'grpcStatus'], report),
    ).optional(),
  }),
  (value, report) => {
    if (Object.keys(asRecord(value)).length === 0) report([], 'must set delay or abort');
  },
);

export const httpMirrorPolicySchema = z.strictObject({
  destination: destinationSchema,
  percentage: percentSchema.optional(),
});

export const httpRouteSchema = crossCheck(
  z.strictObject({
    name: z.string().optional(),
    match: z.array(httpMatchRequestSchema).optional(),
    route: crossCheck(z.array(httpRouteDestinationSchema), checkWeightSum).optional(),
    redirect: httpRedirectSchema.optional(),
    directResponse: httpDirectResponseSchema.optional(),
    delegate: notSupported(),
    rewrite: httpRewriteSchema.optional(),
    timeout: durationSchema.optional(),
    retries: httpRetrySchema.optional(),
    fault: httpFaultInjectionSchema.optional(),
    mirror: destinationSchema.optional(),
    mirrors: z.array(httpMirrorPolicySchema).optional(),
    mirrorPercentage: percentSchema.optional(),
    corsPolicy: notSupported(),
    headers: headersSchema.optional(),
  }),
  (value, report) => {
    const route = asRecord(value);
    const actions = ['route', 'redirect', 'directResponse'].filter((k) =>
      k === 'route' ? asArray(route[k]).length > 0 : route[k] !== undefined,
    );
    if (actions.length === 0) report([], 'must set one of: route, redirect, directResponse');
    else if (actions.length > 1)
      report([], `must set only one of: route, redirect, directResponse (got ${actions.join(', ')})`);
    if (route['rewrite'] !== undefined && route['redirect'] !== undefined)
      report(['rewrite'], 'cannot be used with redirect');
    if (route['mirror'] !== undefined && route['mirrors'] !== undefined)
      report(['mirrors'], 'cannot be used with mirror');
    if (route['mirrorPercentage'] !== undefined && route['mirror'] === undefined) {
      report(['mirrorPercentage'], 'requires mirror');
    }
  },
);
export type HTTPRoute = z.infer<typeof httpRouteSchema>;
