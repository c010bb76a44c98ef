/**
 * Verifies a parsed SigV4/SigV4A signature against the caller-supplied credential (spec §1.1 for
 * the control plane, §2.2 for the data plane). Synchronous, allocation-light, never throws:
 * every outcome is a `VerifyResult`.
 */

import { verify as cryptoVerify } from 'node:crypto';
import { canonicalHeaders, hashCanonicalRequest } from './canonical-request.js';
import { canonicalQueryString, canonicalUri } from './canonical-uri.js';
import { SIGV4A_ALGORITHM, decodeQueryValue, singleHeader } from './parse-signature.js';
import {
  SIGNATURE_MISMATCH,
  TOKEN_MISMATCH,
  TOKEN_MISSING,
  TOKEN_UNEXPECTED,
  formatAmzDate,
  formatSkew,
  problem,
  quote,
  unrecognizedClient,
} from './sigv4-problems.js';
import { defaultSigningKeyCache } from './signing-key-cache.js';
import type {
  ParsedSignature,
  SignatureProblem,
  SignedRequestView,
  SigningCredential,
  VerifyOptions,
  VerifyResult,
  VerifySuccess,
} from './sigv4-types.js';

/** Payload hash literal of unsigned payloads (spec §2.2: mandatory on the data plane). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of the empty body. */
export const EMPTY_PAYLOAD_SHA256 =
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Default allowed clock skew: AWS's ±5 minutes. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60_000;
/** Data-plane signing name (spec §2.2). */
export const DATA_PLANE_SERVICE = 'vpc-lattice-svcs';

/** Constant-time equality of two strings of ASCII hex (length is not secret). */
function equalsConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Whether a SigV4A region set (`*`, `us-east-1,us-west-2`, `us-*`) covers `region`. */
export function regionSetIncludes(regionSet: readonly string[], region: string): boolean {
  for (const entry of regionSet) {
    if (entry === '*' || entry === region) return true;
    if (entry.endsWith('*') && region.startsWith(entry.slice(0, -1))) return true;
  }
  return false;
}

/**
 * Checks, in order: credential scope (service, region or region set), access key id, time
 * (±`maxSkewMs`; pre-signed: not past `X-Amz-Expires`), session token, payload hash policy, and
 * finally the signature itself (constant-time compare / ECDSA verify).
 *
 * `credential` is what the caller found for `parsed.accessKeyId`; when it found nothing it
 * should answer `unrecognizedClient()` instead of calling this.
 */
export function verifySignature(
  req: SignedRequestView,
  parsed: ParsedSignature,
  credential: SigningCredential,
  options: VerifyOptions,
): VerifyResult {
  if (parsed.service !== options.service) {
    return problem(
      'WrongScope',
      `Credential should be scoped to correct service: '${options.service}'. The request is scoped to ${quote(parsed.service)}.`,
    );
  }
  const v4a = parsed.algorithm === SIGV4A_ALGORITHM;
  if (!v4a && parsed.region !== options.region) {
    return problem(
      'WrongScope',
      `Credential should be scoped to a valid region. This endpoint is in '${options.region}'; the request is scoped to ${quote(parsed.region ?? '')}.`,
    );
  }
  if (v4a && !regionSetIncludes(parsed.regionSet ?? [], options.region)) {
    return problem(
      'WrongScope',
      `The SigV4A region set ${quote((parsed.regionSet ?? []).join(','))} does not include this endpoint's region '${options.region}'.`,
    );
  }
  if (credential.accessKeyId !== parsed.accessKeyId) return unrecognizedClient();

  const timeProblem = checkTime(parsed, options);
  if (timeProblem !== undefined) return timeProblem;

  const expectedToken = credential.sessionToken;
  const token = parsed.securityToken;
  if (expectedToken !== undefined && expectedToken.length > 0) {
    if (token === undefined || token.length === 0) return TOKEN_MISSING;
    if (token !== expectedToken) return TOKEN_MISMATCH;
  } else if (token !== undefined && token.length > 0) {
    return TOKEN_UNEXPECTED;
  }

  const payloadHash = resolvePayloadHash(req, parsed, options);
  if (typeof payloadHash !== 'string') return payloadHash;

  const matched = checkSignature(req, parsed, credential, options, payloadHash);
  if (matched !== NO_MATCH) return success(parsed, payloadHash, matched === MATCH_ESCAPED);
  if (
    options.requireUnsignedPayload === true &&
    parsed.location === 'query' &&
    req.headers['x-amz-content-sha256'] === undefined &&
    queryContentSha256(req.rawQuery) === undefined &&
    checkSignature(req, parsed, credential, options, EMPTY_PAYLOAD_SHA256) !== NO_MATCH
  ) {
    // The SDK presigner signs the empty body's hash unless told otherwise: say how to fix it.
    return problem(
      'PayloadSigningNotSupported',
      "Payload signing is not supported: this pre-signed URL signs the empty payload's SHA-256. Pre-sign with the header 'x-amz-content-sha256: UNSIGNED-PAYLOAD' (it becomes X-Amz-Content-Sha256=UNSIGNED-PAYLOAD in the URL).",
    );
  }
  return SIGNATURE_MISMATCH;
}

