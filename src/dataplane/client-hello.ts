/**
 * Reads the server name (SNI, RFC 6066 §3) from a TLS ClientHello without terminating TLS: what a
 * TLS_PASSTHROUGH listener routes on (spec §7.1: the custom domain is the exact SNI match). Runs
 * on every passthrough connection, so it is a bounded hand parse of RFC 8446 §4.1.2 / RFC 5246
 * §7.4.1.2 over the bytes read so far; outcomes are return values.
 */

/** More bytes are needed before the hello can be read. */
export const HELLO_INCOMPLETE = 0;
/** Not a TLS ClientHello, or a malformed one. */
export const HELLO_BAD = 1;
/** A well-formed ClientHello without a host_name server name. */
export const HELLO_NO_SNI = 2;
export type HelloProblem = typeof HELLO_INCOMPLETE | typeof HELLO_BAD | typeof HELLO_NO_SNI;

/** Largest ClientHello accepted (its handshake message, across records); real ones are < 2 KiB. */
export const MAX_CLIENT_HELLO = 16 * 1024;

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;
const MAX_HOST_NAME = 253;

/**
 * The lower-cased host name of the hello at the start of `buf`, or why there is none yet. The
 * handshake message may span several records (a large hello); at most `MAX_CLIENT_HELLO` bytes of
 * it are accepted.
 */
export function readClientHelloSni(buf: Buffer): string | HelloProblem {
  // Gather the handshake message from consecutive handshake records.
  let off = 0;
  let first: Buffer | null = null;
  let have = 0;
  let need = -1;
  const parts: Buffer[] = [];
  while (need < 0 || have < need) {
    if (buf.length - off < 5) return HELLO_INCOMPLETE;
    if (buf[off] !== RECORD_HANDSHAKE || buf[off + 1] !== 0x03) return HELLO_BAD;
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16384 + 2048) return HELLO_BAD;
    if (buf.length - off - 5 < len) return HELLO_INCOMPLETE;
    const fragment = buf.subarray(off + 5, off + 5 + len);
    off += 5 + len;
    parts.push(fragment);
    have += len;
    if (need < 0) {
      first = parts.length === 1 ? fragment : Buffer.concat(parts);
      if (first.length < 4) continue; // the message header itself spans records
      if (first[0] !== HANDSHAKE_CLIENT_HELLO) return HELLO_BAD;
      need = 4 + ((first[1]! << 16) | (first[2]! << 8) | first[3]!);
      if (need > MAX_CLIENT_HELLO) return HELLO_BAD;
    }
  }
  const message = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return readHelloBody(message.subarray(4, need));
}

/** The ClientHello body: version, random, session id, suites, compression, extensions. */
function readHelloBody(b: Buffer): string | HelloProblem {
  const end = b.length;
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > end) return HELLO_BAD;
  p += 1 + b[p]!; // legacy_session_id
  if (p + 2 > end) return HELLO_BAD;
  p += 2 + b.readUInt16BE(p); // cipher_suites
  if (p + 1 > end) return HELLO_BAD;
  p += 1 + b[p]!; // legacy_compression_methods
  if (p === end) return HELLO_NO_SNI; // no extensions at all (TLS 1.0-era hello)
  if (p + 2 > end) return HELLO_BAD;
  const extEnd = p + 2 + b.readUInt16BE(p);
  if (extEnd > end) return HELLO_BAD;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return HELLO_BAD;
    if (type === EXT_SERVER_NAME) return readServerName(b, p, p + len);
    p += len;
  }
  return p === extEnd ? HELLO_NO_SNI : HELLO_BAD;
}

/** `ServerNameList`: the first host_name entry, checked to be a plausible DNS name. */
function readServerName(b: Buffer, p: number, end: number): string | HelloProblem {
  if (p + 2 > end) return HELLO_BAD;
  const listEnd = p + 2 + b.readUInt16BE(p);
  if (listEnd > end) return HELLO_BAD;
  p += 2;
  while (p + 3 <= listEnd) {
    const type = b[p]!;
    const len = b.readUInt16BE(p + 1);
    p += 3;
    if (p + len > listEnd) return HELLO_BAD;
    if (type === NAME_TYPE_HOST) {
      if (len === 0 || len > MAX_HOST_NAME) return HELLO_BAD;
      for (let i = p; i < p + len; i++) {
        const c = b[i]!;
        // Letters, digits, '-', '.', '_' (RFC 6066: ASCII host name, no trailing dot).
        const ok =
          (c >= 0x61 && c <= 0x7a) ||
          (c >= 0x41 && c <= 0x5a) ||
          (c >= 0x30 && c <= 0x39) ||
          c === 0x2d ||
          c === 0x2e ||
          c === 0x5f;
        if (!ok) return HELLO_BAD;
      }
      return b.toString('latin1', p, p + len).toLowerCase();
    }
    p += len;
  }
  return HELLO_NO_SNI;
}
