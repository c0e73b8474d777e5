/** Reads a request body up to a limit and parses it as JSON or YAML. */
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ShoalError, errorMessage } from '../../core/errors.js';

/** Kubernetes' API server limit for one request body is 3 MiB. */
export const DEFAULT_BODY_LIMIT = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): ShoalError {
  return new ShoalError('RequestEntityTooLarge', `request body larger than the limit of ${limit} bytes`);
}

/** JSON by default; YAML when the content type says so. */
export function parseBody(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw new ShoalError('BadRequest', 'request body is empty');
  const yaml = /yaml/i.test(contentType ?? '');
  try {
    return yaml ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (err) {
    throw new ShoalError('BadRequest', `request body is not valid ${yaml ? 'YAML' : 'JSON'}: ${errorMessage(err)}`);
  }
}
