/**
 * W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/): the data plane passes
 * a client's `traceparent` to the target unchanged and creates one when the client sent none, so
 * every request reaching a target belongs to a trace.
 */
import { randomFillSync } from 'node:crypto';

const POOL_IDS = 256;
const ID_BYTES = 24; // 16-byte trace id + 8-byte parent id
const pool = Buffer.allocUnsafe(POOL_IDS * ID_BYTES);
let next = POOL_IDS;

/** A new sampled `traceparent`: `00-<32 hex trace id>-<16 hex parent id>-01`. */
export function newTraceparent(): string {
  // Random bytes are drawn in blocks: one syscall per 256 ids keeps the per-request cost tiny.
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const at = next++ * ID_BYTES;
  const hex = pool.toString('hex', at, at + ID_BYTES);
  // An all-zero id is invalid; 2^-128 — but cheap to rule out.
  const trace = hex.slice(0, 32);
  return `00-${trace === '0'.repeat(32) ? '1'.padStart(32, '0') : trace}-${hex.slice(32)}-01`;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Whether a header value is a well-formed `traceparent` (version ff and zero ids are not). */
export function isValidTraceparent(value: string): boolean {
  return (
    TRACEPARENT.test(value) &&
    !value.startsWith('ff') &&
    value.slice(3, 35) !== '0'.repeat(32) &&
    value.slice(36, 52) !== '0'.repeat(16)
  );
}

/** The W3C ids of the proxy's span for one request (set on its access-log record). */
export interface ProxySpanIds {
  /** 32 hex; '' when the request has no proxy span (OTLP export off). */
  traceId: string;
  /** 16 hex: the proxy's span, sent to the target as its parent. */
  spanId: string;
  /** 16 hex: the client's span, '' when the client sent no (valid) traceparent. */
  parentSpanId: string;
  /** The trace flags byte (bit 0: sampled). */
  traceFlags: number;
}

/**
 * Starts the proxy's span of a request (OTLP export on): the trace and sampling of the client's
 * `traceparent` when it sent a valid one (its span becomes the parent), else a new sampled trace;
 * a new span id. Returns the `traceparent` to send to the target: same trace, the proxy's span as
 * parent (W3C Trace Context §3.2: a participant replaces parent-id with its own span).
 */
export function startProxySpan(given: string | undefined, ids: ProxySpanIds): string {
  const fresh = newTraceparent(); // 00-<trace>-<span>-01: a fresh span id (and trace, if needed)
  const spanId = fresh.slice(36, 52);
  if (given !== undefined && isValidTraceparent(given)) {
    ids.traceId = given.slice(3, 35);
    ids.parentSpanId = given.slice(36, 52);
    ids.traceFlags = parseInt(given.slice(53, 55), 16) || 0;
  } else {
    ids.traceId = fresh.slice(3, 35);
    ids.parentSpanId = '';
    ids.traceFlags = 1;
  }
  ids.spanId = spanId;
  return `00-${ids.traceId}-${spanId}-${ids.traceFlags.toString(16).padStart(2, '0')}`;
}
