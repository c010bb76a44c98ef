import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConflictException,
  CreateAccessLogSubscriptionCommand,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateTargetGroupCommand,
  DeleteAccessLogSubscriptionCommand,
  DeleteServiceNetworkCommand,
  GetAccessLogSubscriptionCommand,
  ListAccessLogSubscriptionsCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAccessLogSubscriptionCommand,
  ValidationException,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  arnPattern,
  createAccount,
  defaultVpcId,
  expectAwsError,
  fieldNames,
  uniqueName,
} from '../support/sdk-helpers.js';
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

const logGroup = (name: string): string =>
  `arn:aws:logs:${proc.region}:${proc.accountId}:log-group:${name}`;
const bucket = (name: string): string => `arn:aws:s3:::${name}`;
const stream = (name: string): string =>
  `arn:aws:firehose:${proc.region}:${proc.accountId}:deliverystream/${name}`;

async function network(): Promise<{ id: string; arn: string }> {
  const out = await lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('net') }));
  return { id: out.id!, arn: out.arn! };
}

describe('access-log subscriptions', () => {
  test('Create (201) / Get / List / Update / Delete (204) on a service network', async () => {
    const sn = await network();
    const out = await lattice.send(
      new CreateAccessLogSubscriptionCommand({
        resourceIdentifier: sn.id,
        destinationArn: logGroup('/lattice/a'),
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.match(out.id!, /^als-[0-9a-f]{17}$/);
    assert.match(
      out.arn!,
      arnPattern(proc.region, proc.accountId, `accesslogsubscription/${out.id}`),
    );
    assert.equal(out.resourceId, sn.id);
    assert.equal(out.resourceArn, sn.arn);
    assert.equal(out.serviceNetworkLogType, 'SERVICE');

    const got = await lattice.send(
      new GetAccessLogSubscriptionCommand({ accessLogSubscriptionIdentifier: out.arn }),
    );
    assert.equal(got.destinationArn, logGroup('/lattice/a'));
    assert.ok(got.createdAt instanceof Date && got.lastUpdatedAt instanceof Date);

    const s3 = await lattice.send(
      new CreateAccessLogSubscriptionCommand({
        resourceIdentifier: sn.arn,
        destinationArn: bucket('my-logs'),
      }),
    );
    const list = await lattice.send(
      new ListAccessLogSubscriptionsCommand({ resourceIdentifier: sn.id }),
    );
    assert.deepEqual(list.items?.map((i) => i.id).sort(), [out.id, s3.id].sort());

    const updated = await lattice.send(
      new UpdateAccessLogSubscriptionCommand({
        accessLogSubscriptionIdentifier: out.id,
        destinationArn: logGroup('/lattice/b'),
      }),
    );
    assert.equal(updated.destinationArn, logGroup('/lattice/b'));
    // Moving the CloudWatch subscription onto S3 would make two S3 subscriptions.
    await expectAwsError(
      lattice.send(
        new UpdateAccessLogSubscriptionCommand({
          accessLogSubscriptionIdentifier: out.id,
          destinationArn: bucket('other-logs'),
        }),
      ),
      ConflictException,
      409,
    );

    const del = await lattice.send(
      new DeleteAccessLogSubscriptionCommand({ accessLogSubscriptionIdentifier: out.id }),
    );
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectAwsError(
      lattice.send(
        new GetAccessLogSubscriptionCommand({ accessLogSubscriptionIdentifier: out.id }),
      ),
      ResourceNotFoundException,
      404,
    );
    // Deleting the network cascades its remaining subscriptions.
    await lattice.send(new DeleteServiceNetworkCommand({ serviceNetworkIdentifier: sn.id }));
    await expectAwsError(
      lattice.send(new GetAccessLogSubscriptionCommand({ accessLogSubscriptionIdentifier: s3.id })),
      ResourceNotFoundException,
      404,
    );
  });

  test('one subscription per destination type per resource → ConflictException', async () => {
    const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('app') }));
    const first = await lattice.send(
      new CreateAccessLogSubscriptionCommand({
        resourceIdentifier: svc.id,
        destinationArn: stream('one'),
      }),
    );
    assert.equal(first.serviceNetworkLogType, undefined);
    await expectAwsError(
      lattice.send(
        new CreateAccessLogSubscriptionCommand({
          resourceIdentifier: svc.id,
          destinationArn: stream('two'),
        }),
      ),
      ConflictException,
      409,
    );
    const list = await lattice.send(
      new ListAccessLogSubscriptionsCommand({ resourceIdentifier: svc.arn }),
    );
    assert.equal(list.items?.length, 1);
  });

  const badDestinations = [
    'arn:aws:sqs:us-east-1:111122223333:queue',
    'arn:aws:logs:us-east-1:111122223333:stream:x',
    'arn:aws:s3:::UPPER',
    'not-an-arn-at-all-really',
  ];
  for (const destinationArn of badDestinations) {
    test(`destinationArn ${destinationArn} → ValidationException`, async () => {
      const sn = await network();
      const err = await expectAwsError(
        lattice.send(
          new CreateAccessLogSubscriptionCommand({ resourceIdentifier: sn.id, destinationArn }),
        ),
        ValidationException,
        400,
      );
      assert.deepEqual(fieldNames(err), ['destinationArn']);
    });
  }

  test('errors: unknown resource → 404; List without resourceIdentifier → 400; a log type on a service → 400', async () => {
    await expectAwsError(
      lattice.send(
        new CreateAccessLogSubscriptionCommand({
          resourceIdentifier: 'sn-0123456789abcdef0',
          destinationArn: logGroup('x'),
        }),
      ),
      ResourceNotFoundException,
      404,
    );
    await expectAwsError(
      lattice.send(new ListAccessLogSubscriptionsCommand({} as never)),
      ValidationException,
      400,
    );
    const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('app') }));
    await expectAwsError(
      lattice.send(
        new CreateAccessLogSubscriptionCommand({
          resourceIdentifier: svc.id,
          destinationArn: logGroup('x'),
          serviceNetworkLogType: 'RESOURCE',
        }),
      ),
      ValidationException,
      400,
    );
  });
});

