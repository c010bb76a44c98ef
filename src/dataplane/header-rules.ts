import { randomUUID } from 'node:crypto';

/**
 * Which request and response headers the data plane drops (spec §3.1): hop-by-hop headers (RFC 9110
 * §7.6.1) and every header whose value the data plane owns, so a client cannot forge them.
 */

/** Dropped from client requests; the data plane sets its own values where it owns the name. */
const REQUEST_DROP: ReadonlySet<string> = new Set([
  // hop-by-hop
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // 100-continue is answered by the data plane itself; the upstream request is sent whole.
  'expect',
  // owned by the data plane (spec §3.1, §3.2)
  'x-amzn-source-vpc',
  'x-amzn-requestid',
  'x-forwarded-for',
  'x-forwarded-port',
  'x-forwarded-proto',
]);

/** Every `x-amzn-lattice-*` header is reserved (spec §3.1 anti-spoofing). */
const RESERVED_PREFIX = 'x-amzn-lattice-';

/** True when a lower-cased request header name must not reach the target. */
export function isDroppedRequestHeader(lowerName: string): boolean {
  return REQUEST_DROP.has(lowerName) || lowerName.startsWith(RESERVED_PREFIX);
}

/**
 * Appends the headers Lattice adds toward the target (spec §3.1) to raw `[name, value, …]` pairs,
 * for the node:http path and the HTTP/2 front (the fast path and the upgrade tunnel write the same
 * names into their precomputed head text). x-forwarded-for is replaced, not appended: Lattice is
 * where client traffic enters, a client-supplied chain cannot be verified, and spec §7.5 says it
 * carries the client's own IP.
 */
export function pushLatticeRequestHeaders(
  out: string[],
  clientAddress: string,
  forwardedProto: 'http' | 'https',
  portText: string,
  vpc: { readonly networkHeader: string; readonly vpcId: string },
  targetHeader: string,
  requestId: string,
  identityHeaders: readonly string[] | undefined,
): void {
  out.push(
    'x-forwarded-for',
    clientAddress,
    'x-forwarded-proto',
    forwardedProto,
    'x-forwarded-port',
    portText,
    'x-amzn-lattice-network',
    vpc.networkHeader,
    'x-amzn-lattice-target',
    targetHeader,
    'x-amzn-source-vpc',
    vpc.vpcId,
    'x-amzn-requestid',
    requestId,
  );
  if (identityHeaders !== undefined) out.push(...identityHeaders);
}

/** Dropped from target responses: hop-by-hop, plus `x-amzn-requestid`, which the data plane sets. */
const RESPONSE_DROP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'x-amzn-requestid',
]);

/** True when a lower-cased response header name must not reach the client. */
export function isDroppedResponseHeader(lowerName: string): boolean {
  return RESPONSE_DROP.has(lowerName);
}

/** Longest accepted client-supplied `x-amzn-requestid` (spec §3.2: truncated to 512 bytes). */
export const MAX_REQUEST_ID_BYTES = 512;

/**
 * The client's request id truncated to 512 bytes. Node decodes header values as latin1, one
 * character per byte, so slicing characters slices bytes.
 */
export function truncateRequestId(value: string): string {
  return value.length > MAX_REQUEST_ID_BYTES ? value.slice(0, MAX_REQUEST_ID_BYTES) : value;
}

/** spec §4.1: the client's `x-amzn-requestid` (truncated), or a new UUID when it sent none. */
export function requestIdFor(supplied: string | string[] | undefined): string {
  return typeof supplied === 'string' && supplied !== ''
    ? truncateRequestId(supplied)
    : randomUUID();
}

/**
 * Names listed in a `Connection` header are hop-by-hop too (RFC 9110 §7.6.1); returns them
 * lower-cased, or undefined when the header only carries `close`/`keep-alive`.
 */
export function connectionListedHeaders(connection: string | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  let out: Set<string> | undefined;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    (out ??= new Set()).add(name);
  }
  return out;
}
