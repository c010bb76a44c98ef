/**
 * Derived signing keys, cached (DESIGN.md "Hot path rules": per key id, date, region, service).
 *
 * SigV4: kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
 * SigV4A: the ECDSA P-256 key pair is derived from the access key pair alone (no date or region),
 * by the counter-mode HMAC KDF of aws-c-auth `key_derivation.c`, so one public key per access key.
 *
 * Each entry remembers the secret it was derived from and is used only while the caller's secret
 * is the same string (a rotated secret re-derives). That is the "secret fingerprint" without
 * hashing the secret on every request.
 */

import * as nodeCrypto from 'node:crypto';
import { createECDH, createHmac, createPublicKey, type KeyObject } from 'node:crypto';
import { hashCanonicalRequest } from './canonical-request.js';
import type { SigningCredential, SigningKeyCacheLike } from './sigv4-types.js';

/** HMAC-SHA256. */
function hmac(key: Uint8Array | string, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** The SigV4 signing key for one (secret, date, region, service). */
export function deriveSigV4Key(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/** One-shot hashing (Node ≥ 20.12), when present. */
const oneShotHash: typeof nodeCrypto.hash | undefined =
  typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;

/** What a remembered signature signed (see `SigV4SigningKey.matches`). */
class VerifiedSignature {
  constructor(
    readonly prefix: string,
    readonly canonicalRequest: string,
  ) {}
}

/** Signatures remembered per signing key (one key = one access key × date × region × service). */
const VERIFIED_PER_KEY = 16;

/** Constant-time equality of two strings of ASCII hex (length is not secret). */
function equalsConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * A derived SigV4 signing key, ready to sign. HMAC is computed from its definition (RFC 2104:
 * H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m))) with the padded keys precomputed, which costs two one-shot
 * hashes instead of a `createHmac` set-up per request (about a third less CPU).
 */
export class SigV4SigningKey {
  readonly key: Buffer;
  readonly #innerPad: string;
  readonly #outerPad: string;
  readonly #verified = new Map<string, VerifiedSignature>();

  constructor(key: Buffer) {
    this.key = key;
    const inner = Buffer.alloc(64, 0x36);
    const outer = Buffer.alloc(64, 0x5c);
    for (let i = 0; i < key.length; i++) {
      inner[i]! ^= key[i]!;
      outer[i]! ^= key[i]!;
    }
    this.#innerPad = inner.toString('latin1');
    this.#outerPad = outer.toString('latin1');
  }

