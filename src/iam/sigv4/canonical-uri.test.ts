import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { buildQueryString } from '@smithy/core/protocols';
import { SignatureV4, getCanonicalQuery } from '@smithy/signature-v4';
import fc from 'fast-check';
import { canonicalQueryComponent, canonicalQueryString, canonicalUri } from './canonical-uri.js';
import { trimAll } from './canonical-request.js';

/** smithy's own path canonicalisation (a private method of SignatureV4Base). */
const smithyEscaping = new SignatureV4({
  service: 'vpc-lattice',
  region: 'us-west-2',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  sha256: Sha256,
}) as unknown as { getCanonicalPath(request: { path: string }): string };

function smithyCanonicalQuery(query: Record<string, string | string[]>): string {
  return getCanonicalQuery({ query } as unknown as Parameters<typeof getCanonicalQuery>[0]);
}

/** Characters that make paths and queries interesting. */
const tricky = fc.constantFrom(
  'a',
  'Z',
  '0',
  '/',
  '.',
  '..',
  '-',
  '_',
  '~',
  ' ',
  '%',
  '%2F',
  '%2f',
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
  '$',
  'é',
  '日本',
  '😀',
  '\t',
  '"',
  '<',
  '[',
  ']',
);
const trickyString = fc.array(tricky, { maxLength: 12 }).map((parts) => parts.join(''));

describe('canonicalUri', () => {
  it('returns the wire path unchanged when not escaping (S3-style, spec §2.2)', () => {
    for (const path of ['/', '/a%20b', '/a/../b', '//x//', '/%2F%2f', '/caf%C3%A9']) {
      assert.equal(canonicalUri(path, false), path);
    }
    assert.equal(canonicalUri('', false), '/');
  });

  const table: [string, string][] = [
    ['/', '/'],
    ['/a/b/c', '/a/b/c'],
    ['/a%20b', '/a%2520b'],
    ['/a b', '/a%20b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../x', '/x'],
    ['//a//b//', '/a/b/'],
    ['/a/%2F/b', '/a/%252F/b'],
    ['/caf%C3%A9', '/caf%25C3%25A9'],
    ['/é', '/%C3%A9'],
    ["/!*'()", '/%21%2A%27%28%29'],
    ['/tags/arn%3Aaws%3Avpc-lattice', '/tags/arn%253Aaws%253Avpc-lattice'],
  ];
  for (const [wire, expected] of table) {
    it(`escapes ${JSON.stringify(wire)} like @smithy/signature-v4 (${expected})`, () => {
      assert.equal(canonicalUri(wire, true), expected);
      assert.equal(canonicalUri(wire, true), smithyEscaping.getCanonicalPath({ path: wire }));
    });
  }

  it('agrees with @smithy/signature-v4 on arbitrary paths (property)', () => {
    fc.assert(
      fc.property(trickyString, (tail) => {
        const path = `/${tail}`;
        assert.equal(canonicalUri(path, true), smithyEscaping.getCanonicalPath({ path }));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('canonicalQueryString', () => {
  const table: [string, string][] = [
    ['', ''],
    ['a=1', 'a=1'],
    ['b=2&a=1', 'a=1&b=2'],
    ['a=2&a=1&a=10', 'a=1&a=10&a=2'],
    ['a-b=1&a=1', 'a=1&a-b=1'], // sorted by key first, not by `key=value`
    ['flag', 'flag='],
    ['a=&b=', 'a=&b='],
    ['a=1&&b=2&', 'a=1&b=2'],
    ['q=a+b', 'q=a%20b'],
    ['q=a%2bb', 'q=a%2Bb'],
    ['q=%7e%41', 'q=~A'],
    ["q=!*'()", 'q=%21%2A%27%28%29'],
    ['q=100%', 'q=100%25'],
    ['q=%zz', 'q=%25zz'],
    ['X-Amz-Signature=abc&x=1', 'x=1'],
    ['x-amz-signature=abc&x=1', 'x=1'],
    ['k%20ey=v', 'k%20ey=v'],
  ];
  for (const [wire, expected] of table) {
    it(`canonicalises ${JSON.stringify(wire)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(canonicalQueryString(wire), expected);
    });
  }

  it('returns an SDK-built query as-is (same string, no rebuild)', () => {
    const wire = 'a=1&b=x%20y&b=z&c=';
    assert.equal(canonicalQueryString(wire), wire);
  });

  it('matches @smithy/signature-v4 for any query the SDK puts on the wire (property)', () => {
    const query = fc.dictionary(
      trickyString.filter((k) => k.length > 0),
      fc.oneof(trickyString, fc.array(trickyString, { minLength: 1, maxLength: 4 })),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(query, (q) => {
        const wire = buildQueryString(q);
        assert.equal(canonicalQueryString(wire), smithyCanonicalQuery(q));
      }),
      { numRuns: 2000 },
    );
  });

  it('decoding and re-encoding a component is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        const once = canonicalQueryComponent(s);
        assert.equal(canonicalQueryComponent(once), once);
        assert.match(once, /^[A-Za-z0-9\-._~%]*$/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('trimAll', () => {
  const table: [string, string][] = [
    ['plain', 'plain'],
    ['  a   b  ', 'a b'],
    ['a\tb', 'a b'],
    ['a\r\n b', 'a b'],
    ['', ''],
    [' ', ''],
  ];
  for (const [raw, expected] of table) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(trimAll(raw), expected);
    });
  }
});
