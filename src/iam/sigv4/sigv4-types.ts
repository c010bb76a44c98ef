/** Public shapes of the SigV4 / SigV4A verifier (spec §1.1 control plane, §2.2 data plane). */

import type { KeyObject } from 'node:crypto';

/** The two signing algorithms AWS clients use. */
export type SignatureAlgorithm = 'AWS4-HMAC-SHA256' | 'AWS4-ECDSA-P256-SHA256';

/** Header values as Node's `IncomingMessage.headers` (or `headersDistinct`) gives them. */
export type SignedRequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The parts of an HTTP request that a signature covers.
 *
 * - `rawPath`: the path exactly as on the wire (still percent-encoded), without the query.
 * - `rawQuery`: the query exactly as on the wire, without the leading `?` (`''` when none).
 * - `headers`: lower-case names. Strings are taken as Node's HTTP parser delivers them (one
 *   character per wire byte), which is why the canonical request is hashed byte-for-byte as
 *   latin1 unless a value holds a character above U+00FF (then UTF-8).
 *   A repeated header given as an array (`req.headersDistinct`) is joined with `,`, as AWS
 *   canonicalises repeated headers; Node's joined `req.headers` form (`a, b`) is taken as one
 *   value, which only matters when a client repeats a header it also signs.
 *   For HTTP/2, a signed `host` that is absent is read from `:authority`.
 */
export interface SignedRequestView {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: SignedRequestHeaders;
}

/** Failure codes; callers map them to AWS exceptions (e.g. `InvalidSignatureException`, 403). */
export type SignatureProblemCode =
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'InvalidSignature'
  | 'SignatureExpired'
  | 'UnrecognizedClient'
  | 'InvalidToken'
  | 'WrongScope'
  | 'PayloadSigningNotSupported';

/** Why a request is not authenticated. `message` never holds a secret or an expected signature. */
export interface SignatureProblem {
  readonly ok: false;
  readonly code: SignatureProblemCode;
  readonly message: string;
}

/** Where the signature was found. */
export type SignatureLocation = 'header' | 'query';

/** A signature found in a request, before any key is looked up. */
export interface ParsedSignature {
  readonly ok: true;
  readonly algorithm: SignatureAlgorithm;
  readonly location: SignatureLocation;
  readonly accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  readonly date: string;
  /** `YYYYMMDDTHHMMSSZ` from `x-amz-date` / `X-Amz-Date`. */
  readonly amzDate: string;
  /** `amzDate` as epoch milliseconds. */
  readonly signedAtMs: number;
  /** SigV4: the scope's region. SigV4A: undefined. */
  readonly region: string | undefined;
  /** SigV4A: the region set (`x-amz-region-set` / `X-Amz-Region-Set`), e.g. `['*']`. */
  readonly regionSet: readonly string[] | undefined;
  readonly service: string;
  /** Everything after `<accessKeyId>/` in the credential: `date/region/service/aws4_request`. */
  readonly credentialScope: string;
  readonly signedHeaders: readonly string[];
  /** The `SignedHeaders` list exactly as sent (`host;x-amz-date`). */
  readonly signedHeadersList: string;
  /** Hex signature as sent. */
  readonly signature: string;
  readonly securityToken: string | undefined;
  /** Pre-signed URLs: `X-Amz-Expires` in seconds. */
  readonly expiresSeconds: number | undefined;
}

/** The secret the caller looked up by `ParsedSignature.accessKeyId`. */
export interface SigningCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** How to canonicalise the path: SDK default (normalise + double-encode), as sent, or accept either. */
export type UriEscapePathMode = boolean | 'either';

/** What the verifier expects of a request. Pass one constant object per endpoint on hot paths. */
export interface VerifyOptions {
  /** Signing name this endpoint answers for: `vpc-lattice`, `vpc-lattice-svcs`, `iam`, `sts`, … */
  service: string;
  /** Region of this endpoint; SigV4A region sets must include it. */
  region: string;
  /** Clock for tests. Default `Date.now()`. */
  nowMs?: number;
  /** Allowed clock skew either way. Default 5 minutes. */
  maxSkewMs?: number;
  /** Control plane: hex SHA-256 of the body actually received. Default: the empty body's hash. */
  payloadHash?: string;
  /** Data plane (spec §2.2): the payload must be signed as the literal `UNSIGNED-PAYLOAD`. */
  requireUnsignedPayload?: boolean;
  /**
   * `true`: SDK default for most services (normalise `.`/`..`/`//`, encode the wire path once more).
   * `false`: the wire path as-is (S3-style, spec §2.2 for `vpc-lattice-svcs`). `'either'`: try the
   * default first, then the other. Default: `false` for `vpc-lattice-svcs`, `true` otherwise.
   */
  uriEscapePath?: UriEscapePathMode;
  /** Cache of derived keys; default: the module-wide one. */
  signingKeyCache?: SigningKeyCacheLike;
}

/** The cache interface `verifySignature` uses (implemented by `SigningKeyCache`). */
export interface SigningKeyCacheLike {
  sigV4Key(
    credential: SigningCredential,
    date: string,
    region: string,
    service: string,
  ): {
    sign(stringToSign: string): string;
    /** `sign(prefix + hex SHA-256 of canonicalRequest) === signature`, possibly remembered. */
    matches?(prefix: string, canonicalRequest: string, signature: string): boolean;
  };
  sigV4aPublicKey(credential: SigningCredential): KeyObject | undefined;
}

/** A verified request. */
export interface VerifySuccess {
  readonly ok: true;
  readonly algorithm: SignatureAlgorithm;
  readonly location: SignatureLocation;
  readonly accessKeyId: string;
  readonly signedAtMs: number;
  /** The payload hash the signature covers (`UNSIGNED-PAYLOAD` or hex). */
  readonly payloadHash: string;
  /** Which path canonicalisation matched (useful when `uriEscapePath` is `'either'`). */
  readonly uriEscapePath: boolean;
}

/** Outcome of `verifySignature`. */
export type VerifyResult = VerifySuccess | SignatureProblem;
