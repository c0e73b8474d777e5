/**
 * Malformed and hostile downstream input against real `shoal sidecar` processes (issue 4): raw TCP bytes and raw
 * HTTP/2 frames at the client sidecar's outbound listener and the server sidecar's inbound listener. Every case
 * asserts the exact answer (status and response flag, connection closed, GOAWAY / RST_STREAM code) and then that a
 * normal request on another connection still gets 200: a bad peer never hurts the others.
 *
 * The sidecars run with `--headers-timeout 2` so that slowloris cases finish in seconds.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../helpers/grpc-xds.js';
import { runCli, startControl, type RunningControl } from '../helpers/processes.js';
import { podIp, startEchoApp, startSidecar, type SidecarProcess } from '../helpers/sidecars.js';

const HOST = 'backend.default.svc.cluster.local';
const HEADERS_TIMEOUT_S = 2;

const SERVICE = `
apiVersion: v1
kind: Service
metadata: { name: backend }
spec:
  selector: { app: backend }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface RawResult {
  /** Every byte the sidecar sent, latin1. */
  text: string;
  responses: ParsedResponse[];
  /** The sidecar closed (or reset) the connection before the wait ended. */
  closed: boolean;
  ms: number;
}

/** Parses the complete HTTP/1.1 responses at the start of `text` (content-length, chunked or 1xx). */
function parseResponses(text: string): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = text;
  for (let guard = 0; guard < 20; guard++) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
    if (Number.isNaN(status)) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body = rest.slice(end + 4);
    if (status < 200) {
      out.push({ status, headers, body: '' });
      rest = body;
      continue;
    }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (body.length < n) break;
      rest = body.slice(n);
      body = body.slice(0, n);
    } else if (headers['transfer-encoding'] === 'chunked') {
      let decoded = '';
      let at = 0;
      let complete = false;
      for (let chunks = 0; chunks < 1000; chunks++) {
        const eol = body.indexOf('\r\n', at);
        if (eol < 0) break;
        const size = parseInt(body.slice(at, eol), 16);
        if (size === 0) {
          at = eol + 4;
          complete = true;
          break;
        }
        decoded += body.slice(eol + 2, eol + 2 + size);
        at = eol + 2 + size + 2;
      }
      if (!complete) break;
      rest = body.slice(at);
      body = decoded;
    } else rest = '';
    out.push({ status, headers, body });
  }
  return out;
}

/**
 * Writes `data` (a string, or parts written `gapMs` apart) on a new connection and collects what comes back until
 * the sidecar closes the connection, `until` holds for the parsed responses, or `waitMs` passes.
 */
function raw(
  target: { host: string; port: number },
  data: string | Buffer | readonly (string | Buffer)[],
  opts: { waitMs?: number; until?: (r: ParsedResponse[]) => boolean; gapMs?: number } = {},
): Promise<RawResult> {
  const waitMs = opts.waitMs ?? 3000;
  return new Promise((resolve) => {
    const socket: Socket = connect(target);
    const started = Date.now();
    let text = '';
    let settled = false;
    let pump: NodeJS.Timeout | undefined;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(pump);
      socket.destroy();
      resolve({ text, responses: parseResponses(text), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (opts.until?.(parseResponses(text)) === true) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      if (typeof data === 'string' || Buffer.isBuffer(data)) {
        socket.write(data);
        return;
      }
      const parts = [...data];
      const next = (): void => {
        const part = parts.shift();
        if (part === undefined || socket.destroyed) return void clearInterval(pump);
        socket.write(part);
      };
      next();
      pump = setInterval(next, opts.gapMs ?? 10);
    });
  });
}

/** A normal request on its own connection. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, headers: { host: HOST, ...headers }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// --- raw HTTP/2 -------------------------------------------------------------------------------------------------

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const DATA = 0;
const HEADERS = 1;
const RST_STREAM = 3;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const WINDOW_UPDATE = 8;
const CONTINUATION = 9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PROTOCOL_ERROR = 0x1;
const INTERNAL_ERROR = 0x2;
const FRAME_SIZE_ERROR = 0x6;
const ENHANCE_YOUR_CALM = 0xb;

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an n-bit prefix. */
function hpackInt(n: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (n < max) return [first | n];
  const out = [first | max];
  let rest = n - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A header block of literal fields without indexing and without Huffman coding. */
function hpack(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0x00, ...hpackInt(n.length, 7, 0)]), n, Buffer.from(hpackInt(v.length, 7, 0)), v);
  }
  return Buffer.concat(parts);
}

