import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { FieldViolation } from '../../src/model/validation/field-rules.js';
import {
  checkRuleAction,
  checkRuleMatch,
  checkRulePriority,
  targetGroupIdentifiersOf,
} from '../../src/model/validation/rule-action-validation.js';

const TG = 'tg-0123456789abcdef0';
const TG2 = 'tg-0fedcba9876543210';
const TG_ARN = `arn:aws:vpc-lattice:us-east-1:111122223333:targetgroup/${TG2}`;

function actionViolations(value: unknown): FieldViolation[] {
  const out: FieldViolation[] = [];
  checkRuleAction(out, 'action', value);
  return out;
}
function matchViolations(value: unknown): FieldViolation[] {
  const out: FieldViolation[] = [];
  checkRuleMatch(out, 'match', value);
  return out;
}

describe('checkRuleAction (spec §1.5 RuleAction)', () => {
  const valid: [string, unknown][] = [
    ['fixed 404', { fixedResponse: { statusCode: 404 } }],
    ['fixed 100 (model minimum)', { fixedResponse: { statusCode: 100 } }],
    ['fixed 599 (model maximum)', { fixedResponse: { statusCode: 599 } }],
    ['forward one, no weight', { forward: { targetGroups: [{ targetGroupIdentifier: TG }] } }],
    [
      'forward by id and ARN, weights 0 and 999',
      {
        forward: {
          targetGroups: [
            { targetGroupIdentifier: TG, weight: 0 },
            { targetGroupIdentifier: TG_ARN, weight: 999 },
          ],
        },
      },
    ],
    [
      'forward ten groups',
      {
        forward: {
          targetGroups: Array.from({ length: 10 }, (_, i) => ({
            targetGroupIdentifier: `tg-0123456789abcde${i.toString(16).padStart(2, '0')}`,
          })),
        },
      },
    ],
  ];
  for (const [name, value] of valid) {
    test(`accepts ${name}`, () => assert.deepEqual(actionViolations(value), []));
  }

  const invalid: [string, unknown, string][] = [
    ['missing', undefined, 'action'],
    ['not an object', 'forward', 'action'],
    ['empty union', {}, 'action'],
    [
      'both members',
      {
        forward: { targetGroups: [{ targetGroupIdentifier: TG }] },
        fixedResponse: { statusCode: 404 },
      },
      'action',
    ],
    ['unknown member', { redirect: { url: 'x' } }, 'action.redirect'],
    ['status 99', { fixedResponse: { statusCode: 99 } }, 'action.fixedResponse.statusCode'],
    ['status 600', { fixedResponse: { statusCode: 600 } }, 'action.fixedResponse.statusCode'],
    [
      'status as string',
      { fixedResponse: { statusCode: '404' } },
      'action.fixedResponse.statusCode',
    ],
    ['status missing', { fixedResponse: {} }, 'action.fixedResponse.statusCode'],
    [
      'extra fixedResponse member',
      { fixedResponse: { statusCode: 404, body: 'x' } },
      'action.fixedResponse.body',
    ],
    ['no target groups', { forward: { targetGroups: [] } }, 'action.forward.targetGroups'],
    [
      'eleven target groups',
      {
        forward: {
          targetGroups: Array.from({ length: 11 }, () => ({ targetGroupIdentifier: TG })),
        },
      },
      'action.forward.targetGroups',
    ],
    [
      'weight 1000',
      { forward: { targetGroups: [{ targetGroupIdentifier: TG, weight: 1000 }] } },
      'action.forward.targetGroups[0].weight',
    ],
    [
      'weight -1',
      { forward: { targetGroups: [{ targetGroupIdentifier: TG, weight: -1 }] } },
      'action.forward.targetGroups[0].weight',
    ],
    [
      'bad identifier',
      { forward: { targetGroups: [{ targetGroupIdentifier: 'svc-0123456789abcdef0' }] } },
      'action.forward.targetGroups[0].targetGroupIdentifier',
    ],
    [
      'same group twice (id and ARN)',
      {
        forward: {
          targetGroups: [{ targetGroupIdentifier: TG2 }, { targetGroupIdentifier: TG_ARN }],
        },
      },
      'action.forward.targetGroups[1].targetGroupIdentifier',
    ],
  ];
  for (const [name, value, field] of invalid) {
    test(`rejects ${name} at ${field}`, () => {
      const v = actionViolations(value);
      assert.ok(v.length > 0, 'expected a violation');
      assert.ok(
        v.some((x) => x.name === field),
        `expected ${field}, got ${JSON.stringify(v)}`,
      );
    });
  }

  test('an optional action may be omitted', () => {
    const out: FieldViolation[] = [];
    checkRuleAction(out, 'action', undefined, false);
    assert.deepEqual(out, []);
  });

  test('targetGroupIdentifiersOf lists forward groups in order, none for fixedResponse', () => {
    assert.deepEqual(
      targetGroupIdentifiersOf({
        forward: {
          targetGroups: [{ targetGroupIdentifier: TG }, { targetGroupIdentifier: TG_ARN }],
        },
      }),
      [TG, TG_ARN],
    );
    assert.deepEqual(targetGroupIdentifiersOf({ fixedResponse: { statusCode: 404 } }), []);
  });
});

