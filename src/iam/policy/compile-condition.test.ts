import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chainKeys,
  compilePolicy,
  createPrincipalKeys,
  createStaticKeys,
  evaluatePolicy,
  parsePolicy,
  type AuthorizationPrincipal,
} from './index.js';

type Keys = Record<string, string | string[]>;

/** Whether a one-statement Allow policy with this Condition matches a request with these keys. */
function conditionHolds(
  condition: Record<string, Record<string, unknown>>,
  keys: Keys,
  principal?: AuthorizationPrincipal,
  version: string | null = '2012-10-17',
): boolean {
  const doc = parsePolicy(
    JSON.stringify({
      ...(version === null ? {} : { Version: version }),
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: condition },
      ],
    }),
    { kind: 'resource' },
  );
  const verdict = evaluatePolicy(compilePolicy(doc, { level: 'Service' }), {
    action: 'vpc-lattice-svcs:Invoke',
    resource: 'arn:aws:vpc-lattice:us-east-1:123456789012:service/svc-0123456789abcdef0/x',
    principal,
    keys: chainKeys(createStaticKeys(keys), createPrincipalKeys(principal)),
  });
  return verdict.effect === 'Allow';
}

interface Case {
  op: string;
  key?: string;
  values: unknown;
  keys: Keys;
  want: boolean;
  note?: string;
}

const M = 'vpc-lattice-svcs:RequestMethod';
const Q = 'vpc-lattice-svcs:RequestQueryString/color';
const PORT = 'vpc-lattice-svcs:Port';
const T = 'aws:CurrentTime';
const IP = 'aws:SourceIp';
const SN = 'vpc-lattice-svcs:ServiceNetworkArn';
const SNARN = 'arn:aws:vpc-lattice:us-east-1:123456789012:servicenetwork/sn-0123456789abcdef0';

