/**
 * The proxy benchmark's node-floor path (bench/proxy/node-floor.ts, node-floor-path.ts) on real sockets and real
 * processes: two forwarder processes started as the benchmark starts them, in front of two TCP backends (its HTTP/1.1
 * and h2c routes). Bytes go both ways intact, each downstream connection gets its own upstream connection, a close on
 * either side tears the pair down, an unreachable target closes the downstream, and stopping the path ends both
 * processes. Behaviour only, no timings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { floorServer, parseRoute } from '../../bench/proxy/node-floor.js';
import { nodeFloorPath } from '../../bench/proxy/node-floor-path.js';
import { freePort, type RunningPath } from '../../bench/proxy/paths.js';
import { isAlive, Procs } from '../../bench/proxy/procs.js';
import { NODE_FLAGS } from '../../bench/proxy/shoal-path.js';
import { tempDir } from '../helpers/processes.js';

/** A TCP backend that greets each connection with its name and a newline, then echoes; it keeps its sockets. */
interface EchoBackend {
  server: Server;
  port: number;
  sockets: Socket[];
  /** Resolves with the next accepted socket. */
  nextSocket(): Promise<Socket>;
}

async function echoBackend(name: string): Promise<EchoBackend> {
  const sockets: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.write(`${name}\n`);
    s.on('data', (d) => s.write(d));
    waiting.shift()?.(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sockets,
    nextSocket: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads from `s` until `n` bytes have arrived. */
function read(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= n) {
        s.off('data', onData);
        s.off('close', onClose);
        resolve(Buffer.concat(chunks));
      }
    };
    const onClose = (): void => reject(new Error(`closed after ${got} of ${n} bytes`));
    s.on('data', onData);
    s.once('close', onClose);
  });
}

const closed = (s: Socket): Promise<void> =>
  s.closed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));

describe('bench proxy: node-floor path', { timeout: 60_000 }, () => {
  const procs = new Procs();
  const dir = tempDir('shoal-node-floor-test-');
  let http1: EchoBackend;
  let h2c: EchoBackend;
  let path: RunningPath;
  const clients: Socket[] = [];
  const client = async (port: number): Promise<Socket> => {
    const s = await open(port);
    s.on('error', () => {});
    clients.push(s);
    return s;
  };

  before(async () => {
    http1 = await echoBackend('http1');
    h2c = await echoBackend('h2c');
    path = await nodeFloorPath(procs, dir, {
      http1: { host: '127.0.0.1', port: http1.port },
      h2c: { host: '127.0.0.1', port: h2c.port },
    });
  });

  after(async () => {
    for (const s of clients) s.destroy();
    await procs.stopAll();
    for (const b of [http1, h2c]) {
      for (const s of b?.sockets ?? []) s.destroy();
      b?.server.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('two hops, each a process of its own started with the sidecars node flags', () => {
    assert.equal(path.name, 'node-floor');
    assert.equal(path.hops.length, 2);
    const pids = path.hops.map((h) => h.pids()[0]!);
    assert.notEqual(pids[0], pids[1]);
    for (const pid of pids) {
      assert.ok(isAlive(pid));
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const script = argv.findIndex((a) => a.endsWith('node-floor.js'));
      assert.ok(script > 0, argv.join(' '));
      assert.deepEqual(argv.slice(1, script), NODE_FLAGS);
    }
  });

  test('bytes go both ways intact, on the HTTP/1.1 route and on the h2c route', async () => {
    for (const [endpoint, name] of [
      [path.http1, 'http1'],
      [path.h2c!, 'h2c'],
    ] as const) {
      const s = await client(endpoint.port);
      assert.equal((await read(s, name.length + 1)).toString(), `${name}\n`);
      const payload = randomBytes(1 << 20);
      const echoed = read(s, payload.length);
      s.write(payload);
      assert.ok((await echoed).equals(payload), `${name}: 1 MiB echoed back byte for byte`);
    }
  });

  test('each downstream connection gets its own upstream connection', async () => {
    const before = http1.sockets.length;
    const ss = await Promise.all([1, 2, 3].map(() => client(path.http1.port)));
    await Promise.all(ss.map((s) => read(s, 'http1\n'.length)));
    assert.equal(http1.sockets.length, before + 3);
  });

  test('the client closing tears the upstream connection down', async () => {
    const upstream = http1.nextSocket();
    const s = await client(path.http1.port);
    await read(s, 'http1\n'.length);
    const up = await upstream;
    s.destroy();
    await closed(up);
  });

  test('the backend closing tears the downstream connection down', async () => {
    const upstream = h2c.nextSocket();
    const s = await client(path.h2c!.port);
    await read(s, 'h2c\n'.length);
    (await upstream).destroy();
    await closed(s);
  });

  test('an unreachable target closes the downstream connection', async () => {
    const nowhere = await freePort();
    const server = floorServer({ host: '127.0.0.1', port: nowhere });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const s = await client((server.address() as AddressInfo).port);
      s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      await closed(s);
    } finally {
      server.close();
    }
  });

  test('stopping the path ends both processes', async () => {
    const pids = path.hops.flatMap((h) => h.pids());
    await path.stop();
    assert.deepEqual(
      pids.filter((p) => isAlive(p)),
      [],
    );
  });
});

describe('bench proxy: node-floor routes', () => {
  test('host:port=host:port', () => {
    assert.deepEqual(parseRoute('127.0.0.1:8080=127.1.2.3:80'), {
      listen: { host: '127.0.0.1', port: 8080 },
      target: { host: '127.1.2.3', port: 80 },
    });
    for (const bad of ['', '127.0.0.1:8080', '127.0.0.1:8080=127.0.0.1', 'a:1=b:2=c:3', '127.0.0.1:x=127.0.0.1:1'])
      assert.throws(() => parseRoute(bad), /host:port=host:port/);
  });
});
