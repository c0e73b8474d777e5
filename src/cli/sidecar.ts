/** `shoal sidecar`: the data-plane proxy beside one app instance, until SIGTERM/SIGINT or POST /quitquitquit. */
import { InvalidArgumentError, type Command } from 'commander';
import type { Probe } from '../api/kinds/pod-template.js';
import { err, ok, type Result } from '../core/result.js';
import { parseIp, parseLabels, parsePort, parseSeconds } from './flags.js';
import { proxyOptions, proxySetup, runProxy } from './run-proxy.js';

interface SidecarFlags {
  control: string;
  namespace: string;
  workload: string;
  serviceAccount: string;
  podIp: string;
  appPort: number;
  labels: Record<string, string>;
  ports?: Record<string, number>;
  tokenFile?: string;
  outboundPort: number;
  inboundPort: number;
  adminPort: number;
  statsPort: number;
  healthPort: number;
  /** JSON, checked against the Probe schema in the action (`checkProbe`). */
  readinessProbe?: unknown;
  locality?: { region: string; zone: string; subZone: string };
  drainDuration: number;
  terminationDrainDuration: number;
  accessLog: boolean;
  headersTimeout: number;
  logFormat: 'json' | 'text';
  xdsMode: 'auto' | 'delta' | 'sotw';
}

function parseNamedPorts(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, port] of Object.entries(parseLabels(value))) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`${name}: ${port} is not a port`);
    out[name] = n;
  }
  return out;
}

function parseAppPort(value: string): number {
  const n = parsePort(value);
  if (n === 0) throw new InvalidArgumentError('expected a port number 1-65535');
  return n;
}

function parseProbe(value: string): unknown {
  // commander treats a parser's null as "no value"; 'none' is kept as a sentinel and mapped below.
  if (value === 'none') return 'none';
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(
      'expected a Kubernetes probe as JSON, e.g. {"httpGet":{"path":"/ready","port":8080}}, or none',
    );
  }
}

/**
 * The probe checked against the API's Probe schema, or the first problem. Loaded only when a probe is given: the
 * schema brings zod, which a sidecar started without `--readiness-probe` never loads.
 */
async function checkProbe(json: unknown): Promise<Result<Probe, string>> {
  const { probeSchema } = await import('../api/kinds/pod-template.js');
  const parsed = probeSchema.safeParse(json);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0]!;
  return err(`${issue.path.join('.') || '(probe)'}: ${issue.message}`);
}

function parseLocality(value: string): { region: string; zone: string; subZone: string } {
  const [region = '', zone = '', subZone = ''] = value.split('/');
  return { region, zone, subZone };
}

export function registerSidecar(program: Command): void {
  const command = program
    .command('sidecar')
    .description('run the sidecar proxy beside one app instance: registers it, probes it, proxies its traffic')
    .requiredOption('--control <host:port[,host:port]>', 'control-plane xDS address(es), tried in order')
    .option('--namespace <ns>', 'the instance namespace', 'default')
    .requiredOption('--workload <name>', 'the instance name (its WorkloadEntry)')
    .option('--service-account <sa>', 'the instance identity', 'default')
    .requiredOption('--pod-ip <ip>', 'the instance address: listeners bind it, peers reach it', parseIp)
    .requiredOption('--app-port <port>', 'the app port behind the inbound listener', parseAppPort)
    .option('--labels <k=v,...>', 'instance labels (services select them)', parseLabels, {})
    .option('--ports <name=port,...>', 'named app ports (default http=<app-port>)', parseNamedPorts)
    .option('--token-file <file>', 'token presented to the control plane (reserved for mTLS bootstrap)')
    .option('--outbound-port <port>', 'outbound listener port', parsePort, 15001)
    .option('--inbound-port <port>', 'inbound listener port', parsePort, 15006)
    .option(
      '--readiness-probe <json|none>',
      'the app readiness probe (Kubernetes Probe JSON); default TCP on the app port',
      parseProbe,
    )
    .option('--locality <region/zone/subzone>', 'the instance locality', parseLocality)
    .option(
      '--drain-duration <seconds>',
      'on shutdown, keep serving this long after the endpoint is withdrawn',
      parseSeconds,
      3,
    );
  proxyOptions(command);
  command.action(async (flags: SidecarFlags) => {
    let readinessProbe: Probe | null | undefined;
    if (flags.readinessProbe === 'none') readinessProbe = null;
    else if (flags.readinessProbe !== undefined) {
      const checked = await checkProbe(flags.readinessProbe);
      if (!checked.ok)
        return command.error(`error: option '--readiness-probe <json|none>' is invalid. ${checked.error}`);
      readinessProbe = checked.value;
    }
    const { logger, control, adminHost } = proxySetup('sidecar', flags, flags.podIp);
    // Loaded here, not at the top: other commands never pay for the proxy, nor the sidecar for the rest.
    const { Sidecar } = await import('../proxy/sidecar.js');
    const sidecar = new Sidecar({
      identity: {
        podIp: flags.podIp,
        workload: flags.workload,
        namespace: flags.namespace,
        serviceAccount: flags.serviceAccount,
        labels: flags.labels,
        appPort: flags.appPort,
        inboundPort: flags.inboundPort,
        outboundPort: flags.outboundPort,
        ...(flags.ports !== undefined ? { ports: flags.ports } : {}),
        ...(flags.locality !== undefined ? { locality: flags.locality } : {}),
      },
      control,
      logger,
      adminHost,
      adminPort: flags.adminPort,
      healthPort: flags.healthPort,
      statsPort: flags.statsPort,
      ...(readinessProbe !== undefined ? { readinessProbe } : {}),
      drainMs: flags.drainDuration * 1000,
      terminationDrainMs: flags.terminationDrainDuration * 1000,
      xds: { mode: flags.xdsMode },
      limits: { headersTimeoutMs: Math.round(flags.headersTimeout * 1000) },
      ...(flags.accessLog ? { accessLog: (entry) => logger.info(entry, 'access') } : {}),
    });
    await runProxy(sidecar, 'sidecar', logger, (l) => `${l.config.name} ${l.config.address}:${l.port}`);
  });
}
