/**
 * Child process for xds-interop.test.ts: a real proxyless xDS client. Registers @grpc/grpc-js-xds, dials the target
 * given as argv[2] (xds:///host:port, bootstrap from GRPC_XDS_BOOTSTRAP_CONFIG), calls /shoal.test.Echo/Who every
 * 50 ms and prints one JSON line per call: {"ok":true,"server":"A"} or {"ok":false,"code":14,"details":"..."}.
 * Exits when stdin closes (the parent went away) or on SIGTERM.
 */
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';

register();
const target = process.argv[2];
if (target === undefined) throw new Error('usage: xds-interop-client <xds:///host:port>');
const client = new Client(target, credentials.createInsecure());
let running = true;

function stop(): void {
  running = false;
  client.close();
  process.exit(0); // grpc-js-xds keeps its ADS stream (and its retry timers) alive otherwise
}
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);

function call(): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/shoal.test.Echo/Who',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      { deadline: Date.now() + 1_000 },
      (error: ServiceError | null, reply?: Buffer) => {
        if (error) reject(error);
        else resolve(reply?.toString() ?? '');
      },
    );
  });
}

while (running) {
  try {
    process.stdout.write(`${JSON.stringify({ ok: true, server: await call() })}\n`);
  } catch (error) {
    const e = error as ServiceError;
    process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, details: e.details })}\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
