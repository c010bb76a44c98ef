/**
 * The Lattice Lambda event (spec §3.3, V1 and V2) built from a request as the data plane forwards
 * it, and the function's response turned back into an HTTP answer. Pure functions: the forwarder
 * (lambda-forwarder.ts) does the I/O.
 */
import { isDroppedResponseHeader } from './header-rules.js';

/** `lambdaEventStructureVersion` of a LAMBDA target group (spec §1.5; default V1). */
export type LambdaEventVersion = 'V1' | 'V2';

/** The parts of a forwarded request the event is made of. */
export interface LambdaEventInput {
  method: string;
  /** Path with query string, as forwarded (normalised, spec §7.2). */
  path: string;
  /** Flat name/value list of the headers sent toward targets (spec §3.1 headers included). */
  headers: readonly string[];
  body: Buffer | null;
  region: string;
  /** Microseconds since the epoch (spec §3.3 `timeEpoch`). */
  timeEpochUs: number;
}

/** `ServiceArn`/`ServiceNetworkArn`/`TargetGroupArn` of an `x-amzn-lattice-target` value. */
export interface TargetArns {
  serviceArn: string;
  serviceNetworkArn: string;
  targetGroupArn: string;
}

/** V1: snake_case, one string per header and query key (spec §3.3). */
export interface LambdaEventV1 {
  raw_path: string;
  method: string;
  headers: Record<string, string>;
  query_string_parameters: Record<string, string>;
  body?: string;
  is_base64_encoded: boolean;
}

/** V2 `requestContext.identity` (spec §3.3; fields present only when known). */
export interface LambdaIdentity {
  sourceVpcArn?: string;
  type?: string;
  principal?: string;
  principalOrgID?: string;
  sessionName?: string;
  x509IssuerOu?: string;
  x509SanDns?: string;
  x509SanNameCn?: string;
  x509SanUri?: string;
  x509SubjectCn?: string;
}

/** V2: camelCase, arrays for every header and query key (spec §3.3, the AWS doc's shape). */
export interface LambdaEventV2 {
  version: '2.0';
  path: string;
  method: string;
  headers: Record<string, string[]>;
  queryStringParameters: Record<string, string[]>;
  body?: string;
  isBase64Encoded: boolean;
  requestContext: {
    serviceNetworkArn: string;
    serviceArn: string;
    targetGroupArn: string;
    identity: LambdaIdentity;
    region: string;
    timeEpoch: string;
  };
}

const TEXT_TYPES: ReadonlySet<string> = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
]);

/**
 * Whether a body travels as text (spec §3.3): `text/*`, `application/json`, `application/xml`,
 * `application/javascript`; anything else, or no content type, is Base64. A body with a
 * `content-encoding` (other than `identity`) is Base64 whatever its type: compressed bytes are not
 * text (Trellis's reading of the spec's garbled sentence; see docs/functions.md).
 */
export function isTextBody(
  contentType: string | undefined,
  contentEncoding: string | undefined,
): boolean {
  if (
    contentEncoding !== undefined &&
    contentEncoding.trim() !== '' &&
    contentEncoding.trim().toLowerCase() !== 'identity'
  )
    return false;
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type.startsWith('text/') || TEXT_TYPES.has(type);
}

function decodeQueryPart(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Query pairs of a path, decoded, in order (`a=1&a=2&b` → [a,1],[a,2],[b,'']). */
export function queryPairs(path: string): [string, string][] {
  const q = path.indexOf('?');
  if (q < 0 || q === path.length - 1) return [];
  const out: [string, string][] = [];
  for (const part of path.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(
      eq < 0
        ? [decodeQueryPart(part), '']
        : [decodeQueryPart(part.slice(0, eq)), decodeQueryPart(part.slice(eq + 1))],
    );
  }
  return out;
}

/**
 * Parses a Lattice map header (`k=v; k2=v2`, spec §3.1): any order, unknown keys kept, empty values
 * allowed, `\;` inside values unescaped.
 */
export function parseMapHeader(value: string): Map<string, string> {
  const out = new Map<string, string>();
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && (value.charCodeAt(i) !== 59 /* ; */ || value.charCodeAt(i - 1) === 92))
      continue;
    const pair = value.slice(start, i).trim();
    start = i + 1;
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).replace(/\\;/g, ';'));
  }
  return out;
}

/** The ARNs of an `x-amzn-lattice-target` value. */
export function parseTargetHeader(value: string): TargetArns {
  const m = parseMapHeader(value);
  return {
    serviceArn: m.get('ServiceArn') ?? '',
    serviceNetworkArn: m.get('ServiceNetworkArn') ?? '',
    targetGroupArn: m.get('TargetGroupArn') ?? '',
  };
}

const IDENTITY_KEYS: Readonly<Record<string, keyof LambdaIdentity>> = {
  Principal: 'principal',
  PrincipalOrgID: 'principalOrgID',
  SessionName: 'sessionName',
  Type: 'type',
  'X509Issuer/OU': 'x509IssuerOu',
  'X509SAN/DNS': 'x509SanDns',
  'X509SAN/NameCN': 'x509SanNameCn',
  'X509SAN/URI': 'x509SanUri',
  'X509Subject/CN': 'x509SubjectCn',
};

