import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  SigningKeyCache,
  hasSignature,
  parseSignature,
  unrecognizedClient,
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
  signV4,
  type RequestSpec,
} from './smithy-signers.test-support.js';

const DATA_PLANE: VerifyOptions = {
  service: 'vpc-lattice-svcs',
  region: REGION,
  nowMs: NOW_MS,
  requireUnsignedPayload: true,
};
const CONTROL_PLANE: VerifyOptions = { service: 'vpc-lattice', region: REGION, nowMs: NOW_MS };

function sha256Hex(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** parse → verify, as the callers do; the problem of whichever step failed. */
function verify(
  view: SignedRequestView,
  options: VerifyOptions,
  credential: SigningCredential = CREDENTIAL,
): VerifyResult {
  const parsed = parseSignature(view);
  if (!parsed.ok) return parsed;
  return verifySignature(view, parsed, credential, options);
}

function assertOk(result: VerifyResult): void {
  assert.equal(result.ok, true, result.ok ? '' : `${result.code}: ${result.message}`);
}

function assertProblem(result: VerifyResult, code: string, message?: RegExp): void {
  assert.equal(result.ok, false, 'expected a failure');
  if (result.ok) return;
  assert.equal(result.code, code, result.message);
  if (message) assert.match(result.message, message);
  // Messages never reveal the secret or a signature we computed.
  assert.ok(!result.message.includes(CREDENTIAL.secretAccessKey));
  assert.ok(!result.message.includes(TEMPORARY_CREDENTIAL.secretAccessKey));
  assert.doesNotMatch(result.message, /[0-9a-f]{64}/);
}

function withHeaders(
  view: SignedRequestView,
  headers: Record<string, string | string[] | undefined>,
): SignedRequestView {
  return { ...view, headers: { ...view.headers, ...headers } };
}

const ODD_PATHS = [
  '/',
  '/rates',
  '/a%20b/c',
  '/caf%C3%A9/%E6%97%A5%E6%9C%AC',
  '/%F0%9F%98%80',
  '/a%2Fb',
  '//double//slashes//',
  '/a/../b',
  '/a/./b/',
  "/!*'()",
  '/~user/x_y-z.txt',
  '/api.parking/GetRates',
  '/tags/arn%3Aaws%3Avpc-lattice%3Aus-west-2%3A123456789012%3Aservice%2Fsvc-1',
];

const QUERIES: Record<string, Record<string, string | string[]>> = {
  none: {},
  'repeated keys': { tagKeys: ['b', 'a', 'a'], maxResults: '10' },
  'empty values': { a: '', b: [''], c: 'x' },
  'special characters': { q: "a b+c&d=e/f?g#h %41 é 😀 !*'()", 'k e&y=': 'v' },
  'prefix keys': { a: '1', 'a-b': '2', ab: '3', A: '4' },
};

describe('data plane (vpc-lattice-svcs, path as sent, UNSIGNED-PAYLOAD)', () => {
  for (const path of ODD_PATHS) {
    it(`verifies path ${path}`, async () => {
      const view = await signV4(
        { path },
        { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true },
      );
      assert.equal(hasSignature(view), true);
      assertOk(verify(view, DATA_PLANE));
    });
  }
  for (const [name, query] of Object.entries(QUERIES)) {
    it(`verifies a query with ${name}`, async () => {
      const view = await signV4(
        { path: '/x', query },
        { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true },
      );
      assertOk(verify(view, DATA_PLANE));
    });
  }

  it('verifies signed extra headers with odd spacing, and repeated headers joined with ","', async () => {
    const view = await signV4(
      {
        method: 'POST',
        path: '/submit',
        headers: {
          'content-type': 'application/json',
          'x-spaced': 'a   b  c',
          'x-multi': 'one,two',
        },
        body: '{"a":1}',
      },
      { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true },
    );
    assertOk(verify(view, DATA_PLANE));
    // Node's headersDistinct form of the same request: two header lines.
    assertOk(verify(withHeaders(view, { 'x-multi': ['one', 'two'] }), DATA_PLANE));
    // Node's joined form (`one, two`) of two lines is not what AWS canonicalises.
    assertProblem(
      verify(withHeaders(view, { 'x-multi': 'one, two' }), DATA_PLANE),
      'InvalidSignature',
    );
  });

  it('verifies an HTTP/2 request whose host is the :authority', async () => {
    const view = await signV4(
      { method: 'POST', path: '/pkg.Svc/Method' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true },
    );
    const h2 = withHeaders(view, { host: undefined, ':authority': view.headers.host as string });
    assertOk(verify(h2, DATA_PLANE));
  });

  it('verifies temporary credentials with their session token', async () => {
    const view = await signV4(
      { path: '/x' },
      {
        service: 'vpc-lattice-svcs',
        uriEscapePath: false,
        unsignedPayload: true,
        credential: TEMPORARY_CREDENTIAL,
      },
    );
    assert.equal(view.headers['x-amz-security-token'], TEMPORARY_CREDENTIAL.sessionToken);
    assertOk(verify(view, DATA_PLANE, TEMPORARY_CREDENTIAL));
  });

  it('verifies pre-signed URLs (with and without a session token)', async () => {
    for (const credential of [CREDENTIAL, TEMPORARY_CREDENTIAL]) {
      const view = await signV4(
        { path: '/a%20b', query: { q: 'x y', r: ['2', '1'] } },
        {
          service: 'vpc-lattice-svcs',
          uriEscapePath: false,
          unsignedPayload: true,
          presignExpiresIn: 900,
          credential,
        },
      );
      assert.equal(view.headers.authorization, undefined);
      assert.equal(hasSignature(view), true);
      const parsed = parseSignature(view);
      assert.ok(parsed.ok);
      assert.equal(parsed.location, 'query');
      assert.equal(parsed.expiresSeconds, 900);
      assertOk(verifySignature(view, parsed, credential, DATA_PLANE));
    }
  });

  it('gives payload-signing clients a clear 4xx reason (PayloadSigningNotSupported)', async () => {
    const signedBody = await signV4(
      { method: 'POST', path: '/x', body: 'hello' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false },
    );
    assertProblem(
      verify(signedBody, DATA_PLANE),
      'PayloadSigningNotSupported',
      /x-amz-content-sha256: UNSIGNED-PAYLOAD.*a payload SHA-256 \('2cf24dba…'\)/,
    );
    const noHeader = await signV4(
      { path: '/x' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false, applyChecksum: false },
    );
    assertProblem(
      verify(noHeader, DATA_PLANE),
      'PayloadSigningNotSupported',
      /no x-amz-content-sha256/,
    );
    const presignedEmptyHash = await signV4(
      { path: '/x' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false, presignExpiresIn: 60 },
    );
    assertProblem(
      verify(presignedEmptyHash, DATA_PLANE),
      'PayloadSigningNotSupported',
      /pre-signed URL signs the empty payload/,
    );
  });

  it("accepts the SDK default (double-encoded) path only with uriEscapePath 'either'", async () => {
    const view = await signV4(
      { path: '/a%20b/../c' },
      { service: 'vpc-lattice-svcs', uriEscapePath: true, unsignedPayload: true },
    );
    assertProblem(verify(view, DATA_PLANE), 'InvalidSignature');
    const either = verify(view, { ...DATA_PLANE, uriEscapePath: 'either' });
    assertOk(either);
    assert.equal(either.ok && either.uriEscapePath, true);
    const single = await signV4(
      { path: '/a%20b/../c' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true },
    );
    const first = verify(single, { ...DATA_PLANE, uriEscapePath: 'either' });
    assertOk(first);
    assert.equal(first.ok && first.uriEscapePath, false);
  });
});

describe('control plane (vpc-lattice, SDK default path escaping, body hash)', () => {
  for (const path of ODD_PATHS) {
    it(`verifies path ${path}`, async () => {
      const body = '{"name":"x"}';
      const view = await signV4({ method: 'PUT', path, body }, { service: 'vpc-lattice' });
      assertOk(verify(view, { ...CONTROL_PLANE, payloadHash: sha256Hex(body) }));
    });
  }
  for (const [name, query] of Object.entries(QUERIES)) {
    it(`verifies a query with ${name}`, async () => {
      const view = await signV4({ path: '/services', query }, { service: 'vpc-lattice' });
      assertOk(verify(view, { ...CONTROL_PLANE, payloadHash: sha256Hex('') }));
    });
  }

  it('verifies without x-amz-content-sha256 (applyChecksum false) from the received body', async () => {
    const body = '{"authType":"AWS_IAM"}';
    const view = await signV4(
      { method: 'POST', path: '/servicenetworks', body },
      { service: 'vpc-lattice', applyChecksum: false },
    );
    assert.equal(view.headers['x-amz-content-sha256'], undefined);
    assertOk(verify(view, { ...CONTROL_PLANE, payloadHash: sha256Hex(body) }));
    assertProblem(
      verify(view, { ...CONTROL_PLANE, payloadHash: sha256Hex('{"authType":"NONE"}') }),
      'InvalidSignature',
    );
  });

  it('accepts UNSIGNED-PAYLOAD and rejects a declared hash that is not the body received', async () => {
    const unsigned = await signV4(
      { method: 'POST', path: '/x', body: 'abc' },
      { service: 'vpc-lattice', unsignedPayload: true },
    );
    assertOk(verify(unsigned, { ...CONTROL_PLANE, payloadHash: sha256Hex('anything') }));
    const declared = await signV4(
      { method: 'POST', path: '/x', body: 'abc' },
      { service: 'vpc-lattice' },
    );
    assertProblem(
      verify(declared, { ...CONTROL_PLANE, payloadHash: sha256Hex('abd') }),
      'InvalidSignature',
      /x-amz-content-sha256' header does not match/,
    );
  });

  it('verifies iam and sts signing names when configured for them', async () => {
    for (const service of ['iam', 'sts']) {
      const view = await signV4(
        { method: 'POST', path: '/', body: 'Action=GetCallerIdentity' },
        { service, region: 'us-east-1' },
      );
      assertOk(
        verify(view, {
          service,
          region: 'us-east-1',
          nowMs: NOW_MS,
          payloadHash: sha256Hex('Action=GetCallerIdentity'),
        }),
      );
    }
  });

  it('verifies a pre-signed GET (empty body hash, as the SDK presigner signs it)', async () => {
    const view = await signV4(
      { path: '/services', query: { maxResults: '5' } },
      { service: 'vpc-lattice', presignExpiresIn: 60 },
    );
    assertOk(verify(view, CONTROL_PLANE));
  });
});

describe('failure codes', () => {
  const dataPlaneSigned = (spec: RequestSpec = { path: '/rates', query: { a: '1' } }) =>
    signV4(spec, { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true });

  it('MissingAuthenticationToken: nothing signed', () => {
    const view: SignedRequestView = {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'a=1',
      headers: { host: 'h' },
    };
    assert.equal(hasSignature(view), false);
    assertProblem(
      verify(view, DATA_PLANE),
      'MissingAuthenticationToken',
      /^Missing Authentication Token$/,
    );
  });

  it('hasSignature ignores other Authorization schemes; parseSignature calls them incomplete', () => {
    const view: SignedRequestView = {
      method: 'GET',
      rawPath: '/',
      rawQuery: '',
      headers: { host: 'h', authorization: 'Bearer abc' },
    };
    assert.equal(hasSignature(view), false);
    assertProblem(
      verify(view, DATA_PLANE),
      'IncompleteSignature',
      /Unsupported Authorization type 'Bearer'/,
    );
  });

  const incomplete: [string, (auth: string) => string, RegExp][] = [
    ['garbled components', () => 'AWS4-HMAC-SHA256 garbage', /missing equal-sign/],
    [
      'no components',
      () => 'AWS4-HMAC-SHA256',
      /requires 'Credential'.*requires 'Signature'.*requires 'SignedHeaders'/,
    ],
    [
      'missing Signature',
      (a) => a.replace(/, Signature=.*$/, ''),
      /requires 'Signature' parameter/,
    ],
    [
      'duplicate Credential',
      (a) => `${a}, Credential=AKIDEXAMPLE/20240506/us-west-2/vpc-lattice-svcs/aws4_request`,
      /more than one 'Credential'/,
    ],
    [
      'duplicate signed header',
      (a) => a.replace('SignedHeaders=host;', 'SignedHeaders=host;host;'),
      /'host' more than once/,
    ],
    [
      'host not signed',
      (a) => a.replace('SignedHeaders=host;', 'SignedHeaders='),
      /'Host' or ':authority' must be a 'SignedHeader'/,
    ],
    [
      'x-amz-date not signed',
      (a) => a.replace(';x-amz-date', ''),
      /'X-Amz-Date' must be a 'SignedHeader'/,
    ],
    [
      'unknown algorithm',
      (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'),
      /Unsupported Authorization type 'AWS4-HMAC-SHA512'/,
    ],
    ['short credential', (a) => a.replace('/us-west-2', ''), /Credential .* is malformed/],
    [
      'bad terminator',
      (a) => a.replace('aws4_request', 'aws4_reques'),
      /valid terminator: 'aws4_request', not 'aws4_reques'/,
    ],
  ];
  for (const [name, edit, message] of incomplete) {
    it(`IncompleteSignature: ${name}`, async () => {
      const view = await dataPlaneSigned();
      const tampered = withHeaders(view, {
        authorization: edit(view.headers.authorization as string),
      });
      assertProblem(verify(tampered, DATA_PLANE), 'IncompleteSignature', message);
    });
  }

  it('IncompleteSignature: missing or malformed x-amz-date, two Authorization headers, header + query', async () => {
    const view = await dataPlaneSigned();
    assertProblem(
      verify(withHeaders(view, { 'x-amz-date': undefined }), DATA_PLANE),
      'IncompleteSignature',
      /X-Amz-Date/,
    );
    assertProblem(
      verify(withHeaders(view, { 'x-amz-date': '2024-05-06T07:08:09Z' }), DATA_PLANE),
      'IncompleteSignature',
      /ISO-8601 'basic format'/,
    );
    const auth = view.headers.authorization as string;
    assertProblem(
      verify(withHeaders(view, { authorization: [auth, auth] }), DATA_PLANE),
      'IncompleteSignature',
      /more than one Authorization/,
    );
    assertProblem(
      verify({ ...view, rawQuery: `${view.rawQuery}&X-Amz-Signature=00` }, DATA_PLANE),
      'IncompleteSignature',
      /Only one auth mechanism/,
    );
  });

  it('IncompleteSignature: pre-signed URL missing a parameter or with a bad X-Amz-Expires', async () => {
    const view = await signV4(
      { path: '/x' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false, presignExpiresIn: 60 },
    );
    assertProblem(
      verify(
        { ...view, rawQuery: view.rawQuery.replace(/&X-Amz-SignedHeaders=host/, '') },
        DATA_PLANE,
      ),
      'IncompleteSignature',
      /Query-string authentication requires/,
    );
    assertProblem(
      verify(
        { ...view, rawQuery: view.rawQuery.replace('X-Amz-Expires=60', 'X-Amz-Expires=604801') },
        DATA_PLANE,
      ),
      'IncompleteSignature',
      /less than a week/,
    );
    assertProblem(
      verify(
        { ...view, rawQuery: view.rawQuery.replace('X-Amz-Expires=60', 'X-Amz-Expires=soon') },
        DATA_PLANE,
      ),
      'IncompleteSignature',
      /should be a number/,
    );
    assertProblem(
      verify({ ...view, rawQuery: `${view.rawQuery}&X-Amz-Date=20240506T070809Z` }, DATA_PLANE),
      'IncompleteSignature',
      /more than once/,
    );
  });

  it('InvalidSignature: any tampering, or the wrong secret', async () => {
    const view = await dataPlaneSigned({
      method: 'GET',
      path: '/rates',
      query: { a: '1' },
      headers: { 'x-tenant': 'blue' },
    });
    const tampered: SignedRequestView[] = [
      { ...view, method: 'POST' },
      { ...view, rawPath: '/Rates' },
      { ...view, rawQuery: 'a=2' },
      { ...view, rawQuery: '' },
      withHeaders(view, { 'x-tenant': 'red' }),
      withHeaders(view, { host: 'evil.example.com' }),
      withHeaders(view, {
        authorization: (view.headers.authorization as string).replace(/.$/, (c) =>
          c === '0' ? '1' : '0',
        ),
      }),
    ];
    for (const t of tampered)
      assertProblem(
        verify(t, DATA_PLANE),
        'InvalidSignature',
        /request signature we calculated does not match/,
      );
    assertProblem(
      verify(view, DATA_PLANE, { ...CREDENTIAL, secretAccessKey: 'not-the-secret' }),
      'InvalidSignature',
    );
  });

  it('InvalidSignature: credential date differs from x-amz-date', async () => {
    const view = await dataPlaneSigned();
    const auth = (view.headers.authorization as string).replace('/20240506/', '/20240505/');
    assertProblem(
      verify(withHeaders(view, { authorization: auth }), DATA_PLANE),
      'InvalidSignature',
      /Date in Credential scope does not match/,
    );
  });

  it('SignatureExpired: ±5 minutes inclusive, with AWS wording', async () => {
    const view = await dataPlaneSigned();
    const at = (nowMs: number) => verify(view, { ...DATA_PLANE, nowMs });
    assertOk(at(NOW_MS + 300_000));
    assertOk(at(NOW_MS - 300_000));
    assertProblem(
      at(NOW_MS + 300_001),
      'SignatureExpired',
      /^Signature expired: 20240506T070809Z is now earlier than 20240506T070809Z \(20240506T071309Z - 5 min\.\)$/,
    );
    assertProblem(
      at(NOW_MS - 301_000),
      'SignatureExpired',
      /^Signature not yet current: 20240506T070809Z is still later than 20240506T070808Z \(20240506T070308Z \+ 5 min\.\)$/,
    );
    assertOk(verify(view, { ...DATA_PLANE, nowMs: NOW_MS + 59_000, maxSkewMs: 60_000 }));
    assertProblem(
      verify(view, { ...DATA_PLANE, nowMs: NOW_MS + 61_000, maxSkewMs: 60_000 }),
      'SignatureExpired',
      /- 1 min\./,
    );
  });

  it('SignatureExpired: a pre-signed URL past X-Amz-Expires (inclusive), or dated in the future', async () => {
    const view = await signV4(
      { path: '/x' },
      {
        service: 'vpc-lattice-svcs',
        uriEscapePath: false,
        unsignedPayload: true,
        presignExpiresIn: 3600,
      },
    );
    assertOk(verify(view, { ...DATA_PLANE, nowMs: NOW_MS + 3_600_000 }));
    assertProblem(
      verify(view, { ...DATA_PLANE, nowMs: NOW_MS + 3_600_001 }),
      'SignatureExpired',
      /Request has expired/,
    );
    assertProblem(
      verify(view, { ...DATA_PLANE, nowMs: NOW_MS - 600_000 }),
      'SignatureExpired',
      /not yet current/,
    );
  });

  it('UnrecognizedClient: the helper, and a credential for another key id', async () => {
    assertProblem(
      unrecognizedClient(),
      'UnrecognizedClient',
      /security token included in the request is invalid/,
    );
    const view = await dataPlaneSigned();
    assertProblem(
      verify(view, DATA_PLANE, { ...CREDENTIAL, accessKeyId: 'AKIDOTHER' }),
      'UnrecognizedClient',
    );
  });

  it('InvalidToken: missing, unexpected or mismatched session token', async () => {
    const longTerm = await dataPlaneSigned();
    assertProblem(
      verify(longTerm, DATA_PLANE, { ...CREDENTIAL, sessionToken: 'tok' }),
      'InvalidToken',
      /needs its session token/,
    );
    const temporary = await signV4(
      { path: '/x' },
      {
        service: 'vpc-lattice-svcs',
        uriEscapePath: false,
        unsignedPayload: true,
        credential: TEMPORARY_CREDENTIAL,
      },
    );
    assertProblem(
      verify(temporary, DATA_PLANE, { ...TEMPORARY_CREDENTIAL, sessionToken: undefined }),
      'InvalidToken',
      /takes no session token/,
    );
    assertProblem(
      verify(temporary, DATA_PLANE, { ...TEMPORARY_CREDENTIAL, sessionToken: 'other' }),
      'InvalidToken',
      /does not belong/,
    );
  });

  it('WrongScope: says which service or region was expected', async () => {
    const controlPlaneSigned = await signV4(
      { path: '/x' },
      { service: 'vpc-lattice', unsignedPayload: true },
    );
    assertProblem(
      verify(controlPlaneSigned, DATA_PLANE),
      'WrongScope',
      /correct service: 'vpc-lattice-svcs'\. The request is scoped to 'vpc-lattice'/,
    );
    const otherRegion = await signV4(
      { path: '/x' },
      {
        service: 'vpc-lattice-svcs',
        region: 'eu-west-1',
        uriEscapePath: false,
        unsignedPayload: true,
      },
    );
    assertProblem(
      verify(otherRegion, DATA_PLANE),
      'WrongScope',
      /This endpoint is in 'us-west-2'; the request is scoped to 'eu-west-1'/,
    );
  });
});

describe('signing-key cache', () => {
  it('re-derives when a key id gets a new secret, and stays bounded', async () => {
    const cache = new SigningKeyCache(2);
    const view = await signV4(
      { path: '/x' },
      { service: 'vpc-lattice-svcs', uriEscapePath: false, unsignedPayload: true },
    );
    const options = { ...DATA_PLANE, signingKeyCache: cache };
    assertOk(verify(view, options));
    assertProblem(
      verify(view, options, { ...CREDENTIAL, secretAccessKey: 'rotated' }),
      'InvalidSignature',
    );
    assertOk(verify(view, options));
    cache.clear();
    // At most 2 access keys: the oldest goes.
    for (const id of ['AKID1', 'AKID2', 'AKID3'])
      cache.sigV4Key({ ...CREDENTIAL, accessKeyId: id }, '20240101', REGION, 'x');
    assert.equal(cache.size, 2);
    // At most 8 scopes per access key.
    for (let day = 1; day <= 9; day++)
      cache.sigV4Key(CREDENTIAL, `202401${String(day).padStart(2, '0')}`, REGION, 'x');
    assert.equal(cache.size, 1 + 8);
  });

  it('signs the same date on both sides of midnight only within skew', async () => {
    const late = new Date('2024-05-06T23:59:30Z');
    const view = await signV4(
      { path: '/x' },
      {
        service: 'vpc-lattice-svcs',
        uriEscapePath: false,
        unsignedPayload: true,
        signingDate: late,
      },
    );
    assertOk(verify(view, { ...DATA_PLANE, nowMs: late.getTime() + 60_000 }));
    assert.ok(SIGNED_AT.getTime() < late.getTime());
  });
});
