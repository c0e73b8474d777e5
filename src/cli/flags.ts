/** Flag parsers shared by the long-running commands; a bad value ends the command with one clear line. */
import { InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new InvalidArgumentError('expected a port number 0-65535 (0 picks a free port)');
  return n;
}

export function parseLogFormat(value: string): 'json' | 'text' {
  if (value !== 'json' && value !== 'text') throw new InvalidArgumentError('expected json or text');
  return value;
}

export function parseXdsMode(value: string): 'auto' | 'delta' | 'sotw' {
  if (value !== 'auto' && value !== 'delta' && value !== 'sotw')
    throw new InvalidArgumentError('expected auto, delta or sotw');
  return value;
}

export function parseLabels(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',').filter((s) => s.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`expected k=v[,k=v...], got "${pair}"`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

export function parseIp(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError('expected an IP address');
  return value;
}

export function parsePositiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected seconds > 0');
  return n;
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected seconds >= 0');
  return n;
}
