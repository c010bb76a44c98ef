import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4a } from '@aws-sdk/signature-v4a';
import { HttpRequest, buildQueryString } from '@smithy/core/protocols';
import { getCanonicalHeaders } from '@smithy/signature-v4';
import fc from 'fast-check';
import {
  SigningKeyCache,
  deriveSigV4aPrivateKey,
  parseSignature,
  verifySignature,
  type SignedRequestView,
  type SigningCredential,
  type VerifyOptions,
  type VerifyResult,
} from './index.js';
import {
  CREDENTIAL,
  NOW_MS,
  REGION,
  SIGNED_AT,
  TEMPORARY_CREDENTIAL,
  signV4a,
} from './smithy-signers.test-support.js';

const DATA_PLANE: VerifyOptions = {
  service: 'vpc-lattice-svcs',
  region: REGION,
  nowMs: NOW_MS,
  requireUnsignedPayload: true,
};

function verify(
  view: SignedRequestView,
  options: VerifyOptions = DATA_PLANE,
  credential: SigningCredential = CREDENTIAL,
): VerifyResult {
  const parsed = parseSignature(view);
  if (!parsed.ok) return parsed;
  return verifySignature(view, parsed, credential, options);
}

function codeOf(result: VerifyResult): string {
  return result.ok ? 'ok' : result.code;
}

const signDataPlane = (path: string, extra: Parameters<typeof signV4a>[1] | object = {}) =>
  signV4a(
    { method: 'POST', path, query: { a: ['2', '1'], b: '' }, headers: { 'x-tenant': 'blue' } },
    { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true, ...extra },
  );