const CASES: Case[] = [
  // String family
  { op: 'StringEquals', key: M, values: 'GET', keys: { [M]: 'GET' }, want: true },
  {
    op: 'StringEquals',
    key: M,
    values: 'GET',
    keys: { [M]: 'get' },
    want: false,
    note: 'case-sensitive',
  },
  {
    op: 'StringEquals',
    key: M,
    values: ['GET', 'HEAD'],
    keys: { [M]: 'HEAD' },
    want: true,
    note: 'values OR',
  },
  { op: 'StringEquals', key: M, values: 'GET', keys: {}, want: false, note: 'missing key' },
  { op: 'StringNotEquals', key: M, values: 'GET', keys: { [M]: 'POST' }, want: true },
  { op: 'StringNotEquals', key: M, values: ['GET', 'POST'], keys: { [M]: 'POST' }, want: false },
  {
    op: 'StringNotEquals',
    key: M,
    values: 'GET',
    keys: {},
    want: true,
    note: 'negated, missing key',
  },
  { op: 'StringEqualsIgnoreCase', key: M, values: 'get', keys: { [M]: 'GET' }, want: true },
  { op: 'StringNotEqualsIgnoreCase', key: M, values: 'get', keys: { [M]: 'GET' }, want: false },
  { op: 'StringLike', key: M, values: 'P*', keys: { [M]: 'PUT' }, want: true },
  { op: 'StringLike', key: M, values: 'P?T', keys: { [M]: 'PUT' }, want: true },
  { op: 'StringLike', key: M, values: 'P?T', keys: { [M]: 'POST' }, want: false },
  { op: 'StringNotLike', key: M, values: 'P*', keys: { [M]: 'GET' }, want: true },
  { op: 'StringNotLike', key: M, values: 'P*', keys: { [M]: 'PATCH' }, want: false },
  {
    op: 'StringEqualsIfExists',
    key: M,
    values: 'GET',
    keys: {},
    want: true,
    note: 'IfExists, missing',
  },
  { op: 'StringEqualsIfExists', key: M, values: 'GET', keys: { [M]: 'POST' }, want: false },
  { op: 'StringEqualsIfExists', key: M, values: 'GET', keys: { [M]: 'GET' }, want: true },
  // Numeric family
  { op: 'NumericEquals', key: PORT, values: 443, keys: { [PORT]: '443' }, want: true },
  { op: 'NumericEquals', key: PORT, values: '443', keys: { [PORT]: '443.0' }, want: true },
  { op: 'NumericNotEquals', key: PORT, values: 443, keys: { [PORT]: '80' }, want: true },
  { op: 'NumericLessThan', key: PORT, values: 1024, keys: { [PORT]: '80' }, want: true },
  { op: 'NumericLessThan', key: PORT, values: 80, keys: { [PORT]: '80' }, want: false },
  { op: 'NumericLessThanEquals', key: PORT, values: 80, keys: { [PORT]: '80' }, want: true },
  { op: 'NumericGreaterThan', key: PORT, values: 1024, keys: { [PORT]: '8080' }, want: true },
  {
    op: 'NumericGreaterThanEquals',
    key: PORT,
    values: 8080,
    keys: { [PORT]: '8079' },
    want: false,
  },
  {
    op: 'NumericEquals',
    key: PORT,
    values: 443,
    keys: { [PORT]: 'abc' },
    want: false,
    note: 'not a number',
  },
  { op: 'NumericLessThanIfExists', key: PORT, values: 10, keys: {}, want: true },
  // Date family (ISO 8601 and epoch, on either side)
  {
    op: 'DateGreaterThan',
    key: T,
    values: '2024-01-01T00:00:00Z',
    keys: { [T]: '2024-06-01T12:00:00Z' },
    want: true,
  },
  {
    op: 'DateLessThan',
    key: T,
    values: '2024-01-01T00:00:00Z',
    keys: { [T]: '2024-06-01T12:00:00Z' },
    want: false,
  },
  {
    op: 'DateLessThanEquals',
    key: T,
    values: '2024-06-01T12:00:00Z',
    keys: { [T]: '2024-06-01T12:00:00Z' },
    want: true,
  },
  {
    op: 'DateGreaterThanEquals',
    key: T,
    values: '2024-06-02',
    keys: { [T]: '2024-06-01T12:00:00Z' },
    want: false,
  },
  {
    op: 'DateEquals',
    key: T,
    values: 1717243200,
    keys: { [T]: '2024-06-01T12:00:00Z' },
    want: true,
    note: 'epoch policy value',
  },
  {
    op: 'DateNotEquals',
    key: T,
    values: '2024-06-01T12:00:00Z',
    keys: { [T]: '1717243200' },
    want: false,
    note: 'epoch request value',
  },
  {
    op: 'DateLessThan',
    key: T,
    values: '2024-06-01T14:00:00+02:00',
    keys: { [T]: '2024-06-01T11:59:59Z' },
    want: true,
    note: 'offset',
  },
  // Bool
  {
    op: 'Bool',
    key: 'aws:SecureTransport',
    values: true,
    keys: { 'aws:SecureTransport': 'true' },
    want: true,
  },
  {
    op: 'Bool',
    key: 'aws:SecureTransport',
    values: 'false',
    keys: { 'aws:SecureTransport': 'TRUE' },
    want: false,
  },
  { op: 'BoolIfExists', key: 'aws:SecureTransport', values: 'false', keys: {}, want: true },
  // Binary
  {
    op: 'BinaryEquals',
    key: 'a:bin',
    values: 'QmluYXJ5',
    keys: { 'a:bin': 'QmluYXJ5' },
    want: true,
  },
  {
    op: 'BinaryEquals',
    key: 'a:bin',
    values: 'QmluYXJ5',
    keys: { 'a:bin': 'QmluYXJ6' },
    want: false,
  },
  // IpAddress (v4, v6, mapped)
  { op: 'IpAddress', key: IP, values: '10.0.0.0/8', keys: { [IP]: '10.1.2.3' }, want: true },
  { op: 'IpAddress', key: IP, values: '10.0.0.0/8', keys: { [IP]: '11.1.2.3' }, want: false },
  {
    op: 'IpAddress',
    key: IP,
    values: ['192.168.1.0/24', '10.0.0.0/8'],
    keys: { [IP]: '192.168.1.200' },
    want: true,
  },
  {
    op: 'IpAddress',
    key: IP,
    values: '203.0.113.7',
    keys: { [IP]: '203.0.113.7' },
    want: true,
    note: 'bare address',
  },
  {
    op: 'IpAddress',
    key: IP,
    values: '2001:db8::/32',
    keys: { [IP]: '2001:db8:1::5' },
    want: true,
  },
  { op: 'IpAddress', key: IP, values: '2001:db8::/32', keys: { [IP]: '2001:db9::5' }, want: false },
  {
    op: 'IpAddress',
    key: IP,
    values: '10.0.0.0/8',
    keys: { [IP]: '::ffff:10.9.9.9' },
    want: true,
    note: 'v4-mapped v6',
  },
  {
    op: 'IpAddress',
    key: IP,
    values: '0.0.0.0/0',
    keys: { [IP]: '2001:db8::1' },
    want: false,
    note: 'v4 block, v6 caller',
  },
  { op: 'NotIpAddress', key: IP, values: '10.0.0.0/8', keys: { [IP]: '11.1.2.3' }, want: true },
  { op: 'NotIpAddress', key: IP, values: '10.0.0.0/8', keys: { [IP]: '10.1.2.3' }, want: false },
  { op: 'IpAddress', key: IP, values: '10.0.0.0/8', keys: { [IP]: 'not-an-ip' }, want: false },
  // Arn family (per-component wildcards)
  { op: 'ArnEquals', key: SN, values: SNARN, keys: { [SN]: SNARN }, want: true },
  {
    op: 'ArnLike',
    key: SN,
    values: 'arn:aws:vpc-lattice:*:123456789012:servicenetwork/*',
    keys: { [SN]: SNARN },
    want: true,
  },
  {
    op: 'ArnLike',
    key: SN,
    values: 'arn:aws:vpc-lattice:*:999999999999:servicenetwork/*',
    keys: { [SN]: SNARN },
    want: false,
  },
  {
    op: 'ArnLike',
    key: SN,
    values: 'arn:aws:vpc-lattice:us-*:*:*',
    keys: { [SN]: SNARN },
    want: true,
  },
  {
    op: 'ArnLike',
    key: SN,
    values: 'arn:aws:vpc-lattice:us-east-1:*',
    keys: { [SN]: SNARN },
    want: true,
    note: 'fewer than six components: matched as one wildcard pattern',
  },
  { op: 'ArnNotEquals', key: SN, values: SNARN, keys: { [SN]: SNARN }, want: false },
  {
    op: 'ArnNotLike',
    key: SN,
    values: 'arn:aws:vpc-lattice:*:*:service/*',
    keys: { [SN]: SNARN },
    want: true,
  },
  { op: 'ArnLike', key: SN, values: 'arn:aws:*:*:*:*', keys: { [SN]: 'not-an-arn' }, want: false },
  // Null
  { op: 'Null', key: 'aws:PrincipalOrgID', values: 'true', keys: {}, want: true },
  {
    op: 'Null',
    key: 'aws:PrincipalOrgID',
    values: 'true',
    keys: { 'aws:PrincipalOrgID': 'o-1' },
    want: false,
  },
  {
    op: 'Null',
    key: 'aws:PrincipalOrgID',
    values: 'false',
    keys: { 'aws:PrincipalOrgID': 'o-1' },
    want: true,
  },
  { op: 'Null', key: 'aws:PrincipalOrgID', values: 'false', keys: {}, want: false },
  // Set qualifiers on a multi-valued key (vpc-lattice-svcs:RequestQueryString/<key>, spec §2.4)
  {
    op: 'ForAnyValue:StringEquals',
    key: Q,
    values: ['red', 'blue'],
    keys: { [Q]: ['green', 'blue'] },
    want: true,
  },
  {
    op: 'ForAnyValue:StringEquals',
    key: Q,
    values: ['red'],
    keys: { [Q]: ['green', 'blue'] },
    want: false,
  },
  {
    op: 'ForAnyValue:StringEquals',
    key: Q,
    values: ['red'],
    keys: {},
    want: false,
    note: 'ForAnyValue, missing',
  },
  {
    op: 'ForAllValues:StringEquals',
    key: Q,
    values: ['red', 'blue'],
    keys: { [Q]: ['red', 'blue'] },
    want: true,
  },
  {
    op: 'ForAllValues:StringEquals',
    key: Q,
    values: ['red', 'blue'],
    keys: { [Q]: ['red', 'green'] },
    want: false,
  },
  {
    op: 'ForAllValues:StringEquals',
    key: Q,
    values: ['red'],
    keys: {},
    want: true,
    note: 'ForAllValues, missing',
  },
  {
    op: 'ForAllValues:StringEquals',
    key: Q,
    values: ['red'],
    keys: { [Q]: [] },
    want: true,
    note: 'ForAllValues, empty',
  },
  {
    op: 'ForAllValues:StringLike',
    key: Q,
    values: ['r*', 'b*'],
    keys: { [Q]: ['red', 'blue'] },
    want: true,
  },
  {
    op: 'ForAnyValue:StringNotEquals',
    key: Q,
    values: ['red'],
    keys: { [Q]: ['red', 'blue'] },
    want: true,
  },
  {
    op: 'ForAnyValue:StringNotEquals',
    key: Q,
    values: ['red'],
    keys: { [Q]: ['red'] },
    want: false,
  },
  {
    op: 'ForAllValues:StringNotEquals',
    key: Q,
    values: ['red'],
    keys: { [Q]: ['green', 'blue'] },
    want: true,
  },
  {
    op: 'ForAllValues:StringNotEquals',
    key: Q,
    values: ['red'],
    keys: { [Q]: ['green', 'red'] },
    want: false,
  },
  { op: 'ForAnyValue:StringEqualsIfExists', key: Q, values: ['red'], keys: {}, want: true },
  {
    op: 'ForAnyValue:NumericGreaterThan',
    key: 'a:nums',
    values: 10,
    keys: { 'a:nums': ['1', '20'] },
    want: true,
  },
  {
    op: 'StringEquals',
    key: Q,
    values: 'red',
    keys: { [Q]: ['green', 'red'] },
    want: true,
    note: 'unqualified on a set',
  },
  {
    op: 'StringNotEquals',
    key: Q,
    values: 'red',
    keys: { [Q]: ['green', 'red'] },
    want: false,
    note: 'negated on a set',
  },
  // Key names are case-insensitive
  {
    op: 'StringEquals',
    key: 'VPC-Lattice-Svcs:requestmethod',
    values: 'GET',
    keys: { [M]: 'GET' },
    want: true,
  },
  {
    op: 'StringEquals',
    key: 'vpc-lattice-svcs:RequestHeader/Content-Type',
    values: 'application/json',
    keys: { 'vpc-lattice-svcs:requestheader/content-type': 'application/json' },
    want: true,
  },
];

