/**
 * Canonical URI and canonical query string of a SigV4 canonical request, computed from the wire
 * form of the request (spec §2.2). Both functions return their input unchanged when it is already
 * canonical, so the common request allocates nothing here.
 */

/** 1 for RFC 3986 unreserved characters (ALPHA / DIGIT / `-` / `.` / `_` / `~`). */
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) UNRESERVED[c] = 1;
}

/** `%XX` (upper-case hex) for every byte value. */
const PERCENT: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
);

/** Hex digit value, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Percent-encodes one character (or surrogate pair) at `s[i]` as UTF-8; returns [text, width]. */
function encodeNonAscii(s: string, i: number, c: number): [string, number] {
  if (c < 0x800) {
    return [PERCENT[0xc0 | (c >> 6)]! + PERCENT[0x80 | (c & 63)]!, 1];
  }
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const lo = s.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo <= 0xdfff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
      return [
        PERCENT[0xf0 | (cp >> 18)]! +
          PERCENT[0x80 | ((cp >> 12) & 63)]! +
          PERCENT[0x80 | ((cp >> 6) & 63)]! +
          PERCENT[0x80 | (cp & 63)]!,
        2,
      ];
    }
  }
  // A lone surrogate has no UTF-8 form; U+FFFD keeps this total (no signer can produce one).
  if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
  return [
    PERCENT[0xe0 | (c >> 12)]! + PERCENT[0x80 | ((c >> 6) & 63)]! + PERCENT[0x80 | (c & 63)]!,
    1,
  ];
}

/**
 * RFC 3986 encoding of every character of `s` except unreserved ones and, when `keepSlash`, `/`.
 * `%` itself is encoded, so an already-encoded string is encoded a second time — the SDK's
 * "double encoding" of paths.
 */
export function uriEncode(s: string, keepSlash: boolean): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && (UNRESERVED[c] === 1 || (keepSlash && c === 47))) continue;
    break;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      out += UNRESERVED[c] === 1 || (keepSlash && c === 47) ? s[i] : PERCENT[c];
    } else {
      const [text, width] = encodeNonAscii(s, i, c);
      out += text;
      i += width - 1;
    }
  }
  return out;
}

/**
 * Removes empty, `.` and `..` segments exactly as `@smithy/signature-v4` does before it encodes
 * the path (leading `/` kept; trailing `/` kept when any segment remains).
 */
export function normalizeUriPath(path: string): string {
  if (!needsNormalizing(path)) return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment.length === 0 || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const lead = path.startsWith('/') ? '/' : '';
  const trail = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return lead + segments.join('/') + trail;
}

/** True when the path has an empty, `.` or `..` segment (other than a lone leading/trailing `/`). */
function needsNormalizing(path: string): boolean {
  const n = path.length;
  if (n === 0) return false;
  if (path.charCodeAt(0) !== 47) return true;
  let start = 1;
  for (let i = 1; i <= n; i++) {
    if (i === n || path.charCodeAt(i) === 47) {
      const len = i - start;
      if (len === 0 && i !== n) return true; // `//`
      if (len === 1 && path.charCodeAt(start) === 46) return true; // `.`
      if (len === 2 && path.charCodeAt(start) === 46 && path.charCodeAt(start + 1) === 46)
        return true; // `..`
      start = i + 1;
    }
  }
  // `/` alone is canonical; a path of only `/`s was caught by the `//` check.
  return false;
}

/**
 * The canonical URI of a request whose wire path is `rawPath`.
 * `escape = true`: the SDK default for most services (normalise, then encode once more).
 * `escape = false`: S3-style, the wire path exactly as sent (spec §2.2, `vpc-lattice-svcs`).
 */
export function canonicalUri(rawPath: string, escape: boolean): string {
  if (rawPath.length === 0) return '/';
  return escape ? uriEncode(normalizeUriPath(rawPath), true) : rawPath;
}

/**
 * Canonical form of one query key or value given in wire form: percent-decode (`+` is a space, as
 * form-encoding and the Go signer read it; a `%` not followed by two hex digits is a literal `%`),
 * then encode every byte that is not unreserved as upper-case `%XX`. Returns `s` when it is
 * already canonical.
 */
