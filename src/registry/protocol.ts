/**
 * Which protocol a service port speaks, by Istio's explicit protocol selection rules
 * (https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/):
 *
 * - A Kubernetes `Service` port: `protocol: UDP` is UDP. Otherwise `appProtocol` if set, else the port name, is
 *   read as `<protocol>[-<suffix>]` (case-insensitive): `http`, `http2`, `grpc`, `https`, `tls`, `tcp`, and
 *   `grpc-web` (matched before the `-` split). `appProtocol` also takes Kubernetes' standard names
 *   `kubernetes.io/h2c` (HTTP2), `kubernetes.io/ws` (HTTP) and `kubernetes.io/wss` (HTTPS).
 * - A `ServiceEntry` port: its `protocol` field, parsed the same way; absent is UNKNOWN, as in Istio.
 *
 * Mapping onto Shoal's Protocol: `grpc-web` is HTTP2 (Istio: "same as http2"); `http_proxy` is HTTP; `mongo`,
 * `mysql` and `redis` are TCP (Istio treats them as opaque TCP unless experimental filters are enabled, and
 * Shoal has none). A name that says nothing is UNKNOWN, except on the server-first ports Istio never sniffs
 * (SMTP 25, DNS 53, MySQL 3306, MongoDB 27017), which are TCP.
 *
 * UNKNOWN means "not declared": Istio would sniff the protocol; Shoal does not sniff, so translation treats
 * UNKNOWN as opaque TCP (a plain TCP proxy still carries HTTP, just without HTTP routing or metrics).
 */
import type { Protocol } from './model.js';

/** The fields of a Kubernetes ServicePort that decide its protocol. */
export interface ServicePortLike {
  name?: string | undefined;
  port: number;
  protocol?: string | undefined;
  appProtocol?: string | undefined;
}

/** Server-first protocols' well-known ports: Istio makes them TCP instead of sniffing. */
const WELL_KNOWN_TCP_PORTS: ReadonlySet<number> = new Set([25, 53, 3306, 27017]);

const BY_NAME: ReadonlyMap<string, Protocol> = new Map<string, Protocol>([
  ['http', 'HTTP'],
  ['http_proxy', 'HTTP'],
  ['http2', 'HTTP2'],
  ['grpc', 'GRPC'],
  ['grpc-web', 'HTTP2'],
  ['https', 'HTTPS'],
  ['tls', 'TLS'],
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['mongo', 'TCP'],
  ['mysql', 'TCP'],
  ['redis', 'TCP'],
]);

const KUBERNETES_APP_PROTOCOLS: ReadonlyMap<string, Protocol> = new Map<string, Protocol>([
  ['kubernetes.io/h2c', 'HTTP2'],
  ['kubernetes.io/ws', 'HTTP'],
  ['kubernetes.io/wss', 'HTTPS'],
]);

/** An Istio protocol name (`HTTP`, `grpc`, `GRPC-WEB`, ...), case-insensitive; anything else is UNKNOWN. */
export function parseProtocol(name: string | undefined): Protocol {
  if (name === undefined) return 'UNKNOWN';
  return BY_NAME.get(name.toLowerCase()) ?? 'UNKNOWN';
}

/** `<protocol>[-<suffix>]`: `http-web` is HTTP, `grpc-web-x` is HTTP2 (grpc-web), `web` is UNKNOWN. */
export function protocolFromPortName(name: string): Protocol {
  const lower = name.toLowerCase();
  if (lower.startsWith('grpc-web')) return 'HTTP2';
  const dash = lower.indexOf('-');
  const prefix = dash >= 0 ? lower.slice(0, dash) : lower;
  const protocol = parseProtocol(prefix);
  // A name cannot make a port UDP: that is what `protocol: UDP` says (Istio ignores a `udp-` prefix).
  return protocol === 'UDP' ? 'UNKNOWN' : protocol;
}

/** The protocol of a Kubernetes Service port. */
export function servicePortProtocol(port: ServicePortLike): Protocol {
  if (port.protocol === 'UDP') return 'UDP';
  let protocol: Protocol;
  if (port.appProtocol !== undefined) {
    protocol = KUBERNETES_APP_PROTOCOLS.get(port.appProtocol) ?? protocolFromPortName(port.appProtocol);
  } else {
    protocol = protocolFromPortName(port.name ?? '');
  }
  if (protocol === 'UNKNOWN' && WELL_KNOWN_TCP_PORTS.has(port.port)) return 'TCP';
  return protocol;
}

/** The protocol of a ServiceEntry port: its `protocol` field (absent: UNKNOWN). */
export function serviceEntryPortProtocol(protocol: string | undefined): Protocol {
  return parseProtocol(protocol);
}
