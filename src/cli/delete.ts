/** `shoal delete -f FILE|DIR|-` or `shoal delete KIND NAME...`: prints `service "x" deleted`. */
import type { Command } from 'commander';
import { formatDocumentError, loadPaths } from '../api/load.js';
import { kindByName } from '../api/registry.js';
import type { KindDefinition } from '../api/kind.js';
import { DEFAULT_NAMESPACE } from '../api/resource.js';
import { ShoalError } from '../core/errors.js';
import { action, addConnectionOptions, clientFrom, formatError, type ClientFlags } from './common.js';
import { resolveKind } from './get.js';
import { typeName } from './output.js';

interface DeleteFlags extends ClientFlags {
  filename?: string[];
  namespace?: string;
  ignoreNotFound?: boolean;
}

export function registerDelete(program: Command): void {
  addConnectionOptions(
    program
      .command('delete')
      .description('delete resources named in files, or by kind and name')
      .argument('[kind]', 'kind, plural or short name')
      .argument('[names...]', 'object names')
      .option('-f, --filename <path...>', 'file, directory or - (repeatable)')
      .option('-n, --namespace <ns>', 'namespace')
      .option('--ignore-not-found', 'treat "not found" as success'),
  ).action(
    action(async (kind: string | undefined, names: string[], flags: DeleteFlags) => {
      const targets: { def: KindDefinition; namespace: string; name: string }[] = [];
      if (flags.filename) {
        if (kind) throw new ShoalError('BadRequest', 'give either -f or a kind and names, not both');
        const { documents, errors } = await loadPaths(flags.filename);
        if (errors.length > 0) {
          for (const e of errors) process.stderr.write(`error: ${formatDocumentError(e)}\n`);
          process.exitCode = 1;
          return;
        }
        for (const d of documents) {
          const ns = d.object.metadata.namespace ?? flags.namespace ?? DEFAULT_NAMESPACE;
          targets.push({ def: kindByName(d.object.kind)!, namespace: ns, name: d.object.metadata.name });
        }
      } else {
        if (!kind || names.length === 0)
          throw new ShoalError('BadRequest', 'usage: shoal delete -f FILE, or shoal delete KIND NAME...');
        const def = resolveKind(kind);
        for (const name of names) targets.push({ def, namespace: flags.namespace ?? DEFAULT_NAMESPACE, name });
      }
      const client = clientFrom(flags);
      for (const t of targets) {
        try {
          await client.delete(t.def, t.namespace, t.name);
          process.stdout.write(`${typeName(t.def)} "${t.name}" deleted\n`);
        } catch (err) {
          if (flags.ignoreNotFound && err instanceof ShoalError && err.reason === 'NotFound') continue;
          process.stderr.write(formatError(err) + '\n');
          process.exitCode = 1;
        }
      }
    }),
  );
}
