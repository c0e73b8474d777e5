#!/usr/bin/env node
/** The `shoal` command. One file per subcommand; this file only wires them up. */
import { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { registerApply } from './apply.js';
import { registerControl } from './control.js';
import { registerDelete } from './delete.js';
import { registerGateway } from './gateway.js';
import { registerGet } from './get.js';
import { registerProxyConfig } from './proxy-config.js';
import { registerProxyStatus } from './proxy-status.js';
import { registerSidecar } from './sidecar.js';
import { registerLogs } from './logs.js';
import { registerRollout } from './rollout.js';
import { registerScale } from './scale.js';
import { registerUp } from './up.js';
import { registerVersion } from './version.js';

const program = new Command();
program
  .name('shoal')
  .description('Shoal: a service mesh and service discovery for microservices, with no Kubernetes needed.')
  .version(VERSION, '--version', 'print the version')
  .showHelpAfterError('(run with --help for usage)')
  .enablePositionalOptions();

registerControl(program);
registerApply(program);
registerGet(program);
registerDelete(program);
registerProxyStatus(program);
registerProxyConfig(program);
registerSidecar(program);
registerGateway(program);
registerUp(program);
registerScale(program);
registerRollout(program);
registerLogs(program);
registerVersion(program);

await program.parseAsync(process.argv);
