/** Flag parsers shared by the long-running commands; a bad value ends the command with one clear line. */
import { InvalidArgumentError } from 'commander';

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
