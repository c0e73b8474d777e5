/**
 * Shared scalar validators: durations, ports, percentages, names, hosts, regular expressions, IP blocks.
 * Each comes as a plain function (for other modules: the proxy parses durations with parseDuration) and
 * as a zod schema whose messages say what is wrong and what is expected. (compileRegex is in regex.ts, free of
 * zod, because the sidecar compiles route regexes with it and never loads zod.)
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { compileRegex } from './regex.js';
import { isDns1123Label, isDns1123Subdomain } from './resource.js';

/**
 * A zod type-check error option: "required" when the field is absent, else `message` (for a value of the
 * wrong type, the same message as for a wrong value of the right type).
 */
export function typeError(message: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => (issue.input === undefined ? 'required' : message) };
}

// ---- durations -------------------------------------------------------------------------------------------

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION_TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parses Istio's duration strings (protobuf JSON "1.5s", and Go's "100ms", "2m", "1h30m") to milliseconds.
 * Undefined for anything else: empty, negative, a missing or unknown unit.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    DURATION_TERM.lastIndex = pos;
    const m = DURATION_TERM.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    pos = DURATION_TERM.lastIndex;
  }
  return total;
}

export const DURATION_MESSAGE = 'must be a duration such as "1.5s", "100ms", "2m" or "1h"';

export const durationSchema = z
  .string(typeError(DURATION_MESSAGE))
  .refine((s) => parseDuration(s) !== undefined, { error: DURATION_MESSAGE });

// ---- numbers ---------------------------------------------------------------------------------------------

/**
 * An integer in [min, max], with one message for every way of failing. (Not zod's .int(): its failure aborts
 * the parent's cross-field checks, and a document should report all of its errors.)
 */
export function intBetween(min: number, max: number): z.ZodNumber {
  const error = `must be an integer between ${min} and ${max}`;
  return z.number(typeError(error)).refine(Number.isInteger, { error }).min(min, { error }).max(max, { error });
}

/** An integer >= min (uint32-like fields). */
export function intAtLeast(min: number): z.ZodNumber {
  const error = `must be an integer of at least ${min}`;
  return z
    .number(typeError(error))
    .refine(Number.isInteger, { error })
    .min(min, { error })
    .max(2 ** 32 - 1, { error });
}

export const portSchema = intBetween(1, 65535);

export const PERCENT_MESSAGE = 'must be a number between 0 and 100';

/** Istio's Percent message: `{ value: 12.5 }`. */
export const percentSchema = z.strictObject({
  value: z.number(typeError(PERCENT_MESSAGE)).min(0, { error: PERCENT_MESSAGE }).max(100, { error: PERCENT_MESSAGE }),
});

/** Route weights: Istio's rule, integers 0..100. */
export const weightSchema = intBetween(0, 100);

// ---- names -----------------------------------------------------------------------------------------------

export const DNS1123_LABEL_MESSAGE =
  'must be a DNS-1123 label: at most 63 lower-case alphanumerics or "-", starting and ending with an alphanumeric';
export const DNS1123_SUBDOMAIN_MESSAGE =
  'must be a DNS-1123 subdomain: lower-case alphanumerics, "-" and ".", at most 253 characters';

export const dns1123LabelSchema = z
  .string(typeError(DNS1123_LABEL_MESSAGE))
  .refine(isDns1123Label, { error: DNS1123_LABEL_MESSAGE });
export const dns1123SubdomainSchema = z
  .string(typeError(DNS1123_SUBDOMAIN_MESSAGE))
  .refine(isDns1123Subdomain, { error: DNS1123_SUBDOMAIN_MESSAGE });

/** Kubernetes' IANA_SVC_NAME (container and service port names referenced by name): `http`, `grpc-web`. */
export function isIanaServiceName(s: string): boolean {
  return (
    s.length >= 1 && s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--')
  );
}

export const IANA_SVC_NAME_MESSAGE =
  'must be an IANA service name: at most 15 lower-case alphanumerics or "-", with at least one letter';

export const ianaServiceNameSchema = z
  .string(typeError(IANA_SVC_NAME_MESSAGE))
  .refine(isIanaServiceName, { error: IANA_SVC_NAME_MESSAGE });

// ---- hosts -----------------------------------------------------------------------------------------------

const HOST_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/;

function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => label.length <= 63 && HOST_LABEL.test(label));
}

export interface HostOptions {
  /** `*` and `*.example.com` (default true). */
  wildcard?: boolean;
  /** IPv4/IPv6 literals (default false). */
  ip?: boolean;
}

/** Why a host is not valid, or undefined: an FQDN, a short name, `*.example.com`, `*`, optionally an IP. */
export function hostProblem(host: string, options: HostOptions = {}): string | undefined {
  const wildcard = options.wildcard ?? true;
  if (wildcard && host === '*') return undefined;
  if (options.ip && isIP(host) !== 0) return undefined;
  const name = wildcard && host.startsWith('*.') ? host.slice(2) : host;
  if (name !== '' && isDnsName(name)) return undefined;
  const forms = ['an FQDN', 'a short name'];
  if (wildcard) forms.push('"*.example.com"', '"*"');
  if (options.ip) forms.push('an IP address');
  return `invalid host "${host}": must be ${forms.slice(0, -1).join(', ')} or ${forms[forms.length - 1]}`;
}

export function hostSchema(options: HostOptions = {}): z.ZodType<string> {
  return z.string(typeError('must be a host name')).superRefine((host, ctx) => {
    const problem = hostProblem(host, options);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: host });
  });
}

// ---- IP addresses ----------------------------------------------------------------------------------------

/** `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32`. */
export function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return isIP(s) !== 0;
  const family = isIP(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export const ipOrCidrSchema = z
  .string(typeError('must be an IP address or CIDR block'))
  .refine(isIpOrCidr, { error: 'must be an IP address or a CIDR block such as "10.0.0.0/8"' });

// ---- regular expressions ---------------------------------------------------------------------------------

export const regexSchema = z
  .string(typeError('must be a regular expression (a string)'))
  .superRefine((pattern, ctx) => {
    const compiled = compileRegex(pattern);
    if (typeof compiled === 'string') {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${compiled}`, input: pattern });
    }
  });

/** Kubernetes' IntOrString for ports: a number, or the name of a container port. */
export const portOrNameSchema = z.union([portSchema, ianaServiceNameSchema]);