describe('condition operators (table)', () => {
  for (const c of CASES) {
    const label = `${c.op} ${JSON.stringify(c.values)} vs ${JSON.stringify(c.keys)}${c.note ? ` — ${c.note}` : ''}`;
    it(label, () => {
      assert.equal(conditionHolds({ [c.op]: { [c.key ?? M]: c.values } }, c.keys), c.want);
    });
  }

  it('ANDs keys inside one operator block and across blocks', () => {
    const cond = {
      StringEquals: { [M]: 'GET', 'vpc-lattice-svcs:SourceVpc': 'vpc-1' },
      NumericEquals: { [PORT]: 443 },
    };
    assert.equal(
      conditionHolds(cond, { [M]: 'GET', 'vpc-lattice-svcs:SourceVpc': 'vpc-1', [PORT]: '443' }),
      true,
    );
    assert.equal(
      conditionHolds(cond, { [M]: 'GET', 'vpc-lattice-svcs:SourceVpc': 'vpc-2', [PORT]: '443' }),
      false,
    );
    assert.equal(
      conditionHolds(cond, { [M]: 'GET', 'vpc-lattice-svcs:SourceVpc': 'vpc-1', [PORT]: '80' }),
      false,
    );
  });
});

const ALICE: AuthorizationPrincipal = {
  arn: 'arn:aws:iam::123456789012:user/eng/alice',
  accountId: '123456789012',
  type: 'User',
  userId: 'AIDAEXAMPLE',
  tags: { Team: 'payments' },
  orgId: 'o-abc',
};
const SESSION: AuthorizationPrincipal = {
  arn: 'arn:aws:sts::123456789012:assumed-role/Order/fn-1',
  accountId: '123456789012',
  type: 'AssumedRole',
  roleArn: 'arn:aws:iam::123456789012:role/service/Order',
  sessionName: 'fn-1',
};

