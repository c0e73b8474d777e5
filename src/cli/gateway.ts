/**
 * `shoal gateway`: the ingress gateway, the sidecar's proxy in gateway (`router~`) mode. Its listeners come from the
 * Gateways whose selector matches `--labels`, bound on `--bind` at each server's port; the VirtualServices bound to
 * those Gateways route them. Runs until SIGTERM/SIGINT or POST /quitquitquit (docs/gateway.md).
 */
import type { Command } from 'commander';
import { parseIp, parseLabels, parseSeconds } from './flags.js';
import { proxyOptions, proxySetup, runProxy } from './run-proxy.js';

interface GatewayFlags {
  control: string;
  namespace: string;
  workload: string;
  labels: Record<string, string>;
  bind: string;
  adminPort: number;
  statsPort: number;
  healthPort: number;
  drainDuration: number;
  terminationDrainDuration: number;
  accessLog: boolean;
  headersTimeout: number;
  logFormat: 'json' | 'text';
  xdsMode: 'auto' | 'delta' | 'sotw';
}

export function registerGateway(program: Command): void {
  const command = program
    .command('gateway')
    .description(
      'run an ingress gateway: serves the Gateways selecting its labels and the VirtualServices bound to them',
    )
    .requiredOption('--control <host:port[,host:port]>', 'control-plane xDS address(es), tried in order')
    .option('--namespace <ns>', 'the gateway namespace', 'default')
    .requiredOption('--workload <name>', 'the gateway name (shoal up: the Gateway resource name)')
    .option('--labels <k=v,...>', 'gateway labels (Gateways select them with spec.selector)', parseLabels, {})
    .requiredOption('--bind <ip>', "the address the Gateway servers' listeners bind", parseIp)
    .option(
      '--drain-duration <seconds>',
      'on shutdown, keep serving this long with readiness failing',
      parseSeconds,
      3,
    );
  proxyOptions(command);
  command.action(async (flags: GatewayFlags) => {
    const { logger, control, adminHost } = proxySetup('gateway', flags, flags.bind);
    // Loaded here, not at the top: other commands never pay for the proxy.
    const { Sidecar } = await import('../proxy/sidecar.js');
    const gateway = new Sidecar({
      identity: {
        type: 'gateway',
        bind: flags.bind,
        workload: flags.workload,
        namespace: flags.namespace,
        labels: flags.labels,
      },
      control,
      logger,
      adminHost,
      adminPort: flags.adminPort,
      healthPort: flags.healthPort,
      statsPort: flags.statsPort,
      drainMs: flags.drainDuration * 1000,
      terminationDrainMs: flags.terminationDrainDuration * 1000,
      xds: { mode: flags.xdsMode },
      limits: { headersTimeoutMs: Math.round(flags.headersTimeout * 1000) },
      ...(flags.accessLog ? { accessLog: (entry) => logger.info(entry, 'access') } : {}),
    });
    await runProxy(gateway, 'gateway', logger, (l) => `${l.config.address}:${l.port}`);
  });
}
