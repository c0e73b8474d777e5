/**
 * A cluster's transport socket: plaintext (none, or raw_buffer) or TLS origination from an UpstreamTlsContext with
 * certificates as files or inline data (what the control plane writes for DestinationRule SIMPLE / MUTUAL TLS).
 * Certificates over SDS are not supported yet and NACKed, as is any other transport socket.
 */
import { stringMatcher, type StringMatcher } from './matchers.js';
import {
  at,
  enumOf,
  extensionConfig,
  fail,
  list,
  messages,
  obj,
  required,
  str,
  unsupported,
  type Json,
} from './read.js';

export type DataSource = { readonly filename: string } | { readonly inline: string | Uint8Array };

export interface SubjectAltNameMatcher {
  readonly type: 'DNS' | 'URI' | 'EMAIL' | 'IP_ADDRESS';
  readonly matcher: StringMatcher;
}

export interface UpstreamTls {
  /** SNI to send; empty: none. */
  readonly sni: string;
  readonly alpn: readonly string[];
  readonly certificateChain?: DataSource;
  readonly privateKey?: DataSource;
  /** No validation context: the server's certificate is not verified (Istio's insecureSkipVerify). */
  readonly verify: boolean;
  readonly trustedCa?: DataSource;
  /** Verify against the system's roots (no trusted_ca given). */
  readonly systemRootCerts: boolean;
  readonly crl?: DataSource;
  readonly subjectAltNames: readonly SubjectAltNameMatcher[];
  readonly minVersion?: string;
  readonly maxVersion?: string;
  readonly cipherSuites: readonly string[];
}

const UPSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const TLS_VERSIONS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const;

function dataSource(value: unknown, path: string): DataSource | undefined {
  const o = obj(value, path);
  if (o === undefined) return undefined;
  unsupported(o, path, ['environment_variable'], 'only files and inline data are supported');
  const filename = str(o.filename, at(path, 'filename'));
  if (filename !== undefined && filename !== '') return { filename };
  const text = str(o.inline_string, at(path, 'inline_string'));
  if (text !== undefined) return { inline: text };
  const bytes = o.inline_bytes;
  if (bytes instanceof Uint8Array) return { inline: bytes };
  if (typeof bytes === 'string') return { inline: Buffer.from(bytes, 'base64') };
  fail(path, 'empty data source');
}

function validation(
  o: Json,
  path: string,
): Pick<UpstreamTls, 'trustedCa' | 'systemRootCerts' | 'crl' | 'subjectAltNames'> {
  unsupported(o, path, ['watched_directory', 'custom_validator_config', 'trust_chain_verification']);
  const trustedCa = dataSource(o.trusted_ca, at(path, 'trusted_ca'));
  const crl = dataSource(o.crl, at(path, 'crl'));
  const sans: SubjectAltNameMatcher[] = messages(
    o.match_typed_subject_alt_names,
    at(path, 'match_typed_subject_alt_names'),
  )
    .map(({ item, path: p }) => ({
      type: enumOf(item.san_type, at(p, 'san_type'), [
        'SAN_TYPE_UNSPECIFIED',
        'EMAIL',
        'DNS',
        'URI',
        'IP_ADDRESS',
      ] as const),
      matcher: stringMatcher(item.matcher, at(p, 'matcher')),
    }))
    .map((san, i) => {
      if (san.type === 'SAN_TYPE_UNSPECIFIED')
        fail(`${at(path, 'match_typed_subject_alt_names')}[${i}].san_type`, 'required');
      return san as SubjectAltNameMatcher;
    });
  // Deprecated untyped form: any SAN type.
  list(o.match_subject_alt_names, at(path, 'match_subject_alt_names')).forEach((m, i) => {
    const matcher = stringMatcher(m, `${at(path, 'match_subject_alt_names')}[${i}]`);
    for (const type of ['DNS', 'URI', 'EMAIL', 'IP_ADDRESS'] as const) sans.push({ type, matcher });
  });
  return {
    ...(trustedCa !== undefined ? { trustedCa } : {}),
    systemRootCerts: trustedCa === undefined,
    ...(crl !== undefined ? { crl } : {}),
    subjectAltNames: sans,
  };
}

function upstreamTls(o: Json, path: string): UpstreamTls {
  const common = obj(o.common_tls_context, at(path, 'common_tls_context')) ?? {};
  const cp = at(path, 'common_tls_context');
  unsupported(
    common,
    cp,
    [
      'tls_certificate_sds_secret_configs',
      'validation_context_sds_secret_config',
      'tls_certificate_provider_instance',
      'combined_validation_context',
    ],
    'certificates over SDS or providers are not supported yet',
  );
  const certs = messages(common.tls_certificates, at(cp, 'tls_certificates'));
  if (certs.length > 1) fail(at(cp, 'tls_certificates'), 'at most one client certificate is supported');
  const cert = certs[0];
  const chain =
    cert !== undefined ? dataSource(cert.item.certificate_chain, at(cert.path, 'certificate_chain')) : undefined;
  const key = cert !== undefined ? dataSource(cert.item.private_key, at(cert.path, 'private_key')) : undefined;
  if (cert !== undefined && (chain === undefined || key === undefined))
    fail(cert.path, 'certificate_chain and private_key are both required');
  const params = obj(common.tls_params, at(cp, 'tls_params')) ?? {};
  const minVersion = enumOf(
    params.tls_minimum_protocol_version,
    at(cp, 'tls_params.tls_minimum_protocol_version'),
    TLS_VERSIONS,
  );
  const maxVersion = enumOf(
    params.tls_maximum_protocol_version,
    at(cp, 'tls_params.tls_maximum_protocol_version'),
    TLS_VERSIONS,
  );
  const context = obj(common.validation_context, at(cp, 'validation_context'));
  return {
    sni: str(o.sni, at(path, 'sni')) ?? '',
    alpn: list(common.alpn_protocols, at(cp, 'alpn_protocols')).map((p, i) =>
      required(p, `${at(cp, 'alpn_protocols')}[${i}]`),
    ),
    ...(chain !== undefined ? { certificateChain: chain } : {}),
    ...(key !== undefined ? { privateKey: key } : {}),
    verify: context !== undefined,
    ...(context !== undefined
      ? validation(context, at(cp, 'validation_context'))
      : { systemRootCerts: false, subjectAltNames: [] }),
    ...(minVersion !== 'TLS_AUTO' ? { minVersion } : {}),
    ...(maxVersion !== 'TLS_AUTO' ? { maxVersion } : {}),
    cipherSuites: list(params.cipher_suites, at(cp, 'tls_params.cipher_suites')).map((c, i) =>
      required(c, `${at(cp, 'tls_params.cipher_suites')}[${i}]`),
    ),
  };
}

/** A Cluster's transport_socket: undefined for plaintext, the TLS settings for an UpstreamTlsContext. */
export function transportSocket(value: unknown, path: string): UpstreamTls | undefined {
  const o = obj(value, path);
  if (o === undefined) return undefined;
  const config = obj(o.typed_config, at(path, 'typed_config'));
  const type = extensionConfig(config, at(path, 'typed_config')).type;
  if (type === UPSTREAM_TLS && config !== undefined) return upstreamTls(config, at(path, 'typed_config'));
  if (type === RAW_BUFFER || (type === '' && o.name === 'envoy.transport_sockets.raw_buffer')) return undefined;
  fail(
    path,
    `transport socket ${str(o.name, at(path, 'name')) ?? ''} (${type || 'no typed_config'}) is not supported (tls, raw_buffer)`,
  );
}
