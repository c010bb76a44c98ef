import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  buildLambdaEvent,
  identityOf,
  isTextBody,
  parseLambdaResponse,
  parseMapHeader,
  queryPairs,
  type LambdaEventV2,
} from './lambda-event.js';

test('identity from the Lattice headers uses the AWS doc spelling (spec §3.3)', () => {
  assert.deepEqual(
    identityOf(
      'SourceVpcArn=arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1',
      'Principal=arn:aws:sts::111122223333:assumed-role/r/s; PrincipalOrgID=o-1; SessionName=s; Type=AWS_IAM; X509Subject/CN=cn; Unknown=x',
    ),
    {
      sourceVpcArn: 'arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1',
      principal: 'arn:aws:sts::111122223333:assumed-role/r/s',
      principalOrgID: 'o-1',
      sessionName: 's',
      type: 'AWS_IAM',
      x509SubjectCn: 'cn',
    },
  );
  assert.deepEqual(identityOf(undefined, undefined), {});
});

test('a V2 event carries the identity of a signed caller', () => {
  const e = buildLambdaEvent(
    'V2',
    {
      method: 'GET',
      path: '/',
      headers: [
        'x-amzn-lattice-identity',
        'Principal=arn:aws:iam::111122223333:user/u; Type=AWS_IAM',
        'x-amzn-lattice-target',
        'ServiceArn=s; ServiceNetworkArn=n; TargetGroupArn=t',
      ],
      body: null,
      region: 'us-east-1',
      timeEpochUs: 1690497599177430,
    },
    undefined,
  ) as LambdaEventV2;
  assert.deepEqual(e.requestContext, {
    serviceNetworkArn: 'n',
    serviceArn: 's',
    targetGroupArn: 't',
    identity: { principal: 'arn:aws:iam::111122223333:user/u', type: 'AWS_IAM' },
    region: 'us-east-1',
    timeEpoch: '1690497599177430',
  });
  assert.equal('body' in e, false);
});

test('parseMapHeader: any order, unknown keys, empty values, escaped semicolons', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9/]{0,10}$/), fc.string({ maxLength: 20 })),
        { selector: ([k]) => k, maxLength: 6 },
      ),
      fc.constantFrom('; ', ';'),
      (pairs, sep) => {
        // Backslashes out first, then trim: "! \\" would otherwise leave a trailing space, which
        // the parser (rightly) trims.
        const clean = pairs.map(([k, v]) => [k, v.replace(/\\/g, '').trim()] as const);
        const header = clean.map(([k, v]) => `${k}=${v.replace(/;/g, '\\;')}`).join(sep);
        const parsed = parseMapHeader(header);
        for (const [k, v] of clean) assert.equal(parsed.get(k), v);
      },
    ),
  );
});

test('queryPairs never throws and keeps order', () => {
  fc.assert(fc.property(fc.string(), (s) => void queryPairs(`/x?${s}`)));
  assert.deepEqual(queryPairs('/x?a=1&b&a=%E2%82%AC&c=%ZZ&d=a+b'), [
    ['a', '1'],
    ['b', ''],
    ['a', '€'],
    ['c', '%ZZ'],
    ['d', 'a b'],
  ]);
});

test('isTextBody follows spec §3.3 content types; content-encoding means Base64', () => {
  const cases: [string | undefined, string | undefined, boolean][] = [
    ['text/html', undefined, true],
    ['TEXT/CSV; charset=x', undefined, true],
    ['application/json', undefined, true],
    ['application/json', 'identity', true],
    ['application/json', 'gzip', false],
    ['application/xml', undefined, true],
    ['application/javascript', undefined, true],
    ['application/octet-stream', undefined, false],
    ['image/png', undefined, false],
    [undefined, undefined, false],
  ];
  for (const [type, enc, text] of cases)
    assert.equal(isTextBody(type, enc), text, `${type} ${enc}`);
});

test('parseLambdaResponse never throws on any JSON', () => {
  fc.assert(fc.property(fc.json(), (j) => void parseLambdaResponse(j)));
  assert.deepEqual(parseLambdaResponse('{"statusCode":200,"headers":{"a":1,"b":true}}'), {
    statusCode: 200,
    headers: ['a', '1', 'b', 'true'],
    body: Buffer.alloc(0),
  });
  assert.ok('problem' in parseLambdaResponse('{"statusCode":700}'));
  assert.ok('problem' in parseLambdaResponse('{"statusCode":200.5}'));
  assert.ok('problem' in parseLambdaResponse('{"statusCode":200,"body":5}'));
  assert.ok('problem' in parseLambdaResponse('not json'));
});
