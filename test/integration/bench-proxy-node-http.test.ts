/**
 * The proxy benchmark's node-http path (bench/proxy/node-http.ts, node-http-path.ts) on real sockets and real
 * processes: two minimal HTTP/1.1 proxies started as the benchmark starts them, in front of a node:http backend that
 * answers with what it received. Requests and answers go through both hops with their heads rewritten, keep-alive
 * holds on both sides, a large answer arrives intact, a chunked request gets 400 and a close, and stopping the path
 * ends both processes. Behaviour only, no timings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { NODE_HTTP_SCRIPT, nodeHttpPath } from '../../bench/proxy/node-http-path.js';
import type { RunningPath } from '../../bench/proxy/paths.js';
import { isAlive, Procs } from '../../bench/proxy/procs.js';
import { NODE_FLAGS } from '../../bench/proxy/shoal-path.js';
import { tempDir } from '../helpers/processes.js';

/** What the backend saw of one request. */
interface Seen {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
  /** Which backend connection carried it (1, 2, ... in accept order). */
  connection: number;
}

const BIG = randomBytes(1 << 20);

/** A node:http backend: `/big` answers 1 MiB of random bytes, anything else JSON of what it received. */
async function echoBackend(): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  let connections = 0;
  const ids = new WeakMap<object, number>();
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method!,
        url: req.url!,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString(),
        connection: ids.get(req.socket)!,
      };
      seen.push(entry);
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
        res.end(BIG);
        return;
      }
      const body = JSON.stringify(entry);
      res.writeHead(201, {
        'content-type': 'application/json',
        'x-backend': 'yes',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => ids.set(s, ++connections));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/** One client connection with a minimal HTTP/1.1 reader (Content-Length answers). */
class Client {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.closed) throw new Error(`closed with ${this.buf.length} bytes unread: ${this.buf.toString('latin1')}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Reads one answer: its status, its header fields (names lowercased) and its body. */
  async response(): Promise<{ status: number; headers: [string, string][]; body: Buffer }> {
    let end = -1;
    await this.until(() => (end = this.buf.indexOf('\r\n\r\n')) >= 0);
    const [statusLine, ...lines] = this.buf.toString('latin1', 0, end).split('\r\n');
    const headers = lines.map((l): [string, string] => {
      const colon = l.indexOf(':');
      return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
    });
    const length = Number(headers.find(([n]) => n === 'content-length')?.[1] ?? 0);
    await this.until(() => this.buf.length >= end + 4 + length);
    const body = this.buf.subarray(end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    return { status: Number(statusLine!.split(' ')[1]), headers, body };
  }

  async request(text: string | Buffer): Promise<Awaited<ReturnType<Client['response']>>> {
    this.socket.write(text);
    return this.response();
  }

  /** Resolves once the proxy has closed the connection. */
  async closing(): Promise<void> {
    await new Promise<void>((resolve) => (this.closed ? resolve() : this.socket.once('close', () => resolve())));
  }
}

const values = (raw: string[], name: string): string[] =>
  raw.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === name ? [raw[i + 1]!] : []));

describe('bench proxy: node-http path', { timeout: 60_000 }, () => {
  const procs = new Procs();
  const dir = tempDir('shoal-node-http-test-');
  let backend: Awaited<ReturnType<typeof echoBackend>>;
  let path: RunningPath;
  const clients: Client[] = [];
  const client = async (): Promise<Client> => {
    const c = await Client.open(path.http1.port);
    clients.push(c);
    return c;
  };

  before(async () => {
    backend = await echoBackend();
    path = await nodeHttpPath(procs, dir, { http1: { host: '127.0.0.1', port: backend.port } });
  });

  after(async () => {
    for (const c of clients) c.socket.destroy();
    await procs.stopAll();
    backend?.server.closeAllConnections();
    backend?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('two hops chained, each a process started with the sidecars node flags and one route, no h2c', () => {
    assert.equal(path.name, 'node-http');
    assert.equal(path.h2c, undefined);
    const argv = path.hops.map((h) => readFileSync(`/proc/${h.pids()[0]!}/cmdline`, 'utf8').split('\0').slice(1, -1));
    const hop2 = argv[1]!.at(-1)!.split('=')[0]!;
    assert.deepEqual(argv, [
      [...NODE_FLAGS, NODE_HTTP_SCRIPT, `127.0.0.1:${path.http1.port}=${hop2}`],
      [...NODE_FLAGS, NODE_HTTP_SCRIPT, `${hop2}=127.0.0.1:${backend.port}`],
    ]);
  });

  test('a GET and a POST with a body go through both hops, heads rewritten', async () => {
    const c = await client();
    const get = await c.request(
      Buffer.from(
        'GET /some/path?q=1 HTTP/1.1\r\nHost: backend\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n' +
          'X-Custom:   spaced value  \r\nX-Latin1: caf\xe9\r\n\r\n',
        'latin1',
      ),
    );
    const post = await c.request(
      'POST /submit HTTP/1.1\r\nHost: backend\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello there',
    );
    for (const [answer, method, url, body] of [
      [get, 'GET', '/some/path?q=1', ''],
      [post, 'POST', '/submit', 'hello there'],
    ] as const) {
      assert.equal(answer.status, 201);
      assert.deepEqual(
        answer.headers.filter(([n]) => n === 'content-type' || n === 'x-backend' || n === 'connection'),
        [
          ['content-type', 'application/json'],
          ['x-backend', 'yes'],
          ['connection', 'keep-alive'],
        ],
      );
      assert.equal(answer.headers.filter(([n]) => n === 'keep-alive').length, 0);
      const seen = JSON.parse(answer.body.toString()) as Seen;
      assert.equal(seen.method, method);
      assert.equal(seen.url, url);
      assert.equal(seen.body, body);
      assert.deepEqual(values(seen.rawHeaders, 'host'), ['backend']);
      assert.deepEqual(values(seen.rawHeaders, 'x-forwarded-for'), ['127.0.0.1', '127.0.0.1'], 'one per hop');
      assert.deepEqual(values(seen.rawHeaders, 'x-forwarded-proto'), ['http', 'http']);
      assert.deepEqual(values(seen.rawHeaders, 'connection'), []);
      assert.deepEqual(values(seen.rawHeaders, 'keep-alive'), []);
    }
    const getSeen = JSON.parse(get.body.toString()) as Seen;
    assert.deepEqual(values(getSeen.rawHeaders, 'x-custom'), ['spaced value']);
    assert.deepEqual(values(getSeen.rawHeaders, 'x-latin1'), ['caf\xe9'], 'a byte over 0x7f passes as it came');
    const postSeen = JSON.parse(post.body.toString()) as Seen;
    assert.deepEqual(values(postSeen.rawHeaders, 'content-length'), ['11']);
  });

  test('keep-alive: 20 sequential requests on one client connection reach the backend on one connection', async () => {
    const c = await client();
    const first = backend.seen.length;
    for (let i = 0; i < 20; i++) {
      const answer = await c.request(`GET /n/${i} HTTP/1.1\r\nHost: backend\r\n\r\n`);
      assert.equal(answer.status, 201);
      assert.equal((JSON.parse(answer.body.toString()) as Seen).url, `/n/${i}`);
    }
    const seen = backend.seen.slice(first);
    assert.deepEqual(
      seen.map((s) => s.url),
      Array.from({ length: 20 }, (_, i) => `/n/${i}`),
    );
    assert.equal(new Set(seen.map((s) => s.connection)).size, 1, 'one upstream connection for all 20');
    assert.equal(c.closed, false);
  });

  test('an answer larger than one read (1 MiB) arrives intact', async () => {
    const c = await client();
    const answer = await c.request('GET /big HTTP/1.1\r\nHost: backend\r\n\r\n');
    assert.equal(answer.status, 200);
    assert.ok(answer.body.equals(BIG), '1 MiB byte for byte');
    const again = await c.request('GET /after-big HTTP/1.1\r\nHost: backend\r\n\r\n');
    assert.equal(again.status, 201, 'the connection is still good after it');
  });

  test('a chunked request gets 400 and a close; other connections are still served', async () => {
    const other = await client();
    const c = await client();
    const before = backend.seen.length;
    const answer = await c.request(
      'POST /chunked HTTP/1.1\r\nHost: backend\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    assert.equal(answer.status, 400);
    assert.deepEqual(
      answer.headers.find(([n]) => n === 'connection'),
      ['connection', 'close'],
    );
    await c.closing();
    assert.equal(backend.seen.length, before, 'the backend saw nothing');
    const ok = await other.request('GET /still HTTP/1.1\r\nHost: backend\r\n\r\n');
    assert.equal(ok.status, 201);
    const fresh = await client();
    assert.equal((await fresh.request('GET /fresh HTTP/1.1\r\nHost: backend\r\n\r\n')).status, 201);
  });

  test('stopping the path ends both processes', async () => {
    const pids = path.hops.flatMap((h) => h.pids());
    assert.equal(pids.length, 2);
    await path.stop();
    assert.deepEqual(
      pids.filter((p) => isAlive(p)),
      [],
    );
  });
});
