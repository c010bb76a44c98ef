/**
 * gRPC status for answers the data plane gives itself (issue #5 §3): a gRPC client learns what
 * went wrong from `grpc-status`/`grpc-message`, not from the HTTP status. The HTTP status stays
 * the one Lattice would give (404, 403, 503, …) and the gRPC code is the one gRPC's own
 * HTTP-to-gRPC mapping gives for that status (grpc/doc/http-grpc-status-mapping.md), so a client
 * that reads either one concludes the same.
 */

/** gRPC status codes used by the data plane (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = Object.freeze({
  OK: 0,
  UNKNOWN: 2,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
});

/** gRPC's mapping of an HTTP status to a gRPC code (used when a response carries no grpc-status). */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 200:
      return GRPC_STATUS.OK;
    case 400:
      return GRPC_STATUS.INTERNAL;
    case 401:
      return GRPC_STATUS.UNAUTHENTICATED;
    case 403:
      return GRPC_STATUS.PERMISSION_DENIED;
    case 404:
      return GRPC_STATUS.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_STATUS.UNAVAILABLE;
    default:
      return GRPC_STATUS.UNKNOWN;
  }
}

/** True for `application/grpc` and its `+proto`/`+json`/`;…` variants (gRPC over HTTP/2 spec). */
export function isGrpcContentType(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.startsWith('application/grpc') &&
    (value.length === 16 || value[16] === '+' || value[16] === ';')
  );
}

/**
 * `grpc-message` is percent-encoded (gRPC over HTTP/2: Percent-Byte-Encoded, every byte outside
 * 0x20–0x7E and `%` itself escaped).
 */
export function encodeGrpcMessage(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  let out = '';
  for (const b of bytes) {
    if (b >= 0x20 && b <= 0x7e && b !== 0x25) out += String.fromCharCode(b);
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The grpc-status carried by a header/trailer block, or undefined when there is none. */
export function grpcStatusOf(headers: Record<string, unknown> | undefined): number | undefined {
  const v = headers?.['grpc-status'];
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string' || s === '') return undefined;
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
