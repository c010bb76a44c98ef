/**
 * The SigV4 canonical request (spec §2.2), built from the wire form of a request and the signed
 * header list the client sent:
 *
 *   METHOD \n canonical URI \n canonical query \n name:value \n … \n \n signed;headers \n payload hash
 */

import * as nodeCrypto from 'node:crypto';
import type { SignedRequestHeaders } from './sigv4-types.js';

/**
 * Canonical header value: CR/LF become spaces, runs of spaces and tabs collapse to one space, one
 * leading and one trailing space go (what `@smithy/signature-v4` and the AWS docs' "trimall" do).
 */
export function trimAll(value: string): string {
  const n = value.length;
  let clean = n === 0 || (value.charCodeAt(0) !== 32 && value.charCodeAt(n - 1) !== 32);
  for (let i = 0; clean && i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13 || (c === 32 && value.charCodeAt(i + 1) === 32)) {
      clean = false;
    }
  }
  if (clean) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** Canonical value of a header as given (a repeated header's values joined with `,`). */
export function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return trimAll(value);
  let out = '';
  for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + trimAll(value[i]!);
  return out;
}

/** The `name:value\n` lines for the signed headers, in the order the client listed them. */
export function canonicalHeaders(
  headers: SignedRequestHeaders,
  signedHeaders: readonly string[],
): string {
  let out = '';
  for (let i = 0; i < signedHeaders.length; i++) {
    const name = signedHeaders[i]!;
    let value = headers[name];
    // HTTP/2 carries the host as `:authority` (spec §2.2: gRPC signs the authority as Host).
    if (value === undefined && name === 'host') value = headers[':authority'];
    out += name + ':' + canonicalHeaderValue(value) + '\n';
  }
  return out;
}

/** A character outside ASCII: the string's byte form depends on the encoding chosen. */
const NON_ASCII = /[\u0080-\uffff]/;
/** A character beyond latin1: the view was built from Unicode text, not from Node's parser. */
const WIDE = /[\u0100-\uffff]/;

/** One-shot hashing (Node ≥ 20.12) is about twice as fast as createHash for short inputs. */
const oneShotHash: typeof nodeCrypto.hash | undefined =
  typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

/**
 * Hex SHA-256 of the canonical request. Strings from Node's HTTP parser hold one character per
 * wire byte (latin1), so latin1 hashes exactly the bytes the client signed; a view with wider
 * characters was built from Unicode text and is hashed as UTF-8, as signers do. ASCII (the usual
 * case) is the same either way and is hashed without a copy.
 */
export function hashCanonicalRequest(canonicalRequest: string): string {
  const data = NON_ASCII.test(canonicalRequest)
    ? Buffer.from(canonicalRequest, WIDE.test(canonicalRequest) ? 'utf8' : 'latin1')
    : canonicalRequest;
  if (oneShotHash !== undefined) return oneShotHash('sha256', data, 'hex');
  return nodeCrypto.createHash('sha256').update(data).digest('hex');
}