describe('tags', () => {
  test('Tag / List / Untag on a service network, target group and access-log subscription', async () => {
    const sn = await lattice.send(
      new CreateServiceNetworkCommand({ name: uniqueName('net'), tags: { team: 'core' } }),
    );
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('group'),
        type: 'IP',
        config: { protocol: 'HTTP', vpcIdentifier: defaultVpcId(proc.accountId) },
      }),
    );
    const als = await lattice.send(
      new CreateAccessLogSubscriptionCommand({
        resourceIdentifier: sn.id!,
        destinationArn: logGroup('t'),
        tags: { a: '1' },
      }),
    );
    for (const [arn, initial] of [
      [sn.arn!, { team: 'core' }],
      [tg.arn!, {}],
      [als.arn!, { a: '1' }],
    ] as const) {
      assert.deepEqual(
        (await lattice.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags,
        initial,
      );
      await lattice.send(
        new TagResourceCommand({ resourceArn: arn, tags: { env: 'prod', owner: 'me' } }),
      );
      assert.deepEqual(
        (await lattice.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags,
        {
          ...initial,
          env: 'prod',
          owner: 'me',
        },
      );
      // spec §1.1: tagKeys is a repeated query parameter.
      await lattice.send(
        new UntagResourceCommand({ resourceArn: arn, tagKeys: ['env', 'owner', 'absent'] }),
      );
      assert.deepEqual(
        (await lattice.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags,
        initial,
      );
    }
  });

  test('errors: not a Lattice ARN → 400; unknown or foreign resource → 404; aws: keys → 400', async () => {
    await expectAwsError(
      lattice.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:s3:::bucket' })),
      ValidationException,
      400,
    );
    await expectAwsError(
      lattice.send(
        new TagResourceCommand({
          resourceArn: `arn:aws:vpc-lattice:${proc.region}:${proc.accountId}:service/svc-0123456789abcdef0`,
          tags: { a: 'b' },
        }),
      ),
      ResourceNotFoundException,
      404,
    );
    const sn = await network();
    const bad = await expectAwsError(
      lattice.send(new TagResourceCommand({ resourceArn: sn.arn, tags: { 'aws:reserved': 'x' } })),
      ValidationException,
      400,
    );
    assert.deepEqual(fieldNames(bad), ['tags.aws:reserved']);
    assert.deepEqual(
      (await lattice.send(new ListTagsForResourceCommand({ resourceArn: sn.arn }))).tags,
      {},
    );
    const other = await createAccount(proc);
    const stranger = proc.lattice(other.credentials);
    try {
      await expectAwsError(
        stranger.send(new ListTagsForResourceCommand({ resourceArn: sn.arn })),
        ResourceNotFoundException,
        404,
      );
    } finally {
      stranger.destroy();
    }
  });
});
