/**
 * The sidecar's HTTP/1.1 upstream pool (src/proxy/upstream/http1-pool.ts) against real servers on port 0: keep-alive
 * reuse (most recently used first), the connection limit and its FIFO queue, connect failures and their codes,
 * Connection: close, Keep-Alive timeouts, the stale keep-alive retry, request serialization, close and destroy.
 * Messages (bodies, trailers, HEAD/204/304, upgrades, abort, pause) are in http1-pool-messages.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { classifyFailure } from '../../src/proxy/http/retry.js';
import { delay, httpServer, netServer, poolFor, rawServer, send, until } from './http1-pool-fixtures.js';

describe('Http1Pool connections', () => {
  it('reuses one keep-alive connection for sequential requests', async () => {
    const srv = await httpServer((req, res) => res.end(`${req.socket.remotePort}`));
    const pool = poolFor(srv.port);
    try {
      const ports = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const r = await send(pool, { path: `/${i}` });
        assert.equal(r.status, 200);
        assert.deepEqual(r.events, ['start', 'response', 'data', 'end']);
        ports.add(r.body.toString());
      }
      assert.equal(ports.size, 1);
      assert.equal(srv.connections.length, 1);
      assert.deepEqual(pool.stats, { connected: 1, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('reuses the most recently used idle connection first', async () => {
    const srv = await httpServer((req, res) => {
      // /slow answers after /fast, so its connection is the one freed last.
      setTimeout(() => res.end(`${req.socket.remotePort}`), req.url === '/slow' ? 50 : 0);
    });
    const pool = poolFor(srv.port);
    try {
      const [fast, slow] = await Promise.all([send(pool, { path: '/fast' }), send(pool, { path: '/slow' })]);
      assert.notEqual(fast.body.toString(), slow.body.toString());
      for (let i = 0; i < 3; i++) assert.equal((await send(pool)).body.toString(), slow.body.toString());
      assert.equal(srv.connections.length, 2);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('connects from localAddress (the pod address)', async () => {
    const srv = await httpServer((req, res) => res.end(req.socket.remoteAddress));
    const pool = poolFor(srv.port, { localAddress: '127.0.0.7' });
    try {
      assert.equal((await send(pool)).body.toString(), '127.0.0.7');
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('opens at most `connections` connections and serves queued requests in FIFO order', async () => {
    const seen: string[] = [];
    const waiting: (() => void)[] = [];
    const srv = await httpServer((req, res) => {
      seen.push(req.url!);
      waiting.push(() => res.end(req.url));
    });
    const pool = poolFor(srv.port, { connections: 2 });
    try {
      const all = [1, 2, 3, 4, 5].map((i) => send(pool, { path: `/${i}` }));
      await until(() => seen.length === 2, 5000, 'two requests at the server');
      assert.deepEqual(pool.stats, { connected: 2, running: 2, pending: 3 });
      while (seen.length < 5 || waiting.length > 0) {
        await until(() => waiting.length > 0, 5000, 'a request at the server');
        waiting.shift()!();
        await delay(5);
      }
      const bodies = (await Promise.all(all)).map((r) => r.body.toString());
      assert.deepEqual(bodies, ['/1', '/2', '/3', '/4', '/5']);
      assert.deepEqual(seen, ['/1', '/2', '/3', '/4', '/5']);
      assert.equal(srv.connections.length, 2);
      assert.deepEqual(pool.stats, { connected: 2, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('fails with ECONNREFUSED when nothing listens (a connect failure for retries)', async () => {
    const srv = await httpServer((_req, res) => res.end());
    const port = srv.port;
    await srv.close();
    const pool = poolFor(port);
    try {
      const r = await send(pool);
      assert.deepEqual(r.events, ['start', 'error']);
      assert.equal(r.error?.code, 'ECONNREFUSED');
      assert.equal(classifyFailure(r.error), 'connect-failure');
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });
    } finally {
      pool.destroy();
    }
  });

  it('fails with UND_ERR_CONNECT_TIMEOUT when the upstream does not accept in time', async () => {
    // A listener whose process never accepts (its event loop is blocked): once its backlog is full, the kernel drops
    // further SYNs and a connect hangs.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer();
         s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           process.stdout.write(String(s.address().port) + '\\n');
           setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000), 10);
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d))));
      await delay(100);
      for (let i = 0; i < 3; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        fillers.push(s);
      }
      await delay(200);
      const blocked = poolFor(port, { connectTimeoutMs: 300 });
      const r = await send(blocked);
      blocked.destroy();
      assert.deepEqual(r.events, ['start', 'error']);
      assert.equal(r.error?.code, 'UND_ERR_CONNECT_TIMEOUT');
      assert.equal(classifyFailure(r.error), 'connect-failure');
    } finally {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    }
  });

  it("closes a connection after the upstream's Connection: close", async () => {
    const srv = await httpServer((_req, res) => {
      res.setHeader('connection', 'close');
      res.end('bye');
    });
    const pool = poolFor(srv.port);
    try {
      assert.equal((await send(pool)).body.toString(), 'bye');
      assert.equal((await send(pool)).body.toString(), 'bye');
      assert.equal(srv.connections.length, 2);
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it("closes an idle connection a second before the upstream's Keep-Alive timeout, and after its own idle timeout", async () => {
    const closedAfter: number[] = [];
    const srv = await rawServer((socket, head) => {
      const timeout = head.startsWith('GET /ka') ? 'keep-alive: timeout=2\r\n' : '';
      socket.write(`HTTP/1.1 200 OK\r\n${timeout}content-length: 0\r\n\r\n`);
      const sent = Date.now();
      socket.once('end', () => closedAfter.push(Date.now() - sent));
    });
    const pool = poolFor(srv.port, { idleTimeoutMs: 300 });
    const other = poolFor(srv.port, { idleTimeoutMs: 10_000 });
    try {
      await send(pool, { path: '/plain' });
      await until(() => closedAfter.length === 1, 5000, 'the idle timeout');
      assert.ok(closedAfter[0]! >= 250 && closedAfter[0]! < 1000, `closed after ${closedAfter[0]} ms`);
      await send(other, { path: '/ka' });
      await until(() => closedAfter.length === 2, 5000, 'the keep-alive timeout');
      assert.ok(closedAfter[1]! >= 900 && closedAfter[1]! < 1900, `closed after ${closedAfter[1]} ms`);
      assert.deepEqual(other.stats, { connected: 0, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      other.destroy();
      await srv.close();
    }
  });

  it('does not reuse a connection whose Keep-Alive timeout leaves no time (timeout=1)', async () => {
    const srv = await rawServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 0\r\n\r\n'),
    );
    const pool = poolFor(srv.port);
    try {
      await send(pool);
      await send(pool);
      assert.equal(srv.connections.length, 2);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('closes a connection after maxRequestsPerConnection, asking the upstream to close on the last request', async () => {
    const heads: string[] = [];
    const srv = await rawServer((socket, head) => {
      heads.push(head);
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    });
    const pool = poolFor(srv.port, { maxRequestsPerConnection: 2 });
    try {
      for (let i = 0; i < 3; i++) await send(pool);
      assert.equal(srv.connections.length, 2);
      assert.deepEqual(
        heads.map((h) => /\r\nconnection: close\r\n/.test(h)),
        [false, true, false],
      );
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('sends a bodyless request once more on a new connection when a reused one closes before answering', async () => {
    const srv = await rawServer((socket, _head, index) => {
      // Every connection answers its first request and drops the second unanswered (the keep-alive race).
      if (index === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else socket.destroy();
    });
    const pool = poolFor(srv.port);
    try {
      assert.equal((await send(pool)).body.toString(), 'ok');
      const second = await send(pool);
      assert.deepEqual(second.events, ['start', 'response', 'data', 'end']);
      assert.equal(second.body.toString(), 'ok');
      assert.equal(srv.connections.length, 2);
      // A request with a body is never replayed.
      const withBody = await send(pool, {
        method: 'POST',
        headers: { 'content-length': '1' },
        body: Readable.from([Buffer.from('x')]),
      });
      assert.deepEqual(withBody.events, ['start', 'error']);
      assert.equal(withBody.error?.code, 'UPSTREAM_RESET');
      assert.equal(srv.connections.length, 2);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('retries only once, and never on a connection that was new', async () => {
    const srv = await rawServer((socket, _head, index) => {
      if (index === 0 && srv.connections.length === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    const pool = poolFor(srv.port);
    try {
      await send(pool);
      const r = await send(pool);
      assert.deepEqual(r.events, ['start', 'error']);
      assert.equal(r.error?.code, 'UPSTREAM_RESET');
      assert.equal(classifyFailure(r.error), 'reset');
      // The first connection, then the retry's new one (its first request dropped: no further retry).
      assert.equal(srv.connections.length, 2);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('serializes the request head: Host, hop-by-hop headers removed, repeated headers, chunked body framing', async () => {
    let all = '';
    const srv = await netServer((socket) =>
      socket.on('data', (d: Buffer) => {
        all += d.toString('latin1');
        if (all.endsWith('\r\n\r\n') && (!all.includes('chunked') || all.endsWith('0\r\n\r\n'))) {
          socket.write('HTTP/1.1 204 No Content\r\n\r\n');
        }
      }),
    );
    const pool = poolFor(srv.port);
    try {
      await send(pool, {
        path: '/a?b=c',
        headers: {
          connection: 'keep-alive',
          'keep-alive': 'timeout=5',
          'proxy-connection': 'keep-alive',
          'transfer-encoding': 'gzip',
          upgrade: 'websocket',
          te: 'gzip',
          'x-many': ['1', '2'],
          'x-number': 7,
        },
      });
      const first = `GET /a?b=c HTTP/1.1\r\nx-many: 1\r\nx-many: 2\r\nx-number: 7\r\nhost: 127.0.0.1:${srv.port}\r\n\r\n`;
      assert.equal(all, first);
      await send(pool, {
        method: 'POST',
        headers: { host: 'svc.example', te: 'trailers' },
        body: Readable.from([Buffer.from('hello'), Buffer.alloc(0), Buffer.from(' world!')]),
      });
      assert.equal(
        all,
        first +
          'POST / HTTP/1.1\r\nhost: svc.example\r\nte: trailers\r\ntransfer-encoding: chunked\r\n\r\n' +
          '5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n',
      );
      assert.equal(srv.connections.length, 1);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('refuses CR or LF in a header value or the path with INVALID_REQUEST, and the connection stays usable', async () => {
    const srv = await httpServer((_req, res) => res.end('fine'));
    const pool = poolFor(srv.port);
    try {
      await send(pool);
      const bad = await send(pool, { headers: { 'x-evil': 'a\r\nx-injected: 1' } });
      assert.deepEqual(bad.events, ['start', 'error']);
      assert.equal(bad.error?.code, 'INVALID_REQUEST');
      assert.equal((await send(pool, { path: '/a b' })).error?.code, 'INVALID_REQUEST');
      assert.equal((await send(pool)).body.toString(), 'fine');
      assert.equal(srv.connections.length, 1);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('close() lets requests in flight and queued finish, then closes every connection; destroy() fails them', async () => {
    const waiting: (() => void)[] = [];
    const srv = await httpServer((req, res) => waiting.push(() => res.end(req.url)));
    const pool = poolFor(srv.port, { connections: 1 });
    try {
      const first = send(pool, { path: '/1' });
      const second = send(pool, { path: '/2' });
      await until(() => waiting.length === 1, 5000, 'the first request');
      let closed = false;
      const closing = pool.close().then(() => (closed = true));
      const late = await send(pool, { path: '/3' });
      assert.equal(late.error?.code, 'POOL_CLOSED');
      waiting.shift()!();
      await until(() => waiting.length === 1, 5000, 'the queued request');
      assert.equal(closed, false);
      waiting.shift()!();
      assert.deepEqual([(await first).body.toString(), (await second).body.toString()], ['/1', '/2']);
      await closing;
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });

      const other = poolFor(srv.port, { connections: 1 });
      const inFlight = send(other, { path: '/4' });
      const queued = send(other, { path: '/5' });
      await until(() => waiting.length === 1, 5000, 'the request in flight');
      other.destroy();
      assert.equal((await inFlight).error?.code, 'POOL_CLOSED');
      assert.equal((await queued).error?.code, 'POOL_CLOSED');
      assert.deepEqual(other.stats, { connected: 0, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('an abort while queued removes the request: the handler gets the reason, the queue moves on', async () => {
    const waiting: (() => void)[] = [];
    const srv = await httpServer((req, res) => waiting.push(() => res.end(req.url)));
    const pool = poolFor(srv.port, { connections: 1 });
    try {
      const first = send(pool, { path: '/1' });
      const reason = new Error('client went away');
      const aborted = send(pool, { path: '/2' }, { onStart: (c) => setTimeout(() => c.abort(reason), 20) });
      const third = send(pool, { path: '/3' });
      await until(() => waiting.length === 1, 5000, 'the first request');
      const a = await aborted;
      assert.deepEqual(a.events, ['start', 'error']);
      assert.equal(a.error, reason);
      assert.deepEqual(pool.stats, { connected: 1, running: 1, pending: 1 });
      waiting.shift()!();
      await until(() => waiting.length === 1, 5000, 'the third request');
      waiting.shift()!();
      assert.deepEqual([(await first).body.toString(), (await third).body.toString()], ['/1', '/3']);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });
});
