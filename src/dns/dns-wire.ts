/**
 * The small part of the DNS wire format (RFC 1035 §4) the responder needs: read a query's header
 * and single question (following compression pointers), and write answers for it (A/AAAA records,
 * NXDOMAIN, REFUSED, FORMERR, …). Parsing never throws on hostile input: it returns a result.
 */

/** Record types the responder answers (RFC 1035 §3.2.2, RFC 3596). */
export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

/** Response codes (RFC 1035 §4.1.1). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** Largest query the responder reads; a bigger one is answered FORMERR (RFC 8020-era EDNS size). */
export const MAX_QUERY_BYTES = 1232;
/** Classic UDP answer limit without EDNS (RFC 1035 §4.2.1); longer answers are truncated (TC). */
export const MAX_UDP_ANSWER_BYTES = 512;
const HEADER_BYTES = 12;
const MAX_NAME_BYTES = 255;
const MAX_POINTER_HOPS = 16;

/** A parsed query: what the responder needs to answer it. */
export interface DnsQuery {
  id: number;
  /** Header flags of the query (opcode, RD are echoed). */
  flags: number;
  opcode: number;
  /** Lower-cased name without the trailing dot (`""` for the root). */
  name: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question: bytes `[12, questionEnd)` are echoed in the answer. */
  questionEnd: number;
}

/** Why a message could not be read as a query; `id` is set when the header was readable. */
export interface DnsParseFailure {
  error: 'short' | 'not-a-query' | 'oversized' | 'question-count' | 'bad-name' | 'truncated';
  id?: number;
  flags?: number;
}

export type DnsParseResult = { ok: true; query: DnsQuery } | ({ ok: false } & DnsParseFailure);

/**
 * Reads a query: header, exactly one question; answers, authority and additional sections are
 * ignored (an EDNS OPT record is fine). Names may use compression pointers (RFC 1035 §4.1.4).
 */
export function parseDnsQuery(msg: Uint8Array): DnsParseResult {
  if (msg.length < HEADER_BYTES) return { ok: false, error: 'short' };
  const id = (msg[0]! << 8) | msg[1]!;
  const flags = (msg[2]! << 8) | msg[3]!;
  if ((flags & 0x8000) !== 0) return { ok: false, error: 'not-a-query', id, flags };
  if (msg.length > MAX_QUERY_BYTES) return { ok: false, error: 'oversized', id, flags };
  const qdcount = (msg[4]! << 8) | msg[5]!;
  if (qdcount !== 1) return { ok: false, error: 'question-count', id, flags };
  const read = readName(msg, HEADER_BYTES);
  if (read === undefined) return { ok: false, error: 'bad-name', id, flags };
  const at = read.end;
  if (at + 4 > msg.length) return { ok: false, error: 'truncated', id, flags };
  return {
    ok: true,
    query: {
      id,
      flags,
      opcode: (flags >> 11) & 0xf,
      name: read.name,
      qtype: (msg[at]! << 8) | msg[at + 1]!,
      qclass: (msg[at + 2]! << 8) | msg[at + 3]!,
      questionEnd: at + 4,
    },
  };
}

/**
 * Reads a (possibly compressed) name at `offset`; returns it lower-cased and the offset after its
 * in-place bytes. Undefined for anything malformed: labels over 63, names over 255, pointer loops,
 * reserved label types, or running past the end.
 */
export function readName(
  msg: Uint8Array,
  offset: number,
): { name: string; end: number } | undefined {
  let name = '';
  let total = 0;
  let at = offset;
  let end = -1;
  let hops = 0;
  for (;;) {
    if (at >= msg.length) return undefined;
    const len = msg[at]!;
    if (len === 0) {
      if (end < 0) end = at + 1;
      return { name, end };
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (at + 1 >= msg.length || ++hops > MAX_POINTER_HOPS) return undefined;
      const target = ((len & 0x3f) << 8) | msg[at + 1]!;
      // Pointers must point backwards (RFC 1035 §4.1.4 "prior occurrence"): no loops possible.
      if (target >= at) return undefined;
      if (end < 0) end = at + 2;
      at = target;
      continue;
    }
    if (kind !== 0) return undefined; // 0x40/0x80 label types are reserved
    if (at + 1 + len > msg.length) return undefined;
    total += len + 1;
    if (total + 1 > MAX_NAME_BYTES) return undefined;
    const label = readLabel(msg, at + 1, at + 1 + len);
    name = name === '' ? label : `${name}.${label}`;
    at += len + 1;
  }
}

