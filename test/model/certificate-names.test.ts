import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { certificateCoversHost, certificateNameMatches } from '../../src/model/certificate-types.js';

test('spec §7.4 name matching: exact, one-level wildcards only', () => {
  const table: [string, string, boolean][] = [
    ['pay.example.com', 'pay.example.com', true],
    ['pay.example.com', 'PAY.Example.com', true],
    ['pay.example.com', 'pay.example.com.', true],
    ['*.example.com', 'parking.example.com', true],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'example.com', false],
    ['*.*.example.com', 'a.b.example.com', false],
    ['*.com', 'example.com', false],
    ['pay.example.com', 'other.example.com', false],
  ];
  for (const [pattern, host, want] of table)
    assert.equal(certificateNameMatches(pattern, host), want, `${pattern} vs ${host}`);
});

test('SANs are checked when present, the CN otherwise', () => {
  assert.equal(
    certificateCoversHost(
      { domainName: 'cn.example.com', subjectAlternativeNames: ['san.example.com'] },
      'cn.example.com',
    ),
    false,
  );
  assert.equal(
    certificateCoversHost(
      { domainName: 'cn.example.com', subjectAlternativeNames: [] },
      'cn.example.com',
    ),
    true,
  );
});

test('a wildcard covers exactly the hosts one label below it (fast-check)', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  fc.assert(
    fc.property(
      fc.array(label, { minLength: 2, maxLength: 4 }),
      fc.array(label, { minLength: 0, maxLength: 3 }),
      (base, extra) => {
        const host = [...extra, ...base].join('.');
        return certificateNameMatches(`*.${base.join('.')}`, host) === (extra.length === 1);
      },
    ),
  );
});
