/**
 * Finds a SigV4/SigV4A signature in a request: the `Authorization` header or the pre-signed
 * query parameters (spec §1.1, §2.2). Pure string work; never throws, whatever the input.
 */

import { createHash } from 'node:crypto';
import { MISSING_AUTHENTICATION_TOKEN, problem, quote } from './sigv4-problems.js';
import type {
  ParsedSignature,
  SignatureAlgorithm,
  SignatureLocation,
  SignatureProblem,
  SignedRequestHeaders,
  SignedRequestView,
} from './sigv4-types.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const SIGV4A_ALGORITHM = 'AWS4-ECDSA-P256-SHA256';
/** Longest pre-signed URL lifetime AWS accepts: one week. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

/** A query string that carries pre-signing parameters. */
const PRESIGNED_QUERY = /(?:^|&)X-Amz-(?:Algorithm|Credential|Signature)=/;

/**
 * Cheap predicate: does the request try to sign (an `AWS4-…` Authorization header, or
 * pre-signing query parameters)? Other schemes (`Bearer`, `Basic`) are not SigV4 attempts: on the
 * data plane they are the target's business (spec §2.2: only signed requests are authenticated).
 */
export function hasSignature(req: SignedRequestView): boolean {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const first = typeof auth === 'string' ? auth : auth[0];
    if (first !== undefined && first.startsWith('AWS4-')) return true;
  }
  return req.rawQuery.length > 0 && PRESIGNED_QUERY.test(req.rawQuery);
}

/** The value of a header that must appear once: string, undefined when absent, null when repeated. */
export function singleHeader(
  headers: SignedRequestHeaders,
  name: string,
): string | undefined | null {
  const value = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  return value.length === 1 ? value[0]! : null;
}

/**
 * Finds and checks the shape of a request's signature. Returns `MissingAuthenticationToken` when
 * there is none, `IncompleteSignature` when it is garbled or lacks parts, `InvalidSignature` when
 * the credential date disagrees with `x-amz-date`.
 */
export function parseSignature(req: SignedRequestView): ParsedSignature | SignatureProblem {
  const presigned = req.rawQuery.length > 0 && PRESIGNED_QUERY.test(req.rawQuery);
  const auth = singleHeader(req.headers, 'authorization');
  if (auth === null) {
    return problem(
      'IncompleteSignature',
      'The request carries more than one Authorization header.',
    );
  }
  if (auth !== undefined && auth.trim().length > 0) {
    if (presigned) {
      return problem(
        'IncompleteSignature',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
      );
    }
    return parseAuthorizationHeader(auth, req.headers);
  }
  if (presigned) return parsePresignedQuery(req);
  return MISSING_AUTHENTICATION_TOKEN;
}

