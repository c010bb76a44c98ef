import { isDroppedResponseHeader } from '../header-rules.js';
import { FIELD_VALUE, TOKEN, UPPER } from './char-tables.js';

/** Most header lines accepted from a target before its answer counts as a protocol error. */
export const MAX_RESPONSE_HEADERS = 256;

/** How the response body is framed (RFC 9112 §6.3). */
export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
export const BODY_UNTIL_CLOSE = 3;

/**
 * A target's response head, parsed in place: status, framing, and each header line's offsets so
 * the kept lines are copied to the client byte for byte.
 */
export class ResponseHead {
  buf: Buffer = Buffer.alloc(0);
  end = 0;
  status = 0;
  /** Offset of the status code: the client's status line is `HTTP/1.1 ` + buf[statusAt, linesStart). */
  statusAt = 0;
  linesStart = 0;
  count = 0;
  readonly lineStart = new Int32Array(MAX_RESPONSE_HEADERS);
  readonly lineEnd = new Int32Array(MAX_RESPONSE_HEADERS);
  /** 1 when the line does not go to the client (hop-by-hop, `x-amzn-requestid`). */
  readonly drop = new Uint8Array(MAX_RESPONSE_HEADERS);
  bodyKind = BODY_UNTIL_CLOSE;
  contentLength = -1;
  /** The target will close, or spoke HTTP/1.0 without keep-alive: the connection is not reused. */
  close = false;
}

/**
 * Parses `buf[0, end)`, a complete response head (`end` just past its empty line). Returns false
 * for anything that is not a usable HTTP/1.x answer (the caller answers 502 TargetProtocolError).
 */
export function parseResponseHead(
  buf: Buffer,
  end: number,
  isHeadRequest: boolean,
  head: ResponseHead,
): boolean {
  head.buf = buf;
  head.end = end;
  head.count = 0;
  head.contentLength = -1;
  head.close = false;
  // "HTTP/1.x SP 3DIGIT [SP reason] CRLF"
  if (
    buf[0] !== 72 ||
    buf[1] !== 84 ||
    buf[2] !== 84 ||
    buf[3] !== 80 ||
    buf[4] !== 47 ||
    buf[5] !== 49 ||
    buf[6] !== 46 ||
    (buf[7] !== 49 && buf[7] !== 48) ||
    buf[8] !== 32
  )
    return false;
  const http10 = buf[7] === 48;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return false;
    status = status * 10 + d;
  }
  if (status < 100) return false;
  head.status = status;
  head.statusAt = 9;
  let i = 12;
  if (buf[i] === 32) {
    i++;
    while (FIELD_VALUE[buf[i]!] === 1) i++;
  }
  if (buf[i] !== 13 || buf[i + 1] !== 10) return false;
  i += 2;
  head.linesStart = i;
  let keepAlive = !http10;
  let chunked = false;
  let otherCoding = false;
  const last = end - 2;
  let count = 0;
  while (i < last) {
    if (count === MAX_RESPONSE_HEADERS) return false;
    const ns = i;
    let upper = 0;
    while (TOKEN[buf[i]!] === 1) upper |= UPPER[buf[i++]!]!;
    if (i === ns || buf[i] !== 58) return false;
    const ne = i;
    let vs = i + 1;
    while (buf[vs] === 32 || buf[vs] === 9) vs++;
    let k = vs;
    while (FIELD_VALUE[buf[k]!] === 1) k++;
    if (buf[k] !== 13 || buf[k + 1] !== 10) return false;
    let ve = k;
    while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    head.lineStart[count] = ns;
    head.lineEnd[count] = k + 2;
    i = k + 2;
    const raw = buf.toString('latin1', ns, ne);
    const lower = upper === 0 ? raw : raw.toLowerCase();
    head.drop[count] = isDroppedResponseHeader(lower) ? 1 : 0;
    count++;
    if (lower === 'content-length') {
      if (ve === vs || ve - vs > 15) return false;
      let n = 0;
      for (let p = vs; p < ve; p++) {
        const d = buf[p]! - 48;
        if (d < 0 || d > 9) return false;
        n = n * 10 + d;
      }
      if (head.contentLength >= 0 && head.contentLength !== n) return false;
      head.contentLength = n;
    } else if (lower === 'transfer-encoding') {
      const value = buf.toString('latin1', vs, ve).toLowerCase();
      const comma = value.lastIndexOf(',');
      const final = (comma < 0 ? value : value.slice(comma + 1)).trim();
      if (final === 'chunked') chunked = true;
      else otherCoding = true;
      if (comma >= 0) otherCoding = true;
    } else if (lower === 'connection') {
      const value = buf.toString('latin1', vs, ve).toLowerCase();
      if (value.includes('close')) keepAlive = false;
      else if (http10 && value.includes('keep-alive')) keepAlive = true;
    }
  }
  head.count = count;
  head.close = !keepAlive;
  if (isHeadRequest || status < 200 || status === 204 || status === 304) {
    head.bodyKind = BODY_NONE;
  } else if (chunked && !otherCoding) {
    head.bodyKind = BODY_CHUNKED;
    // RFC 9112 §6.3: Content-Length is ignored beside chunked; keep it from the client.
    if (head.contentLength >= 0) dropNamed(head, 'content-length');
    head.contentLength = -1;
  } else if (chunked || otherCoding) {
    head.bodyKind = BODY_UNTIL_CLOSE;
    head.close = true;
    if (head.contentLength >= 0) dropNamed(head, 'content-length');
    head.contentLength = -1;
  } else if (head.contentLength >= 0) {
    head.bodyKind = head.contentLength === 0 ? BODY_NONE : BODY_LENGTH;
  } else {
    head.bodyKind = BODY_UNTIL_CLOSE;
    head.close = true;
  }
  return true;
}

function dropNamed(head: ResponseHead, lower: string): void {
  const buf = head.buf;
  for (let h = 0; h < head.count; h++) {
    const s = head.lineStart[h]!;
    if (buf.toString('latin1', s, s + lower.length + 1).toLowerCase() === `${lower}:`)
      head.drop[h] = 1;
  }
}
