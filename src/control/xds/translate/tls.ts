/**
 * A DestinationRule's client TLS settings as a cluster transport socket (TLS origination), as Istio's cluster
 * builder does for SIMPLE and MUTUAL: certificates and keys are files on the proxy's machine (Istio's semantics for
 * these fields), read by the proxy. ISTIO_MUTUAL needs the mesh's own certificates over SDS, which translation does
 * not produce yet; it is reported. Proxyless gRPC only takes certificate-provider instances from its bootstrap, so
 * any TLS setting for it is reported too.
 */
import type { ProtoObject } from '../proto-object.js';
import { TYPE_PREFIX } from './common.js';
import type { PolicyWarn } from './cluster-policy.js';
import type { ClientTlsSettings } from './destination-rules.js';
import type { ProxyType } from './proxy.js';

export const UPSTREAM_TLS_CONTEXT_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`;
export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

function file(path: string): ProtoObject {
  return { filename: path };
}

function validationContext(tls: ClientTlsSettings, warn: PolicyWarn): ProtoObject | undefined {
  if (tls.insecureSkipVerify === true) return undefined;
  const out: ProtoObject = {};
  if (tls.caCertificates !== undefined) out.trusted_ca = file(tls.caCertificates);
  else out.system_root_certs = {};
  if (tls.caCrl !== undefined) out.crl = file(tls.caCrl);
  if (tls.subjectAltNames !== undefined && tls.subjectAltNames.length > 0) {
    out.match_typed_subject_alt_names = tls.subjectAltNames.map((san) => ({
      san_type: san.startsWith('spiffe://') ? 'URI' : 'DNS',
      matcher: { exact: san },
    }));
  }
  if (tls.caCertificates === undefined && tls.caCrl !== undefined) {
    warn('tls.caCrl', 'checked against the system roots, as no caCertificates are given');
  }
  return out;
}

/** `{ transport_socket }` for SIMPLE/MUTUAL, `{}` otherwise (reporting what is not translated). */
export function tlsFields(
  tls: ClientTlsSettings | undefined,
  hostname: string,
  type: ProxyType,
  warn: PolicyWarn,
): ProtoObject {
  if (tls === undefined || tls.mode === 'DISABLE') return {};
  if (type === 'grpc') {
    warn('tls', `${tls.mode} is not translated for proxyless gRPC (it takes certificates from its bootstrap)`);
    return {};
  }
  if (tls.mode === 'ISTIO_MUTUAL') {
    warn('tls', 'ISTIO_MUTUAL needs the mesh certificates over SDS, which are not served yet; traffic stays plaintext');
    return {};
  }
  const common: ProtoObject = {};
  if (tls.mode === 'MUTUAL' && tls.clientCertificate !== undefined && tls.privateKey !== undefined) {
    common.tls_certificates = [{ certificate_chain: file(tls.clientCertificate), private_key: file(tls.privateKey) }];
  }
  const validation = validationContext(tls, warn);
  if (validation !== undefined) common.validation_context = validation;
  const context: ProtoObject = {
    '@type': UPSTREAM_TLS_CONTEXT_TYPE_URL,
    common_tls_context: common,
    sni: tls.sni ?? (hostname.startsWith('*.') ? '' : hostname),
  };
  return { transport_socket: { name: TLS_TRANSPORT_SOCKET, typed_config: context } };
}
