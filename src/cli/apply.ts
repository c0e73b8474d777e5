/**
 * `shoal apply -f FILE|DIR|-`: validates every document first, reports all errors of all documents at once and
 * applies nothing if any is invalid; then creates or replaces each object, printing
 * `virtualservice.networking.istio.io/reviews created|configured|unchanged`.
 */
import type { Command } from 'commander';
import { isDeepStrictEqual } from 'node:util';
import { formatDocumentError, loadPaths } from '../api/load.js';
import { kindByName } from '../api/registry.js';
import type { Resource } from '../api/resource.js';
import { DEFAULT_NAMESPACE } from '../api/resource.js';
import { ShoalError } from '../core/errors.js';
import type { ApiClient } from './client.js';
import { action, addConnectionOptions, clientFrom, formatError, type ClientFlags } from './common.js';
import { typeName } from './output.js';

interface ApplyFlags extends ClientFlags {
  filename: string[];
  namespace?: string;
  dryRun?: boolean;
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export function registerApply(program: Command): void {
  addConnectionOptions(
    program
      .command('apply')
      .description('create or update resources from YAML/JSON files, a directory, or - for stdin')
      .requiredOption('-f, --filename <path...>', 'file, directory or - (repeatable)')
      .option('-n, --namespace <ns>', 'namespace for documents that do not name one')
      .option('--dry-run', 'validate only; change nothing'),
  ).action(
    action(async (flags: ApplyFlags) => {
      const { documents, errors } = await loadPaths(flags.filename, readStdin);
      if (errors.length > 0) {
        for (const e of errors) process.stderr.write(`error: ${formatDocumentError(e)}\n`);
        process.stderr.write(`error: ${errors.length} error(s) found; nothing was applied\n`);
        process.exitCode = 1;
        return;
      }
      if (documents.length === 0) throw new ShoalError('BadRequest', 'no objects passed to apply');
      const client = clientFrom(flags);
      let failed = 0;
      for (const doc of documents) {
        const obj = withNamespace(doc.object, flags.namespace);
        const def = kindByName(obj.kind)!;
        const label = `${typeName(def)}/${obj.metadata.name}`;
        if (flags.dryRun) {
          process.stdout.write(`${label} valid (dry run)\n`);
          continue;
        }
        try {
          process.stdout.write(`${label} ${await applyOne(client, obj)}\n`);
        } catch (err) {
          failed++;
          process.stderr.write(`${formatError(err)}\n`);
        }
      }
      if (failed > 0) process.exitCode = 1;
    }),
  );
}

function withNamespace(obj: Resource, ns: string | undefined): Resource {
  return { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? ns ?? DEFAULT_NAMESPACE } };
}

/** Create if absent; replace the user-owned parts (labels, annotations, spec) if they differ. */
export async function applyOne(client: ApiClient, obj: Resource): Promise<ApplyOutcome> {
  const def = kindByName(obj.kind)!;
  const ns = obj.metadata.namespace ?? DEFAULT_NAMESPACE;
  for (let attempt = 0; ; attempt++) {
    const current = await client.find(def, ns, obj.metadata.name);
    if (!current) {
      try {
        await client.create(def, obj);
        return 'created';
      } catch (err) {
        if (err instanceof ShoalError && err.reason === 'AlreadyExists' && attempt < 3) continue;
        throw err;
      }
    }
    const desired = {
      ...current,
      metadata: { ...current.metadata, labels: obj.metadata.labels, annotations: obj.metadata.annotations },
      spec: obj.spec,
      ...(obj.status !== undefined ? { status: obj.status } : {}),
    };
    if (
      isDeepStrictEqual(clean(current.metadata.labels), clean(obj.metadata.labels)) &&
      isDeepStrictEqual(clean(current.metadata.annotations), clean(obj.metadata.annotations)) &&
      isDeepStrictEqual(current.spec, obj.spec) &&
      (obj.status === undefined || isDeepStrictEqual(current.status, obj.status))
    ) {
      return 'unchanged';
    }
    try {
      const stored = await client.replace(def, desired);
      // Server-set fields the file leaves out (a Service's clusterIP) are kept: the server may find nothing to change.
      return stored.metadata.resourceVersion === current.metadata.resourceVersion ? 'unchanged' : 'configured';
    } catch (err) {
      if (err instanceof ShoalError && err.reason === 'Conflict' && attempt < 3) continue;
      throw err;
    }
  }
}

function clean(m: Record<string, string> | undefined): Record<string, string> {
  return m ?? {};
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
