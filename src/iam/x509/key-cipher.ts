import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Seals and opens secrets at rest (certificate private keys) with AES-256-GCM. The 32-byte key
 * is kept by `bin/` in `<data-dir>/keys/certificate-key` (mode 0600); managers get `seal` only,
 * the data plane gets `open` only.
 */
export interface KeyCipher {
  /** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  seal(plaintext: string): string;
  /** Throws when the text was not sealed under this key (or was altered). */
  open(sealed: string): string;
}

export function createKeyCipher(key: Buffer): KeyCipher {
  if (key.length !== 32) throw new Error('the certificate key must be 32 bytes');
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', iv, tag, body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined)
        throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}
