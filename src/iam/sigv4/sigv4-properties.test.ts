import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeUri } from '@smithy/core/protocols';
import fc from 'fast-check';
import {
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
  TEMPORARY_CREDENTIAL,
  signV4,
  type RequestSpec,
} from './smithy-signers.test-support.js';

const CODES = new Set([
  'MissingAuthenticationToken',
  'IncompleteSignature',
  'InvalidSignature',
  'SignatureExpired',
  'UnrecognizedClient',
  'InvalidToken',
  'WrongScope',
  'PayloadSigningNotSupported',
]);

function verify(
  view: SignedRequestView,
  options: VerifyOptions,
  credential: SigningCredential,
): VerifyResult {
  const parsed = parseSignature(view);
  if (!parsed.ok) return parsed;
  return verifySignature(view, parsed, credential, options);
}

const piece = fc.constantFrom(
  'a',
  'Z',
  '9',
  '-',
  '_',
  '~',
  '.',
  ' ',
  '%',
  '+',
  '=',
  '&',
  '?',
  '#',
  '!',
  '*',
  "'",
  '(',
  ')',
  ':',
  '@',
  ',',
  ';',
  'é',
  '日',
  '😀',
  '"',
  '/',
);
const text = (maxLength: number) => fc.array(piece, { maxLength }).map((p) => p.join(''));

/** A path in wire form as an SDK serialises labels (each segment encoded, `/` between). */
const wirePath = fc
  .array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: text(6)
          .filter((s) => s !== '..')
          .map(escapeUri),
      },
      { weight: 1, arbitrary: fc.constantFrom('', '.') },
    ),
    { maxLength: 5 },
  )
  .map((segments) => `/${segments.join('/')}`);

const query = fc.dictionary(
  text(5).filter((k) => k.length > 0),
  fc.oneof(text(6), fc.array(text(4), { minLength: 1, maxLength: 3 })),
  { maxKeys: 4 },
);

const UNSIGNABLE = /^(x-amz-|authorization$|user-agent$|x-amzn-trace-id$)/;
const headers = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,8}$/).filter((n) => !UNSIGNABLE.test(n)),
  fc.stringMatching(/^[!-~][ -~]{0,14}[!-~]$/),
  { maxKeys: 3 },
);

