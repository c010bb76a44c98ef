/** fast-check properties: the parser never crashes; the wildcard matcher agrees with a reference. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileWildcard, parsePolicy, PolicyValidationError } from './index.js';
import { parseCidr, parseIpAddress, isInCidr } from './ip-address.js';

/** Reference: dynamic programming over (pattern, text) prefixes. */
function referenceMatch(pattern: string, text: string): boolean {
  const m = pattern.length;
  const n = text.length;
  let prev: boolean[] = Array.from({ length: n + 1 }, (_, j) => j === 0);
  for (let i = 1; i <= m; i++) {
    const p = pattern[i - 1];
    const cur: boolean[] = new Array<boolean>(n + 1).fill(false);
    cur[0] = p === '*' && (prev[0] as boolean);
    for (let j = 1; j <= n; j++) {
      if (p === '*') cur[j] = (prev[j] as boolean) || (cur[j - 1] as boolean);
      else cur[j] = (prev[j - 1] as boolean) && (p === '?' || p === text[j - 1]);
    }
    prev = cur;
  }
  return prev[n] as boolean;
}

const anyThrowsOnlyValidation = (text: string) => {
  for (const kind of ['resource', 'identity', 'trust'] as const) {
    try {
      parsePolicy(text, { kind });
    } catch (e) {
      assert.ok(e instanceof PolicyValidationError, `threw ${String(e)}`);
      assert.ok(e.message.length > 0);
    }
  }
};

const policyish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(
      '*',
      'Allow',
      'Deny',
      '2012-10-17',
      'arn:aws:iam::123456789012:root',
      'a:b',
      '10.0.0.0/8',
    ),
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom(
        'Version',
        'Statement',
        'Effect',
        'Principal',
        'NotPrincipal',
        'Action',
        'NotAction',
        'Resource',
        'NotResource',
        'Condition',
        'Sid',
        'AWS',
        'StringEquals',
        'ForAllValues:StringLike',
        'IpAddress',
        'NumericLessThanIfExists',
        'aws:SourceIp',
        'x',
      ),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
}));

describe('policy properties', () => {
  it('random text never crashes the parser', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), anyThrowsOnlyValidation), {
      numRuns: 500,
    });
  });

  it('random JSON never crashes the parser', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 5 }), anyThrowsOnlyValidation), { numRuns: 500 });
  });

  it('random policy-shaped JSON never crashes the parser', () => {
    fc.assert(
      fc.property(policyish.value, (v) => anyThrowsOnlyValidation(JSON.stringify(v) ?? 'null')),
      { numRuns: 1000 },
    );
  });

  it('wildcard matcher agrees with the reference implementation', () => {
    const alphabet = fc.constantFrom('a', 'b', '/', '*', '?');
    const textAlphabet = fc.constantFrom('a', 'b', '/', '*', '?', 'c');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 10 }),
        fc.string({ unit: textAlphabet, maxLength: 14 }),
        (p, t) => {
          assert.equal(compileWildcard(p).match(t), referenceMatch(p, t), `pattern ${p} text ${t}`);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('an IPv4 address is inside its own /n block for every n', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, n) => {
        const block = parseCidr(`${ip}/${n}`);
        assert.ok(block);
        assert.ok(isInCidr(parseIpAddress(ip) as Uint32Array, block));
      }),
    );
  });

  it('an IPv6 address is inside its own /n block for every n', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (ip, n) => {
        const block = parseCidr(`${ip}/${n}`);
        assert.ok(block, ip);
        assert.ok(isInCidr(parseIpAddress(ip) as Uint32Array, block));
      }),
    );
  });
});
