/**
 * Test support: sign requests with the official signers (`@smithy/signature-v4`,
 * `@aws-sdk/signature-v4a`) and turn the result into the wire view the verifier sees — the path
 * and query exactly as the SDK's HTTP handler puts them on the wire (`buildQueryString`), header
 * names lower-cased as Node's parser delivers them.
 */

import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4a } from '@aws-sdk/signature-v4a';
import { HttpRequest, buildQueryString } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SignedRequestView, SigningCredential } from './index.js';

export const CREDENTIAL: SigningCredential = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
export const TEMPORARY_CREDENTIAL: SigningCredential = {
  accessKeyId: 'ASIAEXAMPLETEMPORARY',
  secretAccessKey: 'tEmPoRaRyS3cr3t/K7MDENG+bPxRfiCYEXAMPLE',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////session+token/with=padding==',
};
export const SIGNED_AT = new Date('2024-05-06T07:08:09Z');
export const NOW_MS = SIGNED_AT.getTime();
export const REGION = 'us-west-2';

/** A request as an SDK hands it to its signer: `path` already in wire form. */
export interface RequestSpec {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  hostname?: string;
}

export interface SignOptions {
  service: string;
  region?: string;
  uriEscapePath?: boolean;
  applyChecksum?: boolean;
  credential?: SigningCredential;
  signingDate?: Date;
  /** Data-plane style: declare `x-amz-content-sha256: UNSIGNED-PAYLOAD` before signing. */
  unsignedPayload?: boolean;
  /** Pre-sign instead of signing the Authorization header. */
  presignExpiresIn?: number;
}

function toHttpRequest(spec: RequestSpec, unsignedPayload: boolean): HttpRequest {
  const hostname =
    spec.hostname ?? 'svc-0123456789abcdef0.7d67968.vpc-lattice-svcs.us-west-2.on.aws';
  const headers: Record<string, string> = { host: hostname, ...spec.headers };
  if (unsignedPayload) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  return new HttpRequest({
    method: spec.method ?? 'GET',
    protocol: 'https:',
    hostname,
    path: spec.path ?? '/',
    query: spec.query ?? {},
    headers,
    body: spec.body,
  });
}

/** The wire view of a signed SDK request. */
export function toView(request: HttpRequest): SignedRequestView {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    // Node's parser trims optional whitespace around a value.
    headers[name.toLowerCase()] = value.replace(/^[ \t]+|[ \t]+$/g, '');
  }
  return {
    method: request.method,
    rawPath: request.path,
    rawQuery: buildQueryString(request.query as Record<string, string | string[]>),
    headers,
  };
}

/** Signs (or pre-signs) with `@smithy/signature-v4`, as the AWS SDK for JavaScript v3 does. */
export async function signV4(spec: RequestSpec, options: SignOptions): Promise<SignedRequestView> {
  const signer = new SignatureV4({
    service: options.service,
    region: options.region ?? REGION,
    credentials: options.credential ?? CREDENTIAL,
    sha256: Sha256,
    uriEscapePath: options.uriEscapePath ?? true,
    applyChecksum: options.applyChecksum ?? true,
  });
  const request = toHttpRequest(spec, options.unsignedPayload ?? false);
  const signingDate = options.signingDate ?? SIGNED_AT;
  const signed =
    options.presignExpiresIn !== undefined
      ? await signer.presign(request, { signingDate, expiresIn: options.presignExpiresIn })
      : await signer.sign(request, { signingDate });
  return toView(signed as HttpRequest);
}

/** Signs with `@aws-sdk/signature-v4a` (`region` is the region set, e.g. `*`). */
export async function signV4a(
  spec: RequestSpec,
  options: SignOptions & { regionSet?: string },
): Promise<SignedRequestView> {
  const signer = new SignatureV4a({
    service: options.service,
    region: options.regionSet ?? '*',
    credentials: options.credential ?? CREDENTIAL,
    sha256: Sha256,
    uriEscapePath: options.uriEscapePath ?? true,
    applyChecksum: options.applyChecksum ?? true,
  });
  const request = toHttpRequest(spec, options.unsignedPayload ?? false);
  const signed = await signer.sign(request, { signingDate: options.signingDate ?? SIGNED_AT });
  return toView(signed as HttpRequest);
}
