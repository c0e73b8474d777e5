import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Http1Parser, HttpParseError, type MessageHead } from '../../../src/proxy/http1/parser.js';

interface Message {
  head: MessageHead;
  body: string;
  trailers: string[] | undefined;
}

/** Parses `input` fed in pieces of `step` bytes (0: all at once); returns the complete messages. */
function parse(kind: 'request' | 'response', input: string, step = 0, methods: string[] = []): Message[] {
  const messages: Message[] = [];
  let current: Message | undefined;
  const parser: Http1Parser = new Http1Parser(kind, {
    onHead: (head) => {
      current = { head, body: '', trailers: undefined };
    },
    onBody: (chunk) => {
      current!.body += chunk.toString('latin1');
    },
    onEnd: (trailers) => {
      current!.trailers = trailers;
      messages.push(current!);
      if (kind === 'response') parser.setRequestMethod(methods[messages.length] ?? 'GET');
    },
  });
  if (kind === 'response') parser.setRequestMethod(methods[0] ?? 'GET');
  const data = Buffer.from(input, 'latin1');
  const size = step === 0 ? data.length : step;
  for (let i = 0; i < data.length; i += size) {
    // A fresh copy per piece, so that the parser cannot rely on the caller's buffer staying intact.
    const piece = Buffer.from(data.subarray(i, i + size));
    assert.equal(parser.execute(piece), piece.length);
  }
  parser.finish();
  return messages;
}

function parseError(kind: 'request' | 'response', input: string): HttpParseError {
  try {
    parse(kind, input);
  } catch (error) {
    assert.ok(error instanceof HttpParseError, String(error));
    return error;
  }
  assert.fail(`no error for ${JSON.stringify(input)}`);
}

const CHUNKED_REQUEST =
  'POST /upload?x=1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\nX-Other:  two \r\n\r\n' +
  'GET /next HTTP/1.1\r\nHost: b\r\n\r\n';

