import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  DeleteAuthPolicyCommand,
  DeleteResourcePolicyCommand,
  DeleteServiceCommand,
  GetAuthPolicyCommand,
  GetResourcePolicyCommand,
  PutAuthPolicyCommand,
  PutResourcePolicyCommand,
  ResourceNotFoundException,
  UpdateServiceCommand,
  UpdateServiceNetworkCommand,
  ValidationException,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { createAccount, expectAwsError, fieldNames, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

let proc: TrellisProcess;
let lattice: VPCLatticeClient;

before(async () => {
  proc = await startTrellis({ args: ['--no-dataplane'] });
  lattice = proc.lattice();
});
after(async () => {
  lattice?.destroy();
  await proc?.stop();
});

const ALLOW_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
  ],
});

async function network(
  authType: 'NONE' | 'AWS_IAM' = 'NONE',
): Promise<{ id: string; arn: string }> {
  const out = await lattice.send(
    new CreateServiceNetworkCommand({ name: uniqueName('net'), authType }),
  );
  return { id: out.id!, arn: out.arn! };
}

describe('auth policies', () => {
  test('Put/Get on a service network: state follows authType (Active iff AWS_IAM)', async () => {
    const sn = await network('AWS_IAM');
    const put = await lattice.send(
      new PutAuthPolicyCommand({ resourceIdentifier: sn.arn, policy: ALLOW_ALL }),
    );
    assert.deepEqual(
      { policy: put.policy, state: put.state },
      { policy: ALLOW_ALL, state: 'Active' },
    );
    const got = await lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: sn.id }));
    assert.equal(got.policy, ALLOW_ALL);
    assert.equal(got.state, 'Active');
    assert.ok(got.createdAt instanceof Date && got.lastUpdatedAt instanceof Date);
    await lattice.send(
      new UpdateServiceNetworkCommand({ serviceNetworkIdentifier: sn.id, authType: 'NONE' }),
    );
    const inactive = await lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: sn.id }));
    assert.equal(inactive.state, 'Inactive');
    // Replacing keeps createdAt.
    const pretty = JSON.stringify(JSON.parse(ALLOW_ALL), null, 2);
    await lattice.send(new PutAuthPolicyCommand({ resourceIdentifier: sn.id, policy: pretty }));
    const replaced = await lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: sn.id }));
    assert.equal(replaced.policy, pretty, 'newlines are accepted and kept as sent');
    assert.equal(replaced.createdAt?.getTime(), got.createdAt?.getTime());
  });

  test('on a service: Inactive under NONE, Active after UpdateService to AWS_IAM', async () => {
    const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('app') }));
    const put = await lattice.send(
      new PutAuthPolicyCommand({ resourceIdentifier: svc.id, policy: ALLOW_ALL }),
    );
    assert.equal(put.state, 'Inactive');
    await lattice.send(
      new UpdateServiceCommand({ serviceIdentifier: svc.id, authType: 'AWS_IAM' }),
    );
    const got = await lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: svc.arn }));
    assert.equal(got.state, 'Active');
    // Deleting the service deletes its policy with it.
    await lattice.send(new DeleteServiceCommand({ serviceIdentifier: svc.id }));
    await expectAwsError(
      lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: svc.id })),
      ResourceNotFoundException,
      404,
    );
  });

  const grammar: [string, string, RegExp][] = [
    ['not JSON', '{"Version": ', /JSON/i],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), /Statement/],
    [
      'bad Effect',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Maybe', Principal: '*', Action: '*', Resource: '*' }],
      }),
      /Effect/,
    ],
    [
      'unknown condition operator',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: '*',
            Resource: '*',
            Condition: { StringEqualz: { 'aws:PrincipalAccount': '1' } },
          },
        ],
      }),
      /StringEqualz|operator/,
    ],
    [
      'over 10 KB',
      JSON.stringify({ Version: '2012-10-17', Id: 'x'.repeat(11_000), Statement: [] }),
      /10240|bytes|size/i,
    ],
  ];
  for (const [label, policy, message] of grammar) {
    test(`PutAuthPolicy refuses a policy with a grammar problem: ${label}`, async () => {
      const sn = await network('AWS_IAM');
      const err = await expectAwsError(
        lattice.send(new PutAuthPolicyCommand({ resourceIdentifier: sn.id, policy })),
        ValidationException,
        400,
      );
      assert.ok(fieldNames(err).every((f) => f === 'policy'));
      assert.match(err.message, message);
      // Nothing was stored.
      await expectAwsError(
        lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: sn.id })),
        ResourceNotFoundException,
        404,
      );
    });
  }

  test('GetAuthPolicy is 404 without a policy; DeleteAuthPolicy under AWS_IAM succeeds (API-doc behaviour)', async () => {
    const sn = await network('AWS_IAM');
    await expectAwsError(
      lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: sn.id })),
      ResourceNotFoundException,
      404,
    );
    await lattice.send(new PutAuthPolicyCommand({ resourceIdentifier: sn.id, policy: ALLOW_ALL }));
    const del = await lattice.send(new DeleteAuthPolicyCommand({ resourceIdentifier: sn.id }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectAwsError(
      lattice.send(new GetAuthPolicyCommand({ resourceIdentifier: sn.id })),
      ResourceNotFoundException,
      404,
    );
    // Idempotent.
    await lattice.send(new DeleteAuthPolicyCommand({ resourceIdentifier: sn.id }));
  });

  test('resources that do not exist or belong to another account → ResourceNotFoundException', async () => {
    await expectAwsError(
      lattice.send(
        new PutAuthPolicyCommand({ resourceIdentifier: 'sn-0123456789abcdef0', policy: ALLOW_ALL }),
      ),
      ResourceNotFoundException,
      404,
    );
    const sn = await network();
    const other = await createAccount(proc);
    const stranger = proc.lattice(other.credentials);
    try {
      await expectAwsError(
        stranger.send(new PutAuthPolicyCommand({ resourceIdentifier: sn.arn, policy: ALLOW_ALL })),
        ResourceNotFoundException,
        404,
      );
    } finally {
      stranger.destroy();
    }
  });
});

