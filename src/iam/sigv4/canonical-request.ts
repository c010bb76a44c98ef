/**
 * The SigV4 canonical request (spec §2.2), built from the wire form of a request and the signed
 * header list the client sent:
 *
 *   METHOD \n canonical URI \n canonical query \n name:value \n … \n \n signed;headers \n payload hash
 */

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

/** A character beyond latin1: the view was built from Unicode text, not from Node's parser. */
const WIDE = /[\u0100-\uffff]/;

/**
 * How to turn the canonical request into bytes. Strings from Node's HTTP parser hold one
 * character per wire byte (latin1), so latin1 hashes exactly the bytes the client signed; a view
 * with wider characters was built from Unicode text and is hashed as UTF-8, as signers do.
 */
export function canonicalEncoding(canonicalRequest: string): 'latin1' | 'utf8' {
  return WIDE.test(canonicalRequest) ? 'utf8' : 'latin1';
}
