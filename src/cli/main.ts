#!/usr/bin/env node
/**
 * The `shoal` command. One file per subcommand; this file only wires them up.
 *
 * A subcommand's module (and what it imports: the API schemas, YAML, SQLite, the control plane) is loaded only when
 * that subcommand runs: `shoal sidecar ...` registers and loads the sidecar alone, so a proxy process never pays for
 * the rest. Anything else as the first argument (`--help`, `help`, a typo) registers every subcommand, so help and
 * commander's suggestions are as before.
 */
import { Command } from 'commander';
import { VERSION } from '../core/version.js';

type Register = (program: Command) => void;

/** In the order `shoal --help` lists them. */
const SUBCOMMANDS: Record<string, () => Promise<Register>> = {
  control: async () => (await import('./control.js')).registerControl,
  apply: async () => (await import('./apply.js')).registerApply,
  get: async () => (await import('./get.js')).registerGet,
  delete: async () => (await import('./delete.js')).registerDelete,
  'proxy-status': async () => (await import('./proxy-status.js')).registerProxyStatus,
  'proxy-config': async () => (await import('./proxy-config.js')).registerProxyConfig,
  sidecar: async () => (await import('./sidecar.js')).registerSidecar,
  gateway: async () => (await import('./gateway.js')).registerGateway,
  up: async () => (await import('./up.js')).registerUp,
  scale: async () => (await import('./scale.js')).registerScale,
  rollout: async () => (await import('./rollout.js')).registerRollout,
  logs: async () => (await import('./logs.js')).registerLogs,
  version: async () => (await import('./version.js')).registerVersion,
};

const program = new Command();
program
  .name('shoal')
  .description('Shoal: a service mesh and service discovery for microservices, with no Kubernetes needed.')
  .version(VERSION, '--version', 'print the version')
  .showHelpAfterError('(run with --help for usage)')
  .enablePositionalOptions();

const first = process.argv[2];
const only = first !== undefined && Object.hasOwn(SUBCOMMANDS, first) ? SUBCOMMANDS[first] : undefined;
for (const load of only ? [only] : Object.values(SUBCOMMANDS)) (await load())(program);

await program.parseAsync(process.argv);