describe('Http1Parser: requests', () => {
  test('a GET: method, target, version, headers with lowercased names and trimmed values, keep-alive', () => {
    const [m] = parse('request', 'GET /a/b?c=d HTTP/1.1\r\nHost: example\r\nX-Mixed-Case:   v a l  \r\n\r\n');
    assert.equal(m!.head.method, 'GET');
    assert.equal(m!.head.target, '/a/b?c=d');
    assert.equal(m!.head.versionMinor, 1);
    assert.deepEqual(m!.head.headers, ['host', 'example', 'x-mixed-case', 'v a l']);
    assert.equal(m!.head.keepAlive, true);
    assert.equal(m!.head.contentLength, -1);
    assert.equal(m!.body, '');
  });

  test('well-known names in any case come out lowercase, like the others; near misses stay themselves', () => {
    const [m] = parse(
      'request',
      'GET / HTTP/1.1\r\nHOST: a\r\nX-Request-ID: r\r\nuser-agent: u\r\nContent-Lengtx: 1\r\nX-Forwarded-Protx: p\r\n' +
        'Te: trailers\r\nX-Unknown-Name: v\r\n\r\n',
    );
    assert.deepEqual(m!.head.headers, [
      'host',
      'a',
      'x-request-id',
      'r',
      'user-agent',
      'u',
      'content-lengtx',
      '1',
      'x-forwarded-protx',
      'p',
      'te',
      'trailers',
      'x-unknown-name',
      'v',
    ]);
    assert.equal(m!.head.host, 'a');
    assert.equal(m!.head.contentLength, -1);
  });

  test('pipelined requests, a Content-Length body, and leading empty lines', () => {
    const input =
      '\r\nPOST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello worldGET /q HTTP/1.1\r\nHost: a\r\n\r\n';
    for (const step of [0, 1, 2, 7]) {
      const ms = parse('request', input, step);
      assert.deepEqual(
        ms.map((m) => [m.head.method, m.head.target, m.body]),
        [
          ['POST', '/p', 'hello world'],
          ['GET', '/q', ''],
        ],
        `step ${step}`,
      );
    }
  });

  test('a chunked body with extensions and trailers, fed whole and byte by byte', () => {
    for (const step of [0, 1, 3]) {
      const ms = parse('request', CHUNKED_REQUEST, step);
      assert.equal(ms.length, 2, `step ${step}`);
      assert.equal(ms[0]!.head.chunked, true);
      assert.equal(ms[0]!.body, 'hello, world');
      assert.deepEqual(ms[0]!.trailers, ['x-checksum', 'abc', 'x-other', 'two']);
      assert.equal(ms[1]!.head.target, '/next');
    }
  });

  test('a chunked body without trailers ends with its last chunk', () => {
    const [m] = parse(
      'request',
      'PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n',
      1,
    );
    assert.equal(m!.body, '0123456789');
    assert.equal(m!.trailers, undefined);
  });

  test('Connection semantics: HTTP/1.0 closes unless keep-alive; close; upgrade with an Upgrade header', () => {
    assert.equal(parse('request', 'GET / HTTP/1.0\r\n\r\n')[0]!.head.keepAlive, false);
    assert.equal(parse('request', 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')[0]!.head.keepAlive, true);
    assert.equal(parse('request', 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n')[0]!.head.keepAlive, false);
    const up = parse('request', 'GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n\r\n');
    assert.equal(up[0]!.head.upgrade, 'websocket');
    assert.equal(parse('request', 'GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n')[0]!.head.upgrade, undefined);
  });

  test('identical Content-Length values (repeated or listed) count as one', () => {
    const [m] = parse('request', 'POST / HTTP/1.1\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc');
    assert.equal(m!.head.contentLength, 3);
    assert.equal(m!.body, 'abc');
  });

  test('pause() in a callback stops execute() there; the rest is fed again after resume()', () => {
    const seen: string[] = [];
    const parser: Http1Parser = new Http1Parser('request', {
      onHead: (h) => seen.push(h.target),
      onBody: () => undefined,
      onEnd: () => parser.pause(),
    });
    const data = Buffer.from('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n');
    const first = parser.execute(data);
    assert.equal(first, 19);
    assert.deepEqual(seen, ['/1']);
    assert.equal(parser.idle, true);
    parser.resume();
    assert.equal(parser.execute(data.subarray(first)), data.length - first);
    assert.deepEqual(seen, ['/1', '/2']);
  });

  const malformed: [string, string, string, number][] = [
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: a\n\n\r\n\r\n', 'INVALID_VERSION', 400],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nX-A: 1\r\n  2\r\n\r\n', 'INVALID_HEADER', 400],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 'INVALID_HEADER', 400],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 'INVALID_HEADER', 400],
    ['a control character in a value', 'GET / HTTP/1.1\r\nX-A: a\u0000b\r\n\r\n', 'INVALID_HEADER', 400],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n', 'INVALID_HEADER', 400],
    ['a method with a bad character', 'G(T / HTTP/1.1\r\n\r\n', 'INVALID_METHOD', 400],
    ['a request line with two spaces', 'GET  / HTTP/1.1\r\n\r\n', 'INVALID_REQUEST_LINE', 400],
    ['a request line without a version', 'GET /\r\n\r\n', 'INVALID_REQUEST_LINE', 400],
    ['a target with a control character', 'GET /a\u0001b HTTP/1.1\r\n\r\n', 'INVALID_TARGET', 400],
    ['a malformed version', 'GET / HTTP/1.x\r\n\r\n', 'INVALID_VERSION', 400],
    ['lowercase protocol name', 'GET / http/1.1\r\n\r\n', 'INVALID_VERSION', 400],
    ['HTTP/2.0 in an HTTP/1 request line', 'GET / HTTP/2.0\r\n\r\n', 'INVALID_VERSION', 400],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 'INVALID_VERSION', 400],
    ['a lowercase method', 'get / HTTP/1.1\r\n\r\n', 'INVALID_METHOD', 400],
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      'INVALID_TRANSFER_ENCODING',
      400,
    ],
    [
      'Transfer-Encoding not ending in chunked',
      'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
      'INVALID_TRANSFER_ENCODING',
      400,
    ],
    [
      'chunked applied twice',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
      'INVALID_TRANSFER_ENCODING',
      501,
    ],
    [
      'conflicting Content-Length values',
      'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n',
      'INVALID_CONTENT_LENGTH',
      400,
    ],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
    ['an empty Content-Length', 'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n', 'INVALID_CONTENT_LENGTH', 400],
    [
      'a huge Content-Length',
      'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n',
      'INVALID_CONTENT_LENGTH',
      400,
    ],
    ['a non-hex chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'INVALID_CHUNK', 400],
    [
      'an overflowing chunk size',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n',
      'INVALID_CHUNK',
      400,
    ],
    [
      'a chunk size followed by junk',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n',
      'INVALID_CHUNK',
      400,
    ],
    [
      'chunk data longer than its size',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n',
      'INVALID_CHUNK',
      400,
    ],
    [
      'a chunk size line ending in a bare LF',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n',
      'INVALID_CHUNK',
      400,
    ],
    [
      'a malformed trailer',
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n',
      'INVALID_HEADER',
      400,
    ],
    ['a head cut short by the end of input', 'GET / HTTP/1.1\r\nHost: a\r\n', 'INCOMPLETE', 400],
    ['a body cut short by the end of input', 'POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc', 'INCOMPLETE', 400],
  ];
  for (const [name, input, code, status] of malformed) {
    test(`refused: ${name} (${code}, ${status})`, () => {
      const error = parseError('request', input);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
    });
  }

  test('a header section over the limit is a 431, whether it arrives whole or in pieces', () => {
    const big = `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`;
    for (const step of [0, 1000]) {
      const parser = new Http1Parser('request', {
        onHead: () => undefined,
        onBody: () => undefined,
        onEnd: () => undefined,
      });
      const data = Buffer.from(big);
      assert.throws(
        () => {
          for (let i = 0; i < data.length; i += step || data.length)
            parser.execute(data.subarray(i, i + (step || data.length)));
        },
        (e: unknown) => e instanceof HttpParseError && e.status === 431,
      );
    }
    const small = new Http1Parser(
      'request',
      { onHead: () => undefined, onBody: () => undefined, onEnd: () => undefined },
      { maxHeadBytes: 100 },
    );
    assert.throws(() => small.execute(Buffer.from(`GET / HTTP/1.1\r\nX: ${'b'.repeat(100)}\r\n\r\n`)), { status: 431 });
  });
});

