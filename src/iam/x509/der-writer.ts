/**
 * A minimal DER (X.690) writer: just the ASN.1 types an X.509 v3 certificate needs. node:crypto
 * can sign but cannot build certificates, and no X.509 library is a dependency, so the local CA
 * (certificate-issuer.ts) assembles its TBSCertificate with these.
 */

/** Tag + definite length + content. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let head: number[];
  if (n < 0x80) head = [tag, n];
  else if (n < 0x100) head = [tag, 0x81, n];
  else if (n < 0x10000) head = [tag, 0x82, n >> 8, n & 0xff];
  else if (n < 0x1000000) head = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  else throw new RangeError('DER value too long');
  return Buffer.concat([Buffer.from(head), content]);
}

export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

export function set(...items: Uint8Array[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

/** A non-negative INTEGER from big-endian magnitude bytes (minimal, sign byte added if needed). */
export function integerFromBytes(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = Buffer.from(bytes.subarray(i));
  if (body.length === 0) body = Buffer.from([0]);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}

export function integer(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('integer out of range');
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  return integerFromBytes(Uint8Array.from(bytes));
}

export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

export function nullValue(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

export function octetString(content: Uint8Array): Buffer {
  return tlv(0x04, content);
}

/** BIT STRING with `unusedBits` trailing bits of the last byte unused. */
export function bitString(content: Uint8Array, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

export function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

export function ia5(tag: number, text: string): Buffer {
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) > 0x7f) throw new RangeError('IA5String must be ASCII');
  return tlv(tag, Buffer.from(text, 'ascii'));
}

/** OBJECT IDENTIFIER from dotted text. */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => Number(p));
  if (parts.length < 2 || parts.some((p) => !Number.isSafeInteger(p) || p < 0))
    throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** Context-specific constructed tag `[n]` (EXPLICIT wrapping). */
export function explicit(n: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | n, content);
}