function requestBlock(extra: readonly (readonly [string, string])[] = [], authority = HOST): Buffer {
  return hpack([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', authority], ...extra]);
}

/** HEADERS (+ CONTINUATION frames beyond 16 KiB). */
function headersFrames(stream: number, block: Buffer, endStream: boolean): Buffer {
  const frames: Buffer[] = [];
  for (let off = 0; off < block.length || off === 0;) {
    const part = block.subarray(off, off + 16_384);
    const first = off === 0;
    off += Math.max(part.length, 1);
    const last = off >= block.length;
    const flags = (last ? END_HEADERS : 0) | (first && endStream ? END_STREAM : 0);
    frames.push(frame(first ? HEADERS : CONTINUATION, flags, stream, part));
  }
  return Buffer.concat(frames);
}

interface Frame {
  type: number;
  flags: number;
  stream: number;
  /** RST_STREAM and GOAWAY error code. */
  code?: number;
  /** :status of a HEADERS frame (the sidecar's first header is always an indexed or literal :status). */
  payload: Buffer;
}

function parseFrames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let at = 0;
  while (buf.length - at >= 9) {
    const len = buf.readUIntBE(at, 3);
    if (buf.length - at < 9 + len) break;
    const type = buf[at + 3]!;
    const payload = buf.subarray(at + 9, at + 9 + len);
    const f: Frame = { type, flags: buf[at + 4]!, stream: buf.readUInt32BE(at + 5) & 0x7fffffff, payload };
    if (type === RST_STREAM) f.code = payload.readUInt32BE(0);
    if (type === GOAWAY) f.code = payload.readUInt32BE(4);
    out.push(f);
    at += 9 + len;
  }
  return out;
}

/** HPACK static-table index of `:status 200` (0x88) and `:status 404` (0x8d) as the first byte of a block. */
const STATUS_200 = 0x88;

interface H2Result {
  frames: Frame[];
  closed: boolean;
  goaway?: number;
  rst: Map<number, number>;
  /** Streams that got a HEADERS frame starting with :status 200. */
  ok: Set<number>;
}

/**
 * Speaks raw HTTP/2 to the outbound listener. With `handshake` (default) it sends the preface and an empty
 * SETTINGS, waits for the sidecar's SETTINGS and acknowledges them (so its limits are in force), then writes
 * `frames`; without, it writes the preface and `frames` at once.
 */
function h2raw(
  target: { host: string; port: number },
  frames: Buffer,
  opts: { handshake?: boolean; until?: (r: H2Result) => boolean; waitMs?: number } = {},
): Promise<H2Result> {
  const handshake = opts.handshake ?? true;
  return new Promise((resolve) => {
    const socket = connect(target);
    let buf = Buffer.alloc(0);
    let acked = false;
    let settled = false;
    const result = (closed: boolean): H2Result => {
      const parsed = parseFrames(buf);
      const rst = new Map<number, number>();
      const ok = new Set<number>();
      let goaway: number | undefined;
      for (const f of parsed) {
        if (f.type === RST_STREAM) rst.set(f.stream, f.code!);
        if (f.type === GOAWAY) goaway = f.code;
        if (f.type === HEADERS && f.payload[0] === STATUS_200) ok.add(f.stream);
      }
      return { frames: parsed, closed, rst, ok, ...(goaway !== undefined ? { goaway } : {}) };
    };
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result(closed));
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 3000);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (handshake && !acked && parseFrames(buf).some((f) => f.type === SETTINGS && (f.flags & 1) === 0)) {
        acked = true;
        socket.write(Buffer.concat([frame(SETTINGS, 1, 0), frames]));
      }
      if (opts.until?.(result(false)) === true) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(handshake ? Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]) : Buffer.concat([PREFACE, frames]));
    });
  });
}

/** A normal HTTP/2 request with node's client on its own connection. */
function h2get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(url);
    session.on('error', reject);
    const stream = session.request({ ':path': '/', ':authority': HOST });
    stream.on('response', (h) => {
      stream.resume();
      stream.on('end', () => {
        session.close();
        resolve(Number(h[':status']));
      });
    });
    stream.on('error', reject);
    stream.end();
  });
}