describe('principal condition keys and policy variables', () => {
  it('answers aws:Principal* keys from the principal', () => {
    assert.equal(
      conditionHolds({ StringEquals: { 'aws:PrincipalTag/team': 'payments' } }, {}, ALICE),
      true,
    );
    assert.equal(
      conditionHolds({ StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } }, {}, ALICE),
      true,
    );
    assert.equal(conditionHolds({ StringEquals: { 'aws:username': 'alice' } }, {}, ALICE), true);
    assert.equal(
      conditionHolds({ StringEquals: { 'aws:PrincipalType': 'User' } }, {}, ALICE),
      true,
    );
    assert.equal(conditionHolds({ StringEquals: { 'aws:PrincipalType': 'Anonymous' } }, {}), true);
    assert.equal(
      conditionHolds({ ArnEquals: { 'aws:PrincipalArn': SESSION.roleArn } }, {}, SESSION),
      true,
      'a role session answers aws:PrincipalArn with the role ARN',
    );
    assert.equal(conditionHolds({ Null: { 'aws:username': 'true' } }, {}, SESSION), true);
  });

  it('substitutes ${aws:PrincipalTag/team}, ${aws:username} and ${aws:PrincipalAccount} in values', () => {
    const h = 'vpc-lattice-svcs:RequestHeader/x-team';
    assert.equal(
      conditionHolds(
        { StringEquals: { [h]: '${aws:PrincipalTag/team}' } },
        { [h]: 'payments' },
        ALICE,
      ),
      true,
    );
    assert.equal(
      conditionHolds(
        { StringEquals: { [h]: '${aws:PrincipalTag/team}' } },
        { [h]: 'other' },
        ALICE,
      ),
      false,
    );
    assert.equal(
      conditionHolds({ StringLike: { [h]: '${aws:username}-*' } }, { [h]: 'alice-1' }, ALICE),
      true,
    );
    assert.equal(
      conditionHolds(
        { StringEquals: { 'vpc-lattice-svcs:SourceVpcOwnerAccount': '${aws:PrincipalAccount}' } },
        { 'vpc-lattice-svcs:SourceVpcOwnerAccount': '123456789012' },
        ALICE,
      ),
      true,
    );
  });

  it('treats a missing variable as no match, unless it has a default', () => {
    const h = 'vpc-lattice-svcs:RequestHeader/x-user';
    assert.equal(
      conditionHolds({ StringEquals: { [h]: '${aws:username}' } }, { [h]: '' }, SESSION),
      false,
    );
    assert.equal(
      conditionHolds(
        { StringEquals: { [h]: "${aws:username, 'nobody'}" } },
        { [h]: 'nobody' },
        SESSION,
      ),
      true,
    );
  });

  it('reads ${*}, ${?}, ${$} as literal characters, never wildcards', () => {
    const h = 'vpc-lattice-svcs:RequestHeader/x-v';
    assert.equal(conditionHolds({ StringLike: { [h]: 'a${*}' } }, { [h]: 'a*' }, ALICE), true);
    assert.equal(conditionHolds({ StringLike: { [h]: 'a${*}' } }, { [h]: 'abc' }, ALICE), false);
    assert.equal(conditionHolds({ StringLike: { [h]: 'a${?}' } }, { [h]: 'a?' }, ALICE), true);
    assert.equal(
      conditionHolds({ StringEquals: { [h]: '${$}{x}' } }, { [h]: '${x}' }, ALICE),
      true,
    );
  });

  it('any context key can be a variable', () => {
    const h = 'vpc-lattice-svcs:RequestHeader/x-vpc';
    assert.equal(
      conditionHolds(
        { StringEquals: { [h]: '${vpc-lattice-svcs:SourceVpc}' } },
        { [h]: 'vpc-1', 'vpc-lattice-svcs:SourceVpc': 'vpc-1' },
      ),
      true,
    );
  });

  it('reads ${…} literally in a policy without Version 2012-10-17', () => {
    const h = 'vpc-lattice-svcs:RequestHeader/x-user';
    assert.equal(
      conditionHolds({ StringEquals: { [h]: '${aws:username}' } }, { [h]: 'alice' }, ALICE, null),
      false,
    );
    assert.equal(
      conditionHolds(
        { StringEquals: { [h]: '${aws:username}' } },
        { [h]: '${aws:username}' },
        ALICE,
        '2008-10-17',
      ),
      true,
    );
  });
});