describe('Http1Parser: responses', () => {
  test('status, reason, headers and a Content-Length body; keep-alive', () => {
    const [m] = parse('response', 'HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok');
    assert.equal(m!.head.status, 201);
    assert.equal(m!.head.reason, 'Created');
    assert.deepEqual(m!.head.headers, ['content-length', '2', 'x-a', 'b']);
    assert.equal(m!.body, 'ok');
    assert.equal(m!.head.keepAlive, true);
  });

  test('an empty reason phrase, with or without the space', () => {
    assert.equal(parse('response', 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n')[0]!.head.reason, '');
    assert.equal(parse('response', 'HTTP/1.1 204\r\n\r\n')[0]!.head.status, 204);
  });

  test('no body for HEAD, 204 and 304, whatever the headers say', () => {
    const input =
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
    const ms = parse('response', input, 0, ['HEAD', 'GET', 'GET', 'GET']);
    assert.deepEqual(
      ms.map((m) => [m.head.status, m.body]),
      [
        [200, ''],
        [204, ''],
        [304, ''],
        [200, 'abc'],
      ],
    );
  });

  test('a 100 Continue is a message of its own, followed by the final response', () => {
    const ms = parse('response', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx', 1);
    assert.deepEqual(
      ms.map((m) => [m.head.status, m.body]),
      [
        [100, ''],
        [200, 'x'],
      ],
    );
  });

  test('without a length, the body runs to the end of the connection, which then closes', () => {
    const [m] = parse('response', 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nall of this', 4);
    assert.equal(m!.body, 'all of this');
    assert.equal(m!.head.keepAlive, false);
  });

  test('a chunked response with trailers', () => {
    const [m] = parse(
      'response',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n',
      2,
    );
    assert.equal(m!.body, 'abc');
    assert.deepEqual(m!.trailers, ['grpc-status', '0']);
  });

  test('101 Switching Protocols (and a CONNECT 200) hand the connection over: the parser pauses after the head', () => {
    for (const [method, input] of [
      ['GET', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
      ['CONNECT', 'HTTP/1.1 200 OK\r\n\r\n'],
    ] as const) {
      const events: string[] = [];
      const parser = new Http1Parser('response', {
        onHead: (h) => events.push(`head ${h.status}`),
        onBody: () => events.push('body'),
        onEnd: () => events.push('end'),
      });
      parser.setRequestMethod(method);
      const data = Buffer.from(`${input}raw tunnel bytes`);
      assert.equal(parser.execute(data), input.length);
      assert.deepEqual(events, [`head ${method === 'GET' ? 101 : 200}`, 'end']);
      assert.equal(parser.upgraded, true);
      parser.finish();
    }
  });

  test('malformed responses are refused', () => {
    for (const input of [
      'HTTP/1.1 2000 OK\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'HTTP/1.1 abc OK\r\n\r\n',
      'HTTP/1.1 099 Low\r\n\r\n',
      'HTTP/1.1200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n',
      'ICY 200 OK\r\n\r\n',
    ]) {
      assert.ok(parseError('response', input) instanceof HttpParseError, input);
    }
  });
});