describe('sidecar against malformed and hostile input (real processes)', () => {
  let control: RunningControl;
  let app: Awaited<ReturnType<typeof startEchoApp>>;
  let server: SidecarProcess;
  let client: SidecarProcess;
  let outbound: { host: string; port: number };
  let inbound: { host: string; port: number };
  /** What the app saw of requests to /record: completed, or aborted before their end. */
  const recorded: { path: string; outcome: 'complete' | 'aborted'; bytes: number }[] = [];
  let appRequests = 0;

  /** A normal request through the client sidecar (and on to the server sidecar and the app) on a new connection. */
  async function assertStillServing(): Promise<void> {
    const r = await get(client.outbound);
    assert.equal(r.status, 200, `a normal request after the case: ${r.body}`);
  }

  before(async () => {
    control = await startControl();
    const applied = await runCli(['apply', '-f', '-'], control.env, SERVICE);
    assert.equal(applied.code, 0, applied.stderr);
    const serverIp = podIp();
    app = await startEchoApp(serverIp, 'backend-1', (req) => {
      appRequests++;
      if (!req.url?.startsWith('/record')) return false;
      let bytes = 0;
      let complete = false;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => (complete = true));
      req.on('close', () => recorded.push({ path: req.url!, outcome: complete ? 'complete' : 'aborted', bytes }));
      return false;
    });
    const limits = ['--headers-timeout', String(HEADERS_TIMEOUT_S)];
    server = startSidecar({
      xds: control.xds,
      workload: 'backend-1',
      appPort: app.port,
      podIp: serverIp,
      labels: { app: 'backend' },
      args: ['--readiness-probe', `{"tcpSocket":{"port":${app.port}},"periodSeconds":1}`, ...limits],
    });
    client = startSidecar({
      xds: control.xds,
      workload: 'client-1',
      appPort: 9,
      labels: { app: 'client' },
      args: ['--readiness-probe', 'none', ...limits],
    });
    await Promise.all([server.ready, client.ready]);
    outbound = { host: client.podIp, port: 15001 };
    inbound = { host: server.podIp, port: 15006 };
    await waitUntil(async () => (await get(client.outbound)).status === 200, 10_000, 'a route to backend');
  });

  after(async () => {
    await Promise.all([client?.kill(), server?.kill()]);
    await app?.close();
    await control?.kill();
  });

  const ok = `GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  const post = (headers: string, body: string): string =>
    `POST /record HTTP/1.1\r\nHost: ${HOST}\r\n${headers}\r\n${body}`;

  /** Cases answered by the sidecar itself, with this status and flag, after which it closes the connection. */
  const rejected: readonly { name: string; send: string; status: number; flags: string }[] = [
    // Request lines.
    { name: 'garbage instead of a request line', send: 'hello world\r\n\r\n', status: 400, flags: 'DPE' },
    {
      name: 'a request line without a version (HTTP/0.9)',
      send: `GET /\r\nHost: ${HOST}\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    { name: 'HTTP/9.9', send: `GET / HTTP/9.9\r\nHost: ${HOST}\r\n\r\n`, status: 400, flags: 'DPE' },
    { name: 'HTTP/1.2', send: `GET / HTTP/1.2\r\nHost: ${HOST}\r\n\r\n`, status: 400, flags: 'DPE' },
    { name: 'a lowercase method', send: `get / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, status: 400, flags: 'DPE' },
    {
      name: 'a space inside the target',
      send: `GET /a b HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'a 70 KiB URI (431: the request line counts toward the 60 KiB header limit, as in Envoy)',
      send: `GET /${'a'.repeat(70 * 1024)} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
      status: 431,
      flags: 'DPE',
    },
    {
      name: 'absolute-form with an unsupported scheme (ftp://)',
      send: `GET ftp://${HOST}/x HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'absolute-form with userinfo',
      send: `GET http://user@${HOST}/x HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'absolute-form without an authority',
      send: 'GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n',
      status: 400,
      flags: 'DPE',
    },
    // Header lines.
    {
      name: 'a header line without a colon',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nfoo\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'a space before the colon',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nfoo : bar\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'NUL in a header value',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nx: a\0b\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'a bare CR in a header value',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nx: a\rb\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'a bare LF in a header value (injected header line)',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nx: a\nb\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'an invalid header name character',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nfo(o: a\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'an obsolete line fold',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nx: a\r\n b\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    { name: 'HTTP/1.1 without Host', send: 'GET / HTTP/1.1\r\n\r\n', status: 400, flags: 'DPE' },
    { name: 'a Host with a space', send: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', status: 400, flags: 'DPE' },
    { name: 'a Host with userinfo', send: 'GET / HTTP/1.1\r\nHost: u@backend\r\n\r\n', status: 400, flags: 'DPE' },
    {
      name: 'two Host headers',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nHost: evil.example\r\n\r\n`,
      status: 400,
      flags: 'DPE',
    },
    // Body framing (request smuggling).
    {
      name: 'two different Content-Length values',
      send: post('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'),
      status: 400,
      flags: 'DPE',
    },
    { name: 'a Content-Length list', send: post('Content-Length: 3, 4\r\n', 'abcd'), status: 400, flags: 'DPE' },
    {
      name: 'Content-Length and Transfer-Encoding together',
      send: post('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'a Transfer-Encoding that does not end in chunked',
      send: post('Transfer-Encoding: chunked, gzip\r\n', ''),
      status: 400,
      flags: 'DPE',
    },
    { name: 'a negative Content-Length', send: post('Content-Length: -1\r\n', ''), status: 400, flags: 'DPE' },
    {
      name: 'an overflowing Content-Length',
      send: post(`Content-Length: ${'9'.repeat(30)}\r\n`, ''),
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'a non-hex chunk size',
      send: post('Transfer-Encoding: chunked\r\n', 'zz\r\nabc\r\n0\r\n\r\n'),
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'a negative chunk size',
      send: post('Transfer-Encoding: chunked\r\n', '-1\r\nabc\r\n0\r\n\r\n'),
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'an overflowing chunk size',
      send: post('Transfer-Encoding: chunked\r\n', `${'f'.repeat(20)}\r\nabc\r\n0\r\n\r\n`),
      status: 400,
      flags: 'DPE',
    },
    {
      name: 'chunk data longer than its size',
      send: post('Transfer-Encoding: chunked\r\n', '3\r\nabcX\r\n0\r\n\r\n'),
      status: 400,
      flags: 'DPE',
    },
    // Header limits.
    {
      name: 'a 1 MiB header',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nx: ${'a'.repeat(1 << 20)}\r\n\r\n`,
      status: 431,
      flags: 'DPE',
    },
    {
      name: '200 headers of 1 KiB',
      send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\n${Array.from({ length: 200 }, (_, i) => `x-h${i}: ${'a'.repeat(1024)}\r\n`).join('')}\r\n`,
      status: 431,
      flags: 'DPE',
    },
    // Routing.
    {
      name: 'CONNECT to an unknown authority',
      send: 'CONNECT nowhere.example:443 HTTP/1.1\r\nHost: nowhere.example:443\r\n\r\n',
      status: 404,
      flags: 'NR',
    },
    { name: 'HTTP/1.0 without Host (no virtual host)', send: 'GET / HTTP/1.0\r\n\r\n', status: 404, flags: 'NR' },
  ];

  describe('HTTP/1.1 on the outbound listener: answered by the sidecar, then the connection is closed', () => {
    for (const c of rejected) {
      it(`${c.name} -> ${c.status} ${c.flags}`, async () => {
        const r = await raw(outbound, c.send);
        assert.equal(r.responses.length, 1, `one response: ${JSON.stringify(r.text.slice(0, 200))}`);
        assert.equal(r.responses[0]!.status, c.status);
        assert.equal(r.responses[0]!.headers['x-shoal-response-flags'], c.flags);
        assert.ok(r.closed, 'the sidecar closed the connection');
        assert.ok(r.ms < 2000, `answered at once (${r.ms} ms)`);
        await assertStillServing();
      });
    }
  });

  describe('HTTP/1.1 on the outbound listener: slow, idle, truncated and unusual requests', () => {
    it('a header block that grows past 60 KiB slowly (4 KiB every 10 ms) -> 431 DPE', async () => {
      const parts = [`GET / HTTP/1.1\r\nHost: ${HOST}\r\n`];
      for (let i = 0; i < 20; i++) parts.push(`x-slow-${i}: ${'a'.repeat(4096)}\r\n`);
      const r = await raw(outbound, parts, { gapMs: 10 });
      assert.equal(r.responses[0]?.status, 431);
      assert.equal(r.responses[0]?.headers['x-shoal-response-flags'], 'DPE');
      assert.ok(r.closed);
      await assertStillServing();
    });

    it('slowloris (a header byte a second) is cut off by the headers timeout: 408 DPE, closed', async () => {
      const line = `GET / HTTP/1.1\r\nHost: ${HOST}\r\nx-slow: ${'b'.repeat(40)}\r\n`;
      const r = await raw(outbound, [...line], { gapMs: 1000, waitMs: (HEADERS_TIMEOUT_S + 4) * 1000 });
      assert.equal(r.responses[0]?.status, 408);
      assert.equal(r.responses[0]?.headers['x-shoal-response-flags'], 'DPE');
      assert.ok(r.closed, 'closed');
      assert.ok(r.ms >= HEADERS_TIMEOUT_S * 1000 - 100 && r.ms < (HEADERS_TIMEOUT_S + 2) * 1000, `after ${r.ms} ms`);
      await assertStillServing();
    });

    it('a connection that sends nothing is closed after the sniff timeout, without an answer', async () => {
      const r = await raw(outbound, [], { waitMs: (HEADERS_TIMEOUT_S + 3) * 1000 });
      assert.ok(r.closed);
      assert.equal(r.text, '');
      assert.ok(r.ms >= HEADERS_TIMEOUT_S * 1000 - 100 && r.ms < (HEADERS_TIMEOUT_S + 1) * 1000, `after ${r.ms} ms`);
      await assertStillServing();
    });

    it('a truncated chunked body then a close: the app sees the request aborted, not completed', async () => {
      const before = recorded.length;
      const socket = connect(outbound);
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(post('Transfer-Encoding: chunked\r\n', '10\r\nonly-part'));
      await new Promise((r) => setTimeout(r, 300));
      socket.destroy();
      await waitUntil(() => recorded.length > before, 5000, 'the app to see the request end');
      assert.equal(recorded[before]!.outcome, 'aborted');
      await assertStillServing();
    });

    it('an Upgrade to an unknown protocol is ignored: the request is answered as plain HTTP/1.1 (200)', async () => {
      const r = await raw(
        outbound,
        `GET /record/upgrade HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\n\r\n`,
        { until: (rs) => rs.length > 0 },
      );
      assert.equal(r.responses[0]?.status, 200);
      const seen = JSON.parse(r.responses[0].body) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, '/record/upgrade');
      assert.equal(seen.headers.upgrade, undefined);
      await assertStillServing();
    });

    it('an h2c upgrade with a body is answered over HTTP/1.1 with the whole body forwarded, as Envoy does', async () => {
      const r = await raw(
        outbound,
        `POST /record/h2c HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n` +
          'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello',
        { until: (rs) => rs.length > 0 },
      );
      assert.equal(r.responses[0]?.status, 200);
      const seen = JSON.parse(r.responses[0].body) as { bytes: number; headers: Record<string, string> };
      assert.equal(seen.bytes, 5);
      assert.equal(seen.headers['http2-settings'], undefined);
      await assertStillServing();
    });

    it('two pipelined requests in one write are both answered, in order', async () => {
      const r = await raw(
        outbound,
        `GET /p1 HTTP/1.1\r\nHost: ${HOST}\r\n\r\nGET /p2 HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`,
      );
      assert.deepEqual(
        r.responses.map((x) => [x.status, (JSON.parse(x.body) as { url: string }).url]),
        [
          [200, '/p1'],
          [200, '/p2'],
        ],
      );
      assert.ok(r.closed);
      await assertStillServing();
    });

    it('a valid request pipelined with garbage: the first is answered in full, then the garbage gets 400 and the connection closes', async () => {
      // Pipelined requests are read one at a time, after the previous response ended, so the 400 cannot be taken
      // for the first request's answer (nginx answers the same way).
      const r = await raw(outbound, `GET /p1 HTTP/1.1\r\nHost: ${HOST}\r\n\r\nGARBAGE\r\n\r\n`);
      assert.deepEqual(
        r.responses.map((x) => [x.status, x.headers['x-shoal-response-flags']]),
        [
          [200, undefined],
          [400, 'DPE'],
        ],
      );
      assert.ok(r.closed);
      await assertStillServing();
    });

    it('Expect: 100-continue gets 100 Continue, then the body is sent and forwarded (200, 3 bytes)', async () => {
      const socket = connect(outbound);
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.write(
        `POST /record/expect HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n`,
      );
      await waitUntil(() => text.includes('\r\n\r\n'), 3000, '100 Continue');
      assert.match(text, /^HTTP\/1\.1 100 Continue\r\n/);
      socket.write('abc');
      await waitUntil(() => parseResponses(text).length === 2, 3000, 'the final response');
      socket.destroy();
      const final = parseResponses(text)[1]!;
      assert.equal(final.status, 200);
      assert.equal((JSON.parse(final.body) as { bytes: number }).bytes, 3);
      await assertStillServing();
    });

    it('an unknown expectation -> 417, and the connection stays usable', async () => {
      const r = await raw(outbound, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nExpect: fancy\r\n\r\n${ok}`, {
        until: (rs) => rs.length === 2,
      });
      assert.deepEqual(
        r.responses.map((x) => x.status),
        [417, 200],
      );
      await assertStillServing();
    });
  });

  describe('HTTP/1.1 on the inbound listener', () => {
    const cases: readonly { name: string; send: string; status: number }[] = [
      { name: 'garbage', send: 'hello world\r\n\r\n', status: 400 },
      {
        name: 'Content-Length and Transfer-Encoding together',
        send: post('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
        status: 400,
      },
      {
        name: 'a 1 MiB header',
        send: `GET / HTTP/1.1\r\nHost: ${HOST}\r\nx: ${'a'.repeat(1 << 20)}\r\n\r\n`,
        status: 431,
      },
    ];
    for (const c of cases) {
      it(`${c.name} -> ${c.status} DPE, closed; the inbound listener keeps serving`, async () => {
        const r = await raw(inbound, c.send);
        assert.equal(r.responses[0]?.status, c.status);
        assert.equal(r.responses[0]?.headers['x-shoal-response-flags'], 'DPE');
        assert.ok(r.closed);
        const fine = await raw(inbound, ok, { until: (rs) => rs.length > 0 });
        assert.equal(fine.responses[0]?.status, 200);
        await assertStillServing();
      });
    }
  });

  describe('HTTP/2 (h2c prior knowledge) on the outbound listener', () => {
    const h2url = (): string => `http://${outbound.host}:${outbound.port}`;
    const stillServingH2 = async (): Promise<void> => {
      assert.equal(await h2get(h2url()), 200);
      await assertStillServing();
    };
    const sawGoaway = (r: H2Result): boolean => r.goaway !== undefined;

    it('a normal request over raw frames gets 200 (the harness itself)', async () => {
      const r = await h2raw(outbound, headersFrames(1, requestBlock(), true), { until: (x) => x.ok.has(1) });
      assert.ok(r.ok.has(1));
    });

    it('a preface that goes wrong after its first bytes is HTTP/1.1 garbage: 400 DPE', async () => {
      const r = await raw(outbound, 'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n');
      assert.equal(r.responses[0]?.status, 400);
      assert.equal(r.responses[0]?.headers['x-shoal-response-flags'], 'DPE');
      assert.ok(r.closed);
      await stillServingH2();
    });

    const connectionErrors: readonly { name: string; frames: Buffer; handshake?: boolean; code: number }[] = [
      {
        name: 'a first frame that is not SETTINGS',
        frames: frame(PING, 0, 0, Buffer.alloc(8)),
        handshake: false,
        code: PROTOCOL_ERROR,
      },
      { name: 'a DATA frame on stream 0', frames: frame(DATA, 0, 0, Buffer.from('abc')), code: PROTOCOL_ERROR },
      { name: 'HEADERS on stream 0', frames: headersFrames(0, requestBlock(), true), code: PROTOCOL_ERROR },
      { name: 'a client stream with an even id', frames: headersFrames(2, requestBlock(), true), code: PROTOCOL_ERROR },
      {
        name: 'a WINDOW_UPDATE of 0 on the connection',
        frames: frame(WINDOW_UPDATE, 0, 0, Buffer.alloc(4)),
        code: PROTOCOL_ERROR,
      },
      {
        name: 'a frame over the 16 KiB max frame size',
        frames: frame(DATA, 0, 1, Buffer.alloc(20_000)),
        code: FRAME_SIZE_ERROR,
      },
    ];
    for (const c of connectionErrors) {
      it(`${c.name} -> GOAWAY ${c.code === PROTOCOL_ERROR ? 'PROTOCOL_ERROR' : 'FRAME_SIZE_ERROR'}`, async () => {
        const r = await h2raw(outbound, c.frames, { handshake: c.handshake ?? true, until: sawGoaway });
        assert.equal(r.goaway, c.code);
        await stillServingH2();
      });
    }

    const streamErrors: readonly { name: string; block: Buffer }[] = [
      { name: 'an unknown pseudo-header', block: requestBlock([[':foo', 'x']]) },
      { name: 'an uppercase header name', block: requestBlock([['X-Upper', 'x']]) },
      { name: 'a connection-specific header', block: requestBlock([['connection', 'keep-alive']]) },
      {
        name: 'no :path',
        block: hpack([
          [':method', 'GET'],
          [':scheme', 'http'],
          [':authority', HOST],
        ]),
      },
    ];
    for (const c of streamErrors) {
      it(`HEADERS with ${c.name} -> RST_STREAM PROTOCOL_ERROR; the next stream on the connection gets 200`, async () => {
        const frames = Buffer.concat([headersFrames(1, c.block, true), headersFrames(3, requestBlock(), true)]);
        const r = await h2raw(outbound, frames, { until: (x) => x.rst.has(1) && x.ok.has(3) });
        assert.equal(r.rst.get(1), PROTOCOL_ERROR);
        assert.ok(r.ok.has(3), 'stream 3 answered 200');
        assert.equal(r.goaway, undefined);
        await stillServingH2();
      });
    }

    it('a header list over 60 KiB -> RST_STREAM ENHANCE_YOUR_CALM; the next stream gets 200', async () => {
      const big = requestBlock(Array.from({ length: 10 }, (_, i) => [`x-big-${i}`, 'a'.repeat(8000)] as const));
      const frames = Buffer.concat([headersFrames(1, big, true), headersFrames(3, requestBlock(), true)]);
      const r = await h2raw(outbound, frames, { until: (x) => x.rst.has(1) && x.ok.has(3) });
      assert.equal(r.rst.get(1), ENHANCE_YOUR_CALM);
      assert.ok(r.ok.has(3));
      await stillServingH2();
    });

    it('opening more than the 1000 concurrent streams it advertised -> GOAWAY PROTOCOL_ERROR, bounded', async () => {
      const before = appRequests;
      const frames: Buffer[] = [];
      // Streams left open (no END_STREAM): each waits for a request body at the app.
      for (let i = 0; i < 1001; i++) frames.push(headersFrames(1 + 2 * i, requestBlock(), false));
      const r = await h2raw(outbound, Buffer.concat(frames), { until: sawGoaway, waitMs: 10_000 });
      assert.equal(r.goaway, PROTOCOL_ERROR);
      assert.ok(appRequests - before <= 1000, `the app saw at most 1000 of them (${appRequests - before})`);
      await stillServingH2();
    });

    it('a RST_STREAM flood (rapid reset) is cut off by a GOAWAY long before 5000 streams', async () => {
      const frames: Buffer[] = [];
      for (let i = 0; i < 5000; i++) {
        frames.push(
          headersFrames(1 + 2 * i, requestBlock(), true),
          frame(RST_STREAM, 0, 1 + 2 * i, Buffer.from([0, 0, 0, 8])),
        );
      }
      const r = await h2raw(outbound, Buffer.concat(frames), { until: sawGoaway, waitMs: 10_000 });
      // nghttp2's reset rate limit ends the session itself, with INTERNAL_ERROR.
      assert.equal(r.goaway, INTERNAL_ERROR);
      await stillServingH2();
    });

    for (const [name, one] of [
      ['SETTINGS', frame(SETTINGS, 0, 0)],
      ['PING', frame(PING, 0, 0, Buffer.alloc(8))],
    ] as const) {
      it(`a ${name} flood whose acknowledgements are never read -> GOAWAY ENHANCE_YOUR_CALM, closed`, async () => {
        const flood = Buffer.concat(Array.from({ length: 50_000 }, () => one));
        const r = await h2raw(outbound, flood, { waitMs: 10_000 });
        assert.equal(r.goaway, ENHANCE_YOUR_CALM);
        assert.ok(r.closed);
        await stillServingH2();
      });
    }
  });
});
