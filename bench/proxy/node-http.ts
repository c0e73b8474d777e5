/**
 * The Node HTTP reference of the proxy benchmark: a minimal HTTP/1.1 proxy on node:net, the least an HTTP-aware
 * Node.js hop costs per request. It reads each request and response head (up to `\r\n\r\n`, as latin1) into the first
 * line and a flat `[name, value, ...]` list (names lowercased, values trimmed), drops `connection`, `keep-alive`,
 * `proxy-connection` and `transfer-encoding`, and writes the head again, as any proxy that edits headers must; requests
 * get `x-forwarded-for: <remote address>` and `x-forwarded-proto: http`. Upstream connections are kept alive in a LIFO
 * pool (TCP_NODELAY). Plain flat lists and string concatenation, not tuned: it is the reference, not a competitor.
 *
 * It is a benchmark reference, not a proxy: HTTP/1.1 requests only, bodies by Content-Length only (a request with
 * Transfer-Encoding, or whose head does not parse, gets 400 and a close; a head over 64 KiB gets 431 and a close; an
 * upstream answer that is chunked, 1xx or does not parse gets 502 and a close), no timeouts, no retries, no
 * backpressure (the benchmark's messages are small). An answer without Content-Length is passed on until the upstream
 * closes, then the downstream is closed too; an upstream error or close mid-answer destroys the downstream.
 * Requests on one connection are handled one at a time, without pipelining: bytes that come after a request (and its
 * body) before its answer has been written wait, with reading paused, and are read as the next request afterwards.
 *
 * Run as a process: `node [flags] node-http.js LISTEN=TARGET`, the route `host:port=host:port` as for node-floor.ts
 * (whose parseRoute it uses); it exits 0 on SIGTERM and loads nothing but node: modules and node-floor.js.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseRoute } from './node-floor.js';

const MAX_HEAD = 64 * 1024;
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding'];
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.1$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: |$)/;
const EMPTY: Buffer = Buffer.alloc(0);

interface Head {
  line: string;
  fields: string[];
  /** The bytes after the head. */
  rest: Buffer;
}

/** The head at the start of `buf`, or why there is none (yet). */
function readHead(buf: Buffer): Head | 'incomplete' | 'too large' | 'bad' {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > MAX_HEAD ? 'too large' : 'incomplete';
  if (end + 4 > MAX_HEAD) return 'too large';
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const fields: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i]!.indexOf(':');
    const name = lines[i]!.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) return 'bad';
    fields.push(name, lines[i]!.slice(colon + 1).trim());
  }
  return { line: lines[0]!, fields, rest: buf.subarray(end + 4) };
}

/** Whether `fields` has `name` (and, given `token`, with a value that contains it, case-insensitively). */
function has(fields: string[], name: string, token?: string): boolean {
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === name && (token === undefined || fields[i + 1]!.toLowerCase().includes(token))) return true;
  }
  return false;
}

/** The Content-Length in `fields`: -1 when there is none, NaN when it is not one decimal number. */
function contentLength(fields: string[]): number {
  let n = -1;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== 'content-length') continue;
    if (n !== -1 || !/^\d{1,15}$/.test(fields[i + 1]!)) return NaN;
    n = Number(fields[i + 1]);
  }
  return n;
}

/** The head again: its first line, every field but the hop-by-hop ones, then `extra` (lines ending in CRLF). */
function writeHead(line: string, fields: string[], extra: string): string {
  let head = line + '\r\n';
  for (let i = 0; i < fields.length; i += 2) {
    if (!HOP_BY_HOP.includes(fields[i]!)) head += fields[i] + ': ' + fields[i + 1] + '\r\n';
  }
  return head + extra + '\r\n';
}