/** `requestContext.identity` from the network and identity headers (spec §3.3 spelling). */
export function identityOf(
  networkHeader: string | undefined,
  identityHeader: string | undefined,
): LambdaIdentity {
  const identity: LambdaIdentity = {};
  if (networkHeader !== undefined) {
    const vpc = parseMapHeader(networkHeader).get('SourceVpcArn');
    if (vpc !== undefined && vpc !== '') identity.sourceVpcArn = vpc;
  }
  if (identityHeader !== undefined) {
    for (const [k, v] of parseMapHeader(identityHeader)) {
      const field = IDENTITY_KEYS[k];
      if (field !== undefined) identity[field] = v;
    }
  }
  return identity;
}

/** What an event needs besides the request: the ARNs behind it. */
export interface LambdaEventContext {
  target: TargetArns;
}

/**
 * Builds the event of `version` for one request (spec §3.3): header names lower-cased; V1 joins
 * repeated headers with `", "` and keeps the last query value, V2 keeps arrays; the body is text or
 * Base64 by `isTextBody`; `path`/`raw_path` carry the query string; V2 `timeEpoch` is a string of
 * microseconds.
 */
export function buildLambdaEvent(
  version: LambdaEventVersion,
  input: LambdaEventInput,
  target: TargetArns | undefined,
): LambdaEventV1 | LambdaEventV2 {
  const h = input.headers;
  let contentType: string | undefined;
  let contentEncoding: string | undefined;
  let networkHeader: string | undefined;
  let identityHeader: string | undefined;
  let targetHeader: string | undefined;
  const v1Headers: Record<string, string> = {};
  const v2Headers: Record<string, string[]> = {};
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!.toLowerCase();
    const value = h[i + 1]!;
    if (name === 'content-type') contentType = value;
    else if (name === 'content-encoding') contentEncoding = value;
    else if (name === 'x-amzn-lattice-network') networkHeader = value;
    else if (name === 'x-amzn-lattice-identity') identityHeader = value;
    else if (name === 'x-amzn-lattice-target') targetHeader = value;
    if (version === 'V1') {
      const prior = v1Headers[name];
      v1Headers[name] = prior === undefined ? value : `${prior}, ${value}`;
    } else (v2Headers[name] ??= []).push(value);
  }
  let body: string | undefined;
  let base64 = false;
  if (input.body !== null && input.body.length > 0) {
    base64 = !isTextBody(contentType, contentEncoding);
    body = input.body.toString(base64 ? 'base64' : 'utf8');
  }
  const pairs = queryPairs(input.path);
  if (version === 'V1') {
    const query: Record<string, string> = {};
    for (const [k, v] of pairs) query[k] = v; // spec §3.3: the last value wins
    const event: LambdaEventV1 = {
      raw_path: input.path,
      method: input.method,
      headers: v1Headers,
      query_string_parameters: query,
      is_base64_encoded: base64,
    };
    if (body !== undefined) event.body = body;
    return event;
  }
  const query: Record<string, string[]> = {};
  for (const [k, v] of pairs) (query[k] ??= []).push(v);
  const arns = target ?? (targetHeader !== undefined ? parseTargetHeader(targetHeader) : undefined);
  const event: LambdaEventV2 = {
    version: '2.0',
    path: input.path,
    method: input.method,
    headers: v2Headers,
    queryStringParameters: query,
    isBase64Encoded: base64,
    requestContext: {
      serviceNetworkArn: arns?.serviceNetworkArn ?? '',
      serviceArn: arns?.serviceArn ?? '',
      targetGroupArn: arns?.targetGroupArn ?? '',
      identity: identityOf(networkHeader, identityHeader),
      region: input.region,
      timeEpoch: String(input.timeEpochUs),
    },
  };
  if (body !== undefined) event.body = body;
  return event;
}

/** A function's answer as the client will get it. */
export interface LambdaHttpResponse {
  statusCode: number;
  /** Flat name/value list, hop-by-hop and `content-length` removed (spec §3.3). */
  headers: string[];
  body: Buffer;
}

/** Why a function's result cannot become an HTTP response. */
export type LambdaResponseProblem = { problem: string };

function headerValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * Parses the function's JSON result (spec §3.3): an object with an integer `statusCode`
 * (100–599), `headers` (string values, or arrays of them for multi-value headers), ALB-style
 * `multiValueHeaders`, an optional `body` string and `isBase64Encoded`. `headers` and
 * `isBase64Encoded` may be left out (taken as none/false); anything else malformed is a problem.
 */
export function parseLambdaResponse(payload: string): LambdaHttpResponse | LambdaResponseProblem {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return { problem: 'the function response is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return {
      problem: `the function returned ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}, not an object`,
    };
  const r = value as Record<string, unknown>;
  const status = r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    return { problem: 'statusCode must be an integer from 100 to 599' };
  if (r.isBase64Encoded !== undefined && typeof r.isBase64Encoded !== 'boolean')
    return { problem: 'isBase64Encoded must be a boolean' };
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string')
    return { problem: 'body must be a string' };
  const headers: string[] = [];
  for (const member of ['headers', 'multiValueHeaders'] as const) {
    const map = r[member];
    if (map === undefined || map === null) continue;
    if (typeof map !== 'object' || Array.isArray(map))
      return { problem: `${member} must be an object` };
    for (const [name, raw] of Object.entries(map as Record<string, unknown>)) {
      const lower = name.toLowerCase();
      if (isDroppedResponseHeader(lower) || lower === 'content-length') continue;
      const values = Array.isArray(raw) ? raw : [raw];
      for (const v of values) {
        const text = headerValue(v);
        if (text === undefined)
          return { problem: `${member}.${name} must be a string or an array of strings` };
        headers.push(name, text);
      }
    }
  }
  const text = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode: status, headers, body };
}
