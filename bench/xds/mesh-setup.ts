/**
 * The mesh the xDS benchmark pushes: `services` Services `svc-<i>` (one port http 80 -> 8080) with `replicas`
 * WorkloadEntries each (`svc-<i>-<j>`, labels app=svc-<i>), created through the HTTP API with a keep-alive agent at
 * concurrency 16; endpoint changes are merge-patches of a WorkloadEntry's address. Every address is on loopback
 * (127.3.0.0/16): nothing connects to them, and nothing could leave the machine if it did.
 */
import { Agent, request } from 'node:http';

export const CONCURRENCY = 16;

export interface ApiTarget {
  url: string;
  token: string;
}

export interface Reply {
  status: number;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One request. A keep-alive socket the server closed while it sat idle fails with ECONNRESET on reuse; such a request
 * never reached the server and is sent again once (Node's documented pattern, `req.reusedSocket`).
 */
export async function call(api: ApiTarget, method: string, path: string, body?: unknown): Promise<Reply> {
  try {
    return await send(api, method, path, body);
  } catch (err) {
    if ((err as { reused?: boolean }).reused !== true) throw err;
    return send(api, method, path, body);
  }
}

function send(api: ApiTarget, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const headers = { authorization: `Bearer ${api.token}`, 'content-type': contentType };
    const req = request(api.url + path, { method, agent, headers, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(req.reusedSocket && err.code === 'ECONNRESET' ? Object.assign(err, { reused: true }) : err);
    });
    req.end(payload);
  });
}

export function closeAgent(): void {
  agent.destroy();
}

/** The k-th address of the benchmark's loopback range 127.3.0.0/16 (k < 63,750). */
export function loopbackAddress(k: number): string {
  return `127.3.${Math.floor(k / 250)}.${(k % 250) + 1}`;
}

export class BenchMesh {
  /** Current address of each WorkloadEntry, by `<service>/<replica>`. */
  private readonly addresses = new Map<string, string>();
  private nextAddress = 0;

  constructor(
    private readonly api: ApiTarget,
    readonly services: number,
    readonly replicas: number,
    readonly namespace: string,
  ) {}

  host(service: number): string {
    return `svc-${service}.${this.namespace}.svc.cluster.local`;
  }

  address(service: number, replica: number): string {
    return this.addresses.get(`${service}/${replica}`) ?? '';
  }

  /** Creates every Service, then every WorkloadEntry; returns the seconds it took. Throws on any failed write. */
  async create(): Promise<number> {
    const started = performance.now();
    const ns = this.namespace;
    await this.parallel(this.services, (i) =>
      this.write('POST', `/api/v1/namespaces/${ns}/services`, 201, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: ns },
        spec: { selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      }),
    );
    await this.parallel(this.services * this.replicas, (k) => {
      const [i, j] = [Math.floor(k / this.replicas), k % this.replicas];
      const address = this.take();
      this.addresses.set(`${i}/${j}`, address);
      return this.write('POST', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`, 201, {
        apiVersion: 'networking.istio.io/v1',
        kind: 'WorkloadEntry',
        metadata: { name: `svc-${i}-${j}`, namespace: ns, labels: { app: `svc-${i}` } },
        spec: { address, labels: { app: `svc-${i}` } },
      });
    });
    return (performance.now() - started) / 1000;
  }

  /** Moves WorkloadEntry svc-<i>-<j> to a fresh address; resolves it once the API has answered. */
  async move(service: number, replica: number, address = this.take()): Promise<string> {
    const path = `/apis/networking.istio.io/v1/namespaces/${this.namespace}/workloadentries/svc-${service}-${replica}`;
    await this.write('PATCH', path, 200, { spec: { address } });
    this.addresses.set(`${service}/${replica}`, address);
    return address;
  }

  /** A fresh loopback address no WorkloadEntry has had. */
  take(): string {
    return loopbackAddress(this.nextAddress++);
  }

  private async write(method: string, path: string, expected: number, body: unknown): Promise<void> {
    const reply = await call(this.api, method, path, body);
    if (reply.status !== expected) throw new Error(`${method} ${path} answered ${reply.status}: ${reply.text}`);
  }

  private async parallel(count: number, work: (index: number) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) await work(next++);
      }),
    );
  }
}