/** A server proxying every connection to `target` (not listening yet). */
export function httpServer(target: { host: string; port: number }): Server {
  const pool: Socket[] = []; // idle upstream connections, the last one returned on top
  const upstream = (): Socket => {
    const idle = pool.pop();
    if (idle) return idle;
    const u = connect({ host: target.host, port: target.port, noDelay: true });
    u.on('error', () => {}); // 'close' follows
    u.on('close', () => {
      if (pool.includes(u)) pool.splice(pool.indexOf(u), 1);
    });
    return u;
  };
  return createServer({ noDelay: true }, (down) => {
    const forwardedFor = `x-forwarded-for: ${down.remoteAddress ?? ''}\r\nx-forwarded-proto: http\r\n`;
    let buf = EMPTY; // downstream bytes not handled yet
    let up: Socket | undefined; // the upstream connection of the request in flight
    let bodyLeft = 0; // its body bytes still to pass upstream
    let closeAfter = false; // the client asked for `connection: close`
    let closing = false; // the last answer is out: whatever else comes is read and dropped
    const close = (last = ''): void => {
      closing = true;
      down.resume();
      down.end(last);
    };
    const reject = (status: string): void =>
      close(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    const forwardBody = (): void => {
      const n = Math.min(bodyLeft, buf.length);
      if (n > 0) up!.write(buf.subarray(0, n));
      buf = buf.subarray(n);
      bodyLeft -= n;
      if (bodyLeft === 0 && buf.length > 0) down.pause(); // the next request waits for this answer
    };
    /** Passes the answer on `u` down; once it is complete, `u` goes back to the pool and the next request is read. */
    const relay = (u: Socket, noBody: boolean): void => {
      let rbuf = EMPTY;
      let left = -2; // body bytes still to pass down: -2 before the head, -1 until the upstream closes
      let keep = true; // whether `u` can carry another request
      const detach = (): void => {
        u.off('data', onData);
        u.off('close', onClose);
        up = undefined;
      };
      const badAnswer = (): void => {
        detach();
        u.destroy();
        reject('502 Bad Gateway');
      };
      const done = (): void => {
        detach();
        if (keep && bodyLeft === 0) pool.push(u);
        else u.destroy();
        if (bodyLeft > 0 || closeAfter) return close();
        down.resume();
        next();
      };
      const onData = (d: Buffer): void => {
        let out: Buffer | undefined; // the rebuilt head, written with the first body bytes in one write
        if (left === -2) {
          rbuf = rbuf.length === 0 ? d : Buffer.concat([rbuf, d]);
          const head = readHead(rbuf);
          if (head === 'incomplete') return;
          if (typeof head === 'string' || has(head.fields, 'transfer-encoding')) return badAnswer();
          const status = Number(STATUS_LINE.exec(head.line)?.[1]);
          left = noBody || status === 204 || status === 304 ? 0 : contentLength(head.fields);
          if (!(status >= 200) || isNaN(left)) return badAnswer();
          keep = left >= 0 && !has(head.fields, 'connection', 'close');
          const persist = left >= 0 && !closeAfter;
          out = Buffer.from(
            writeHead(head.line, head.fields, `connection: ${persist ? 'keep-alive' : 'close'}\r\n`),
            'latin1',
          );
          d = head.rest;
        }
        if (left >= 0 && d.length > left) {
          keep = false; // more than it announced: not to be trusted again
          d = d.subarray(0, left);
        }
        if (left > 0) left -= d.length;
        if (out) down.write(d.length > 0 ? Buffer.concat([out, d]) : out);
        else if (d.length > 0) down.write(d);
        if (left === 0) done();
      };
      const onClose = (): void => {
        up = undefined;
        closing = true;
        if (left === -1) down.end();
        else down.destroy();
      };
      u.on('data', onData);
      u.on('close', onClose);
    };
    /** Handles the bytes in `buf`: the body of the request in flight, or the next request's head. */
    const next = (): void => {
      if (up) return forwardBody();
      const head = readHead(buf);
      if (head === 'incomplete') return;
      if (head === 'too large') return reject('431 Request Header Fields Too Large');
      const length = head === 'bad' ? NaN : contentLength(head.fields);
      if (head === 'bad' || !REQUEST_LINE.test(head.line) || has(head.fields, 'transfer-encoding') || isNaN(length)) {
        return reject('400 Bad Request');
      }
      buf = head.rest;
      bodyLeft = Math.max(length, 0);
      closeAfter = has(head.fields, 'connection', 'close');
      up = upstream();
      relay(up, head.line.startsWith('HEAD '));
      up.write(writeHead(head.line, head.fields, forwardedFor), 'latin1');
      forwardBody();
    };
    down.on('data', (d: Buffer) => {
      if (closing) return;
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      next();
    });
    down.on('error', () => {}); // 'close' follows
    down.on('close', () => up?.destroy());
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.length !== 3) throw new Error('usage: node-http.js host:port=host:port');
  const { listen, target } = parseRoute(process.argv[2]!);
  httpServer(target).listen(listen.port, listen.host);
  process.on('SIGTERM', () => process.exit(0));
}