export function canonicalQueryComponent(s: string): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && UNRESERVED[c] === 1) continue;
    if (c === 37 && i + 2 < n) {
      const h = s.charCodeAt(i + 1);
      const l = s.charCodeAt(i + 2);
      const hv = hexValue(h);
      const lv = hexValue(l);
      // Already canonical: upper-case escape of a byte that must stay escaped.
      if (hv >= 0 && lv >= 0 && h < 97 && l < 97) {
        const b = hv * 16 + lv;
        if (b >= 128 || UNRESERVED[b] !== 1) {
          i += 2;
          continue;
        }
      }
    }
    break;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      if (UNRESERVED[c] === 1) {
        out += s[i];
      } else if (c === 37 && i + 2 < n) {
        const hv = hexValue(s.charCodeAt(i + 1));
        const lv = hexValue(s.charCodeAt(i + 2));
        if (hv >= 0 && lv >= 0) {
          const b = hv * 16 + lv;
          out += b < 128 && UNRESERVED[b] === 1 ? String.fromCharCode(b) : PERCENT[b];
          i += 2;
        } else {
          out += '%25';
        }
      } else if (c === 43) {
        out += '%20';
      } else {
        out += PERCENT[c];
      }
    } else {
      const [text, width] = encodeNonAscii(s, i, c);
      out += text;
      i += width - 1;
    }
  }
  return out;
}

/** Compares canonical (ASCII) strings by code unit, which is byte order. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts query pairs by encoded key, then encoded value (SigV4 canonical query order). */
function comparePairs(a: readonly [string, string], b: readonly [string, string]): number {
  return compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]);
}

/**
 * The canonical query string of a wire query (`rawQuery` without `?`): each key and value
 * re-encoded by `canonicalQueryComponent`, a key without `=` given the empty value, empty pieces
 * dropped, `X-Amz-Signature` (any case) left out, pairs sorted by key then value, joined with `&`.
 * Returns `rawQuery` itself when it is already canonical (what the AWS SDKs send).
 */
export function canonicalQueryString(rawQuery: string): string {
  const n = rawQuery.length;
  if (n === 0) return '';
  // While every piece so far is canonical and in order, `pairs` stays undefined: an SDK's query
  // (already sorted and encoded) is returned as-is without building an array.
  let pairs: [string, string][] | undefined;
  let havePrev = false;
  let prevKey = '';
  let prevValue = '';
  let start = 0;
  while (start <= n) {
    let end = rawQuery.indexOf('&', start);
    if (end === -1) end = n;
    let key = '';
    let value = '';
    let keep = false;
    let canonical = false;
    if (end > start) {
      const eq = rawQuery.indexOf('=', start);
      if (eq === -1 || eq > end) {
        key = canonicalQueryComponent(rawQuery.slice(start, end));
      } else {
        const rawKey = rawQuery.slice(start, eq);
        const rawValue = rawQuery.slice(eq + 1, end);
        key = canonicalQueryComponent(rawKey);
        value = canonicalQueryComponent(rawValue);
        canonical = key === rawKey && value === rawValue;
      }
      keep = !(key.length === 15 && key.toLowerCase() === 'x-amz-signature');
      if (!keep) canonical = false;
    }
    if (pairs === undefined) {
      if (
        canonical &&
        havePrev &&
        (compareStrings(prevKey, key) || compareStrings(prevValue, value)) > 0
      )
        canonical = false;
      if (!canonical) pairs = reparsePrefix(rawQuery, start);
    }
    if (keep) {
      if (pairs !== undefined) pairs.push([key, value]);
      prevKey = key;
      prevValue = value;
      havePrev = true;
    }
    start = end + 1;
  }
  if (pairs === undefined) return rawQuery;
  if (pairs.length > 1) pairs.sort(comparePairs);
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    out += (i === 0 ? '' : '&') + pair[0] + '=' + pair[1];
  }
  return out;
}

/** The pairs of `rawQuery[0, end)`, which the fast path found canonical and in order. */
function reparsePrefix(rawQuery: string, end: number): [string, string][] {
  const pairs: [string, string][] = [];
  if (end === 0) return pairs;
  for (const piece of rawQuery.slice(0, end - 1).split('&')) {
    const eq = piece.indexOf('=');
    pairs.push([piece.slice(0, eq), piece.slice(eq + 1)]);
  }
  return pairs;
}
