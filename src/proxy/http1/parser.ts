/**
 * The sidecar's own incremental HTTP/1.1 message parser (RFC 9112), for requests from downstream and responses from
 * upstream. It is on every request's path twice, so it does the least that is safe:
 *
 * - a message head is found with one `indexOf` of CRLFCRLF and decoded with one latin1 `toString`; it is validated
 *   character by character against lookup tables (tokens, field values, request targets), strictly: no bare LF, no
 *   obs-fold, no whitespace before a colon, no control characters; a head over the limit is a 431;
 * - body bytes are handed on as views into the input (no copies), framed by Content-Length, chunked coding (with
 *   extensions and trailers) or, for responses, the connection's end;
 * - request smuggling is refused: Transfer-Encoding with Content-Length, a Transfer-Encoding that does not end in
 *   chunked, differing or malformed Content-Length values, oversized chunk sizes.
 *
 * A callback may call `pause()` (a server waits for its response before reading the next pipelined request; an
 * upgrade or CONNECT stops HTTP parsing altogether); `execute()` then returns how far it got.
 */

export type ParseErrorCode =
  | 'HEADERS_TOO_LARGE'
  | 'INVALID_REQUEST_LINE'
  | 'INVALID_STATUS_LINE'
  | 'INVALID_METHOD'
  | 'INVALID_TARGET'
  | 'INVALID_VERSION'
  | 'INVALID_HEADER'
  | 'INVALID_CONTENT_LENGTH'
  | 'INVALID_TRANSFER_ENCODING'
  | 'INVALID_CHUNK'
  | 'INCOMPLETE'
  | 'UPGRADED';

