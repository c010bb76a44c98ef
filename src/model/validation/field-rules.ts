/**
 * Field rules of the Lattice API model (spec §1.4): names, tags, ports, client tokens. Each
 * `check…` appends violations `{ name, message }` to a list, so a request reports all of them.
 */

export interface FieldViolation {
  name: string;
  message: string;
}

const NAME_CHARS = /^[a-z0-9-]+$/;

/**
 * Lattice resource names: 3–max chars of `[a-z0-9-]`, no leading/trailing hyphen, no `--`, must
 * not start with the resource's ID prefix (e.g. `svc-`).
 */
export function checkResourceName(
  out: FieldViolation[],
  field: string,
  value: unknown,
  maxLength: number,
  forbiddenPrefix?: string,
): void {
  if (typeof value !== 'string') {
    out.push({ name: field, message: 'is required and must be a string' });
    return;
  }
  if (value.length < 3 || value.length > maxLength) {
    out.push({ name: field, message: `must be between 3 and ${maxLength} characters` });
    return;
  }
  if (
    !NAME_CHARS.test(value) ||
    value.startsWith('-') ||
    value.endsWith('-') ||
    value.includes('--')
  ) {
    out.push({
      name: field,
      message:
        'must contain only lowercase letters, numbers and hyphens, and must not start or end with a hyphen or contain two consecutive hyphens',
    });
    return;
  }
  if (forbiddenPrefix && value.startsWith(forbiddenPrefix)) {
    out.push({ name: field, message: `must not start with "${forbiddenPrefix}"` });
  }
}

/** Tags: up to 50 entries (the AWS-wide limit; see README), keys 1–128, values 0–256 chars. */
export function checkTags(out: FieldViolation[], field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push({ name: field, message: 'must be a map of string keys to string values' });
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50) out.push({ name: field, message: 'must have at most 50 tags' });
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128 || k.startsWith('aws:')) {
      out.push({
        name: `${field}.${k}`,
        message: 'tag keys must be 1-128 characters and must not start with "aws:"',
      });
    }
    if (typeof v !== 'string' || v.length > 256) {
      out.push({
        name: `${field}.${k}`,
        message: 'tag values must be strings of at most 256 characters',
      });
    }
  }
}

export function checkEnum<T extends string>(
  out: FieldViolation[],
  field: string,
  value: unknown,
  allowed: readonly T[],
  required = false,
): void {
  if (value === undefined) {
    if (required) out.push({ name: field, message: 'is required' });
    return;
  }
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    out.push({ name: field, message: `must be one of ${allowed.join(', ')}` });
  }
}

export function checkInteger(
  out: FieldViolation[],
  field: string,
  value: unknown,
  min: number,
  max: number,
  required = false,
): void {
  if (value === undefined) {
    if (required) out.push({ name: field, message: 'is required' });
    return;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    out.push({ name: field, message: `must be an integer between ${min} and ${max}` });
  }
}

export function checkBoolean(out: FieldViolation[], field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    out.push({ name: field, message: 'must be a boolean' });
  }
}

export function checkString(
  out: FieldViolation[],
  field: string,
  value: unknown,
  min: number,
  max: number,
  required = false,
  pattern?: RegExp,
): void {
  if (value === undefined) {
    if (required) out.push({ name: field, message: 'is required' });
    return;
  }
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    out.push({ name: field, message: `must be a string of ${min} to ${max} characters` });
    return;
  }
  if (pattern && !pattern.test(value)) {
    out.push({ name: field, message: `must match the pattern ${pattern.source}` });
  }
}

/** Reports members of `body` that the operation does not define. */
export function checkKnownMembers(
  out: FieldViolation[],
  prefix: string,
  body: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const k of Object.keys(body)) {
    if (!known.includes(k)) {
      out.push({ name: prefix ? `${prefix}.${k}` : k, message: 'is not a member of this request' });
    }
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
