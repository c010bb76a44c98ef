/**
 * One path for routing, authorization and the target (spec §2.3, §2.4, §7.2).
 *
 * Auth policies match `vpc-lattice-svcs:Invoke` on `<serviceArn><path>` and the `RequestPath`
 * key; rules match path prefixes; the target resolves the path itself. If these three read the
 * path differently, `/stock/../admin` passes an Allow on `*\/stock/*` and lands on `/admin`, or
 * `//admin` slips past a Deny on `*\/admin*`. Lattice does not document its normalisation (it is
 * Envoy-based; Envoy's `normalize_path` + `merge_slashes` + escaped-slash rejection is the usual
 * setup), so Trellis chooses, for every request before routing:
 *
 * - percent-encoded unreserved characters (`A–Z a–z 0–9 - . _ ~`) are decoded (RFC 3986 §6.2.2.2,
 *   they are the same path), other escapes are upper-cased (`%2f` → … see next);
 * - encoded `/` or `\` (`%2F`, `%5C`), a literal `\`, `%00` or a malformed escape → 400;
 * - a `.` or `..` segment (literal or `%2e`-encoded) → 400: real clients resolve dot segments
 *   before sending (curl, browsers, the SDKs), so one that arrives is a crafted request;
 *   rejecting beats guessing how the target would resolve it;
 * - runs of `/` are merged (`//stock` → `/stock`), as Envoy's `merge_slashes` does;
 * - case is kept: paths are case-sensitive for policies (IAM ARN matching) and, by default, for
 *   rules; a target that treats `/ADMIN` as `/admin` needs policies written for both.
 *
 * The normalised path is what rules, the auth policy (`RequestPath`, the Invoke resource) and the
 * target see; the signature is verified against the path exactly as the client sent it (spec §2.2:
 * single encoding, no normalisation by the signer).
 */

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

const HEX = '0123456789ABCDEF';

/** True when a path needs no work: no `%`, `\`, `//` or `/.`. The common case, checked first. */
function isPlain(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x25 /* % */ || c === 0x5c /* \ */) return false;
    if (c === 0x2f /* / */ && i + 1 < path.length) {
      const n = path.charCodeAt(i + 1);
      if (n === 0x2f || n === 0x2e) return false;
    }
  }
  return true;
}

/**
 * Normalises a request path (no query), or returns undefined for a path that must be refused
 * with 400 (see the file comment).
 */
export function normalizeRequestPath(path: string): string | undefined {
  if (isPlain(path)) return path;
  // 1. escapes
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x5c) return undefined;
    if (c !== 0x25) {
      decoded += path[i];
      continue;
    }
    if (i + 2 >= path.length) return undefined;
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return undefined;
    const byte = hi * 16 + lo;
    if (byte === 0x2f || byte === 0x5c || byte === 0) return undefined;
    decoded += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`;
    i += 2;
  }
  // 2. segments: merge empty ones, refuse dot segments
  const segments = decoded.split('/');
  const kept: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') return undefined;
    if (s === '' && i < segments.length - 1) continue; // `//` inside
    kept.push(s);
  }
  return `/${kept.join('/')}`;
}

/** Normalises the path of a request target (`/path?query`); the query is kept as sent. */
export function normalizeRequestTarget(target: string): string | undefined {
  const q = target.indexOf('?');
  if (q < 0) return normalizeRequestPath(target);
  const path = target.slice(0, q);
  const normalized = normalizeRequestPath(path);
  if (normalized === undefined) return undefined;
  return normalized === path ? target : normalized + target.slice(q);
}