const NO_MATCH = 0;
const MATCH_AS_SENT = 1;
const MATCH_ESCAPED = 2;

/** Which path canonicalisation (if any) reproduces the signature. */
function checkSignature(
  req: SignedRequestView,
  parsed: ParsedSignature,
  credential: SigningCredential,
  options: VerifyOptions,
  payloadHash: string,
): number {
  const mode = options.uriEscapePath ?? options.service !== DATA_PLANE_SERVICE;
  const firstEscape = mode === 'either' ? options.service !== DATA_PLANE_SERVICE : mode;
  const tail =
    '\n' +
    canonicalQueryString(req.rawQuery) +
    '\n' +
    canonicalHeaders(req.headers, parsed.signedHeaders) +
    '\n' +
    parsed.signedHeadersList +
    '\n' +
    payloadHash;
  const cache = options.signingKeyCache ?? defaultSigningKeyCache;
  const check = parsed.algorithm === SIGV4A_ALGORITHM ? matchesSigV4a : matchesSigV4;
  const path = canonicalUri(req.rawPath, firstEscape);
  if (check(req.method + '\n' + path + tail, parsed, credential, options, cache)) {
    return firstEscape ? MATCH_ESCAPED : MATCH_AS_SENT;
  }
  if (mode === 'either') {
    const other = canonicalUri(req.rawPath, !firstEscape);
    if (
      other !== path &&
      check(req.method + '\n' + other + tail, parsed, credential, options, cache)
    ) {
      return firstEscape ? MATCH_AS_SENT : MATCH_ESCAPED;
    }
  }
  return NO_MATCH;
}

function success(
  parsed: ParsedSignature,
  payloadHash: string,
  uriEscapePath: boolean,
): VerifySuccess {
  return {
    ok: true,
    algorithm: parsed.algorithm,
    location: parsed.location,
    accessKeyId: parsed.accessKeyId,
    signedAtMs: parsed.signedAtMs,
    payloadHash,
    uriEscapePath,
  };
}

/** AWS's skew rule for header signatures; `X-Amz-Expires` for pre-signed URLs. */
function checkTime(parsed: ParsedSignature, options: VerifyOptions): SignatureProblem | undefined {
  const now = options.nowMs ?? Date.now();
  const skew = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const signedAt = parsed.signedAtMs;
  if (signedAt - skew > now) {
    return problem(
      'SignatureExpired',
      `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(now + skew)} (${formatAmzDate(now)} + ${formatSkew(skew)})`,
    );
  }
  if (parsed.location === 'header') {
    if (signedAt + skew < now) {
      return problem(
        'SignatureExpired',
        `Signature expired: ${parsed.amzDate} is now earlier than ${formatAmzDate(now - skew)} (${formatAmzDate(now)} - ${formatSkew(skew)})`,
      );
    }
  } else {
    const expires = parsed.expiresSeconds ?? 0;
    if (signedAt + expires * 1000 < now) {
      return problem(
        'SignatureExpired',
        `Request has expired: signed at ${parsed.amzDate} for ${expires} seconds (X-Amz-Expires), and it is now ${formatAmzDate(now)}.`,
      );
    }
  }
  return undefined;
}

/**
 * `X-Amz-Content-Sha256` of a pre-signed URL: the SDK's presigner hoists an
 * `x-amz-content-sha256` header into the query under the header's own spelling.
 */
function queryContentSha256(rawQuery: string): string | undefined {
  let start = 0;
  while (start < rawQuery.length) {
    let end = rawQuery.indexOf('&', start);
    if (end === -1) end = rawQuery.length;
    const eq = rawQuery.indexOf('=', start);
    if (
      eq - start === CONTENT_SHA256_PARAM.length &&
      eq < end &&
      rawQuery.slice(start, eq).toLowerCase() === CONTENT_SHA256_PARAM
    ) {
      return decodeQueryValue(rawQuery.slice(eq + 1, end));
    }
    start = end + 1;
  }
  return undefined;
}