describe('resource policies', () => {
  const SHARE = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::444455556666:root' },
        Action: [
          'vpc-lattice:CreateServiceNetworkServiceAssociation',
          'vpc-lattice:GetServiceNetwork',
        ],
        Resource: '*',
      },
    ],
  });

  test('Put (empty 200) / Get / Delete (204) by ARN', async () => {
    const sn = await network();
    const put = await lattice.send(
      new PutResourcePolicyCommand({ resourceArn: sn.arn, policy: SHARE }),
    );
    assert.equal(put.$metadata.httpStatusCode, 200);
    const got = await lattice.send(new GetResourcePolicyCommand({ resourceArn: sn.arn }));
    assert.equal(got.policy, SHARE);
    const del = await lattice.send(new DeleteResourcePolicyCommand({ resourceArn: sn.arn }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectAwsError(
      lattice.send(new GetResourcePolicyCommand({ resourceArn: sn.arn })),
      ResourceNotFoundException,
      404,
    );
  });

  test('a bare id, a malformed policy or an unknown ARN are refused', async () => {
    const sn = await network();
    await expectAwsError(
      lattice.send(new PutResourcePolicyCommand({ resourceArn: sn.id, policy: SHARE })),
      ValidationException,
      400,
    );
    const bad = await expectAwsError(
      lattice.send(
        new PutResourcePolicyCommand({ resourceArn: sn.arn, policy: '{"Statement": "no"}' }),
      ),
      ValidationException,
      400,
    );
    assert.deepEqual([...new Set(fieldNames(bad))], ['policy']);
    await expectAwsError(
      lattice.send(
        new PutResourcePolicyCommand({
          resourceArn: `arn:aws:vpc-lattice:${proc.region}:${proc.accountId}:servicenetwork/sn-0123456789abcdef0`,
          policy: SHARE,
        }),
      ),
      ResourceNotFoundException,
      404,
    );
  });
});