function parseAuthorizationHeader(
  auth: string,
  headers: SignedRequestHeaders,
): ParsedSignature | SignatureProblem {
  const text = auth.trim();
  const space = text.indexOf(' ');
  const algorithmText = space === -1 ? text : text.slice(0, space);
  const algorithm = asAlgorithm(algorithmText);
  if (algorithm === undefined) {
    return problem(
      'IncompleteSignature',
      `Unsupported Authorization type ${quote(algorithmText)}: sign with ${SIGV4_ALGORITHM} (SigV4) or ${SIGV4A_ALGORITHM} (SigV4A).`,
    );
  }
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  if (space !== -1) {
    let start = space + 1;
    const n = text.length;
    while (start <= n) {
      let end = text.indexOf(',', start);
      if (end === -1) end = n;
      const part = text.slice(start, end).trim();
      start = end + 1;
      if (part.length === 0) continue;
      const eq = part.indexOf('=');
      if (eq <= 0) {
        const digest = createHash('sha256').update(auth).digest('base64');
        return problem(
          'IncompleteSignature',
          `Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '${digest}'.`,
        );
      }
      const name = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      if (name === 'Credential') {
        if (credential !== undefined) return duplicateComponent(name);
        credential = value;
      } else if (name === 'SignedHeaders') {
        if (signedHeaders !== undefined) return duplicateComponent(name);
        signedHeaders = value;
      } else if (name === 'Signature') {
        if (signature !== undefined) return duplicateComponent(name);
        signature = value;
      }
      // Unknown components are ignored, as AWS does.
    }
  }
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    let message = '';
    if (credential === undefined)
      message += "Authorization header requires 'Credential' parameter. ";
    if (signature === undefined) message += "Authorization header requires 'Signature' parameter. ";
    if (signedHeaders === undefined)
      message += "Authorization header requires 'SignedHeaders' parameter. ";
    return problem('IncompleteSignature', message.trimEnd());
  }
  if (signature.length === 0) {
    return problem('IncompleteSignature', "Authorization header requires 'Signature' parameter.");
  }
  const amzDate = singleHeader(headers, 'x-amz-date');
  if (amzDate === null) {
    return problem('IncompleteSignature', "The request carries more than one 'X-Amz-Date' header.");
  }
  if (amzDate === undefined) {
    return problem(
      'IncompleteSignature',
      "Authorization header requires existence of a 'X-Amz-Date' header.",
    );
  }
  let regionSet: string | undefined;
  if (algorithm === SIGV4A_ALGORITHM) {
    const value = singleHeader(headers, 'x-amz-region-set');
    if (typeof value !== 'string') {
      return problem(
        'IncompleteSignature',
        `${SIGV4A_ALGORITHM} requires exactly one 'X-Amz-Region-Set' header.`,
      );
    }
    regionSet = value;
  }
  const token = singleHeader(headers, 'x-amz-security-token');
  if (token === null) {
    return problem(
      'IncompleteSignature',
      "The request carries more than one 'X-Amz-Security-Token' header.",
    );
  }
  return buildParsed(
    algorithm,
    'header',
    credential,
    amzDate,
    signedHeaders,
    signature,
    regionSet,
    token,
    undefined,
  );
}

function duplicateComponent(name: string): SignatureProblem {
  return problem(
    'IncompleteSignature',
    `Authorization header has more than one '${name}' component.`,
  );
}

function asAlgorithm(text: string): SignatureAlgorithm | undefined {
  return text === SIGV4_ALGORITHM
    ? SIGV4_ALGORITHM
    : text === SIGV4A_ALGORITHM
      ? SIGV4A_ALGORITHM
      : undefined;
}

const PRESIGN_REQUIRED =
  'Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';

/** The pre-signing parameters, by their exact (case-sensitive) names. */
const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Region-Set',
] as const;

function parsePresignedQuery(req: SignedRequestView): ParsedSignature | SignatureProblem {
  const values: (string | undefined)[] = new Array<string | undefined>(PRESIGN_PARAMS.length);
  const q = req.rawQuery;
  let start = 0;
  while (start < q.length) {
    let end = q.indexOf('&', start);
    if (end === -1) end = q.length;
    if (q.startsWith('X-Amz-', start)) {
      const eq = q.indexOf('=', start);
      const keyEnd = eq === -1 || eq > end ? end : eq;
      const index = PRESIGN_PARAMS.indexOf(
        q.slice(start, keyEnd) as (typeof PRESIGN_PARAMS)[number],
      );
      if (index !== -1) {
        if (values[index] !== undefined) {
          return problem(
            'IncompleteSignature',
            `Query-string authentication parameter '${PRESIGN_PARAMS[index]}' appears more than once.`,
          );
        }
        values[index] = keyEnd === end ? '' : decodeQueryValue(q.slice(keyEnd + 1, end));
      }
    }
    start = end + 1;
  }
  const [algorithmText, credential, amzDate, expires, signedHeaders, signature, token, regionSet] =
    values;
  if (
    algorithmText === undefined ||
    credential === undefined ||
    amzDate === undefined ||
    expires === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    signature.length === 0
  ) {
    return problem('IncompleteSignature', PRESIGN_REQUIRED);
  }
  const algorithm = asAlgorithm(algorithmText);
  if (algorithm === undefined) {
    return problem(
      'IncompleteSignature',
      `X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}" and "${SIGV4A_ALGORITHM}", not ${quote(algorithmText)}.`,
    );
  }
  if (!/^\d{1,7}$/.test(expires)) {
    return problem(
      'IncompleteSignature',
      `X-Amz-Expires should be a number, not ${quote(expires)}.`,
    );
  }
  const expiresSeconds = Number(expires);
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    return problem(
      'IncompleteSignature',
      `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}.`,
    );
  }
  if (algorithm === SIGV4A_ALGORITHM && regionSet === undefined) {
    return problem(
      'IncompleteSignature',
      `Query-string authentication with ${SIGV4A_ALGORITHM} requires the X-Amz-Region-Set parameter.`,
    );
  }
  return buildParsed(
    algorithm,
    'query',
    credential,
    amzDate,
    signedHeaders,
    signature,
    algorithm === SIGV4A_ALGORITHM ? regionSet : undefined,
    token,
    expiresSeconds,
  );
}

