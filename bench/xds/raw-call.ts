/**
 * A bidirectional gRPC call made directly on node:http2, for the load generator: one HTTP/2 connection and one
 * stream per fake sidecar, gRPC's length-prefixed messages written as a list of buffers.
 *
 * Why not a grpc-js client: a state-of-the-world ACK repeats the whole subscription (60 KB for 1,000 clusters), and
 * grpc-js needs each message as one buffer, which it then copies again to frame it: two 60 KB allocations per ACK,
 * 240 MB of garbage per push at 2,000 sidecars, which made the generator (it shares the machine's two cores with the
 * control plane it measures) spend most of a push collecting garbage. Here the encoded subscription is written as the
 * same shared buffer every time, after a 5-byte prefix and before the few bytes that change (version and nonce):
 * nothing is copied in JavaScript. The bytes on the wire are what a gRPC client sends.
 */
import http2 from 'node:http2';

export interface CallStatus {
  code: number;
  details: string;
}

export interface RawCallHandlers {
  message(bytes: Buffer): void;
  /** The call ended (trailers, reset, or connection loss); code 0 is OK. */
  status(status: CallStatus): void;
}

const UNAVAILABLE = 14;

export class RawGrpcCall {
  private readonly session: http2.ClientHttp2Session;
  private readonly stream: http2.ClientHttp2Stream;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;

  constructor(target: string, path: string, handlers: RawCallHandlers) {
    this.session = http2.connect(`http://${target}`);
    this.session.on('error', () => {}); // reported through the stream's close
    this.stream = this.session.request(
      { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' },
      { endStream: false },
    );
    let status: CallStatus | undefined;
    const fromHeaders = (headers: http2.IncomingHttpHeaders): void => {
      const code = headers['grpc-status'];
      if (code !== undefined) {
        const details = headers['grpc-message'];
        status = { code: Number(code), details: typeof details === 'string' ? decodeURIComponent(details) : '' };
      }
    };
    this.stream.on('response', fromHeaders); // a trailers-only response
    this.stream.on('trailers', fromHeaders);
    this.stream.on('data', (chunk: Buffer) => this.receive(chunk, handlers));
    this.stream.on('error', () => {});
    this.stream.on('close', () => {
      if (this.ended) return;
      this.ended = true;
      handlers.status(status ?? { code: UNAVAILABLE, details: `stream closed (${this.stream.rstCode})` });
    });
  }

  /** Writes one message made of `parts` (concatenated on the wire, not in memory). */
  write(parts: readonly Buffer[]): void {
    if (this.ended || this.stream.destroyed) return;
    let length = 0;
    for (const part of parts) length += part.length;
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = 0; // not compressed
    prefix.writeUInt32BE(length, 1);
    this.stream.cork();
    this.stream.write(prefix);
    for (const part of parts) this.stream.write(part);
    this.stream.uncork();
  }

  close(): void {
    this.ended = true;
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
    this.session.close();
  }

  /** Splits the response body into gRPC messages. */
  private receive(chunk: Buffer, handlers: RawCallHandlers): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    for (;;) {
      if (this.pendingBytes < 5) return;
      if (this.pending[0]!.length < 5) this.pending = [Buffer.concat(this.pending)];
      const head = this.pending[0]!;
      const length = head.readUInt32BE(1);
      if (this.pendingBytes < 5 + length) return;
      const all = this.pending.length === 1 ? head : Buffer.concat(this.pending);
      const message = all.subarray(5, 5 + length);
      const rest = all.subarray(5 + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      handlers.message(message);
    }
  }
}
