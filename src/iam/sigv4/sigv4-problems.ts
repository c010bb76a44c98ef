/** Structured failures of SigV4 parsing/verification, worded as AWS endpoints word them. */

import type { SignatureProblem, SignatureProblemCode } from './sigv4-types.js';

/** A failure value (hot paths return these; they never throw). */
export function problem(code: SignatureProblemCode, message: string): SignatureProblem {
  return { ok: false, code, message };
}

/**
 * Quotes client-supplied text for a message: at most 64 characters, control and non-ASCII
 * characters shown as `?`, so a message can be logged and returned safely.
 */
export function quote(text: string): string {
  const cut = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return `'${cut.replace(/[^\x20-\x7e…]/g, '?')}'`;
}

/** `YYYYMMDDTHHMMSSZ` of an epoch-milliseconds time. */
export function formatAmzDate(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.000Z
  return (
    iso.slice(0, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    'T' +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19) +
    'Z'
  );
}

/** `5 min.` / `90 sec.` as AWS prints the allowed skew. */
export function formatSkew(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min.` : `${Math.round(ms / 1000)} sec.`;
}

export const MISSING_AUTHENTICATION_TOKEN = problem(
  'MissingAuthenticationToken',
  'Missing Authentication Token',
);

export const SIGNATURE_MISMATCH = problem(
  'InvalidSignature',
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
);

const INVALID_SECURITY_TOKEN = 'The security token included in the request is invalid.';

/** For a caller that found no (active) key for `parsed.accessKeyId`. */
export function unrecognizedClient(): SignatureProblem {
  return UNRECOGNIZED_CLIENT;
}

const UNRECOGNIZED_CLIENT = problem('UnrecognizedClient', INVALID_SECURITY_TOKEN);

export const TOKEN_MISSING = problem(
  'InvalidToken',
  `${INVALID_SECURITY_TOKEN} The access key is temporary and needs its session token (x-amz-security-token).`,
);
export const TOKEN_UNEXPECTED = problem(
  'InvalidToken',
  `${INVALID_SECURITY_TOKEN} The access key is long-term and takes no session token.`,
);
export const TOKEN_MISMATCH = problem(
  'InvalidToken',
  `${INVALID_SECURITY_TOKEN} The session token does not belong to the access key.`,
);
