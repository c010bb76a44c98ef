import { isDroppedRequestHeader } from '../header-rules.js';
import { FIELD_VALUE, TARGET, TOKEN, UPPER } from './char-tables.js';

/** spec §6: more than 100 request headers → 400. */
export const MAX_REQUEST_HEADERS = 100;

/** `findHeadEnd`: no end of head yet. */
export const SCAN_INCOMPLETE = -1;
/** `findHeadEnd`: a line ends in a bare LF, or the head starts with an empty line: Node decides. */
export const SCAN_FALLBACK = -2;

/** Verdicts of `parseRequestHead`. */
export const HEAD_OK = 0;
/** Malformed or ambiguous (smuggling) → 400 and close. */
export const HEAD_BAD = 1;
/** Too many headers (spec §6) → 400 and close. */
export const HEAD_TOO_MANY = 2;
/** Valid but unusual (HTTP/1.0, Upgrade, Expect, uncommon methods…): handed to node:http. */
export const HEAD_FALLBACK = 3;

export type HeadVerdict =
  typeof HEAD_OK | typeof HEAD_BAD | typeof HEAD_TOO_MANY | typeof HEAD_FALLBACK;

/**
 * Finds the end of a request head (the byte after its empty line) in `buf[0, length)`, resuming the
 * search for line feeds at `from` (where the previous call stopped). Every LF must follow a CR.
 */
export function findHeadEnd(buf: Buffer, from: number, length: number): number {
  if (length > 0 && (buf[0] === 13 || buf[0] === 10)) return SCAN_FALLBACK;
  let i = from;
  while (i < length) {
    const lf = buf.indexOf(10, i);
    if (lf < 0 || lf >= length) return SCAN_INCOMPLETE;
    if (buf[lf - 1] !== 13) return SCAN_FALLBACK;
    if (lf >= 3 && buf[lf - 2] === 10) return lf + 1; // "\r\n\r\n" (buf[lf-3] is CR, checked before)
    i = lf + 1;
  }
  return SCAN_INCOMPLETE;
}

/** The methods served on the fast path; interned, so a request allocates no method string. */
function methodOf(buf: Buffer, s: number, e: number): string | undefined {
  const n = e - s;
  const c = buf[s];
  if (n === 3) {
    if (c === 71 && buf[s + 1] === 69 && buf[s + 2] === 84) return 'GET';
    if (c === 80 && buf[s + 1] === 85 && buf[s + 2] === 84) return 'PUT';
  } else if (n === 4) {
    const m = buf.toString('latin1', s, e);
    if (m === 'POST' || m === 'HEAD') return m;
  } else if (n === 5) {
    if (buf.toString('latin1', s, e) === 'PATCH') return 'PATCH';
  } else if (n === 6) {
    if (buf.toString('latin1', s, e) === 'DELETE') return 'DELETE';
  } else if (n === 7) {
    if (buf.toString('latin1', s, e) === 'OPTIONS') return 'OPTIONS';
  }
  return undefined;
}