const CONTENT_SHA256_PARAM = 'x-amz-content-sha256';

/** A declared payload hash for a message: a SHA-256 is shortened (it is the client's, but long). */
function describeClaim(claimed: string): string {
  return /^[0-9a-fA-F]{64}$/.test(claimed)
    ? `a payload SHA-256 ('${claimed.slice(0, 8)}…')`
    : quote(claimed);
}

/**
 * The payload hash the signature must cover:
 * - data plane (`requireUnsignedPayload`, spec §2.2): the literal `UNSIGNED-PAYLOAD`, which the
 *   client must declare in `x-amz-content-sha256` (pre-signed URLs may leave it out);
 * - control plane: `x-amz-content-sha256` when it is `UNSIGNED-PAYLOAD` or equals the hash of the
 *   body received (`options.payloadHash`), else the body's hash.
 */
function resolvePayloadHash(
  req: SignedRequestView,
  parsed: ParsedSignature,
  options: VerifyOptions,
): string | SignatureProblem {
  let claimed = singleHeader(req.headers, 'x-amz-content-sha256');
  if (claimed === null) {
    return problem(
      'IncompleteSignature',
      "The request carries more than one 'x-amz-content-sha256' header.",
    );
  }
  if (claimed === undefined && parsed.location === 'query') {
    claimed = queryContentSha256(req.rawQuery);
  }
  if (options.requireUnsignedPayload === true) {
    if (claimed === UNSIGNED_PAYLOAD) return UNSIGNED_PAYLOAD;
    if (claimed === undefined && parsed.location === 'query') return UNSIGNED_PAYLOAD;
    return problem(
      'PayloadSigningNotSupported',
      `Payload signing is not supported: sign with the header 'x-amz-content-sha256: UNSIGNED-PAYLOAD' and send it (${
        claimed === undefined
          ? 'the request has no x-amz-content-sha256 header'
          : `the request's x-amz-content-sha256 is ${describeClaim(claimed)}`
      }).`,
    );
  }
  const actual = options.payloadHash ?? EMPTY_PAYLOAD_SHA256;
  if (claimed === undefined) return actual;
  if (claimed === UNSIGNED_PAYLOAD) return UNSIGNED_PAYLOAD;
  if (claimed.startsWith('STREAMING-')) {
    return problem(
      'PayloadSigningNotSupported',
      `Streaming payload signing (${quote(claimed)}) is not supported: sign the whole body's SHA-256 or UNSIGNED-PAYLOAD.`,
    );
  }
  if (claimed.toLowerCase() !== actual.toLowerCase()) {
    return problem(
      'InvalidSignature',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  return claimed;
}

function matchesSigV4(
  canonicalRequest: string,
  parsed: ParsedSignature,
  credential: SigningCredential,
  options: VerifyOptions,
  cache: NonNullable<VerifyOptions['signingKeyCache']>,
): boolean {
  const key = cache.sigV4Key(credential, parsed.date, options.region, options.service);
  const prefix = 'AWS4-HMAC-SHA256\n' + parsed.amzDate + '\n' + parsed.credentialScope + '\n';
  if (key.matches !== undefined) return key.matches(prefix, canonicalRequest, parsed.signature);
  const stringToSign = prefix + hashCanonicalRequest(canonicalRequest);
  return equalsConstantTime(key.sign(stringToSign), parsed.signature);
}

const HEX_BYTES = /^(?:[0-9a-fA-F]{2})+$/;

function matchesSigV4a(
  canonicalRequest: string,
  parsed: ParsedSignature,
  credential: SigningCredential,
  _options: VerifyOptions,
  cache: NonNullable<VerifyOptions['signingKeyCache']>,
): boolean {
  if (parsed.signature.length > 256 || !HEX_BYTES.test(parsed.signature)) return false;
  const publicKey = cache.sigV4aPublicKey(credential);
  if (publicKey === undefined) return false;
  const stringToSign =
    'AWS4-ECDSA-P256-SHA256\n' +
    parsed.amzDate +
    '\n' +
    parsed.credentialScope +
    '\n' +
    hashCanonicalRequest(canonicalRequest);
  try {
    return cryptoVerify(
      'sha256',
      Buffer.from(stringToSign, 'latin1'),
      { key: publicKey, dsaEncoding: 'der' },
      Buffer.from(parsed.signature, 'hex'),
    );
  } catch {
    return false; // malformed DER
  }
}
