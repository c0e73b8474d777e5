/**
 * Messages through the sidecar's HTTP/1.1 upstream pool (src/proxy/upstream/http1-pool.ts) against real servers on
 * port 0: bodies streamed both ways with backpressure, chunked responses with trailers, responses without a body
 * (HEAD, 204, 304) and 1xx ones, close-delimited bodies, the 101 upgrade hand-off, abort, pause/resume, and malformed
 * or truncated responses.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { delay, echoed, httpServer, poolFor, rawServer, send, until } from './http1-pool-fixtures.js';

const MiB = 1024 * 1024;

/** `total` bytes in 64 KiB chunks, made only as fast as they are read; counts what it made. */
function generated(total: number): { stream: Readable; made: () => number; hash: () => string } {
  let made = 0;
  const hash = createHash('sha256');
  const stream = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (made >= total) return void this.push(null);
      const chunk = Buffer.alloc(Math.min(64 * 1024, total - made), made / (64 * 1024));
      made += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, made: () => made, hash: () => hash.digest('hex') };
}

describe('Http1Pool messages', () => {
  it('streams a 50 MiB body both ways (echo) with bounded bytes in flight', async () => {
    const srv = await httpServer((req, res) => {
      res.writeHead(200, { 'content-length': req.headers['content-length'] });
      req.pipe(res);
    });
    const pool = poolFor(srv.port);
    const total = 50 * MiB;
    const body = generated(total);
    const received = createHash('sha256');
    let got = 0;
    let maxInFlight = 0;
    try {
      const r = await send(
        pool,
        { method: 'PUT', headers: { 'content-length': String(total) }, body: body.stream },
        {
          // A consumer slower than the producer: it pauses after every chunk and resumes on the next turn.
          onData: (c, chunk) => {
            got += chunk.length;
            received.update(chunk);
            maxInFlight = Math.max(maxInFlight, body.made() - got);
            c.pause();
            setImmediate(() => c.resume());
          },
        },
      );
      assert.equal(r.error, undefined);
      assert.equal(r.status, 200);
      assert.equal(got, total);
      assert.equal(received.digest('hex'), body.hash());
      // Without backpressure in both directions the producer would run ahead by most of the 50 MiB.
      assert.ok(maxInFlight < 24 * MiB, `${(maxInFlight / MiB).toFixed(1)} MiB in flight`);
      assert.deepEqual(pool.stats, { connected: 1, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('stops reading the request body while the upstream does not read it', async () => {
    let reading: (() => void) | undefined;
    let size = 0;
    const srv = await httpServer((req, res) => {
      req.pause();
      reading = () => {
        req.on('data', (d: Buffer) => (size += d.length));
        req.on('end', () => res.end(String(size)));
        req.resume();
      };
    });
    const pool = poolFor(srv.port);
    const body = generated(64 * MiB);
    try {
      const done = send(pool, { method: 'POST', body: body.stream });
      await until(() => reading !== undefined, 5000, 'the request at the server');
      await delay(300);
      const stalled = body.made();
      await delay(200);
      assert.equal(body.made(), stalled);
      assert.ok(stalled < 32 * MiB, `${(stalled / MiB).toFixed(1)} MiB read while the upstream was not reading`);
      reading!();
      const r = await done;
      assert.equal(r.body.toString(), String(64 * MiB));
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('fails a request whose body fails with REQUEST_BODY_ERROR, while queued and while being sent', async () => {
    const waiting: (() => void)[] = [];
    const srv = await httpServer((req, res) => {
      req.on('error', () => undefined);
      req.resume();
      waiting.push(() => res.end());
    });
    const pool = poolFor(srv.port, { connections: 1 });
    try {
      const first = send(pool, { path: '/1' });
      await until(() => waiting.length === 1, 5000, 'the first request');
      // Queued behind the first: its body fails before any connection takes it (no listener of the caller's).
      const queuedBody = new Readable({ read: () => undefined });
      const queued = send(pool, { method: 'POST', body: queuedBody });
      queuedBody.destroy(new Error('downstream sent a bad chunk'));
      const q = await queued;
      assert.deepEqual(q.events, ['start', 'error']);
      assert.equal(q.error?.code, 'REQUEST_BODY_ERROR');
      assert.deepEqual(pool.stats, { connected: 1, running: 1, pending: 0 });
      waiting.shift()!();
      await first;
      // On its way: the connection closes (the upstream saw half a body).
      const sentBody = new Readable({ read: () => undefined });
      const sending = send(pool, { method: 'POST', body: sentBody });
      sentBody.push('half');
      await until(() => waiting.length === 1, 5000, 'the second request');
      sentBody.destroy(new Error('downstream went away'));
      const s = await sending;
      assert.deepEqual(s.events, ['start', 'error']);
      assert.equal(s.error?.code, 'REQUEST_BODY_ERROR');
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('passes a chunked response with trailers, and skips 1xx responses', async () => {
    const srv = await httpServer((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(200, { trailer: 'x-checksum', 'set-cookie': ['a=1', 'b=2'] });
      res.write('hello ');
      res.write('world');
      res.addTrailers({ 'x-checksum': 'abc', 'X-Other': 'z' });
      res.end();
    });
    const pool = poolFor(srv.port);
    try {
      const r = await send(pool);
      assert.deepEqual(r.events, ['start', 'response', 'data', 'end']);
      assert.equal(r.status, 200);
      assert.equal(r.headers['transfer-encoding'], 'chunked');
      assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(r.body.toString(), 'hello world');
      assert.deepEqual(r.trailers, { 'x-checksum': 'abc', 'x-other': 'z' });
      assert.deepEqual((await send(pool)).trailers, { 'x-checksum': 'abc', 'x-other': 'z' });
      assert.equal(srv.connections.length, 1);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('joins repeated response headers with ", " and lowercases names', async () => {
    const srv = await rawServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: c=3\r\nContent-Length: 0\r\n\r\n'),
    );
    const pool = poolFor(srv.port);
    try {
      const r = await send(pool);
      assert.deepEqual(r.headers, { 'x-a': '1, 2', 'set-cookie': ['c=3'], 'content-length': '0' });
      assert.deepEqual(r.trailers, {});
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('reads no body after HEAD, 204 and 304 (even with Content-Length) and keeps the connection', async () => {
    const srv = await rawServer((socket, head) => {
      const status = head.startsWith('GET /204')
        ? '204 No Content'
        : head.startsWith('GET /304')
          ? '304 Not Modified'
          : '200 OK';
      socket.write(`HTTP/1.1 ${status}\r\ncontent-length: 10\r\n\r\n`);
      if (head.startsWith('GET /after')) socket.write('0123456789');
    });
    const pool = poolFor(srv.port);
    try {
      for (const [method, path, status] of [
        ['HEAD', '/', 200],
        ['GET', '/204', 204],
        ['GET', '/304', 304],
      ] as const) {
        const r = await send(pool, { method, path });
        assert.deepEqual(r.events, ['start', 'response', 'end'], `${method} ${path}`);
        assert.equal(r.status, status);
      }
      assert.equal((await send(pool, { path: '/after' })).body.toString(), '0123456789');
      assert.equal(srv.connections.length, 1);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('ends a body delimited by the connection close, and does not reuse the connection', async () => {
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\n\r\nuntil ');
      setTimeout(() => socket.end('the end'), 20);
    });
    const pool = poolFor(srv.port);
    try {
      const r = await send(pool);
      assert.deepEqual(r.events, ['start', 'response', 'data', 'end']);
      assert.equal(r.body.toString(), 'until the end');
      await until(() => pool.stats.connected === 0, 5000, 'the connection to close');
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('hands the socket over on 101, with the bytes that followed the head', async () => {
    const heads: string[] = [];
    const srv = await rawServer((socket, head) => {
      heads.push(head);
      // The 101 and the upstream's first frame in one write; then an echo.
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nearly|');
      socket.removeAllListeners('data');
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    const pool = poolFor(srv.port);
    try {
      const r = await send(pool, { upgrade: 'echo', headers: { host: 'svc' } });
      assert.deepEqual(r.events, ['start', 'upgrade']);
      assert.equal(r.status, 101);
      assert.equal(r.headers.upgrade, 'echo');
      assert.equal(heads[0], 'GET / HTTP/1.1\r\nhost: svc\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
      const socket = r.upgraded!;
      assert.equal(await echoed(socket, 'ping', 'early|ping'.length), 'early|ping');
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });
      socket.destroy();
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('an upgrade opens a connection of its own and leaves the idle pooled one in the pool', async () => {
    const srv = await rawServer((socket, head) => {
      if (!head.includes('upgrade: echo')) return void socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
      socket.removeAllListeners('data');
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    const pool = poolFor(srv.port);
    try {
      const plain = await send(pool);
      assert.equal(plain.body.toString(), 'ok');
      assert.deepEqual(pool.stats, { connected: 1, running: 0, pending: 0 });
      const r = await send(pool, { upgrade: 'echo' });
      assert.deepEqual(r.events, ['start', 'upgrade']);
      assert.equal(srv.connections.length, 2);
      const socket = r.upgraded!;
      assert.equal(await echoed(socket, 'a'.repeat(100_000), 100_000), 'a'.repeat(100_000));
      // The idle connection served no upgrade: it is still pooled and takes the next request.
      assert.deepEqual(pool.stats, { connected: 1, running: 0, pending: 0 });
      assert.equal((await send(pool)).body.toString(), 'ok');
      assert.equal(srv.connections.length, 2);
      socket.destroy();
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('an upgrade stays within the connection limit: it waits for a busy connection, then takes its place', async () => {
    let release: (() => void) | undefined;
    const srv = await rawServer((socket, head) => {
      if (head.includes('upgrade: echo')) {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
        socket.removeAllListeners('data');
        socket.on('data', (d: Buffer) => socket.write(d));
        return;
      }
      const answer = (): void => void socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      // The first plain request is held until the test releases it; later ones are answered at once.
      if (release === undefined) release = answer;
      else answer();
    });
    const pool = poolFor(srv.port, { connections: 1 });
    try {
      const order: string[] = [];
      const plain = send(pool).then((r) => (order.push('plain'), r));
      await until(() => release !== undefined, 5000, 'the plain request at the server');
      const upgraded = send(pool, { upgrade: 'echo' }).then((r) => (order.push('upgrade'), r));
      await delay(100);
      assert.deepEqual(pool.stats, { connected: 1, running: 1, pending: 1 }, 'the upgrade waits');
      assert.equal(srv.connections.length, 1);
      release!();
      const [p, u] = await Promise.all([plain, upgraded]);
      assert.equal(p.body.toString(), 'ok');
      assert.deepEqual(u.events, ['start', 'upgrade']);
      assert.deepEqual(order, ['plain', 'upgrade']);
      assert.equal(srv.connections.length, 2, 'the freed connection made way for the upgrade');
      const socket = u.upgraded!;
      assert.equal(await echoed(socket, 'ping', 4), 'ping');
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });
      socket.destroy();
      // At the limit with a connection idle, an upgrade closes it to make room instead of waiting.
      assert.equal((await send(pool)).body.toString(), 'ok');
      assert.deepEqual(pool.stats, { connected: 1, running: 0, pending: 0 });
      const again = await send(pool, { upgrade: 'echo' });
      assert.deepEqual(again.events, ['start', 'upgrade']);
      assert.equal(srv.connections.length, 4);
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });
      again.upgraded!.destroy();
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('bodies read on several connections at once arrive intact (the read buffer is shared)', async () => {
    const size = 3 * MiB;
    const srv = await httpServer((req, res) => {
      // Each response is a different byte pattern, chunked (several chunks per read), written in pieces so the
      // reads of the connections interleave.
      const fill = Number(req.url!.slice(1));
      res.writeHead(200);
      let sent = 0;
      const more = (): void => {
        while (sent < size) {
          const n = Math.min(32 * 1024, size - sent);
          sent += n;
          if (!res.write(Buffer.alloc(n, fill))) return void res.once('drain', more);
          if (sent % (256 * 1024) === 0) return void setImmediate(more);
        }
        res.end();
      };
      more();
    });
    const pool = poolFor(srv.port, { connections: 4 });
    const chunks = [0, 0, 0, 0];
    try {
      const results = await Promise.all(
        [1, 2, 3, 4].map((fill) =>
          send(
            pool,
            { path: `/${fill}` },
            // A consumer that pauses after every other chunk: the input the parser did not take waits for resume(),
            // while the other connections read.
            {
              onData: (c) => {
                if (++chunks[fill - 1]! % 2 === 0) {
                  c.pause();
                  setImmediate(() => c.resume());
                }
              },
            },
          ),
        ),
      );
      for (const [i, r] of results.entries()) {
        assert.equal(r.error, undefined);
        assert.equal(r.body.length, size);
        assert.ok(r.body.equals(Buffer.alloc(size, i + 1)), `response ${i + 1} is intact`);
      }
      assert.ok(srv.connections.length >= 2, 'the responses came on several connections');
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('passes a refused upgrade as a normal response and does not reuse the connection', async () => {
    const srv = await rawServer((socket) => socket.write('HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\nno'));
    const pool = poolFor(srv.port);
    try {
      const r = await send(pool, { upgrade: 'websocket' });
      assert.deepEqual(r.events, ['start', 'response', 'data', 'end']);
      assert.equal(r.status, 400);
      await until(() => pool.stats.connected === 0, 5000, 'the connection to close');
      const again = await send(pool, { upgrade: 'websocket' });
      assert.equal(again.status, 400);
      assert.equal(srv.connections.length, 2);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('an abort mid-response reports the reason once, closes the connection, and nothing follows', async () => {
    let serverSaw = '';
    const srv = await httpServer((_req, res) => {
      res.write('first');
      const timer = setInterval(() => res.write('more'), 10);
      res.on('close', () => {
        clearInterval(timer);
        serverSaw = 'closed';
      });
    });
    const pool = poolFor(srv.port);
    const reason = new Error('downstream went away');
    try {
      const r = await send(pool, {}, { onData: (c) => c.abort(reason) });
      assert.deepEqual(r.events, ['start', 'response', 'data', 'error']);
      assert.equal(r.error, reason);
      assert.equal(r.body.toString(), 'first');
      await until(() => serverSaw === 'closed', 5000, 'the server to see the close');
      await delay(50);
      assert.deepEqual(pool.stats, { connected: 0, running: 0, pending: 0 });
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('pause() stops the response until resume()', async () => {
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
      setTimeout(() => socket.write('defghij'), 30);
    });
    const pool = poolFor(srv.port);
    try {
      let controller: { resume(): void } | undefined;
      let paused = false;
      let chunksWhilePaused = 0;
      const done = send(
        pool,
        {},
        {
          onData: (c) => {
            if (paused) chunksWhilePaused++;
            if (controller === undefined) {
              controller = c;
              paused = true;
              c.pause();
            }
          },
        },
      );
      await until(() => controller !== undefined, 5000, 'the first chunk');
      await delay(150);
      assert.equal(chunksWhilePaused, 0);
      paused = false;
      controller!.resume();
      const r = await done;
      assert.equal(r.body.toString(), 'abcdefghij');
      assert.deepEqual(r.events, ['start', 'response', 'data', 'end']);
      // The connection is reused afterwards.
      await send(pool);
      assert.equal(srv.connections.length, 1);
    } finally {
      pool.destroy();
      await srv.close();
    }
  });

  it('fails a malformed response with UPSTREAM_PROTOCOL_ERROR, a truncated one with UPSTREAM_RESET', async () => {
    const srv = await rawServer((socket, head) => {
      if (head.startsWith('GET /garbage')) socket.end('HTTP/1.1 2OO OK\r\n\r\n');
      else if (head.startsWith('GET /smuggle')) {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n');
      } else if (head.startsWith('GET /101')) socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort');
    });
    const pool = poolFor(srv.port);
    try {
      for (const path of ['/garbage', '/smuggle', '/101']) {
        const r = await send(pool, { path });
        assert.deepEqual(r.events, ['start', 'error'], path);
        assert.equal(r.error?.code, 'UPSTREAM_PROTOCOL_ERROR', path);
      }
      const truncated = await send(pool, { path: '/truncated' });
      assert.deepEqual(truncated.events, ['start', 'response', 'data', 'error']);
      assert.equal(truncated.error?.code, 'UPSTREAM_RESET');
      assert.equal(truncated.body.toString(), 'short');
      await until(() => pool.stats.connected === 0, 5000, 'the connections to close');
    } finally {
      pool.destroy();
      await srv.close();
    }
  });
});