/**
 * One label, lower-cased (ASCII case-insensitive, RFC 4343). Dots or odd bytes inside a label are
 * escaped (`\\046`) so such a label can never match a service name.
 */
function readLabel(msg: Uint8Array, from: number, to: number): string {
  let plain = true;
  for (let i = from; i < to; i++) {
    const c = msg[i]!;
    if (c === 0x2e || c < 0x21 || c > 0x7e) {
      plain = false;
      break;
    }
  }
  if (plain)
    return String.fromCharCode
      .apply(null, msg.subarray(from, to) as unknown as number[])
      .toLowerCase();
  let label = '';
  for (let i = from; i < to; i++) {
    let c = msg[i]!;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    label +=
      c === 0x2e || c < 0x21 || c > 0x7e
        ? `\\${c.toString().padStart(3, '0')}`
        : String.fromCharCode(c);
  }
  return label;
}

/** Writes a name uncompressed (for forwarded queries' tests and answers' own names). */
export function encodeName(name: string): Buffer {
  const labels = name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length === 0 || b.length > 63) throw new RangeError(`bad DNS label in ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Builds a query message (tests, the bench, and forwarding checks). */
export function encodeQuery(id: number, name: string, qtype: number, recursion = true): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(recursion ? 0x0100 : 0, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(qtype, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

/**
 * One precomputed resource record whose owner is the question name (pointer 0xC00C): type, class,
 * TTL, rdata. Built once per snapshot; an answer copies these bytes.
 */
export function encodeAnswerRecord(qtype: number, ttl: number, rdata: Uint8Array): Buffer {
  const rr = Buffer.alloc(12 + rdata.length);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(qtype, 2);
  rr.writeUInt16BE(CLASS_IN, 4);
  rr.writeUInt32BE(ttl >>> 0, 6);
  rr.writeUInt16BE(rdata.length, 10);
  rr.set(rdata, 12);
  return rr;
}

/**
 * An answer to `query`: the header (ID, opcode and RD echoed; QR, AA set), the question copied as
 * sent (keeping the client's letter case, RFC 4343), then `records`. When `maxBytes` is exceeded
 * the answer section is cut and TC is set so the client retries over TCP (RFC 1035 §4.2.1).
 */
export function encodeAnswer(
  msg: Uint8Array,
  query: DnsQuery,
  rcode: number,
  records: readonly Uint8Array[],
  maxBytes = 65535,
  authoritative = true,
): Buffer {
  let size = query.questionEnd;
  let count = 0;
  let truncated = false;
  for (const r of records) {
    if (size + r.length > maxBytes) {
      truncated = true;
      break;
    }
    size += r.length;
    count++;
  }
  const out = Buffer.allocUnsafe(size);
  out.set(msg.subarray(0, query.questionEnd), 0);
  // QR=1, opcode echoed, AA, TC, RD echoed, RA=0, rcode.
  let flags = 0x8000 | (query.flags & 0x7900) | (rcode & 0xf);
  if (authoritative) flags |= 0x0400;
  if (truncated) flags |= 0x0200;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(count, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  let at = query.questionEnd;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/**
 * A header-only error answer (FORMERR for an unreadable question, NOTIMP …) to a message whose
 * header could be read: no question is echoed, since it may be the malformed part.
 */
export function encodeHeaderOnly(id: number, flags: number, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt16BE(id & 0xffff, 0);
  out.writeUInt16BE(0x8000 | (flags & 0x7900) | (rcode & 0xf), 2);
  return out;
}

/** The rcode of an answer message (tests, forwarding). */
export function answerRcode(msg: Uint8Array): number {
  return msg.length >= 4 ? msg[3]! & 0xf : -1;
}
