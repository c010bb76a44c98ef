import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  findHeadEnd,
  HEAD_BAD,
  HEAD_FALLBACK,
  HEAD_OK,
  HEAD_TOO_MANY,
  parseRequestHead,
  RequestHead,
  SCAN_FALLBACK,
  SCAN_INCOMPLETE,
} from './request-head.js';

/** What a connection does with bytes: scan for the end of the head as chunks arrive, then parse. */
function verdictOf(chunks: Buffer[]): { verdict: string; fields?: Record<string, unknown> } {
  let buf = Buffer.alloc(0);
  let from = 0;
  for (const c of chunks) {
    buf = Buffer.concat([buf, c]);
    const end = findHeadEnd(buf, from, buf.length);
    if (end === SCAN_INCOMPLETE) {
      from = buf.length;
      continue;
    }
    if (end === SCAN_FALLBACK) return { verdict: 'scan-fallback' };
    const head = new RequestHead();
    const v = parseRequestHead(buf, end, head);
    const names = ['ok', 'bad', 'too-many', 'fallback'];
    return {
      verdict: names[v]!,
      fields:
        v === HEAD_OK
          ? {
              end,
              method: head.method,
              url: head.url,
              host: head.host,
              contentLength: head.contentLength,
              chunked: head.chunked,
              close: head.close,
              count: head.count,
              drop: [...head.drop.subarray(0, head.count)],
              map: head.headerMap(),
            }
          : undefined,
    };
  }
  return { verdict: 'incomplete' };
}

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