/** Checks the credential, date, signed headers and region set; builds the parsed signature. */
function buildParsed(
  algorithm: SignatureAlgorithm,
  location: SignatureLocation,
  credential: string,
  amzDate: string,
  signedHeadersList: string,
  signature: string,
  regionSetText: string | undefined,
  securityToken: string | undefined,
  expiresSeconds: number | undefined,
): ParsedSignature | SignatureProblem {
  const v4a = algorithm === SIGV4A_ALGORITHM;
  // Credential: AKID/date/region/service/aws4_request (SigV4A: no region).
  const slash = credential.indexOf('/');
  const s1 = slash === -1 ? -1 : credential.indexOf('/', slash + 1);
  const s2 = s1 === -1 ? -1 : credential.indexOf('/', s1 + 1);
  const s3 = s2 === -1 || v4a ? -1 : credential.indexOf('/', s2 + 1);
  const last = v4a ? s2 : s3;
  if (
    slash <= 0 ||
    s1 === slash + 1 ||
    s2 === s1 + 1 ||
    (!v4a && s3 === s2 + 1) ||
    last === -1 ||
    last === credential.length - 1 ||
    credential.indexOf('/', last + 1) !== -1
  ) {
    return problem(
      'IncompleteSignature',
      `Credential ${quote(credential)} is malformed: expected '<AccessKeyId>/<YYYYMMDD>/${v4a ? '' : '<region>/'}<service>/aws4_request'.`,
    );
  }
  const accessKeyId = credential.slice(0, slash);
  const date = credential.slice(slash + 1, s1);
  const region = v4a ? undefined : credential.slice(s1 + 1, s2);
  const service = v4a ? credential.slice(s1 + 1, s2) : credential.slice(s2 + 1, s3);
  const terminator = credential.slice(last + 1);
  if (terminator !== 'aws4_request') {
    return problem(
      'IncompleteSignature',
      `Credential should be scoped with a valid terminator: 'aws4_request', not ${quote(terminator)}.`,
    );
  }
  const signedAtMs = parseAmzDate(amzDate);
  if (Number.isNaN(signedAtMs)) {
    return problem(
      'IncompleteSignature',
      `Date must be in ISO-8601 'basic format'. Got ${quote(amzDate)}. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  if (!amzDate.startsWith(date) || date.length !== 8) {
    return problem(
      'InvalidSignature',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ${quote(date)} != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  const info = signedHeadersInfo(signedHeadersList);
  if (info instanceof SignedHeadersProblem) return info.problem;
  if (!info.hasHost) {
    return problem(
      'IncompleteSignature',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  if (location === 'header' && !info.hasDate) {
    return problem(
      'IncompleteSignature',
      "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  let regionSet: string[] | undefined;
  if (v4a) {
    if (location === 'header' && !info.hasRegionSet) {
      return problem(
        'IncompleteSignature',
        "'X-Amz-Region-Set' must be a 'SignedHeader' in the AWS Authorization.",
      );
    }
    regionSet = [];
    for (const entry of (regionSetText ?? '').split(',')) {
      const trimmed = entry.trim();
      if (trimmed.length > 0) regionSet.push(trimmed);
    }
    if (regionSet.length === 0) {
      return problem('IncompleteSignature', 'X-Amz-Region-Set names no region.');
    }
  }
  return {
    ok: true,
    algorithm,
    location,
    accessKeyId,
    date,
    amzDate,
    signedAtMs,
    region,
    regionSet,
    service,
    credentialScope: credential.slice(slash + 1),
    signedHeaders: info.names,
    signedHeadersList,
    signature,
    securityToken,
    expiresSeconds,
  };
}

/** What a `SignedHeaders` list says, computed once per distinct list (clients repeat theirs). */
class SignedHeadersInfo {
  constructor(
    readonly names: readonly string[],
    readonly hasHost: boolean,
    readonly hasDate: boolean,
    readonly hasRegionSet: boolean,
  ) {}
}

class SignedHeadersProblem {
  constructor(readonly problem: SignatureProblem) {}
}

const SIGNED_HEADERS_CACHE = new Map<string, SignedHeadersInfo | SignedHeadersProblem>();
const SIGNED_HEADERS_CACHE_MAX = 1024;

function signedHeadersInfo(list: string): SignedHeadersInfo | SignedHeadersProblem {
  const hit = SIGNED_HEADERS_CACHE.get(list);
  if (hit !== undefined) return hit;
  const info = analyseSignedHeaders(list);
  // Only well-formed lists are worth keeping; garbage must not evict them.
  if (info instanceof SignedHeadersInfo && list.length <= 1024) {
    if (SIGNED_HEADERS_CACHE.size >= SIGNED_HEADERS_CACHE_MAX) SIGNED_HEADERS_CACHE.clear();
    SIGNED_HEADERS_CACHE.set(list, info);
  }
  return info;
}

function analyseSignedHeaders(list: string): SignedHeadersInfo | SignedHeadersProblem {
  if (list.length === 0) {
    return new SignedHeadersProblem(
      problem('IncompleteSignature', "Signed request requires setting up 'SignedHeaders'."),
    );
  }
  const names = list.split(';');
  let hasHost = false;
  let hasDate = false;
  let hasRegionSet = false;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.length === 0) {
      return new SignedHeadersProblem(
        problem('IncompleteSignature', `SignedHeaders ${quote(list)} has an empty name.`),
      );
    }
    for (let j = 0; j < i; j++) {
      if (names[j] === name) {
        return new SignedHeadersProblem(
          problem('IncompleteSignature', `SignedHeaders lists ${quote(name)} more than once.`),
        );
      }
    }
    if (name === 'host' || name === ':authority') hasHost = true;
    else if (name === 'x-amz-date') hasDate = true;
    else if (name === 'x-amz-region-set') hasRegionSet = true;
  }
  return new SignedHeadersInfo(Object.freeze(names), hasHost, hasDate, hasRegionSet);
}

/** Digit value at `s[i]`, or NaN. */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `YYYYMMDDTHHMMSSZ` → epoch ms, NaN when malformed or not a real date/time. */
export function parseAmzDate(s: string): number {
  if (s.length !== 16 || s.charCodeAt(8) !== 84 /* T */ || s.charCodeAt(15) !== 90 /* Z */) {
    return NaN;
  }
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 4) * 10 + digit(s, 5);
  const day = digit(s, 6) * 10 + digit(s, 7);
  const hour = digit(s, 9) * 10 + digit(s, 10);
  const minute = digit(s, 11) * 10 + digit(s, 12);
  const second = digit(s, 13) * 10 + digit(s, 14);
  if (!(month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59)) {
    return NaN; // also catches NaN from a non-digit
  }
  // Reject 20240231 and friends.
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month]!)) return NaN;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return ms;
}

/** Percent-decodes a query value (`+` is a space); invalid escapes stay literal. */
export function decodeQueryValue(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length) {
      const pair = s.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(pair)) {
        bytes.push(parseInt(pair, 16));
        i += 2;
        continue;
      }
    }
    if (c === 43) bytes.push(32);
    else if (c < 128) bytes.push(c);
    else {
      const cp = s.codePointAt(i)!;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