/** True when `buf[s, e)` equals the lower-case ASCII `word`, ignoring case. */
function equalsLower(buf: Buffer, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++)
    if ((buf[s + i]! | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * One parsed request head (RFC 9112 §3, §5), reused for each request of a connection: the request
 * line, each header's byte offsets in the connection buffer, and the fields the data plane acts on.
 */
export class RequestHead {
  buf: Buffer = Buffer.alloc(0);
  /** Offset just past the head's empty line. */
  end = 0;
  method = '';
  isHead = false;
  /** The request target as sent (latin1). */
  url = '';
  /** Offset just past the request line's CRLF: where header lines start. */
  linesStart = 0;
  count = 0;
  readonly nameStart = new Int32Array(MAX_REQUEST_HEADERS);
  readonly nameEnd = new Int32Array(MAX_REQUEST_HEADERS);
  readonly valueStart = new Int32Array(MAX_REQUEST_HEADERS);
  readonly valueEnd = new Int32Array(MAX_REQUEST_HEADERS);
  /** Offset just past the line's CRLF. */
  readonly lineEnd = new Int32Array(MAX_REQUEST_HEADERS);
  /** 1 when the header does not go to the target (hop-by-hop, forgeable; spec §3.1). */
  readonly drop = new Uint8Array(MAX_REQUEST_HEADERS);
  readonly lowerNames: string[] = [];
  host: string | undefined = undefined;
  hostCount = 0;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  /** `Connection: close` was sent. */
  close = false;
  requestId: string | undefined = undefined;
  userAgent: string | undefined = undefined;
  /** Whether the client sent a W3C `traceparent` (passed on as is; one is created otherwise). */
  hasTraceparent = false;
  /** Index of the (first) `traceparent` line, -1 when absent (replaced when spans are exported). */
  traceparentAt = -1;
  /** Lower-cased names listed in `Connection` besides close/keep-alive (RFC 9110 §7.6.1). */
  connectionListed: string[] | undefined = undefined;

  /** Header `i`'s value (latin1, as Node decodes it). */
  value(i: number): string {
    return this.buf.toString('latin1', this.valueStart[i]!, this.valueEnd[i]!);
  }

  /**
   * The headers as node:http's `IncomingMessage.headers` holds them (lower-cased names; duplicates
   * joined with ", ", or "; " for cookie, first one kept for the singletons, set-cookie an array), so
   * rule conditions and the auth gate see what they see on the node:http path.
   */
  headerMap(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < this.count; i++) {
      const name = this.lowerNames[i]!;
      const value = this.value(i);
      const prev = out[name];
      if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
      else if (name === 'set-cookie') (prev as string[]).push(value);
      else if (name === 'cookie') out[name] = `${prev as string}; ${value}`;
      else if (!SINGLETONS.has(name)) out[name] = `${prev as string}, ${value}`;
    }
    return out;
  }
}

/** Headers node:http keeps only the first of (IncomingMessage `_addHeaderLine`). */
const SINGLETONS: ReadonlySet<string> = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

function skipOws(buf: Buffer, i: number, end: number): number {
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  return i;
}

/**
 * Parses the head in `buf[0, end)` (`end` from `findHeadEnd`) into `head`. Strict where lenience
 * enables smuggling (RFC 9112 §6.3, §11.2): obs-fold, bare CR, invalid name bytes, duplicate or
 * malformed Content-Length, Transfer-Encoding other than a final `chunked`, and both together are
 * rejected. Never throws.
 */
export function parseRequestHead(buf: Buffer, end: number, head: RequestHead): HeadVerdict {
  head.buf = buf;
  head.end = end;
  head.count = 0;
  head.host = undefined;
  head.hostCount = 0;
  head.contentLength = -1;
  head.chunked = false;
  head.close = false;
  head.requestId = undefined;
  head.userAgent = undefined;
  head.hasTraceparent = false;
  head.traceparentAt = -1;
  head.connectionListed = undefined;

  // Request line: method SP request-target SP HTTP-version CRLF.
  let i = 0;
  while (i < end && TOKEN[buf[i]!] === 1) i++;
  if (i === 0 || buf[i] !== 32) return HEAD_BAD;
  const method = methodOf(buf, 0, i);
  const targetStart = i + 1;
  let j = targetStart;
  let unusualTarget = false;
  for (;;) {
    if (j >= end) break;
    const c = buf[j]!;
    if (c === 32 || c === 13) break;
    if (TARGET[c] !== 1) {
      if (c < 0x20 || c === 0x7f) return HEAD_BAD;
      unusualTarget = true;
    }
    j++;
  }
  if (j === targetStart || buf[j] !== 32) return HEAD_BAD;
  const v = j + 1;
  // "HTTP/1.1\r\n"
  if (
    buf[v] !== 72 ||
    buf[v + 1] !== 84 ||
    buf[v + 2] !== 84 ||
    buf[v + 3] !== 80 ||
    buf[v + 4] !== 47 ||
    buf[v + 6] !== 46 ||
    buf[v + 8] !== 13 ||
    buf[v + 9] !== 10
  )
    return HEAD_BAD;
  const major = buf[v + 5]!;
  const minor = buf[v + 7]!;
  if (major < 0x30 || major > 0x39 || minor < 0x30 || minor > 0x39) return HEAD_BAD;
  let fallback = method === undefined || unusualTarget || major !== 0x31 || minor !== 0x31;
  head.method = method ?? '';
  head.isHead = method === 'HEAD';
  head.url = buf.toString('latin1', targetStart, j);
  i = v + 10;
  head.linesStart = i;

  const last = end - 2; // the empty line's CR
  let count = 0;
  while (i < last) {
    // field-name ":" OWS field-value OWS CRLF; a line starting with SP/HTAB is obs-fold.
    const ns = i;
    let upper = 0;
    while (TOKEN[buf[i]!] === 1) upper |= UPPER[buf[i++]!]!;
    if (i === ns || buf[i] !== 58) return HEAD_BAD;
    if (count === MAX_REQUEST_HEADERS) return HEAD_TOO_MANY;
    const ne = i;
    const vs = skipOws(buf, i + 1, last);
    let k = vs;
    while (FIELD_VALUE[buf[k]!] === 1) k++;
    if (buf[k] !== 13 || buf[k + 1] !== 10) return HEAD_BAD; // bare CR, NUL, controls
    let ve = k;
    while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    head.nameStart[count] = ns;
    head.nameEnd[count] = ne;
    head.valueStart[count] = vs;
    head.valueEnd[count] = ve;
    head.lineEnd[count] = k + 2;
    const raw = buf.toString('latin1', ns, ne);
    const lower = upper === 0 ? raw : raw.toLowerCase();
    head.lowerNames[count] = lower;
    head.drop[count] = isDroppedRequestHeader(lower) ? 1 : 0;
    i = k + 2;
    count++;

    switch (lower) {
      case 'host':
        head.hostCount++;
        if (head.host === undefined) head.host = buf.toString('latin1', vs, ve);
        else fallback = true; // node:http keeps the first; let it decide
        break;
      case 'content-length': {
        if (head.contentLength >= 0 || ve === vs || ve - vs > 15) return HEAD_BAD;
        let n = 0;
        for (let p = vs; p < ve; p++) {
          const d = buf[p]! - 48;
          if (d < 0 || d > 9) return HEAD_BAD;
          n = n * 10 + d;
        }
        head.contentLength = n;
        break;
      }
      case 'transfer-encoding':
        if (head.chunked) fallback = true;
        if (equalsLower(buf, vs, ve, 'chunked')) head.chunked = true;
        else if (ve - vs > 7 && /* ", chunked" last */ equalsLower(buf, ve - 7, ve, 'chunked')) {
          const sep = buf[skipBackOws(buf, ve - 7, vs) - 1];
          if (sep !== 44) return HEAD_BAD;
          head.chunked = true;
          fallback = true; // other codings before chunked: node:http forwards those
        } else return HEAD_BAD;
        break;
      case 'connection':
        if (parseConnection(head, buf.toString('latin1', vs, ve))) fallback = true;
        break;
      case 'upgrade':
      case 'expect':
      case 'http2-settings':
        fallback = true;
        break;
      case 'x-amzn-requestid':
        if (head.requestId === undefined) head.requestId = buf.toString('latin1', vs, ve);
        break;
      case 'user-agent':
        if (head.userAgent === undefined) head.userAgent = buf.toString('latin1', vs, ve);
        break;
      case 'traceparent':
        head.hasTraceparent = true;
        if (head.traceparentAt < 0) head.traceparentAt = count - 1;
        break;
      default:
        break;
    }
  }
  head.count = count;
  if (head.chunked && head.contentLength >= 0) return HEAD_BAD; // RFC 9112 §6.1
  const listed = head.connectionListed as string[] | undefined;
  if (listed !== undefined)
    for (let h = 0; h < count; h++) if (listed.includes(head.lowerNames[h]!)) head.drop[h] = 1;
  return fallback ? HEAD_FALLBACK : HEAD_OK;
}

function skipBackOws(buf: Buffer, i: number, floor: number): number {
  while (i > floor && (buf[i - 1] === 32 || buf[i - 1] === 9)) i--;
  return i;
}

/** Reads `Connection` tokens; true when one asks for an upgrade (node:http handles those). */
function parseConnection(head: RequestHead, value: string): boolean {
  let upgrade = false;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'keep-alive') continue;
    if (name === 'close') head.close = true;
    else if (name === 'upgrade') upgrade = true;
    else (head.connectionListed ??= []).push(name);
  }
  return upgrade;
}
