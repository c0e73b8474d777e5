/** `shoal control`: runs the control plane until SIGTERM/SIGINT, then drains and exits 0. */
import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import type { ControlPlane } from '../control/control-plane.js';
import { writeClientConfig, clientConfigPath } from '../control/auth.js';
import { errorMessage } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { parseUpstream, type Upstream } from '../control/dns/forwarder.js';
import { parseLogFormat, parsePort } from './flags.js';
import { onShutdown } from './shutdown.js';

function parseDnsTtl(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 86_400) throw new InvalidArgumentError('expected whole seconds 0-86400');
  return n;
}

function parseDnsUpstream(value: string): Upstream {
  try {
    return parseUpstream(value);
  } catch {
    throw new InvalidArgumentError('expected <ip>:<port> (an IP address and a port, e.g. 127.0.0.1:53)');
  }
}

interface ControlFlags {
  dataDir: string;
  store: string;
  host: string;
  httpPort: number;
  xdsPort: number;
  xdsTlsPort: number;
  dnsPort: number;
  dnsTtl: number;
  dnsUpstream?: Upstream;
  meshConfig?: string;
  serviceCidr: string;
  cluster: string;
  logFormat: 'json' | 'text';
}

export function registerControl(program: Command): void {
  program
    .command('control')
    .description('run the control plane: registry, config store, xDS server, CA, DNS, HTTP API')
    .option('--data-dir <dir>', 'where the embedded store, tokens and certificates live', '.shoal')
    .option('--store <store>', 'sqlite, or etcd://host:port[,host:port...]', 'sqlite')
    .option('--host <address>', 'address the servers bind', '127.0.0.1')
    .option('--http-port <n>', 'HTTP API, /metrics, /healthz, dashboard', parsePort, 15014)
    .option('--xds-port <n>', 'xDS over plaintext gRPC', parsePort, 15010)
    .option('--xds-tls-port <n>', 'xDS and certificate signing over TLS', parsePort, 15012)
    .option('--dns-port <n>', 'DNS over UDP and TCP', parsePort, 15053)
    .option('--dns-ttl <seconds>', 'TTL of DNS answers, also the negative TTL', parseDnsTtl, 5)
    .option(
      '--dns-upstream <ip:port>',
      'forward DNS queries for names outside the mesh here (else REFUSED)',
      parseDnsUpstream,
    )
    .option('--service-cidr <cidr>', 'where Service virtual IPs come from', '127.2.0.0/16')
    .option('--mesh-config <file>', "mesh-wide settings in Istio's MeshConfig format")
    .option('--cluster <name>', "this cluster's name", 'Kubernetes')
    .option('--log-format <format>', 'json or text', parseLogFormat, 'json')
    .action(async (flags: ControlFlags) => {
      const logger = createLogger({ format: flags.logFormat, name: 'shoal-control' });
      const dataDir = resolve(flags.dataDir);
      // Loaded here, not at the top: `shoal sidecar` and the client commands never load the control plane.
      const { ControlPlane } = await import('../control/control-plane.js');
      const cp = new ControlPlane({
        dataDir,
        store: flags.store,
        host: flags.host,
        httpPort: flags.httpPort,
        xdsPort: flags.xdsPort,
        dnsPort: flags.dnsPort,
        dnsTtl: flags.dnsTtl,
        dnsUpstream: flags.dnsUpstream,
        serviceCidr: flags.serviceCidr,
        logger,
      });
      // Handlers first: whoever reads the ready line may signal at once.
      let started: Promise<unknown> = Promise.resolve();
      const shutdown = onShutdown(logger, async (signal) => {
        logger.info({ signal }, 'draining');
        await started.catch(() => undefined);
        await cp.stop();
        logger.info('stopped');
      });

      let addresses;
      try {
        started = cp.start();
        addresses = (await started) as Awaited<ReturnType<ControlPlane['start']>>;
      } catch (err) {
        process.stderr.write(`shoal control: ${errorMessage(err)}\n`);
        await cp.stop().catch(() => undefined);
        process.exit(2);
      }
      if (shutdown.stopping) return;
      writeClientConfig({ server: addresses.http.url, token: cp.adminToken });
      logger.info(
        {
          api: addresses.http.url,
          xds: addresses.xds.address,
          dns: addresses.dns?.address,
          dataDir,
          clientConfig: clientConfigPath(),
        },
        'control plane ready',
      );
      if (addresses.dns) process.stdout.write(`shoal control: dns ${addresses.dns.address} (udp, tcp)\n`);
      process.stdout.write(`shoal control: api ${addresses.http.url} xds ${addresses.xds.address}\n`);
    });
}