const scenario = fc.record({
  dataPlane: fc.boolean(),
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  path: wirePath,
  query,
  headers,
  temporary: fc.boolean(),
  presign: fc.boolean(),
  body: fc.constantFrom('', '{"a":1}'),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Signed {
  view: SignedRequestView;
  options: VerifyOptions;
  credential: SigningCredential;
}

async function signScenario(s: Scenario): Promise<Signed> {
  const credential = s.temporary ? TEMPORARY_CREDENTIAL : CREDENTIAL;
  const service = s.dataPlane ? 'vpc-lattice-svcs' : 'vpc-lattice';
  const spec: RequestSpec = { method: s.method, path: s.path, query: s.query, headers: s.headers };
  if (s.body.length > 0 && !s.presign) spec.body = s.body;
  const view = await signV4(spec, {
    service,
    uriEscapePath: !s.dataPlane,
    unsignedPayload: s.dataPlane,
    credential,
    ...(s.presign ? { presignExpiresIn: 300 } : {}),
  });
  const { createHash } = await import('node:crypto');
  const options: VerifyOptions = s.dataPlane
    ? { service, region: REGION, nowMs: NOW_MS, requireUnsignedPayload: true }
    : {
        service,
        region: REGION,
        nowMs: NOW_MS,
        payloadHash: createHash('sha256')
          .update(spec.body ?? '')
          .digest('hex'),
      };
  return { view, options, credential };
}

/** Replacement characters that never re-encode to the same canonical form (no hex letters, `.`, `/`, space). */
const REPLACEMENTS = ['g', 'Q', '0', '7', '-', '_', '~'];

function mutate(value: string, index: number, pick: number): string {
  const i = index % value.length;
  const options = REPLACEMENTS.filter((c) => c !== value[i]);
  return value.slice(0, i) + options[pick % options.length]! + value.slice(i + 1);
}

describe('SigV4 properties (fast-check)', () => {
  it('(a) any request signed by @smithy/signature-v4 verifies', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { view, options, credential } = await signScenario(s);
        const result = verify(view, options, credential);
        assert.equal(
          result.ok,
          true,
          result.ok ? '' : `${result.code}: ${result.message} ${JSON.stringify(view)}`,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('(b) any single-character change to method, path, query or a signed header fails', async () => {
    const target = fc.constantFrom('method', 'path', 'query', 'header');
    await fc.assert(
      fc.asyncProperty(
        scenario,
        target,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        async (s, where, at, pick, which) => {
          const { view, options, credential } = await signScenario(s);
          let tampered: SignedRequestView;
          if (where === 'method') {
            tampered = { ...view, method: mutate(view.method, at, pick) };
          } else if (where === 'path') {
            tampered = { ...view, rawPath: mutate(view.rawPath, at, pick) };
          } else if (where === 'query') {
            fc.pre(view.rawQuery.length > 0);
            tampered = { ...view, rawQuery: mutate(view.rawQuery, at, pick) };
          } else {
            const parsed = parseSignature(view);
            assert.ok(parsed.ok);
            const name = parsed.signedHeaders[which % parsed.signedHeaders.length]!;
            const value = view.headers[name];
            assert.equal(typeof value, 'string');
            fc.pre((value as string).length > 0);
            tampered = {
              ...view,
              headers: { ...view.headers, [name]: mutate(value as string, at, pick) },
            };
          }
          const result = verify(tampered, options, credential);
          assert.equal(result.ok, false, `${where} mutation verified: ${JSON.stringify(tampered)}`);
          assert.ok(CODES.has(result.ok ? '' : result.code));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('(c) garbage Authorization headers and pre-sign queries never throw and give a structured problem', () => {
    const token = fc.constantFrom(
      'AWS4-HMAC-SHA256',
      'AWS4-ECDSA-P256-SHA256',
      ' ',
      ',',
      '=',
      '/',
      ';',
      'Credential=',
      'SignedHeaders=',
      'Signature=',
      'AKID',
      '20240506',
      '20240506T070809Z',
      'us-west-2',
      'vpc-lattice-svcs',
      'aws4_request',
      'host',
      'x-amz-date',
      'deadbeef',
      '\t',
      '\u0000',
      'é',
      '😀',
    );
    const garbage = fc.oneof(
      fc.array(token, { maxLength: 20 }).map((t) => t.join('')),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    const queryGarbage = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'X-Amz-Algorithm=AWS4-HMAC-SHA256',
            'X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256',
            'X-Amz-Credential=AKID%2F20240506%2Fus-west-2%2Fvpc-lattice-svcs%2Faws4_request',
            'X-Amz-Date=20240506T070809Z',
            'X-Amz-Expires=300',
            'X-Amz-SignedHeaders=host',
            'X-Amz-Signature=00',
            'X-Amz-Region-Set=*',
            'X-Amz-Security-Token=%zz',
            '&',
            '=',
          ),
          fc.string({ unit: 'binary', maxLength: 20 }),
        ),
        { maxLength: 10 },
      )
      .map((p) => p.join('&'));
    const options: VerifyOptions = {
      service: 'vpc-lattice-svcs',
      region: REGION,
      nowMs: NOW_MS,
      requireUnsignedPayload: true,
    };
    fc.assert(
      fc.property(garbage, queryGarbage, fc.boolean(), (authorization, rawQuery, useHeader) => {
        const view: SignedRequestView = {
          method: 'GET',
          rawPath: '/',
          rawQuery,
          headers: {
            host: 'h',
            'x-amz-date': '20240506T070809Z',
            'x-amz-region-set': '*',
            ...(useHeader ? { authorization } : {}),
          },
        };
        const result = verify(view, options, CREDENTIAL);
        assert.equal(result.ok, false);
        if (!result.ok) {
          assert.ok(CODES.has(result.code), result.code);
          assert.equal(typeof result.message, 'string');
          assert.ok(result.message.length > 0 && result.message.length < 600);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
