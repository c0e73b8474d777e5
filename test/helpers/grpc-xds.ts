/** Real gRPC echo servers and a real proxyless client (@grpc/grpc-js-xds in a child process) for interop tests. */
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const identity = (b: Buffer): Buffer => b;
export const ECHO_SERVICE: ServiceDefinition = {
  Who: {
    path: '/shoal.test.Echo/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** A gRPC server on 127.0.0.1:0 whose Who method answers its name. */
export async function echoServer(name: string): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(ECHO_SERVICE, {
    Who: (_call: unknown, callback: (error: null, reply: Buffer) => void) => callback(null, Buffer.from(name)),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
  });
  return { server, port };
}

export interface CallResult {
  ok: boolean;
  server?: string;
  code?: number;
  details?: string;
  /** When the parent read the result (ms since the epoch). */
  at: number;
}

export interface XdsClientProcess {
  proc: ChildProcess;
  results: CallResult[];
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts the proxyless client (test/integration/xds-interop-client.ts) calling `target` every 50 ms. */
export function startXdsClient(
  target: string,
  xdsAddress: string,
  nodeId: string,
  namespace = 'default',
): XdsClientProcess {
  const bootstrap = {
    xds_servers: [{ server_uri: xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: nodeId,
      cluster: `client.${namespace}`,
      locality: { region: 'local', zone: 'zone-a' },
      metadata: { GENERATOR: 'grpc', NAMESPACE: namespace, LABELS: { app: 'client' }, CLUSTER_ID: 'Kubernetes' },
    },
  };
  const script = fileURLToPath(new URL('../integration/xds-interop-client.js', import.meta.url));
  const proc = spawn(process.execPath, [script, target], {
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const results: CallResult[] = [];
  let err = '';
  proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  createInterface({ input: proc.stdout }).on('line', (line) =>
    results.push({ ...(JSON.parse(line) as Omit<CallResult, 'at'>), at: Date.now() }),
  );
  return {
    proc,
    results,
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.stdin?.end();
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