  /**
   * Whether `signature` is this key's signature of `prefix + hex(SHA-256(canonicalRequest))`
   * (SigV4's string to sign). The last few signatures that matched are remembered with what they
   * signed: the same signed request again (a retry, a replay within the skew window, a client
   * repeating a request in the same second) is the same HMAC of the same input, so an exact
   * match of prefix and canonical request gives the same answer without hashing. Mismatches are
   * never remembered; a new signature costs the full HMAC.
   */
  matches(prefix: string, canonicalRequest: string, signature: string): boolean {
    const seen = this.#verified.get(signature);
    if (seen !== undefined && seen.prefix === prefix && seen.canonicalRequest === canonicalRequest)
      return true;
    const expected = this.sign(prefix + hashCanonicalRequest(canonicalRequest));
    if (!equalsConstantTime(expected, signature)) return false;
    if (this.#verified.size >= VERIFIED_PER_KEY) this.#verified.clear();
    this.#verified.set(signature, new VerifiedSignature(prefix, canonicalRequest));
    return true;
  }

  /** Hex HMAC-SHA256 of an ASCII string to sign. */
  sign(stringToSign: string): string {
    if (oneShotHash === undefined) {
      return createHmac('sha256', this.key).update(stringToSign, 'latin1').digest('hex');
    }
    const inner = oneShotHash(
      'sha256',
      Buffer.from(this.#innerPad + stringToSign, 'latin1'),
      'binary', // = latin1: one char per digest byte
    );
    return oneShotHash('sha256', Buffer.from(this.#outerPad + inner, 'latin1'), 'hex');
  }
}

/** n − 2 for the P-256 group order n (the KDF's rejection bound). */
const N_MINUS_TWO = Buffer.from(
  'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f',
  'hex',
);
const SIGV4A_LABEL = 'AWS4-ECDSA-P256-SHA256';
/** aws-c-auth MAX_KEY_DERIVATION_COUNTER_VALUE. */
const MAX_COUNTER = 254;

/**
 * The SigV4A private scalar of an access key pair: k0 = HMAC-SHA256("AWS4A" + secret,
 * 0x00000001 ‖ "AWS4-ECDSA-P256-SHA256" ‖ 0x00 ‖ accessKeyId ‖ counter ‖ 0x00000100), counter
 * 1, 2, … until k0 ≤ n − 2; the key is k0 + 1. Undefined only if all 254 counters fail
 * (probability ≈ 2^-8128).
 *
 * The fixed input is rebuilt for each counter, as aws-c-auth does; `@smithy/signature-v4a`
 * appends instead, which differs only on a retry (probability ≈ 2^-32 per key).
 */
export function deriveSigV4aPrivateKey(
  accessKeyId: string,
  secretAccessKey: string,
): Buffer | undefined {
  const secret = Buffer.from(`AWS4A${secretAccessKey}`, 'utf8');
  const akid = Buffer.from(accessKeyId, 'utf8');
  const fixed = Buffer.alloc(4 + SIGV4A_LABEL.length + 1 + akid.length + 1 + 4);
  let at = fixed.writeUInt32BE(1, 0);
  at += fixed.write(SIGV4A_LABEL, at, 'latin1');
  fixed[at++] = 0;
  at += akid.copy(fixed, at);
  const counterAt = at++;
  fixed.writeUInt32BE(256, at);
  for (let counter = 1; counter <= MAX_COUNTER; counter++) {
    fixed[counterAt] = counter;
    const k0 = hmac(secret, fixed);
    if (Buffer.compare(k0, N_MINUS_TWO) > 0) continue;
    // k0 + 1, big-endian; k0 ≤ n − 2 so there is no carry out of the top byte.
    for (let i = 31; i >= 0; i--) {
      const v = k0[i]! + 1;
      k0[i] = v & 0xff;
      if (v < 0x100) break;
    }
    return k0;
  }
  return undefined;
}

/** The SigV4A public key (for `crypto.verify`) of an access key pair. */
export function deriveSigV4aPublicKey(
  accessKeyId: string,
  secretAccessKey: string,
): KeyObject | undefined {
  const d = deriveSigV4aPrivateKey(accessKeyId, secretAccessKey);
  if (d === undefined) return undefined;
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey(); // 0x04 ‖ x ‖ y
  d.fill(0);
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

class SigV4Entry {
  constructor(
    readonly secret: string,
    readonly date: string,
    readonly region: string,
    readonly service: string,
    readonly key: SigV4SigningKey,
  ) {}
}

/** Scopes kept per access key: a few dates (pre-signed URLs live up to 7 days) × endpoints. */
const SCOPES_PER_KEY = 8;

class SigV4aEntry {
  constructor(
    readonly secret: string,
    readonly publicKey: KeyObject | undefined,
  ) {}
}

/** Inserts, evicting the oldest entry when full (insertion order; cheap and bounded). */
function remember<V>(map: Map<string, V>, id: string, value: V, maxEntries: number): void {
  if (map.size >= maxEntries && !map.has(id)) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(id, value);
}

/**
 * A bounded cache of SigV4 signing keys (at most `maxEntries` access keys × 8 scopes) and SigV4A
 * public keys (at most `maxEntries` access keys).
 */
export class SigningKeyCache implements SigningKeyCacheLike {
  readonly maxEntries: number;
  readonly #v4 = new Map<string, SigV4Entry[]>();
  #v4Size = 0;
  readonly #v4a = new Map<string, SigV4aEntry>();

  constructor(maxEntries = 10_000) {
    this.maxEntries = Math.max(1, maxEntries);
  }

  /** The SigV4 signing key for `credential` and scope (date, region, service). */
  sigV4Key(
    credential: SigningCredential,
    date: string,
    region: string,
    service: string,
  ): SigV4SigningKey {
    const secret = credential.secretAccessKey;
    let scopes = this.#v4.get(credential.accessKeyId);
    if (scopes !== undefined) {
      for (let i = 0; i < scopes.length; i++) {
        const e = scopes[i]!;
        if (
          e.date === date &&
          e.region === region &&
          e.service === service &&
          e.secret === secret
        ) {
          return e.key;
        }
      }
    }
    const key = new SigV4SigningKey(deriveSigV4Key(secret, date, region, service));
    const entry = new SigV4Entry(secret, date, region, service, key);
    if (scopes === undefined) {
      if (this.#v4.size >= this.maxEntries) {
        const oldest = this.#v4.entries().next();
        if (oldest.done !== true) {
          this.#v4.delete(oldest.value[0]);
          this.#v4Size -= oldest.value[1].length;
        }
      }
      scopes = [];
      this.#v4.set(credential.accessKeyId, scopes);
    } else if (scopes.some((e) => e.secret !== secret)) {
      // The secret was rotated: keys derived from the old one are of no further use.
      this.#v4Size -= scopes.length;
      scopes.length = 0;
    } else if (scopes.length >= SCOPES_PER_KEY) {
      scopes.shift();
      this.#v4Size--;
    }
    scopes.push(entry);
    this.#v4Size++;
    return key;
  }

  /** The SigV4A public key of `credential`. */
  sigV4aPublicKey(credential: SigningCredential): KeyObject | undefined {
    const hit = this.#v4a.get(credential.accessKeyId);
    if (hit !== undefined && hit.secret === credential.secretAccessKey) return hit.publicKey;
    const publicKey = deriveSigV4aPublicKey(credential.accessKeyId, credential.secretAccessKey);
    remember(
      this.#v4a,
      credential.accessKeyId,
      new SigV4aEntry(credential.secretAccessKey, publicKey),
      this.maxEntries,
    );
    return publicKey;
  }

  /** Number of cached SigV4 keys and SigV4A keys. */
  get size(): number {
    return this.#v4Size + this.#v4a.size;
  }

  /** Forgets every key (e.g. after a mass key rotation). */
  clear(): void {
    this.#v4.clear();
    this.#v4Size = 0;
    this.#v4a.clear();
  }
}

/** The cache `verifySignature` uses unless given another. */
export const defaultSigningKeyCache = new SigningKeyCache();
