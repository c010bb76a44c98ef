import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import {
  intInRange,
  parseForward,
  parseHeaderMatch,
  parseJsonObject,
  parseTags,
  parseTargets,
  ruleActionFrom,
} from '../../src/cli/flag-parsers.js';

const invalid = (err: unknown): boolean => err instanceof InvalidArgumentError;

describe('parseTags', () => {
  it('parses pairs and merges repeated flags', () => {
    assert.deepEqual(parseTags('team=payments, env=dev'), { team: 'payments', env: 'dev' });
    assert.deepEqual(parseTags('b=2', { a: '1' }), { a: '1', b: '2' });
    assert.deepEqual(parseTags('empty='), { empty: '' });
    assert.deepEqual(parseTags('url=a=b'), { url: 'a=b' });
  });
  for (const bad of ['', 'novalue', '=v', ',,']) {
    it(`rejects "${bad}"`, () => assert.throws(() => parseTags(bad), invalid));
  }
  it('round-trips any map of plain keys and values (property)', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9_.:/+@-]{1,20}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9_.:/+@=-]{0,20}$/);
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 8 }), (tags) => {
        const text = Object.entries(tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        assert.deepEqual(parseTags(text), { ...tags });
      }),
    );
  });
});

describe('parseForward', () => {
  const cases: [string, unknown][] = [
    ['tg-0a', [{ targetGroupIdentifier: 'tg-0a' }]],
    [
      'tg-0a:80,tg-0b:20',
      [
        { targetGroupIdentifier: 'tg-0a', weight: 80 },
        { targetGroupIdentifier: 'tg-0b', weight: 20 },
      ],
    ],
    [
      'arn:aws:vpc-lattice:us-east-1:111122223333:targetgroup/tg-0a:5',
      [
        {
          targetGroupIdentifier: 'arn:aws:vpc-lattice:us-east-1:111122223333:targetgroup/tg-0a',
          weight: 5,
        },
      ],
    ],
    [
      'arn:aws:vpc-lattice:us-east-1:111122223333:targetgroup/tg-0a',
      [{ targetGroupIdentifier: 'arn:aws:vpc-lattice:us-east-1:111122223333:targetgroup/tg-0a' }],
    ],
  ];
  for (const [text, expected] of cases) {
    it(text, () => assert.deepEqual(parseForward(text), expected));
  }
  it('rejects weights above 999 and empty lists', () => {
    assert.throws(() => parseForward('tg-0a:1000'), invalid);
    assert.throws(() => parseForward(','), invalid);
  });
});

describe('parseTargets', () => {
  const lambda = 'arn:aws:lambda:us-east-1:111122223333:function:resize';
  const alb =
    'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web/0123456789abcdef';
  const cases: [string, unknown][] = [
    ['10.0.0.5:8080', [{ id: '10.0.0.5', port: 8080 }]],
    ['10.0.0.5', [{ id: '10.0.0.5' }]],
    [
      'i-0123456789abcdef0:80, 10.0.0.6',
      [{ id: 'i-0123456789abcdef0', port: 80 }, { id: '10.0.0.6' }],
    ],
    ['[::1]:8080', [{ id: '::1', port: 8080 }]],
    ['[fd00::5]', [{ id: 'fd00::5' }]],
    [lambda, [{ id: lambda }]],
    [`${lambda}:7`, [{ id: `${lambda}:7` }]],
    [alb, [{ id: alb }]],
    [`${alb}:443`, [{ id: alb, port: 443 }]],
  ];
  for (const [text, expected] of cases) {
    it(text, () => assert.deepEqual(parseTargets(text), expected));
  }
  for (const bad of ['10.0.0.5:0', '10.0.0.5:70000', '::1:80', ',']) {
    it(`rejects "${bad}"`, () => assert.throws(() => parseTargets(bad), invalid));
  }
  it('appends to earlier --targets flags', () => {
    assert.deepEqual(parseTargets('b', [{ id: 'a' }]), [{ id: 'a' }, { id: 'b' }]);
  });
  it('parses any IPv4 address and port (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (ip, port) => {
        assert.deepEqual(parseTargets(`${ip}:${port}`), [{ id: ip, port }]);
      }),
    );
  });
});

describe('parseHeaderMatch', () => {
  const cases: [string, unknown][] = [
    ['x-beta=1', { name: 'x-beta', match: { exact: '1' } }],
    ['user-agent^=curl/', { name: 'user-agent', match: { prefix: 'curl/' } }],
    ['cookie*=session=', { name: 'cookie', match: { contains: 'session=' } }],
  ];
  for (const [text, expected] of cases) {
    it(text, () => assert.deepEqual(parseHeaderMatch(text), [expected]));
  }
  it('rejects text without a name or =', () => {
    assert.throws(() => parseHeaderMatch('novalue'), invalid);
    assert.throws(() => parseHeaderMatch('=v'), invalid);
  });
});

describe('parseJsonObject and intInRange', () => {
  it('reads inline JSON and @file / file:// paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-cli-json-'));
    try {
      const file = join(dir, 'a.json');
      writeFileSync(file, '{"fixedResponse":{"statusCode":404}}');
      const expected = { fixedResponse: { statusCode: 404 } };
      assert.deepEqual(parseJsonObject('{"fixedResponse":{"statusCode":404}}'), expected);
      assert.deepEqual(parseJsonObject(`@${file}`), expected);
      assert.deepEqual(parseJsonObject(`file://${file}`), expected);
      assert.throws(() => parseJsonObject(`@${join(dir, 'missing.json')}`), invalid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const bad of ['{', '[1]', '3', 'null']) assert.throws(() => parseJsonObject(bad), invalid);
  });

  it('accepts integers in range only', () => {
    const port = intInRange(1, 65535);
    assert.equal(port('80'), 80);
    for (const bad of ['0', '65536', '8.5', 'x', '']) assert.throws(() => port(bad), invalid);
  });
});

describe('ruleActionFrom', () => {
  it('builds the RuleAction union from one flag', () => {
    assert.deepEqual(ruleActionFrom({ fixedResponse: 404 }), {
      fixedResponse: { statusCode: 404 },
    });
    assert.deepEqual(ruleActionFrom({ forward: [{ targetGroupIdentifier: 'tg-0a' }] }), {
      forward: { targetGroups: [{ targetGroupIdentifier: 'tg-0a' }] },
    });
    assert.deepEqual(ruleActionFrom({ json: { fixedResponse: { statusCode: 500 } } }), {
      fixedResponse: { statusCode: 500 },
    });
    assert.equal(ruleActionFrom({}), undefined);
    assert.equal(typeof ruleActionFrom({ fixedResponse: 404, forward: [] }), 'string');
  });
});
