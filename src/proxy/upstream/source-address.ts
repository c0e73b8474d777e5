/**
 * Upstream connections leave from the pod address, so a peer sidecar (and its app, through x-forwarded-for) sees
 * which pod called, as it would on a pod network. Only where the pod address can reach the endpoint: same address
 * family, and loopback to loopback or non-loopback to non-loopback (a pod address in 127.1.0.0/16 cannot reach a host
 * outside the machine, so connections to those leave from the default address).
 */
import { isIP } from 'node:net';

function loopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

export function sourceAddressFor(podIp: string | undefined, endpointAddress: string): string | undefined {
  if (podIp === undefined || podIp === '0.0.0.0' || podIp === '::') return undefined;
  const family = isIP(endpointAddress);
  if (family === 0 || family !== isIP(podIp)) return undefined;
  return loopback(podIp) === loopback(endpointAddress) ? podIp : undefined;
}
