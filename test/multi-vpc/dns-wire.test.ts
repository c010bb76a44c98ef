/** The DNS wire format: query parsing (property-based) and answer encoding. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  MAX_QUERY_BYTES,
  RCODE,
  TYPE_A,
  TYPE_AAAA,
  answerRcode,
  encodeAnswer,
  encodeAnswerRecord,
  encodeQuery,
  parseDnsQuery,
  readName,
} from '../../src/dns/dns-wire.js';

const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,20}$/);
const dnsName = fc.array(label, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('.'));

test('parseDnsQuery never throws and never reads past the message', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
      const r = parseDnsQuery(bytes);
      if (r.ok) assert.ok(r.query.questionEnd <= bytes.length);
    }),
    { numRuns: 5000 },
  );
});

test('parseDnsQuery survives mutations of valid queries', () => {
  fc.assert(
    fc.property(
      dnsName,
      fc.nat(0xffff),
      fc.array(fc.tuple(fc.nat(200), fc.nat(255))),
      (name, id, edits) => {
        const q = encodeQuery(id, name, TYPE_A);
        for (const [at, v] of edits) if (at < q.length) q[at] = v;
        const r = parseDnsQuery(q);
        if (r.ok) assert.ok(r.query.questionEnd <= q.length);
      },
    ),
    { numRuns: 3000 },
  );
});

test('a query round-trips: id, lower-cased name, type', () => {
  fc.assert(
    fc.property(
      dnsName,
      fc.nat(0xffff),
      fc.constantFrom(TYPE_A, TYPE_AAAA, 16),
      (name, id, type) => {
        const r = parseDnsQuery(encodeQuery(id, name, type));
        assert.ok(r.ok);
        assert.equal(r.query.id, id);
        assert.equal(r.query.name, name.toLowerCase());
        assert.equal(r.query.qtype, type);
        assert.equal(r.query.qclass, 1);
        assert.equal(r.query.opcode, 0);
      },
    ),
  );
});

test('names: compression pointers are followed backwards only; malformed names are rejected', () => {
  // "example.com" at 0, then "www" + pointer to 0 at 13.
  const msg = Buffer.from([
    7,
    ...Buffer.from('example'),
    3,
    ...Buffer.from('com'),
    0,
    3,
    ...Buffer.from('WWW'),
    0xc0,
    0,
  ]);
  assert.deepEqual(readName(msg, 13), { name: 'www.example.com', end: 19 });
  const table: [string, number[], number][] = [
    ['pointer to itself', [0xc0, 0], 0],
    ['forward pointer', [0xc0, 2, 0], 0],
    ['reserved label type 0x40', [0x41, 0x61, 0], 0],
    ['label runs past the end', [5, 0x61], 0],
    ['missing terminator', [1, 0x61], 0],
    ['truncated pointer', [0xc0], 0],
  ];
  for (const [why, bytes, at] of table)
    assert.equal(readName(Buffer.from(bytes), at), undefined, why);
  const long = Buffer.concat([
    ...Array.from({ length: 5 }, () => Buffer.from([63, ...Buffer.alloc(63, 0x61)])),
    Buffer.from([0]),
  ]);
  assert.equal(readName(long, 0), undefined, 'a name over 255 bytes');
  const dotted = Buffer.from([3, 0x61, 0x2e, 0x62, 0]);
  assert.equal(readName(dotted, 0)?.name, 'a\\046b', 'a dot inside a label is escaped');
});

test('parse failures say why, with the id when the header is readable', () => {
  const q = encodeQuery(0x1234, 'a.example', TYPE_A);
  const table: [string, Buffer, string, boolean][] = [
    ['short', Buffer.alloc(5), 'short', false],
    ['response', Buffer.from([0x12, 0x34, 0x80, 0, ...q.subarray(4)]), 'not-a-query', true],
    [
      'two questions',
      Buffer.from([...q.subarray(0, 4), 0, 2, ...q.subarray(6)]),
      'question-count',
      true,
    ],
    ['oversized', Buffer.concat([q, Buffer.alloc(MAX_QUERY_BYTES)]), 'oversized', true],
    ['no qtype', q.subarray(0, q.length - 3), 'truncated', true],
  ];
  for (const [why, bytes, error, hasId] of table) {
    const r = parseDnsQuery(bytes);
    assert.equal(r.ok, false, why);
    if (!r.ok) {
      assert.equal(r.error, error, why);
      assert.equal(r.id, hasId ? 0x1234 : undefined, why);
    }
  }
});

test('encodeAnswer echoes the question as sent, sets AA, and truncates with TC', () => {
  const q = encodeQuery(7, 'Svc.Example', TYPE_A);
  const r = parseDnsQuery(q);
  assert.ok(r.ok);
  const rr = encodeAnswerRecord(TYPE_A, 60, Uint8Array.from([127, 0, 0, 1]));
  const out = encodeAnswer(q, r.query, RCODE.NOERROR, [rr, rr]);
  assert.equal(out.readUInt16BE(0), 7);
  assert.equal(out.readUInt16BE(2) & 0x8400, 0x8400, 'QR and AA');
  assert.equal(out.readUInt16BE(6), 2);
  assert.equal(
    out.subarray(12, r.query.questionEnd).toString('latin1'),
    q.subarray(12).toString('latin1'),
  );
  const cut = encodeAnswer(q, r.query, RCODE.NOERROR, [rr, rr], r.query.questionEnd + rr.length);
  assert.equal(cut.readUInt16BE(6), 1);
  assert.equal(cut.readUInt16BE(2) & 0x0200, 0x0200, 'TC');
  assert.equal(answerRcode(encodeAnswer(q, r.query, RCODE.NXDOMAIN, [])), RCODE.NXDOMAIN);
});
