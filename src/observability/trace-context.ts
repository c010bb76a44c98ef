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
