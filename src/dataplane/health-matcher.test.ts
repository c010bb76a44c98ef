import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationException } from '../errors/index.js';
import { parseHttpCodeMatcher } from './health-matcher.js';

describe('parseHttpCodeMatcher', () => {
  const accepted: Array<{ httpCode: string; yes: number[]; no: number[] }> = [
    { httpCode: '200', yes: [200], no: [199, 201, 204, 404, 0, 1000] },
    { httpCode: '200,202', yes: [200, 202], no: [201, 203] },
    { httpCode: '200-299', yes: [200, 250, 299], no: [199, 300, 404] },
    { httpCode: '200,204-206,302', yes: [200, 204, 205, 206, 302], no: [201, 203, 207, 301, 303] },
    { httpCode: '404', yes: [404], no: [200] },
    { httpCode: '499', yes: [499], no: [500, 498] },
    { httpCode: '200-200', yes: [200], no: [201] },
    { httpCode: '200-499', yes: [200, 333, 499], no: [199, 500, 503, 100] },
    { httpCode: '300-310,305-320', yes: [300, 310, 315, 320], no: [299, 321] },
  ];
  for (const { httpCode, yes, no } of accepted) {
    it(`"${httpCode}" matches ${yes.join(' ')} and not ${no.join(' ')}`, () => {
      const m = parseHttpCodeMatcher(httpCode);
      assert.equal(m.httpCode, httpCode);
      for (const code of yes) assert.equal(m.matches(code), true, `${code}`);
      for (const code of no) assert.equal(m.matches(code), false, `${code}`);
    });
  }

  const rejected = [
    '',
    ',',
    '200,',
    ',200',
    '200,,202',
    '200 ',
    ' 200',
    '200, 202',
    '2OO',
    '199',
    '500',
    '100-200',
    '200-500',
    '299-200',
    '200--299',
    '-200',
    '200-',
    '0200',
    '1e3',
    '200;202',
    '2'.repeat(2001),
  ];
  for (const httpCode of rejected) {
    it(`rejects ${JSON.stringify(httpCode.slice(0, 20))}`, () => {
      assert.throws(
        () => parseHttpCodeMatcher(httpCode),
        (e: unknown) =>
          e instanceof ValidationException && e.fieldList[0]?.name === 'matcher.httpCode',
      );
    });
  }

  it('agrees with a model of lists of ranges (property)', () => {
    const code = fc.integer({ min: 200, max: 499 });
    const element = fc.tuple(code, code).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
    fc.assert(
      fc.property(
        fc.array(element, { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (els, short) => {
          const text = els
            .map(([low, high]) => (short && low === high ? `${low}` : `${low}-${high}`))
            .join(',');
          const m = parseHttpCodeMatcher(text);
          for (let c = 100; c < 600; c++) {
            const expected = els.some(([low, high]) => c >= low! && c <= high!);
            assert.equal(m.matches(c), expected, `${text} ${c}`);
          }
        },
      ),
    );
  });

  it('either parses or throws a ValidationException for any string of the API alphabet (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9,-]{0,30}$/), (text) => {
        try {
          const m = parseHttpCodeMatcher(text);
          assert.equal(typeof m.matches(200), 'boolean');
        } catch (e) {
          assert.ok(e instanceof ValidationException, String(e));
        }
      }),
    );
  });
});