export class HttpParseError extends Error {
  constructor(
    readonly code: ParseErrorCode,
    message: string,
    /** The status a server answers it with. */
    readonly status: 400 | 431 | 501 = 400,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

export interface MessageHead {
  /** Requests: the method and the request target as sent ('' for responses). */
  method: string;
  target: string;
  /** Responses: the status code and reason phrase (0 and '' for requests). */
  status: number;
  reason: string;
  /** HTTP/1.<versionMinor>: 0 or 1. */
  versionMinor: number;
  /** Flat [name, value, name, value, ...]: names lowercased, values without surrounding whitespace. */
  headers: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`. */
  keepAlive: boolean;
  /** The Upgrade header's value, lowercased, when Connection lists `upgrade`. */
  upgrade: string | undefined;
  /** Requests: the (first) Host value and how many Host fields there were. */
  host: string | undefined;
  hostCount: number;
  /** Requests: the Expect value. */
  expect: string | undefined;
  /** Responses: the Keep-Alive value (an upstream's announced idle timeout). */
  keepAliveHeader: string | undefined;
}

export interface ParserHandler {
  onHead(head: MessageHead): void;
  /** A view into the input buffer. */
  onBody(chunk: Buffer): void;
  /** Trailers flat like headers, when a chunked body had any. */
  onEnd(trailers: string[] | undefined): void;
}

export interface ParseLimits {
  /** Start line and header section together (and the trailer section), in bytes. Default 60 KiB. */
  maxHeadBytes: number;
}

const DEFAULT_MAX_HEAD = 60 * 1024;
/** A chunk-size line (size and extensions) longer than this is refused. */
const MAX_CHUNK_LINE = 4096;

const enum State {
  Head,
  BodyLength,
  BodyClose,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Upgraded,
}

// Character classes (RFC 9110 5.6.2 tchar; field-value chars = VCHAR / obs-text / SP / HTAB).
const TOKEN = new Uint8Array(256);
const FIELD_VALUE = new Uint8Array(256);
const TARGET = new Uint8Array(256);
/** Methods are tokens; every registered one is upper case (a lowercase `get` is refused, as llhttp does). */
const METHOD = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  TOKEN[c] = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(ch) ? 1 : 0;
  FIELD_VALUE[c] = (c >= 0x20 && c !== 0x7f) || c === 0x09 ? 1 : 0;
  TARGET[c] = c > 0x20 && c !== 0x7f ? 1 : 0;
  METHOD[c] = /[A-Z0-9\-_]/.test(ch) ? 1 : 0;
}
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

export class Http1Parser {
  private state = State.Head;
  /** Unconsumed bytes of a head (or chunk-size line, or trailer section) split across reads. */
  private pending: Buffer = EMPTY;
  private remaining = 0;
  private paused = false;
  private requestMethod = '';
  private readonly maxHead: number;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly handler: ParserHandler,
    limits?: Partial<ParseLimits>,
  ) {
    this.maxHead = limits?.maxHeadBytes ?? DEFAULT_MAX_HEAD;
  }

  /** True between messages: nothing of the next one has arrived. */
  get idle(): boolean {
    return this.state === State.Head && this.pending.length === 0;
  }

  /** Whether the parser has handed the connection over (101 or a CONNECT's 2xx). */
  get upgraded(): boolean {
    return this.state === State.Upgraded;
  }

  /** Response parser: the method of the request whose response comes next (HEAD and CONNECT shape the body). */
  setRequestMethod(method: string): void {
    this.requestMethod = method;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Parses as much of `data` as it can and returns the number of bytes consumed: all of them, unless a callback
   * paused the parser (the caller feeds the rest again after `resume()`). Throws HttpParseError on malformed input.
   */
  execute(data: Buffer): number {
    let offset = 0;
    const length = data.length;
    while (offset < length && !this.paused) {
      switch (this.state) {
        case State.Head:
          offset = this.parseHead(data, offset);
          break;
        case State.BodyLength: {
          const n = Math.min(this.remaining, length - offset);
          this.remaining -= n;
          const chunk = offset === 0 && n === length ? data : data.subarray(offset, offset + n);
          offset += n;
          this.handler.onBody(chunk);
          if (this.remaining === 0) this.endMessage(undefined);
          break;
        }
        case State.BodyClose:
          this.handler.onBody(offset === 0 ? data : data.subarray(offset));
          offset = length;
          break;
        case State.ChunkSize:
          offset = this.parseChunkSize(data, offset);
          break;
        case State.ChunkData: {
          const n = Math.min(this.remaining, length - offset);
          this.remaining -= n;
          const chunk = data.subarray(offset, offset + n);
          offset += n;
          this.handler.onBody(chunk);
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd:
          offset = this.parseChunkDataEnd(data, offset);
          break;
        case State.Trailers:
          offset = this.parseTrailers(data, offset);
          break;
        case State.Upgraded:
          throw new HttpParseError('UPGRADED', 'the connection is no longer HTTP');
      }
    }
    return offset;
  }

  /** The input ended: ends a close-delimited body; throws if a message was cut short. */
  finish(): void {
    if (this.state === State.BodyClose) {
      this.endMessage(undefined);
      return;
    }
    if (this.state === State.Upgraded || this.idle) return;
    throw new HttpParseError('INCOMPLETE', 'the connection closed in the middle of a message');
  }

  // --- head ---

  private parseHead(data: Buffer, offset: number): number {
    let buf: Buffer;
    let start: number;
    if (this.pending.length === 0) {
      // Leading empty lines before a request line are ignored (RFC 9112 2.2).
      while (offset + 1 < data.length && data[offset] === 13 && data[offset + 1] === 10) offset += 2;
      if (offset === data.length) return offset;
      buf = data;
      start = offset;
    } else {
      buf = Buffer.concat([this.pending, data.subarray(offset)]);
      start = 0;
      while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    }
    const end = buf.indexOf(CRLFCRLF, start);
    if (end < 0) {
      if (buf.length - start > this.maxHead) throw tooLarge();
      // Keep a copy: the input buffer may be reused by the caller.
      this.pending = Buffer.from(buf.subarray(start));
      return data.length;
    }
    if (end - start > this.maxHead) throw tooLarge();
    const consumedOfData = buf === data ? end + 4 : end + 4 - this.pending.length + offset;
    this.pending = EMPTY;
    const text = buf.toString('latin1', start, end);
    const head = this.kind === 'request' ? parseRequestHead(text) : parseResponseHead(text);
    this.startBody(head);
    this.handler.onHead(head);
    if (this.state === State.Head) this.afterHeadWithoutBody(head);
    return consumedOfData;
  }

  /** Chooses the body framing (RFC 9112 6.3). */
  private startBody(head: MessageHead): void {
    if (this.kind === 'response') {
      const s = head.status;
      if (s < 200 || s === 204 || s === 304 || this.requestMethod === 'HEAD') this.state = State.Head;
      else if (this.requestMethod === 'CONNECT' && s < 300) this.state = State.Head;
      else if (head.chunked) this.state = State.ChunkSize;
      else if (head.contentLength >= 0) this.setLength(head.contentLength);
      else {
        this.state = State.BodyClose;
        head.keepAlive = false;
      }
      return;
    }
    if (head.chunked) this.state = State.ChunkSize;
    else if (head.contentLength > 0) this.setLength(head.contentLength);
    else this.state = State.Head;
  }

  private setLength(n: number): void {
    this.remaining = n;
    this.state = n === 0 ? State.Head : State.BodyLength;
  }

  /** The message had no body: it ended with its head (a 0-length body is the same). */
  private afterHeadWithoutBody(head: MessageHead): void {
    if (this.kind === 'response') {
      const s = head.status;
      if (s === 101 || (this.requestMethod === 'CONNECT' && s >= 200 && s < 300)) {
        this.handler.onEnd(undefined);
        this.state = State.Upgraded;
        this.paused = true;
        return;
      }
    }
    this.handler.onEnd(undefined);
  }

  private endMessage(trailers: string[] | undefined): void {
    this.state = State.Head;
    this.handler.onEnd(trailers);
  }

  // --- chunked coding (RFC 9112 7.1) ---

  private parseChunkSize(data: Buffer, offset: number): number {
    const lf = data.indexOf(10, offset);
    if (lf < 0) {
      this.pending = Buffer.concat([this.pending, data.subarray(offset)]);
      if (this.pending.length > MAX_CHUNK_LINE) throw badChunk('chunk size line too long');
      return data.length;
    }
    let line: Buffer;
    if (this.pending.length > 0) {
      line = Buffer.concat([this.pending, data.subarray(offset, lf + 1)]);
      this.pending = EMPTY;
    } else line = data.subarray(offset, lf + 1);
    if (line.length > MAX_CHUNK_LINE) throw badChunk('chunk size line too long');
    const last = line.length - 1;
    if (last < 1 || line[last - 1] !== 13) throw badChunk('chunk size line without CRLF');
    let size = 0;
    let i = 0;
    for (; i < last - 1; i++) {
      const v = HEX[line[i]!]!;
      if (v < 0) break;
      if (i >= 15) throw badChunk('chunk size too large');
      size = size * 16 + v;
    }
    if (i === 0) throw badChunk('chunk size is not hexadecimal');
    if (i < last - 1) {
      // Chunk extensions: `;name[=value]`, possibly after whitespace; their content is not interpreted.
      let j = i;
      while (line[j] === 32 || line[j] === 9) j++;
      if (line[j] !== 59) throw badChunk('invalid character after the chunk size');
      for (; j < last - 1; j++) if (FIELD_VALUE[line[j]!] === 0) throw badChunk('invalid chunk extension');
    }
    if (size === 0) {
      this.state = State.Trailers;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return lf + 1;
  }

  /** The CRLF after a chunk's data (it may arrive one byte at a time). */
  private parseChunkDataEnd(data: Buffer, offset: number): number {
    const seen = this.pending.length;
    if (seen === 0) {
      if (data[offset] !== 13) throw badChunk('chunk data not followed by CRLF');
      if (offset + 1 < data.length) {
        if (data[offset + 1] !== 10) throw badChunk('chunk data not followed by CRLF');
        this.state = State.ChunkSize;
        return offset + 2;
      }
      this.pending = CR;
      return offset + 1;
    }
    this.pending = EMPTY;
    if (data[offset] !== 10) throw badChunk('chunk data not followed by CRLF');
    this.state = State.ChunkSize;
    return offset + 1;
  }

  private parseTrailers(data: Buffer, offset: number): number {
    const prev = this.pending.length;
    const buf = prev === 0 ? data.subarray(offset) : Buffer.concat([this.pending, data.subarray(offset)]);
    // buf[i] is data[offset + i - prev].
    if (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) {
      // An empty trailer section: just the final CRLF.
      this.pending = EMPTY;
      this.endMessage(undefined);
      return offset + 2 - prev;
    }
    const end = buf.length < 2 ? -1 : buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > this.maxHead) throw tooLarge();
      this.pending = Buffer.from(buf);
      return data.length;
    }
    if (end > this.maxHead) throw tooLarge();
    const trailers: string[] = [];
    parseFields(buf.toString('latin1', 0, end), 0, trailers);
    this.pending = EMPTY;
    this.endMessage(trailers);
    return offset + end + 4 - prev;
  }
}

const CR = Buffer.from('\r', 'latin1');

function tooLarge(): HttpParseError {
  return new HttpParseError('HEADERS_TOO_LARGE', 'header section too large', 431);
}

function badChunk(message: string): HttpParseError {
  return new HttpParseError('INVALID_CHUNK', message);
}

function newHead(): MessageHead {
  return {
    method: '',
    target: '',
    status: 0,
    reason: '',
    versionMinor: 1,
    headers: [],
    contentLength: -1,
    chunked: false,
    keepAlive: true,
    upgrade: undefined,
    host: undefined,
    hostCount: 0,
    expect: undefined,
    keepAliveHeader: undefined,
  };
}

function parseRequestHead(text: string): MessageHead {
  const head = newHead();
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const sp1 = text.indexOf(' ');
  if (sp1 <= 0 || sp1 > eol) throw new HttpParseError('INVALID_REQUEST_LINE', 'malformed request line');
  for (let i = 0; i < sp1; i++) {
    if (METHOD[text.charCodeAt(i)] === 0) throw new HttpParseError('INVALID_METHOD', 'invalid method');
  }
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 > eol || sp2 === sp1 + 1) {
    throw new HttpParseError('INVALID_REQUEST_LINE', 'malformed request line');
  }
  for (let i = sp1 + 1; i < sp2; i++) {
    if (TARGET[text.charCodeAt(i)] === 0) throw new HttpParseError('INVALID_TARGET', 'invalid request target');
  }
  head.method = text.slice(0, sp1);
  head.target = text.slice(sp1 + 1, sp2);
  head.versionMinor = parseVersion(text, sp2 + 1, eol);
  parseFields(text, eol + 2, head.headers);
  applyFraming(head, true);
  return head;
}

function parseResponseHead(text: string): MessageHead {
  const head = newHead();
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  if (eol < 12 || text.charCodeAt(8) !== 32) {
    throw new HttpParseError('INVALID_STATUS_LINE', 'malformed status line');
  }
  head.versionMinor = parseVersion(text, 0, 8);
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new HttpParseError('INVALID_STATUS_LINE', 'malformed status code');
    status = status * 10 + d;
  }
  if (status < 100) throw new HttpParseError('INVALID_STATUS_LINE', 'malformed status code');
  if (eol > 12) {
    if (text.charCodeAt(12) !== 32) throw new HttpParseError('INVALID_STATUS_LINE', 'malformed status line');
    for (let i = 13; i < eol; i++) {
      if (FIELD_VALUE[text.charCodeAt(i)] === 0) throw new HttpParseError('INVALID_STATUS_LINE', 'invalid reason');
    }
    head.reason = text.slice(13, eol);
  }
  head.status = status;
  parseFields(text, eol + 2, head.headers);
  applyFraming(head, false);
  return head;
}

/**
 * `HTTP/1.0` or `HTTP/1.1` at text[from, to): the minor version. Any other version is refused with 400 (as llhttp
 * and Envoy do): a higher minor version is not "compatible enough" for a proxy that must frame it.
 */
function parseVersion(text: string, from: number, to: number): number {
  if (to - from === 8 && text.startsWith('HTTP/1.', from)) {
    const minor = text.charCodeAt(from + 7) - 48;
    if (minor === 0 || minor === 1) return minor;
  }
  throw new HttpParseError('INVALID_VERSION', 'unsupported or malformed HTTP version');
}

/** Header (or trailer) fields from text[from, end): validated, appended to `out` as name, value pairs. */
function parseFields(text: string, from: number, out: string[]): void {
  const end = text.length;
  let pos = from;
  while (pos < end) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = end;
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) throw new HttpParseError('INVALID_HEADER', 'obsolete line folding');
    let colon = pos;
    let upper = false;
    for (; colon < eol; colon++) {
      const c = text.charCodeAt(colon);
      if (TOKEN[c] !== 1) break;
      if (c >= 65 && c <= 90) upper = true;
    }
    if (colon === pos || colon === eol || text.charCodeAt(colon) !== 58) {
      throw new HttpParseError('INVALID_HEADER', 'invalid header name');
    }
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    for (let i = vs; i < ve; i++) {
      if (FIELD_VALUE[text.charCodeAt(i)] === 0) throw new HttpParseError('INVALID_HEADER', 'invalid header value');
    }
    // Names are lowercased once, here; a well-known name becomes its interned constant (no new string, and later
    // comparisons and lookups are pointer compares).
    let name = knownName(text, pos, colon);
    if (name === undefined) {
      name = text.slice(pos, colon);
      if (upper) name = name.toLowerCase();
    }
    out.push(name, text.slice(vs, ve));
    pos = eol + 2;
  }
}

/** Header names most messages carry, lowercase, by length: the parser answers them with these constants. */
const KNOWN_NAMES: (readonly string[] | undefined)[] = [];
for (const name of [
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-ranges',
  'age',
  'authorization',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'cookie',
  'date',
  'etag',
  'expect',
  'expires',
  'grpc-accept-encoding',
  'grpc-encoding',
  'grpc-message',
  'grpc-status',
  'grpc-timeout',
  'host',
  'if-modified-since',
  'if-none-match',
  'keep-alive',
  'last-modified',
  'location',
  'origin',
  'pragma',
  'range',
  'referer',
  'server',
  'set-cookie',
  'te',
  'traceparent',
  'tracestate',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'vary',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-spanid',
  'x-b3-traceid',
  'x-envoy-attempt-count',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-request-id',
  'x-shoal-response-flags',
]) {
  KNOWN_NAMES[name.length] = [...(KNOWN_NAMES[name.length] ?? []), name];
}

/** The constant for the well-known header name at text[from, to) in any case, or undefined. */
function knownName(text: string, from: number, to: number): string | undefined {
  const length = to - from;
  const candidates = KNOWN_NAMES[length];
  if (candidates === undefined) return undefined;
  for (let k = 0; k < candidates.length; k++) {
    const known = candidates[k]!;
    let i = 0;
    for (; i < length; i++) {
      let c = text.charCodeAt(from + i);
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== known.charCodeAt(i)) break;
    }
    if (i === length) return known;
  }
  return undefined;
}

/**
 * Content-Length, Transfer-Encoding, Connection and Upgrade, and the few fields the proxy itself reads (Host,
 * Expect, Keep-Alive), read once from the parsed (lowercase) fields.
 */
function applyFraming(head: MessageHead, request: boolean): void {
  const h = head.headers;
  let connection: string | undefined;
  let upgrade: string | undefined;
  let transferEncoding: string | undefined;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    // Only the names below matter here; their lengths filter out most fields before comparing.
    switch (name.length) {
      case 4:
        if (name === 'host' && head.hostCount++ === 0) head.host = h[i + 1];
        break;
      case 6:
        if (name === 'expect') head.expect = h[i + 1];
        break;
      case 14:
        if (name === 'content-length') {
          const n = parseContentLength(h[i + 1]!);
          if (head.contentLength >= 0 && head.contentLength !== n) {
            throw new HttpParseError('INVALID_CONTENT_LENGTH', 'conflicting Content-Length values');
          }
          head.contentLength = n;
        }
        break;
      case 17:
        if (name === 'transfer-encoding') {
          transferEncoding = transferEncoding === undefined ? h[i + 1]! : `${transferEncoding}, ${h[i + 1]!}`;
        }
        break;
      case 10:
        if (name === 'connection') {
          const value = h[i + 1]!.toLowerCase();
          connection = connection === undefined ? value : `${connection},${value}`;
        } else if (name === 'keep-alive') head.keepAliveHeader = h[i + 1];
        break;
      case 7:
        if (name === 'upgrade') upgrade = h[i + 1]!.toLowerCase();
        break;
    }
  }
  if (transferEncoding !== undefined) {
    if (head.contentLength >= 0) {
      throw new HttpParseError('INVALID_TRANSFER_ENCODING', 'both Transfer-Encoding and Content-Length');
    }
    const codings = transferEncoding.toLowerCase().split(',');
    const last = codings[codings.length - 1]!.trim();
    if (last === 'chunked') {
      if (codings.length > 1 && request) {
        throw new HttpParseError('INVALID_TRANSFER_ENCODING', 'unsupported transfer coding', 501);
      }
      head.chunked = true;
    } else if (request) {
      // A request body's length must be determinable (RFC 9112 6.3, item 4).
      throw new HttpParseError('INVALID_TRANSFER_ENCODING', 'Transfer-Encoding does not end in chunked');
    }
    // A response with a final coding other than chunked is delimited by the connection's end.
  }
  // HTTP/1.1 connections persist unless closed; HTTP/1.0 ones only when asked to (RFC 9112 9.3).
  let close = false;
  let keepAlive = false;
  if (connection === 'keep-alive') keepAlive = true;
  else if (connection === 'close') close = true;
  else if (connection !== undefined) {
    for (let t of connection.split(',')) {
      t = t.trim();
      if (t === 'close') close = true;
      else if (t === 'keep-alive') keepAlive = true;
      else if (t === 'upgrade' && upgrade !== undefined) head.upgrade = upgrade;
    }
  }
  head.keepAlive = !close && (head.versionMinor === 1 || keepAlive);
}

function parseContentLength(value: string): number {
  if (value.indexOf(',') < 0) return contentLengthDigits(value);
  // A list of identical values ("5, 5") is accepted as one (RFC 9110 8.6).
  let result = -1;
  for (const part of value.split(',')) {
    const n = contentLengthDigits(part.trim());
    if (result >= 0 && result !== n) {
      throw new HttpParseError('INVALID_CONTENT_LENGTH', 'conflicting Content-Length values');
    }
    result = n;
  }
  return result;
}

function contentLengthDigits(v: string): number {
  if (v.length === 0 || v.length > 15) throw new HttpParseError('INVALID_CONTENT_LENGTH', 'invalid Content-Length');
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new HttpParseError('INVALID_CONTENT_LENGTH', 'invalid Content-Length');
    n = n * 10 + d;
  }
  return n;
}
