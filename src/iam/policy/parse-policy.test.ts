import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy, PolicyValidationError, validatePolicy } from './index.js';
import type { PolicyKind } from './index.js';

const ROLE = 'arn:aws:iam::123456789012:role/Order';
const stmt = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: { AWS: ROLE },
  Action: 'vpc-lattice-svcs:Invoke',
  Resource: '*/stock',
  ...extra,
});
const doc = (...statements: unknown[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('parsePolicy: accepted grammar', () => {
  it('normalises strings to lists and keeps Version, Id and Sid', () => {
    const d = parsePolicy(
      JSON.stringify({ Version: '2012-10-17', Id: 'p1', Statement: stmt({ Sid: 'One' }) }),
      { kind: 'resource' },
    );
    assert.equal(d.Version, '2012-10-17');
    assert.equal(d.Id, 'p1');
    assert.deepEqual(d.Statement[0], {
      Sid: 'One',
      Effect: 'Allow',
      Principal: { AWS: [ROLE] },
      Action: ['vpc-lattice-svcs:Invoke'],
      Resource: ['*/stock'],
    });
  });

  it('accepts an absent Version and the 2008 Version', () => {
    for (const v of [undefined, '2008-10-17']) {
      const d = parsePolicy(JSON.stringify({ Version: v, Statement: [stmt()] }), {
        kind: 'resource',
      });
      assert.equal(d.Version, v);
    }
  });

  it('turns numbers and booleans in conditions into strings and canonicalises operators', () => {
    const d = parsePolicy(
      doc(
        stmt({
          Condition: {
            'foranyvalue:stringlikeifexists': { 'aws:x': ['a', 1, true] },
            NumericLessThan: { 'vpc-lattice-svcs:Port': 8080 },
          },
        }),
      ),
      { kind: 'resource' },
    );
    assert.deepEqual(d.Statement[0]?.Condition, {
      'ForAnyValue:StringLikeIfExists': { 'aws:x': ['a', '1', 'true'] },
      NumericLessThan: { 'vpc-lattice-svcs:Port': ['8080'] },
    });
  });

  const principals: unknown[] = [
    '*',
    { AWS: '*' },
    { AWS: '123456789012' },
    { AWS: 'arn:aws:iam::123456789012:root' },
    { AWS: 'arn:aws:iam::123456789012:user/alice' },
    {
      AWS: ['arn:aws:iam::123456789012:role/path/R', 'arn:aws:sts::123456789012:assumed-role/R/s'],
    },
    { Service: 'lambda.amazonaws.com' },
    { Federated: 'cognito-identity.amazonaws.com' },
  ];
  for (const p of principals) {
    it(`accepts Principal ${JSON.stringify(p)}`, () => {
      assert.doesNotThrow(() => parsePolicy(doc(stmt({ Principal: p })), { kind: 'resource' }));
    });
  }

  it('accepts identity and trust policies', () => {
    parsePolicy(doc({ Effect: 'Deny', NotAction: ['iam:*'], NotResource: 'arn:aws:iam::*' }), {
      kind: 'identity',
    });
    parsePolicy(doc({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'sts:AssumeRole' }), {
      kind: 'trust',
    });
  });
});

interface ErrorCase {
  name: string;
  text: string;
  kind?: PolicyKind;
  maxBytes?: number;
  path: string;
  message: RegExp;
}

const big = doc(stmt({ Sid: 'x'.repeat(11_000) }));
const ERRORS: ErrorCase[] = [
  { name: 'not JSON', text: '{"Statement": [', path: '', message: /not valid JSON/ },
  { name: 'not an object', text: '[1,2]', path: '', message: /must be a JSON object, got a list/ },
  { name: 'empty text', text: '  ', path: '', message: /empty/ },
  { name: 'over the size limit', text: big, path: '', message: /over the 10240-byte limit/ },
  {
    name: 'over a custom limit',
    text: doc(stmt()),
    maxBytes: 20,
    path: '',
    message: /over the 20-byte limit/,
  },
  {
    name: 'bad Version',
    text: JSON.stringify({ Version: '2020-01-01', Statement: [stmt()] }),
    path: 'Version',
    message: /Version must be "2012-10-17" or "2008-10-17"/,
  },
  {
    name: 'missing Statement',
    text: '{"Version":"2012-10-17"}',
    path: 'Statement',
    message: /missing Statement/,
  },
  { name: 'empty Statement', text: doc(), path: 'Statement', message: /at least one statement/ },
  {
    name: 'unknown top-level key',
    text: JSON.stringify({ Statement: [stmt()], Versoin: 'x' }),
    path: 'Versoin',
    message: /Unknown policy element "Versoin"/,
  },
  {
    name: 'unknown statement key',
    text: doc(stmt({ Actions: 'x:y' })),
    path: 'Statement[0].Actions',
    message: /Unknown statement element "Actions"/,
  },
  {
    name: 'bad Effect',
    text: doc(stmt({ Effect: 'allow' })),
    path: 'Statement[0].Effect',
    message: /Effect must be "Allow" or "Deny"/,
  },
  {
    name: 'missing Effect',
    text: doc({ Principal: '*', Action: '*', Resource: '*' }),
    path: 'Statement[0].Effect',
    message: /missing Effect/,
  },
  {
    name: 'Action and NotAction',
    text: doc(stmt({ NotAction: 'a:b' })),
    path: 'Statement[0]',
    message: /both Action and NotAction/,
  },
  {
    name: 'neither Action nor NotAction',
    text: doc({ Effect: 'Allow', Principal: '*', Resource: '*' }),
    path: 'Statement[0]',
    message: /missing Action/,
  },
  {
    name: 'Resource and NotResource',
    text: doc(stmt({ NotResource: '*' })),
    path: 'Statement[0]',
    message: /both Resource and NotResource/,
  },
  {
    name: 'missing Resource',
    text: doc({ Effect: 'Allow', Principal: '*', Action: '*' }),
    path: 'Statement[0]',
    message: /missing Resource/,
  },
  {
    name: 'Principal missing on a resource policy',
    text: doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
    path: 'Statement[0]',
    message: /missing Principal, which resource policies require/,
  },
  {
    name: 'Principal on an identity policy',
    text: doc(stmt()),
    kind: 'identity',
    path: 'Statement[0].Principal',
    message: /Identity-based policies must not contain Principal/,
  },
  {
    name: 'malformed principal',
    text: doc(stmt({ Principal: { AWS: 'bob' } })),
    path: 'Statement[0].Principal.AWS',
    message: /Invalid principal "bob"/,
  },
  {
    name: 'wildcard inside a principal ARN',
    text: doc(stmt({ Principal: { AWS: 'arn:aws:iam::123456789012:role/*' } })),
    path: 'Statement[0].Principal.AWS',
    message: /wildcards are only allowed as the whole value/,
  },
  {
    name: 'unknown principal type',
    text: doc(stmt({ Principal: { Aws: '*' } })),
    path: 'Statement[0].Principal.Aws',
    message: /Unknown principal type "Aws"/,
  },
  {
    name: 'malformed action',
    text: doc(stmt({ Action: 'Invoke' })),
    path: 'Statement[0].Action',
    message: /Invalid Action "Invoke"/,
  },
  {
    name: 'malformed resource',
    text: doc(stmt({ Resource: ['*', 'svc-1/stock'] })),
    path: 'Statement[0].Resource[1]',
    message: /Invalid Resource "svc-1\/stock"/,
  },
  {
    name: 'empty Action list',
    text: doc(stmt({ Action: [] })),
    path: 'Statement[0].Action',
    message: /must not be an empty list/,
  },
  {
    name: 'unknown condition operator lists the valid ones',
    text: doc(stmt({ Condition: { StringEqual: { 'aws:username': 'x' } } })),
    path: 'Statement[0].Condition.StringEqual',
    message:
      /Unknown condition operator "StringEqual": valid operators are StringEquals, .*IpAddress.*Null; each may end in IfExists/,
  },
  {
    name: 'NullIfExists is not an operator',
    text: doc(stmt({ Condition: { NullIfExists: { 'aws:username': 'true' } } })),
    path: 'Statement[0].Condition.NullIfExists',
    message: /Unknown condition operator/,
  },
  {
    name: 'bad CIDR',
    text: doc(
      stmt({ Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '10.0.0.0/33'] } } }),
    ),
    path: 'Statement[0].Condition.IpAddress.aws:SourceIp[1]',
    message: /IpAddress needs an IPv4 or IPv6 address or CIDR block, got "10.0.0.0\/33"/,
  },
  {
    name: 'bad IPv6 CIDR',
    text: doc(stmt({ Condition: { NotIpAddress: { 'aws:SourceIp': '2001:db8:::/32' } } })),
    path: 'Statement[0].Condition.NotIpAddress.aws:SourceIp',
    message: /NotIpAddress needs an IPv4 or IPv6/,
  },
  {
    name: 'bad number',
    text: doc(stmt({ Condition: { NumericLessThan: { 'vpc-lattice-svcs:Port': 'eighty' } } })),
    path: 'Statement[0].Condition.NumericLessThan.vpc-lattice-svcs:Port',
    message: /needs a number, got "eighty"/,
  },
  {
    name: 'bad date',
    text: doc(stmt({ Condition: { DateGreaterThan: { 'aws:CurrentTime': 'tomorrow' } } })),
    path: 'Statement[0].Condition.DateGreaterThan.aws:CurrentTime',
    message: /ISO 8601 date or epoch seconds/,
  },
  {
    name: 'bad bool',
    text: doc(stmt({ Condition: { Bool: { 'aws:SecureTransport': 'yes' } } })),
    path: 'Statement[0].Condition.Bool.aws:SecureTransport',
    message: /needs "true" or "false"/,
  },
  {
    name: 'bad binary',
    text: doc(stmt({ Condition: { BinaryEquals: { 'a:b': '!!' } } })),
    path: 'Statement[0].Condition.BinaryEquals.a:b',
    message: /base64/,
  },
  {
    name: 'condition key without a prefix',
    text: doc(stmt({ Condition: { StringEquals: { RequestMethod: 'GET' } } })),
    path: 'Statement[0].Condition.StringEquals.RequestMethod',
    message: /Invalid condition key "RequestMethod"/,
  },
  {
    name: 'object as condition value',
    text: doc(stmt({ Condition: { StringEquals: { 'a:b': { c: 1 } } } })),
    path: 'Statement[0].Condition.StringEquals.a:b',
    message: /must be strings, numbers or booleans, got an object/,
  },
  {
    name: 'duplicate Sid',
    text: doc(stmt({ Sid: 'A' }), stmt({ Sid: 'A' })),
    path: 'Statement[1].Sid',
    message: /Sid "A" is used by more than one statement/,
  },
];

describe('parsePolicy: grammar errors name the problem and its path', () => {
  for (const c of ERRORS) {
    it(c.name, () => {
      const options = { kind: c.kind ?? ('resource' as const), maxBytes: c.maxBytes };
      assert.throws(
        () => parsePolicy(c.text, options),
        (e: unknown) => {
          assert.ok(e instanceof PolicyValidationError);
          assert.equal(e.path, c.path);
          assert.match(e.message, c.message);
          return true;
        },
      );
    });
  }

  it('validatePolicy returns every problem', () => {
    const v = validatePolicy(
      doc(
        stmt({ Effect: 'Permit', Action: 'Invoke' }),
        stmt({ Condition: { Foo: { 'a:b': 'c' } } }),
      ),
      { kind: 'resource' },
    );
    assert.deepEqual(
      v.map((x) => x.path),
      ['Statement[0].Effect', 'Statement[0].Action', 'Statement[1].Condition.Foo'],
    );
    assert.deepEqual(validatePolicy(doc(stmt()), { kind: 'resource' }), []);
  });
});
