/**
 * security.istio.io RequestAuthentication: which JWTs selected workloads accept (issuer, audiences, keys)
 * and where the token is found. A request with an invalid token is rejected; one without a token is not
 * (an AuthorizationPolicy on requestPrincipals does that).
 */
import { z } from 'zod';
import type { KindDefinition } from '../kind.js';
import type { Resource } from '../resource.js';
import { atMostOneOf, crossCheck } from '../schema-helpers.js';
import { durationSchema } from '../validators.js';
import { SECURITY_GROUP, SECURITY_VERSIONS, targetRefFields, workloadSelectorSchema } from './istio-common.js';

const URL_MESSAGE = 'must be an http:// or https:// URL';

function isHttpUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const headerName = z.string().regex(HEADER_NAME, { error: 'must be an HTTP header name' });

export const jwtRuleSchema = crossCheck(
  z.strictObject({
    issuer: z.string().min(1),
    audiences: z.array(z.string().min(1)).optional(),
    jwksUri: z.string().refine(isHttpUrl, { error: URL_MESSAGE }).optional(),
    jwks: z.string().min(1).optional(),
    fromHeaders: z.array(z.strictObject({ name: headerName, prefix: z.string().optional() })).optional(),
    fromParams: z.array(z.string().min(1)).optional(),
    fromCookies: z.array(z.string().min(1)).optional(),
    outputPayloadToHeader: headerName.optional(),
    outputClaimToHeaders: z.array(z.strictObject({ header: headerName, claim: z.string().min(1) })).optional(),
    forwardOriginalToken: z.boolean().optional(),
    spaceDelimitedClaims: z.array(z.string().min(1)).optional(),
    timeout: durationSchema.optional(),
  }),
  (value, report) => atMostOneOf(value, ['jwksUri', 'jwks'], report),
);
export type JWTRule = z.infer<typeof jwtRuleSchema>;

export const requestAuthenticationSpecSchema = z.strictObject({
  selector: workloadSelectorSchema.optional(),
  ...targetRefFields,
  jwtRules: z.array(jwtRuleSchema).optional(),
});

export type RequestAuthenticationSpec = z.infer<typeof requestAuthenticationSpecSchema>;
export type RequestAuthentication = Resource<RequestAuthenticationSpec>;

export const requestAuthenticationKind: KindDefinition = {
  kind: 'RequestAuthentication',
  group: SECURITY_GROUP,
  versions: SECURITY_VERSIONS,
  plural: 'requestauthentications',
  singular: 'requestauthentication',
  shortNames: ['ra'],
  namespaced: true,
  spec: requestAuthenticationSpecSchema,
};