describe('SigV4A (AWS4-ECDSA-P256-SHA256)', () => {
  for (const regionSet of ['*', REGION, `us-east-1,${REGION}`, 'us-*']) {
    it(`verifies a region set of ${regionSet}`, async () => {
      const view = await signDataPlane('/rates/a%20b', { regionSet });
      const parsed = parseSignature(view);
      assert.ok(parsed.ok);
      assert.equal(parsed.algorithm, 'AWS4-ECDSA-P256-SHA256');
      assert.equal(parsed.region, undefined);
      assert.deepEqual(parsed.regionSet, regionSet.split(','));
      const result = verifySignature(view, parsed, CREDENTIAL, DATA_PLANE);
      assert.equal(codeOf(result), 'ok');
      assert.equal(result.ok && result.algorithm, 'AWS4-ECDSA-P256-SHA256');
    });
  }

  it('WrongScope when the region set leaves this region out', async () => {
    const view = await signDataPlane('/x', { regionSet: 'eu-west-1,eu-central-1' });
    const result = verify(view);
    assert.equal(codeOf(result), 'WrongScope');
    assert.match(
      result.ok ? '' : result.message,
      /does not include this endpoint's region 'us-west-2'/,
    );
  });

  it('verifies session tokens and the control plane path escaping', async () => {
    const temporary = await signDataPlane('/x', { credential: TEMPORARY_CREDENTIAL });
    assert.equal(codeOf(verify(temporary, DATA_PLANE, TEMPORARY_CREDENTIAL)), 'ok');
    assert.equal(
      codeOf(verify(temporary, DATA_PLANE, { ...TEMPORARY_CREDENTIAL, sessionToken: 'x' })),
      'InvalidToken',
    );
    const controlPlane = await signV4a(
      { method: 'GET', path: '/a%20b/../c' },
      { service: 'vpc-lattice', unsignedPayload: true },
    );
    assert.equal(
      codeOf(verify(controlPlane, { service: 'vpc-lattice', region: REGION, nowMs: NOW_MS })),
      'ok',
    );
  });

  it('rejects tampering, a wrong secret, a forged region set and garbage signatures', async () => {
    const view = await signDataPlane('/x');
    const auth = view.headers.authorization as string;
    const cases: [SignedRequestView, string][] = [
      [{ ...view, rawPath: '/y' }, 'InvalidSignature'],
      [{ ...view, rawQuery: 'a=1' }, 'InvalidSignature'],
      [{ ...view, headers: { ...view.headers, 'x-tenant': 'red' } }, 'InvalidSignature'],
      [{ ...view, headers: { ...view.headers, 'x-amz-region-set': REGION } }, 'InvalidSignature'],
      [
        {
          ...view,
          headers: {
            ...view.headers,
            authorization: auth.replace(/Signature=\w+/, 'Signature=3006020101020101'),
          },
        },
        'InvalidSignature',
      ],
      [
        {
          ...view,
          headers: {
            ...view.headers,
            authorization: auth.replace(/Signature=\w+/, 'Signature=zz'),
          },
        },
        'InvalidSignature',
      ],
      [
        {
          ...view,
          headers: { ...view.headers, authorization: auth.replace(';x-amz-region-set', '') },
        },
        'IncompleteSignature',
      ],
      [
        { ...view, headers: { ...view.headers, 'x-amz-region-set': undefined } },
        'IncompleteSignature',
      ],
    ];
    for (const [tampered, code] of cases) assert.equal(codeOf(verify(tampered)), code);
    assert.equal(
      codeOf(verify(view, DATA_PLANE, { ...CREDENTIAL, secretAccessKey: 'other' })),
      'InvalidSignature',
    );
  });

  it('PayloadSigningNotSupported when the data plane gets a signed payload', async () => {
    const view = await signV4a(
      { method: 'POST', path: '/x', body: 'payload' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false },
    );
    assert.equal(codeOf(verify(view)), 'PayloadSigningNotSupported');
  });

  it('derives the key pair exactly as the official signer: random credentials verify (property)', async () => {
    const credential = fc.record({
      accessKeyId: fc.stringMatching(/^A[SK]IA[A-Z0-9]{16}$/),
      secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
    });
    await fc.assert(
      fc.asyncProperty(credential, async (cred) => {
        const cache = new SigningKeyCache();
        const view = await signDataPlane('/p', { credential: cred });
        assert.equal(codeOf(verify(view, { ...DATA_PLANE, signingKeyCache: cache }, cred)), 'ok');
      }),
      { numRuns: 25 },
    );
  });

  it('derives a private scalar in [1, n-1]', () => {
    const d = deriveSigV4aPrivateKey(CREDENTIAL.accessKeyId, CREDENTIAL.secretAccessKey);
    assert.ok(d);
    assert.equal(d.length, 32);
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d); // throws when d is out of range
    assert.equal(ecdh.getPublicKey().length, 65);
  });

  it('verifies a SigV4A pre-signed URL (X-Amz-Region-Set) built from the official signer parts', async () => {
    // @aws-sdk/signature-v4a has no presign(); assemble one from its own canonicalisation and
    // ECDSA signing, the way the CRT presigner lays the parameters out.
    const signer = new SignatureV4a({
      service: 'vpc-lattice-svcs',
      region: '*',
      credentials: CREDENTIAL,
      sha256: Sha256,
      uriEscapePath: false,
    }) as unknown as {
      createCanonicalRequest(r: HttpRequest, h: Record<string, string>, p: string): string;
      createStringToSign(d: string, s: string, c: string, a: string): Promise<string>;
      getSignature(key: Uint8Array, sts: string): Promise<string>;
    };
    const amzDate = '20240506T070809Z';
    const scope = '20240506/vpc-lattice-svcs/aws4_request';
    const request = new HttpRequest({
      method: 'GET',
      hostname: 'svc.example',
      path: '/a%20b',
      headers: { host: 'svc.example' },
      query: {
        q: 'x y',
        'X-Amz-Algorithm': 'AWS4-ECDSA-P256-SHA256',
        'X-Amz-Credential': `${CREDENTIAL.accessKeyId}/${scope}`,
        'X-Amz-Date': amzDate,
        'X-Amz-Expires': '300',
        'X-Amz-Region-Set': '*',
        'X-Amz-SignedHeaders': 'host',
      },
    });
    const canonical = signer.createCanonicalRequest(
      request,
      getCanonicalHeaders(request),
      'UNSIGNED-PAYLOAD',
    );
    const stringToSign = await signer.createStringToSign(
      amzDate,
      scope,
      canonical,
      'AWS4-ECDSA-P256-SHA256',
    );
    const privateKey = deriveSigV4aPrivateKey(CREDENTIAL.accessKeyId, CREDENTIAL.secretAccessKey)!;
    request.query['X-Amz-Signature'] = await signer.getSignature(privateKey, stringToSign);
    const view: SignedRequestView = {
      method: 'GET',
      rawPath: request.path,
      rawQuery: buildQueryString(request.query as Record<string, string>),
      headers: { host: 'svc.example' },
    };
    const parsed = parseSignature(view);
    assert.ok(parsed.ok);
    assert.equal(parsed.location, 'query');
    assert.deepEqual(parsed.regionSet, ['*']);
    assert.equal(codeOf(verifySignature(view, parsed, CREDENTIAL, DATA_PLANE)), 'ok');
    assert.equal(
      codeOf(verify({ ...view, rawQuery: view.rawQuery.replace('q=x%20y', 'q=x%20z') })),
      'InvalidSignature',
    );
    assert.equal(
      codeOf(verify(view, { ...DATA_PLANE, nowMs: SIGNED_AT.getTime() + 301_000 })),
      'SignatureExpired',
    );
  });
});
