/**
 * SigV4 / SigV4A request verification (spec §1.1 control plane, §2.2 data plane).
 *
 * Use: `hasSignature(req)` (data plane: unsigned → anonymous) → `parseSignature(req)` → look up
 * the secret by `parsed.accessKeyId` (none → `unrecognizedClient()`) → `verifySignature(…)`.
 */

export type {
  ParsedSignature,
  SignatureAlgorithm,
  SignatureLocation,
  SignatureProblem,
  SignatureProblemCode,
  SignedRequestHeaders,
  SignedRequestView,
  SigningCredential,
  SigningKeyCacheLike,
  UriEscapePathMode,
  VerifyOptions,
  VerifyResult,
  VerifySuccess,
} from './sigv4-types.js';
export {
  MAX_PRESIGNED_EXPIRES_SECONDS,
  SIGV4A_ALGORITHM,
  SIGV4_ALGORITHM,
  hasSignature,
  parseSignature,
} from './parse-signature.js';
export {
  DATA_PLANE_SERVICE,
  DEFAULT_MAX_SKEW_MS,
  EMPTY_PAYLOAD_SHA256,
  UNSIGNED_PAYLOAD,
  regionSetIncludes,
  verifySignature,
} from './verify-signature.js';
export { unrecognizedClient } from './sigv4-problems.js';
export {
  SigV4SigningKey,
  SigningKeyCache,
  defaultSigningKeyCache,
  deriveSigV4Key,
  deriveSigV4aPrivateKey,
  deriveSigV4aPublicKey,
} from './signing-key-cache.js';
export { canonicalQueryString, canonicalUri } from './canonical-uri.js';
