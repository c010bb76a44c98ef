import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ChunkedScanner } from './chunked-scanner.js';

function encode(chunks: Buffer[], trailers: string[], ext: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) {
    if (c.length === 0) continue;
    parts.push(
      Buffer.from(`${c.length.toString(16)}${ext ? ';a=b' : ''}\r\n`),
      c,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

/** Feeds `bytes` in pieces; returns where the body ended (or -1) and whether framing failed. */
function scanIn(bytes: Buffer, cuts: number[]): { end: number; error: boolean } {
  const s = new ChunkedScanner();
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1))), bytes.length].sort(
    (a, b) => a - b,
  );
  let prev = 0;
  for (const p of points) {
    const at = s.scan(bytes, prev, p);
    if (s.error) return { end: -1, error: true };
    if (s.done) return { end: at, error: false };
    prev = p;
  }
  return { end: -1, error: false };
}

describe('chunked body scanner (RFC 9112 §7.1)', () => {
  it('finds the end of any chunked body, however it is split (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        fc.array(fc.constantFrom('x-t: 1', 'checksum: abc'), { maxLength: 2 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        (chunks, trailers, ext, cuts) => {
          const body = encode(
            chunks.map((c) => Buffer.from(c)),
            trailers,
            ext,
          );
          const next = Buffer.from('GET /next HTTP/1.1\r\n\r\n');
          const stream = Buffer.concat([body, next]);
          assert.deepEqual(scanIn(stream, cuts), { end: body.length, error: false });
        },
      ),
      { numRuns: 300 },
    );
  });

  const bad: [string, string][] = [
    ['no size', '\r\n'],
    ['non-hex size', 'zz\r\n'],
    ['bare LF after size', '3\nabc\r\n0\r\n\r\n'],
    ['missing CRLF after data', '3\r\nabcd\r\n0\r\n\r\n'],
    ['oversized size', 'fffffffffffffffff\r\n'],
    ['control byte in extension', '3;\u0001\r\nabc\r\n'],
  ];
  for (const [name, text] of bad) {
    it(`${name} is a framing error`, () => {
      assert.equal(scanIn(Buffer.from(text, 'latin1'), []).error, true);
    });
  }

  it('never throws on garbage (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (b, cuts) => {
          const whole = scanIn(Buffer.from(b), []);
          assert.deepEqual(scanIn(Buffer.from(b), cuts), whole);
        },
      ),
      { numRuns: 500 },
    );
  });
});
