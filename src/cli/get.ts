/** `shoal get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o yaml|json|wide|name]`, kubectl-like. */
import type { Command } from 'commander';
import { kindByCliName, KINDS } from '../api/registry.js';
import type { KindDefinition } from '../api/kind.js';
import { DEFAULT_NAMESPACE } from '../api/resource.js';
import { ShoalError } from '../core/errors.js';
import { action, addConnectionOptions, clientFrom, type ClientFlags } from './common.js';
import { objectsTable, pluralTypeName, toYamlText, typeName } from './output.js';

interface GetFlags extends ClientFlags {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
  selector?: string;
}

const OUTPUTS = ['yaml', 'json', 'wide', 'name'];

export function resolveKind(name: string): KindDefinition {
  const def = kindByCliName(name);
  if (!def) {
    const known = KINDS.map((k) => k.plural).join(', ');
    throw new ShoalError('BadRequest', `the server doesn't have a resource type "${name}" (known: ${known})`);
  }
  return def;
}

export function registerGet(program: Command): void {
  addConnectionOptions(
    program
      .command('get')
      .description('list resources of a kind, or show one')
      .argument('<kind>', 'kind, plural or short name: svc, deploy, po, vs, dr, se, gw, we, wg, pa, ap, ra')
      .argument('[name]', 'one object')
      .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
      .option('-A, --all-namespaces', 'every namespace')
      .option('-l, --selector <selector>', 'label selector, e.g. app=reviews,version!=v1')
      .option('-o, --output <format>', `output format: ${OUTPUTS.join('|')}`),
  ).action(
    action(async (kind: string, name: string | undefined, flags: GetFlags) => {
      if (flags.output && !OUTPUTS.includes(flags.output)) {
        throw new ShoalError(
          'BadRequest',
          `unknown output format "${flags.output}": expected one of ${OUTPUTS.join(', ')}`,
        );
      }
      const def = resolveKind(kind);
      const client = clientFrom(flags);
      const ns = flags.namespace ?? DEFAULT_NAMESPACE;
      if (name !== undefined) {
        const obj = await client.get(def, ns, name);
        if (flags.output === 'yaml') process.stdout.write(toYamlText(obj));
        else if (flags.output === 'json') process.stdout.write(JSON.stringify(obj, null, 2) + '\n');
        else if (flags.output === 'name') process.stdout.write(`${typeName(def)}/${obj.metadata.name}\n`);
        else process.stdout.write(objectsTable(def, [obj], { allNamespaces: false, wide: flags.output === 'wide' }));
        return;
      }
      const list = await client.list(def, flags.allNamespaces ? undefined : ns, flags.selector);
      if (flags.output === 'yaml' || flags.output === 'json') {
        const doc = {
          apiVersion: 'v1',
          kind: 'List',
          metadata: { resourceVersion: list.metadata.resourceVersion },
          items: list.items,
        };
        process.stdout.write(flags.output === 'yaml' ? toYamlText(doc) : JSON.stringify(doc, null, 2) + '\n');
      } else if (flags.output === 'name') {
        for (const o of list.items) process.stdout.write(`${typeName(def)}/${o.metadata.name}\n`);
      } else if (list.items.length === 0) {
        process.stderr.write(
          flags.allNamespaces
            ? `No ${pluralTypeName(def)} found.\n`
            : `No ${pluralTypeName(def)} found in ${ns} namespace.\n`,
        );
      } else {
        process.stdout.write(
          objectsTable(def, list.items, { allNamespaces: !!flags.allNamespaces, wide: flags.output === 'wide' }),
        );
      }
    }),
  );
}