describe('checkRuleMatch (spec §1.5 HttpMatch)', () => {
  const valid: [string, unknown][] = [
    ['empty httpMatch (matches everything)', { httpMatch: {} }],
    ['method only', { httpMatch: { method: 'GET' } }],
    ['custom method of 16 chars', { httpMatch: { method: 'A'.repeat(16) } }],
    ['exact path', { httpMatch: { pathMatch: { match: { exact: '/api/v1' } } } }],
    [
      'prefix path, case-sensitive, all allowed chars',
      {
        httpMatch: {
          pathMatch: { match: { prefix: '/a-Z_0.9~@:%+#?&=/' }, caseSensitive: true },
        },
      },
    ],
    [
      'path of 200 chars',
      { httpMatch: { pathMatch: { match: { prefix: `/${'a'.repeat(199)}` } } } },
    ],
    [
      'five header matches',
      {
        httpMatch: {
          headerMatches: ['exact', 'prefix', 'contains', 'exact', 'prefix'].map((m, i) => ({
            name: `x-h${i}`,
            match: { [m]: 'v' },
            caseSensitive: i % 2 === 0,
          })),
        },
      },
    ],
  ];
  for (const [name, value] of valid) {
    test(`accepts ${name}`, () => assert.deepEqual(matchViolations(value), []));
  }

  const invalid: [string, unknown, string][] = [
    ['missing', undefined, 'match'],
    ['empty union', {}, 'match'],
    ['unknown member', { grpcMatch: {} }, 'match.grpcMatch'],
    ['method of 17 chars', { httpMatch: { method: 'A'.repeat(17) } }, 'match.httpMatch.method'],
    ['method with a wildcard', { httpMatch: { method: 'G*T' } }, 'match.httpMatch.method'],
    ['empty method', { httpMatch: { method: '' } }, 'match.httpMatch.method'],
    [
      'path without leading slash',
      { httpMatch: { pathMatch: { match: { exact: 'api' } } } },
      'match.httpMatch.pathMatch.match.exact',
    ],
    [
      'path with a space',
      { httpMatch: { pathMatch: { match: { prefix: '/a b' } } } },
      'match.httpMatch.pathMatch.match.prefix',
    ],
    [
      'path with a wildcard',
      { httpMatch: { pathMatch: { match: { prefix: '/api/*' } } } },
      'match.httpMatch.pathMatch.match.prefix',
    ],
    [
      'path of 201 chars',
      { httpMatch: { pathMatch: { match: { prefix: `/${'a'.repeat(200)}` } } } },
      'match.httpMatch.pathMatch.match.prefix',
    ],
    [
      'path with exact and prefix',
      { httpMatch: { pathMatch: { match: { exact: '/a', prefix: '/b' } } } },
      'match.httpMatch.pathMatch.match',
    ],
    [
      'path with neither',
      { httpMatch: { pathMatch: { match: {} } } },
      'match.httpMatch.pathMatch.match',
    ],
    [
      'pathMatch without match',
      { httpMatch: { pathMatch: {} } },
      'match.httpMatch.pathMatch.match',
    ],
    [
      'caseSensitive as string',
      { httpMatch: { pathMatch: { match: { exact: '/' }, caseSensitive: 'yes' } } },
      'match.httpMatch.pathMatch.caseSensitive',
    ],
    ['no header matches', { httpMatch: { headerMatches: [] } }, 'match.httpMatch.headerMatches'],
    [
      'six header matches',
      {
        httpMatch: {
          headerMatches: Array.from({ length: 6 }, () => ({ name: 'x', match: { exact: 'v' } })),
        },
      },
      'match.httpMatch.headerMatches',
    ],
    [
      'header name of 101 chars',
      { httpMatch: { headerMatches: [{ name: 'x'.repeat(101), match: { exact: 'v' } }] } },
      'match.httpMatch.headerMatches[0].name',
    ],
    [
      'header name with a colon',
      { httpMatch: { headerMatches: [{ name: 'x:y', match: { exact: 'v' } }] } },
      'match.httpMatch.headerMatches[0].name',
    ],
    [
      'header with two match kinds',
      { httpMatch: { headerMatches: [{ name: 'x', match: { exact: 'v', contains: 'w' } }] } },
      'match.httpMatch.headerMatches[0].match',
    ],
    [
      'header value too long',
      { httpMatch: { headerMatches: [{ name: 'x', match: { prefix: 'v'.repeat(201) } }] } },
      'match.httpMatch.headerMatches[0].match.prefix',
    ],
    [
      'header value empty',
      { httpMatch: { headerMatches: [{ name: 'x', match: { contains: '' } }] } },
      'match.httpMatch.headerMatches[0].match.contains',
    ],
  ];
  for (const [name, value, field] of invalid) {
    test(`rejects ${name} at ${field}`, () => {
      const v = matchViolations(value);
      assert.ok(
        v.some((x) => x.name === field),
        `expected ${field}, got ${JSON.stringify(v)}`,
      );
    });
  }

  test('reports every violation of a request, not only the first', () => {
    const v = matchViolations({
      httpMatch: {
        method: 'x'.repeat(20),
        pathMatch: { match: { exact: 'nope' } },
        headerMatches: [{ name: '', match: {} }],
      },
    });
    assert.deepEqual(v.map((x) => x.name).sort(), [
      'match.httpMatch.headerMatches[0].match',
      'match.httpMatch.headerMatches[0].name',
      'match.httpMatch.method',
      'match.httpMatch.pathMatch.match.exact',
    ]);
  });

  test('property: any path made of the allowed characters is accepted, anything else is not', () => {
    const allowed = 'abcXYZ019@:%_+.~#?&/=-';
    const pathArb = fc
      .array(fc.constantFrom(...allowed.split('')), { maxLength: 199 })
      .map((cs) => `/${cs.join('')}`);
    fc.assert(
      fc.property(
        pathArb,
        (p) => matchViolations({ httpMatch: { pathMatch: { match: { prefix: p } } } }).length === 0,
      ),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 50 }), (s) => {
        const ok = /^\/[a-zA-Z0-9@:%_+.~#?&/=-]*$/.test(s);
        const v = matchViolations({ httpMatch: { pathMatch: { match: { exact: s } } } });
        return ok === (v.length === 0);
      }),
    );
  });
});

describe('checkRulePriority (spec §8.3: API range 1–2000)', () => {
  for (const [value, ok] of [
    [1, true],
    [2000, true],
    [0, false],
    [2001, false],
    [1.5, false],
    ['10', false],
    [undefined, false],
  ] as const) {
    test(`${String(value)} → ${ok ? 'valid' : 'invalid'}`, () => {
      const out: FieldViolation[] = [];
      checkRulePriority(out, 'priority', value);
      assert.equal(out.length === 0, ok);
    });
  }
});
