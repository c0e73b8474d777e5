/**
 * HTTP/2 requests from downstream on node:http2's core API (the server's 'stream' event), not its compat layer. The
 * compat layer wraps every stream in two more stream objects (Http2ServerRequest, a Readable, and
 * Http2ServerResponse) and puts eight listeners on it; here a request is the stream, its headers and two small
 * objects, with the surface the connection manager and the exchange use (the same as Http1Request/Http1Response).
 *
 * Wire behaviour follows the compat layer's: the response's HEADERS go out at writeHead (with `date` added when
 * absent), and the response always waits for trailers, so that trailers added while the body streams (gRPC's
 * status) are sent after it; a response without trailers ends with an empty DATA frame carrying END_STREAM (node:http2
 * sends no empty HEADERS frame).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { isHopByHop, type HeaderList } from '../http/headers.js';

const NO_TRAILERS: OutgoingHttpHeaders = {};

function ignore(): void {}

/** A downstream HTTP/2 request: the stream is also its body. */
export class H2Request {
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  readonly method: string;
  readonly url: string;
  /** The request's trailers, once they arrived. */
  trailers: IncomingHttpHeaders | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    /** Flat [name, value, ...] as received, pseudo-headers included (names are lowercase in HTTP/2). */
    readonly rawHeaders: string[],
  ) {
    this.method = headers[':method'] ?? 'GET';
    this.url = headers[':path'] ?? '/';
    // Errors end the stream (its 'close' tells the exchange); they must not go unhandled.
    stream.on('error', ignore);
    if (!stream.endAfterHeaders) stream.once('trailers', (t: IncomingHttpHeaders) => (this.trailers = t));
  }

  get socket(): Socket | undefined {
    return this.stream.session?.socket;
  }
}

type Listener = () => void;

/** The response to an H2Request, straight on its stream. */
export class H2Response {
  statusCode = 200;
  private trailers: OutgoingHttpHeaders | undefined;

  constructor(readonly stream: ServerHttp2Stream) {
    stream.once('wantTrailers', () => {
      try {
        stream.sendTrailers(this.trailers ?? NO_TRAILERS);
      } catch {
        // Trailers HTTP/2 refuses (a field it forbids): the stream is reset rather than the process brought down.
        stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  /**
   * Sends the status and headers now (HEADERS frame); the body and trailers follow. Connection-specific fields
   * (RFC 9113 8.2.2: Connection, Keep-Alive, Transfer-Encoding, Upgrade, ...), which node:http2 refuses with a
   * throw, are left out: they can come from a route's header rules.
   */
  writeHead(status: number, headers?: OutgoingHttpHeaders | HeaderList): this {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return this;
    const object: OutgoingHttpHeaders = {};
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]!;
        if (isHopByHop(name)) continue;
        const existing = object[name];
        if (existing === undefined) object[name] = headers[i + 1]!;
        else if (Array.isArray(existing)) existing.push(headers[i + 1]!);
        else object[name] = [String(existing), headers[i + 1]!];
      }
    } else if (headers !== undefined) {
      for (const name in headers) if (!isHopByHop(name.toLowerCase())) object[name] = headers[name];
    }
    object[constants.HTTP2_HEADER_STATUS] = status;
    this.statusCode = status;
    stream.respond(object, { waitForTrailers: true });
    return this;
  }

  /** Body bytes; false when the stream's buffer is full ('drain' follows). */
  write(chunk: Uint8Array | string): boolean {
    const stream = this.stream;
    if (!stream.headersSent) this.writeHead(this.statusCode);
    if (stream.destroyed || stream.writableEnded) return false;
    return stream.write(chunk);
  }

  addTrailers(trailers: OutgoingHttpHeaders): void {
    this.trailers = trailers;
  }

  end(chunk?: Uint8Array | string): void {
    const stream = this.stream;
    if (!stream.headersSent) this.writeHead(this.statusCode);
    if (stream.destroyed || stream.writableEnded) return;
    if (chunk !== undefined && chunk.length > 0) stream.end(chunk);
    else stream.end();
  }

  once(event: 'close' | 'drain', listener: Listener): this {
    this.stream.once(event, listener);
    return this;
  }

  off(event: 'close' | 'drain', listener: Listener): this {
    this.stream.off(event, listener);
    return this;
  }
}