describe('request head parser (RFC 9112, spec §6)', () => {
  const cases: { name: string; bytes: string; want: number }[] = [
    { name: 'plain GET', bytes: head(['GET /a?b=1 HTTP/1.1', 'Host: x']), want: HEAD_OK },
    { name: 'no headers', bytes: head(['GET / HTTP/1.1']), want: HEAD_OK },
    {
      name: 'chunked POST',
      bytes: head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']),
      want: HEAD_OK,
    },
    {
      name: 'obs-fold',
      bytes: head(['GET / HTTP/1.1', 'Host: x', 'X-A: 1', ' folded']),
      want: HEAD_BAD,
    },
    { name: 'bare CR in a value', bytes: head(['GET / HTTP/1.1', 'X-A: 1\r2']), want: HEAD_BAD },
    { name: 'NUL in a value', bytes: head(['GET / HTTP/1.1', 'X-A: 1\u00002']), want: HEAD_BAD },
    { name: 'space before colon', bytes: head(['GET / HTTP/1.1', 'Host : x']), want: HEAD_BAD },
    { name: 'bad name byte', bytes: head(['GET / HTTP/1.1', 'X(A): 1']), want: HEAD_BAD },
    { name: 'empty name', bytes: head(['GET / HTTP/1.1', ': 1']), want: HEAD_BAD },
    {
      name: 'duplicate Content-Length',
      bytes: head(['POST / HTTP/1.1', 'Content-Length: 1', 'Content-Length: 1']),
      want: HEAD_BAD,
    },
    {
      name: 'Content-Length list',
      bytes: head(['POST / HTTP/1.1', 'Content-Length: 1, 1']),
      want: HEAD_BAD,
    },
    {
      name: 'signed Content-Length',
      bytes: head(['POST / HTTP/1.1', 'Content-Length: +1']),
      want: HEAD_BAD,
    },
    {
      name: 'CL and TE',
      bytes: head(['POST / HTTP/1.1', 'Content-Length: 3', 'Transfer-Encoding: chunked']),
      want: HEAD_BAD,
    },
    {
      name: 'TE gzip',
      bytes: head(['POST / HTTP/1.1', 'Transfer-Encoding: gzip']),
      want: HEAD_BAD,
    },
    {
      name: 'TE chunked, gzip',
      bytes: head(['POST / HTTP/1.1', 'Transfer-Encoding: chunked, gzip']),
      want: HEAD_BAD,
    },
    {
      name: 'TE xchunked',
      bytes: head(['POST / HTTP/1.1', 'Transfer-Encoding: xchunked']),
      want: HEAD_BAD,
    },
    {
      name: 'TE gzip, chunked (node:http decides)',
      bytes: head(['POST / HTTP/1.1', 'Transfer-Encoding: gzip, chunked']),
      want: HEAD_FALLBACK,
    },
    {
      name: '101 headers',
      bytes: head(['GET / HTTP/1.1', ...Array.from({ length: 101 }, (_, i) => `x-${i}: v`)]),
      want: HEAD_TOO_MANY,
    },
    {
      name: '100 headers',
      bytes: head(['GET / HTTP/1.1', ...Array.from({ length: 100 }, (_, i) => `x-${i}: v`)]),
      want: HEAD_OK,
    },
    { name: 'HTTP/1.0', bytes: head(['GET / HTTP/1.0', 'Host: x']), want: HEAD_FALLBACK },
    { name: 'HTTP/2 preface', bytes: head(['PRI * HTTP/2.0']), want: HEAD_FALLBACK },
    { name: 'version garbage', bytes: head(['GET / HTTP/x.y']), want: HEAD_BAD },
    { name: 'no version', bytes: head(['GET /']), want: HEAD_BAD },
    { name: 'Upgrade', bytes: head(['GET / HTTP/1.1', 'Upgrade: websocket']), want: HEAD_FALLBACK },
    {
      name: 'Connection: upgrade',
      bytes: head(['GET / HTTP/1.1', 'Connection: Upgrade']),
      want: HEAD_FALLBACK,
    },
    {
      name: 'Expect',
      bytes: head(['POST / HTTP/1.1', 'Expect: 100-continue', 'Content-Length: 1']),
      want: HEAD_FALLBACK,
    },
    { name: 'uncommon method', bytes: head(['PROPFIND / HTTP/1.1']), want: HEAD_FALLBACK },
    {
      name: 'two Hosts',
      bytes: head(['GET / HTTP/1.1', 'Host: a', 'Host: b']),
      want: HEAD_FALLBACK,
    },
    { name: 'UTF-8 in the target', bytes: head(['GET /é HTTP/1.1']), want: HEAD_FALLBACK },
    { name: 'control byte in the target', bytes: head(['GET /\u0001 HTTP/1.1']), want: HEAD_BAD },
  ];
  for (const tc of cases) {
    it(`${tc.name} → ${['ok', 'bad', 'too many', 'fallback'][tc.want]}`, () => {
      const buf = Buffer.from(tc.bytes, 'latin1');
      const end = findHeadEnd(buf, 0, buf.length);
      assert.equal(end, buf.length);
      assert.equal(parseRequestHead(buf, end, new RequestHead()), tc.want);
    });
  }

  it('a bare LF line ending, or a head starting with an empty line, goes to node:http', () => {
    for (const bytes of ['GET / HTTP/1.1\nHost: x\n\n', '\r\nGET / HTTP/1.1\r\n\r\n']) {
      const buf = Buffer.from(bytes);
      assert.equal(findHeadEnd(buf, 0, buf.length), SCAN_FALLBACK);
    }
  });

  it('reads the fields the data plane acts on, and marks hop-by-hop and forgeable lines', () => {
    const buf = Buffer.from(
      head([
        'POST /p HTTP/1.1',
        'Host: Svc.Example:80',
        'Content-Length: 12',
        'Connection: keep-alive, X-Hop',
        'X-Hop: 1',
        'x-amzn-lattice-identity: forged',
        'X-Forwarded-For: 6.6.6.6',
        'X-Multi: a',
        'x-multi: b',
        'Cookie: a=1',
        'Cookie: b=2',
        'User-Agent: ua/1',
        'x-amzn-requestid: rid',
      ]) + 'body follows',
    );
    const end = findHeadEnd(buf, 0, buf.length);
    const h = new RequestHead();
    assert.equal(parseRequestHead(buf, end, h), HEAD_OK);
    assert.equal(buf.toString('latin1', end), 'body follows');
    assert.equal(h.method, 'POST');
    assert.equal(h.host, 'Svc.Example:80');
    assert.equal(h.contentLength, 12);
    assert.equal(h.userAgent, 'ua/1');
    assert.equal(h.requestId, 'rid');
    const dropped = h.lowerNames.slice(0, h.count).filter((_, i) => h.drop[i] === 1);
    assert.deepEqual(dropped, [
      'connection',
      'x-hop',
      'x-amzn-lattice-identity',
      'x-forwarded-for',
      'x-amzn-requestid',
    ]);
    const map = h.headerMap();
    assert.equal(map['x-multi'], 'a, b');
    assert.equal(map.cookie, 'a=1; b=2');
    assert.equal(map.host, 'Svc.Example:80');
  });

  it('gives the same verdict however the bytes are split across reads (property)', () => {
    const line = fc.stringMatching(/^[A-Za-z0-9-]{1,12}: [ -~]{0,20}$/);
    const oddLine = fc.constantFrom(
      ' folded',
      'X-A: 1\r2',
      'Content-Length: 5',
      'Content-Length: 7',
      'Transfer-Encoding: chunked',
      'Transfer-Encoding: gzip',
      'Expect: 100-continue',
      'Bad Name: x',
      'Host: h',
    );
    const requestLine = fc.constantFrom(
      'GET / HTTP/1.1',
      'POST /x?y HTTP/1.1',
      'HEAD /h HTTP/1.1',
      'GET / HTTP/1.0',
      'BREW /pot HTTP/1.1',
      'GET  / HTTP/1.1',
    );
    fc.assert(
      fc.property(
        requestLine,
        fc.array(fc.oneof(line, oddLine), { maxLength: 12 }),
        fc.string({ maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (rl, lines, tail, cuts) => {
          const bytes = Buffer.from(head([rl, ...lines]) + tail, 'latin1');
          const whole = verdictOf([bytes]);
          assert.deepEqual(verdictOf(split(bytes, cuts)), whole);
          assert.deepEqual(
            verdictOf([...bytes].map((b) => Buffer.from([b]))),
            whole,
            'byte by byte',
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on garbage, and always ends in a verdict or waits (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (bytes, cuts) => {
          const b = Buffer.from(bytes);
          const whole = verdictOf([b]);
          assert.ok(
            ['ok', 'bad', 'too-many', 'fallback', 'scan-fallback', 'incomplete'].includes(
              whole.verdict,
            ),
          );
          assert.deepEqual(verdictOf(split(b, cuts)), whole);
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        // Printable-ish garbage behind a valid-looking request line and a terminator.
        verdictOf([Buffer.from(`GET / HTTP/1.1\r\n${text}\r\n\r\n`, 'latin1')]);
      }),
      { numRuns: 500 },
    );
  });
});
