import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { getSigningKey } from '@smithy/signature-v4';
import fc from 'fast-check';
import { SigV4SigningKey, SigningKeyCache, deriveSigV4Key } from './index.js';
import { CREDENTIAL, REGION } from './smithy-signers.test-support.js';

describe('signing keys', () => {
  it('derives the same SigV4 key as @smithy/signature-v4 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
        fc.constantFrom('20240506', '20991231'),
        fc.constantFrom('us-west-2', 'eu-central-1'),
        fc.constantFrom('vpc-lattice', 'vpc-lattice-svcs', 'sts'),
        async (secretAccessKey, date, region, service) => {
          const ours = deriveSigV4Key(secretAccessKey, date, region, service);
          const theirs = await getSigningKey(
            Sha256,
            { accessKeyId: 'AKID', secretAccessKey },
            date,
            region,
            service,
          );
          assert.deepEqual(new Uint8Array(ours), new Uint8Array(theirs));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('signs exactly as HMAC-SHA256 (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({
          unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)),
          maxLength: 300,
        }),
        (bytes, text) => {
          const key = Buffer.from(bytes);
          assert.equal(
            new SigV4SigningKey(key).sign(text),
            createHmac('sha256', key).update(text).digest('hex'),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('returns the cached key for the same scope and secret, a new one otherwise', () => {
    const cache = new SigningKeyCache();
    const a = cache.sigV4Key(CREDENTIAL, '20240506', REGION, 'vpc-lattice-svcs');
    assert.equal(cache.sigV4Key(CREDENTIAL, '20240506', REGION, 'vpc-lattice-svcs'), a);
    assert.notEqual(cache.sigV4Key(CREDENTIAL, '20240507', REGION, 'vpc-lattice-svcs'), a);
    const rotated = cache.sigV4Key(
      { ...CREDENTIAL, secretAccessKey: 'new' },
      '20240506',
      REGION,
      'vpc-lattice-svcs',
    );
    assert.notDeepEqual(rotated.key, a.key);
    assert.equal(cache.size, 1); // the rotation dropped the old secret's keys
    const pub = cache.sigV4aPublicKey(CREDENTIAL);
    assert.equal(cache.sigV4aPublicKey(CREDENTIAL), pub);
    assert.equal(pub?.asymmetricKeyType, 'ec');
  });
  it('a remembered signature matches only the exact request it signed (property)', () => {
    const key = new SigV4SigningKey(Buffer.alloc(32, 7));
    const ascii = fc.string({
      unit: fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c)),
      maxLength: 200,
    });
    fc.assert(
      fc.property(ascii, ascii, ascii, (prefix, canonical, other) => {
        const hash = createHash('sha256').update(canonical).digest('hex');
        const signature = key.sign(prefix + hash);
        // First check hashes, the second is answered from memory: both true.
        assert.equal(key.matches(prefix, canonical, signature), true);
        assert.equal(key.matches(prefix, canonical, signature), true);
        // The same signature over anything else is refused, remembered or not.
        if (other !== canonical) assert.equal(key.matches(prefix, other, signature), false);
        if (other !== prefix) assert.equal(key.matches(other, canonical, signature), false);
        assert.equal(key.matches(prefix, canonical, signature.replace(/.$/, 'x')), false);
      }),
      { numRuns: 300 },
    );
  });
});
