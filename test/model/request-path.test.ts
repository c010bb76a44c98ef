import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeRequestPath, normalizeRequestTarget } from '../../src/model/request-path.js';

describe('normalizeRequestPath (routing and auth see one path)', () => {
  const cases: [string, string | undefined][] = [
    ['/', '/'],
    ['/stock', '/stock'],
    ['/Stock/Item', '/Stock/Item'], // case kept
    ['//stock', '/stock'],
    ['/stock//item///x', '/stock/item/x'],
    ['/stock/', '/stock/'],
    ['/stock//', '/stock/'],
    ['//', '/'],
    ['/st%6fck', '/stock'], // unreserved escapes decoded
    ['/a%20b', '/a%20b'],
    ['/a%2ab', '/a%2Ab'], // other escapes upper-cased
    ['/stock/../admin', undefined],
    ['/stock/./x', undefined],
    ['/..', undefined],
    ['/stock/%2e%2e/admin', undefined],
    ['/stock/%2E./admin', undefined],
    ['/stock%2fadmin', undefined],
    ['/stock%5cadmin', undefined],
    ['/stock\\admin', undefined],
    ['/a%00', undefined],
    ['/a%zz', undefined],
    ['/a%2', undefined],
    ['/.well-known/x', '/.well-known/x'], // dots inside a segment are fine
    ['/a..b/c.', '/a..b/c.'],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want ?? '400'}`, () => assert.equal(normalizeRequestPath(input), want));
  }

  it('keeps the query string as sent', () => {
    assert.equal(normalizeRequestTarget('//stock?a=%2e%2e&b=//'), '/stock?a=%2e%2e&b=//');
    assert.equal(normalizeRequestTarget('/stock?x=1'), '/stock?x=1');
    assert.equal(normalizeRequestTarget('/../x?y'), undefined);
  });

  it('is idempotent and never yields //, dot segments or encoded slashes', () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9._~%\-/]{0,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), (parts) => {
        const path = `/${parts.join('/')}`;
        const out = normalizeRequestPath(path);
        if (out === undefined) return;
        assert.equal(normalizeRequestPath(out), out);
        assert.ok(out.startsWith('/'));
        assert.ok(!out.includes('//'), out);
        assert.ok(!/(^|\/)\.\.?(\/|$)/.test(out), out);
        assert.ok(!/%2f|%5c/i.test(out), out);
      }),
      { numRuns: 2000 },
    );
  });
});
