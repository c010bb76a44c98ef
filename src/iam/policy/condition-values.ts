/**
 * Value parsers shared by the grammar check (policy values) and evaluation (request values) for
 * the Numeric, Date, Bool and Binary operator families.
 */

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const EPOCH_RE = /^[+-]?\d+(\.\d+)?$/;
/** ISO 8601 date or date-time: `2024-01-02`, `2024-01-02T03:04:05Z`, with offset or fraction. */
const ISO_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** A decimal number, or `undefined` (IAM Numeric operators take plain decimals only). */
export function parseNumericValue(text: string): number | undefined {
  return NUMBER_RE.test(text) ? Number(text) : undefined;
}

/** An ISO 8601 date/time or epoch seconds, as epoch milliseconds; `undefined` when neither. */
export function parseDateValue(text: string): number | undefined {
  if (EPOCH_RE.test(text)) return Number(text) * 1000;
  const m = ISO_RE.exec(text);
  if (m === null) return undefined;
  // No zone given: read as UTC, never as the host's local time.
  let iso = m[1] === undefined ? `${text}T00:00:00Z` : m[4] === undefined ? `${text}Z` : text;
  // Date.parse wants `+hh:mm`; IAM also accepts `+hhmm`.
  if (m[4] !== undefined && m[4].length === 5) iso = `${iso.slice(0, -2)}:${iso.slice(-2)}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

export function isBoolValue(text: string): boolean {
  const l = text.toLowerCase();
  return l === 'true' || l === 'false';
}

export function isBase64Value(text: string): boolean {
  return text.length % 4 === 0 && BASE64_RE.test(text);
}
