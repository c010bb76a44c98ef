import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ConflictException,
  CreateListenerCommand,
  CreateServiceCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  GetTargetGroupCommand,
  ListTargetGroupsCommand,
  ListTargetsCommand,
  RegisterTargetsCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  UpdateTargetGroupCommand,
  ValidationException,
  type CreateTargetGroupCommandInput,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createInstance, createLoadBalancer, createVpc } from '../support/inventory-client.js';
import {
  arnPattern,
  defaultVpcId,
  expectAwsError,
  fieldNames,
  ID,
  uniqueName,
} from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

// One process for the file. No data plane: target statuses then come only from the control plane
// and from the health records this test writes itself.
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let vpcId: string;

before(async () => {
  proc = await startTrellis({
    args: ['--no-dataplane'],
    env: { TRELLIS_QUOTA_TARGETSPERTARGETGROUP: '3' },
  });
  lattice = proc.lattice();
  vpcId = defaultVpcId(proc.accountId);
});
after(async () => {
  lattice?.destroy();
  await proc?.stop();
});

async function createGroup(
  input: Partial<CreateTargetGroupCommandInput> = {},
): Promise<{ id: string; arn: string }> {
  const out = await lattice.send(
    new CreateTargetGroupCommand({
      name: uniqueName('group'),
      type: 'IP',
      config: { protocol: 'HTTP', vpcIdentifier: vpcId },
      ...input,
    } as CreateTargetGroupCommandInput),
  );
  return { id: out.id!, arn: out.arn! };
}

/** A service with an HTTP listener that forwards to `tgId`; returns the ids. */
async function forwardFrom(
  tgId: string,
): Promise<{ serviceArn: string; serviceId: string; listenerId: string }> {
  const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('service') }));
  const listener = await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.id!,
      name: 'http',
      protocol: 'HTTP',
      port: 80,
      defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: tgId, weight: 1 }] } },
    }),
  );
  return { serviceArn: svc.arn!, serviceId: svc.id!, listenerId: listener.id! };
}

async function statuses(tgId: string): Promise<Record<string, string>> {
  const out = await lattice.send(new ListTargetsCommand({ targetGroupIdentifier: tgId }));
  return Object.fromEntries((out.items ?? []).map((t) => [`${t.id}:${t.port ?? ''}`, t.status!]));
}

describe('CreateTargetGroup', () => {
  test('fills Lattice defaults: port 80/443, HTTP1, IPV4 and the resolved health check (spec §5)', async () => {
    const out = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('web'),
        type: 'IP',
        config: { protocol: 'HTTP', vpcIdentifier: vpcId },
        tags: { team: 'a' },
      }),
    );
    assert.match(out.id!, ID.targetGroup);
    assert.match(out.arn!, arnPattern(proc.region, proc.accountId, `targetgroup/${out.id}`));
    assert.equal(out.status, 'ACTIVE');
    assert.deepEqual(out.config, {
      port: 80,
      protocol: 'HTTP',
      protocolVersion: 'HTTP1',
      vpcIdentifier: vpcId,
      ipAddressType: 'IPV4',
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        protocolVersion: 'HTTP1',
        path: '/',
        healthCheckIntervalSeconds: 30,
        healthCheckTimeoutSeconds: 5,
        healthyThresholdCount: 5,
        unhealthyThresholdCount: 2,
        matcher: { httpCode: '200' },
      },
    });
    const https = await createGroup({
      type: 'INSTANCE',
      config: { protocol: 'HTTPS', protocolVersion: 'HTTP2', vpcIdentifier: vpcId },
    });
    const got = await lattice.send(new GetTargetGroupCommand({ targetGroupIdentifier: https.arn }));
    assert.equal(got.config?.port, 443);
    assert.equal(
      got.config?.healthCheck?.enabled,
      false,
      'HTTP2 groups have checks off (spec §8.9)',
    );
    assert.equal(got.config?.ipAddressType, undefined);
    assert.deepEqual(got.serviceArns, []);
  });

  test('LAMBDA groups need no config and default to event structure V1', async () => {
    const out = await lattice.send(
      new CreateTargetGroupCommand({ name: uniqueName('fn'), type: 'LAMBDA' }),
    );
    assert.deepEqual(out.config, { lambdaEventStructureVersion: 'V1' });
  });

  const invalid: [string, Partial<CreateTargetGroupCommandInput>, string[]][] = [
    ['name with the tg- prefix', { name: 'tg-web' }, ['name']],
    ['name too short', { name: 'ab' }, ['name']],
    ['unknown type', { type: 'NLB' as never }, ['type']],
    ['IP without config', { config: undefined }, ['config']],
    ['port on a LAMBDA group', { type: 'LAMBDA', config: { port: 80 } }, ['config.port']],
    [
      'health check on an ALB group',
      {
        type: 'ALB',
        config: {
          protocol: 'HTTP',
          vpcIdentifier: 'vpc-0111122223333def0',
          healthCheck: { enabled: false },
        },
      },
      ['config.healthCheck'],
    ],
    [
      'ipAddressType on an INSTANCE group',
      {
        type: 'INSTANCE',
        config: { protocol: 'HTTP', vpcIdentifier: 'vpc-0111122223333def0', ipAddressType: 'IPV4' },
      },
      ['config.ipAddressType'],
    ],
    [
      'lambdaEventStructureVersion on an IP group',
      {
        config: {
          protocol: 'HTTP',
          vpcIdentifier: 'vpc-0111122223333def0',
          lambdaEventStructureVersion: 'V2',
        },
      },
      ['config.lambdaEventStructureVersion'],
    ],
    [
      'interval below 5 and an unknown matcher range',
      {
        config: {
          protocol: 'HTTP',
          vpcIdentifier: 'vpc-0111122223333def0',
          healthCheck: { healthCheckIntervalSeconds: 4, matcher: { httpCode: '200-600' } },
        },
      },
      ['config.healthCheck.healthCheckIntervalSeconds', 'config.healthCheck.matcher.httpCode'],
    ],
    [
      'a path without a leading slash and a threshold of 11',
      {
        config: {
          protocol: 'HTTP',
          vpcIdentifier: 'vpc-0111122223333def0',
          healthCheck: { path: 'health', healthyThresholdCount: 11 },
        },
      },
      ['config.healthCheck.path', 'config.healthCheck.healthyThresholdCount'],
    ],
    [
      'port 0',
      { config: { protocol: 'HTTP', port: 0, vpcIdentifier: 'vpc-0111122223333def0' } },
      ['config.port'],
    ],
    [
      'TCP without a port',
      { config: { protocol: 'TCP', vpcIdentifier: 'vpc-0111122223333def0' } },
      ['config.port'],
    ],
  ];
  for (const [label, input, fields] of invalid) {
    test(`ValidationException: ${label}`, async () => {
      const err = await expectAwsError(createGroup(input), ValidationException, 400);
      assert.deepEqual(fieldNames(err).sort(), [...fields].sort());
      assert.equal(err.reason, 'fieldValidationFailed');
    });
  }

  test('a VPC the inventory does not know → ResourceNotFoundException; nothing is created', async () => {
    const before = await lattice.send(new ListTargetGroupsCommand({}));
    const err = await expectAwsError(
      createGroup({ config: { protocol: 'HTTP', vpcIdentifier: 'vpc-0aaaaaaaaaaaaaaaa' } }),
      ResourceNotFoundException,
      404,
    );
    assert.equal(err.resourceId, 'vpc-0aaaaaaaaaaaaaaaa');
    const after = await lattice.send(new ListTargetGroupsCommand({}));
    assert.equal(after.items?.length, before.items?.length);
  });

  test('names are unique per account → ConflictException', async () => {
    const name = uniqueName('dup');
    await createGroup({ name });
    await expectAwsError(createGroup({ name }), ConflictException, 409);
  });
});

describe('Get/List/Update/DeleteTargetGroup', () => {
  test('serviceArns lists the services whose listeners forward to the group', async () => {
    const tg = await createGroup();
    const { serviceArn } = await forwardFrom(tg.id);
    const got = await lattice.send(new GetTargetGroupCommand({ targetGroupIdentifier: tg.id }));
    assert.deepEqual(got.serviceArns, [serviceArn]);
    assert.ok(got.createdAt instanceof Date);
  });

  test('ListTargetGroups filters by vpcIdentifier and targetGroupType and pages', async () => {
    const otherVpc = await createVpc(proc);
    const a = await createGroup({ config: { protocol: 'HTTP', vpcIdentifier: otherVpc } });
    const b = await createGroup({
      type: 'INSTANCE',
      config: { protocol: 'HTTP', vpcIdentifier: otherVpc },
    });
    const inVpc = await lattice.send(new ListTargetGroupsCommand({ vpcIdentifier: otherVpc }));
    assert.deepEqual(inVpc.items?.map((i) => i.id).sort(), [a.id, b.id].sort());
    const item = inVpc.items!.find((i) => i.id === a.id)!;
    assert.equal(item.vpcIdentifier, otherVpc);
    assert.equal(item.port, 80);
    assert.equal(item.protocol, 'HTTP');
    assert.equal(item.ipAddressType, 'IPV4');
    const instances = await lattice.send(
      new ListTargetGroupsCommand({ vpcIdentifier: otherVpc, targetGroupType: 'INSTANCE' }),
    );
    assert.deepEqual(
      instances.items?.map((i) => i.id),
      [b.id],
    );
    const page1 = await lattice.send(new ListTargetGroupsCommand({ maxResults: 1 }));
    assert.equal(page1.items?.length, 1);
    assert.ok(page1.nextToken);
    const page2 = await lattice.send(
      new ListTargetGroupsCommand({ maxResults: 1, nextToken: page1.nextToken }),
    );
    assert.notEqual(page2.items?.[0]?.id, page1.items?.[0]?.id);
  });

  test('UpdateTargetGroup merges the health check; 0 resets a field to its default', async () => {
    const tg = await createGroup({
      config: {
        protocol: 'HTTP',
        vpcIdentifier: vpcId,
        healthCheck: { path: '/health', healthCheckIntervalSeconds: 10 },
      },
    });
    const out = await lattice.send(
      new UpdateTargetGroupCommand({
        targetGroupIdentifier: tg.id,
        healthCheck: { healthCheckIntervalSeconds: 0, matcher: { httpCode: '200-299' } },
      }),
    );
    assert.equal(out.config?.healthCheck?.path, '/health');
    assert.equal(out.config?.healthCheck?.healthCheckIntervalSeconds, 30);
    assert.equal(out.config?.healthCheck?.matcher?.httpCode, '200-299');
    const lambda = await createGroup({ type: 'LAMBDA', config: undefined });
    await expectAwsError(
      lattice.send(
        new UpdateTargetGroupCommand({
          targetGroupIdentifier: lambda.id,
          healthCheck: { enabled: true },
        }),
      ),
      ValidationException,
      400,
    );
  });

  test('DeleteTargetGroup is refused while a listener forwards to it, then answers DELETE_IN_PROGRESS', async () => {
    const tg = await createGroup();
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '10.0.0.1' }] }),
    );
    const { serviceId, listenerId } = await forwardFrom(tg.id);
    const err = await expectAwsError(
      lattice.send(new DeleteTargetGroupCommand({ targetGroupIdentifier: tg.id })),
      ConflictException,
      409,
    );
    assert.equal(err.resourceId, tg.id);
    // The refused delete changed nothing.
    assert.deepEqual(Object.keys(await statuses(tg.id)), ['10.0.0.1:80']);
    await lattice.send(
      new DeleteListenerCommand({ serviceIdentifier: serviceId, listenerIdentifier: listenerId }),
    );
    const out = await lattice.send(new DeleteTargetGroupCommand({ targetGroupIdentifier: tg.arn }));
    assert.deepEqual(
      { id: out.id, arn: out.arn, status: out.status },
      { id: tg.id, arn: tg.arn, status: 'DELETE_IN_PROGRESS' },
    );
    await expectAwsError(
      lattice.send(new GetTargetGroupCommand({ targetGroupIdentifier: tg.id })),
      ResourceNotFoundException,
      404,
    );
    await expectAwsError(
      lattice.send(new ListTargetsCommand({ targetGroupIdentifier: tg.id })),
      ResourceNotFoundException,
      404,
    );
  });
});

describe('Register/Deregister/ListTargets', () => {
  test('partial success: IPs must be IP literals of the group family', async () => {
    const tg = await createGroup();
    const out = await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [
          { id: '10.0.0.1' },
          { id: '10.0.0.2', port: 8080 },
          { id: '::1' },
          { id: 'web-1' },
        ],
      }),
    );
    assert.deepEqual(out.successful, [
      { id: '10.0.0.1', port: 80 },
      { id: '10.0.0.2', port: 8080 },
    ]);
    assert.deepEqual(
      out.unsuccessful?.map((u) => [u.id, u.failureCode]),
      [
        ['::1', 'IpAddressTypeMismatch'],
        ['web-1', 'InvalidIpAddress'],
      ],
    );
    assert.ok(out.unsuccessful?.every((u) => u.failureMessage));
    const v6 = await createGroup({
      config: { protocol: 'HTTP', vpcIdentifier: vpcId, ipAddressType: 'IPV6' },
    });
    const v6out = await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: v6.id,
        targets: [{ id: '::1' }, { id: '127.0.0.1' }],
      }),
    );
    assert.deepEqual(v6out.successful, [{ id: '::1', port: 80 }]);
    assert.equal(v6out.unsuccessful?.[0]?.failureCode, 'IpAddressTypeMismatch');
  });

  test('model limits answer ValidationException: 0 or 101 targets, port 0', async () => {
    const tg = await createGroup();
    const cases: [unknown[], string][] = [
      [[], 'targets'],
      [Array.from({ length: 101 }, (_, i) => ({ id: `10.1.0.${i % 250}` })), 'targets'],
      [[{ id: '10.0.0.1', port: 0 }], 'targets[0].port'],
    ];
    for (const [targets, field] of cases) {
      const err = await expectAwsError(
        lattice.send(
          new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: targets as never }),
        ),
        ValidationException,
        400,
      );
      assert.deepEqual(fieldNames(err), [field]);
    }
  });

  test('statuses: UNUSED before a listener uses the group, INITIAL after, UNAVAILABLE with checks off', async () => {
    const tg = await createGroup();
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '10.0.0.1' }] }),
    );
    assert.deepEqual(await statuses(tg.id), { '10.0.0.1:80': 'UNUSED' });
    await forwardFrom(tg.id);
    assert.deepEqual(await statuses(tg.id), { '10.0.0.1:80': 'INITIAL' });
    const off = await createGroup({
      config: { protocol: 'HTTP', vpcIdentifier: vpcId, healthCheck: { enabled: false } },
    });
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: off.id, targets: [{ id: '10.0.0.1' }] }),
    );
    assert.deepEqual(await statuses(off.id), { '10.0.0.1:80': 'UNAVAILABLE' });
  });

  test('statuses come from the data plane health records once written, with their reasonCode', async () => {
    const tg = await createGroup();
    await forwardFrom(tg.id);
    await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: '10.0.0.1' }, { id: '10.0.0.2' }],
      }),
    );
    // What the health checker's sink does in `trellis up`: write the store's side table.
    const store = createSqliteStore({ filename: join(proc.dataDir, 'trellis.db') });
    try {
      const now = new Date().toISOString();
      await store.putTargetHealth([
        { targetGroupId: tg.id, targetId: '10.0.0.1', port: 80, status: 'HEALTHY', updatedAt: now },
        {
          targetGroupId: tg.id,
          targetId: '10.0.0.2',
          port: 80,
          status: 'UNHEALTHY',
          reasonCode: 'HealthCheckFailed',
          updatedAt: now,
        },
      ]);
    } finally {
      await store.close();
    }
    const out = await lattice.send(new ListTargetsCommand({ targetGroupIdentifier: tg.id }));
    assert.deepEqual(
      out.items?.map((t) => [t.id, t.status, t.reasonCode]),
      [
        ['10.0.0.1', 'HEALTHY', undefined],
        ['10.0.0.2', 'UNHEALTHY', 'HealthCheckFailed'],
      ],
    );
    const filtered = await lattice.send(
      new ListTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: '10.0.0.2', port: 80 }],
      }),
    );
    assert.deepEqual(
      filtered.items?.map((t) => t.id),
      ['10.0.0.2'],
    );
  });

  test('deregistering drains (DRAINING); registering again revives; unknown targets fail alone', async () => {
    const tg = await createGroup();
    await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: '10.0.0.1' }, { id: '10.0.0.2' }],
      }),
    );
    const out = await lattice.send(
      new DeregisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: '10.0.0.1' }, { id: '10.0.0.9' }],
      }),
    );
    assert.deepEqual(out.successful, [{ id: '10.0.0.1', port: 80 }]);
    assert.deepEqual(
      out.unsuccessful?.map((u) => [u.id, u.failureCode]),
      [['10.0.0.9', 'TargetNotRegistered']],
    );
    assert.deepEqual(await statuses(tg.id), { '10.0.0.1:80': 'DRAINING', '10.0.0.2:80': 'UNUSED' });
    // Deregistering again is idempotent.
    const again = await lattice.send(
      new DeregisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '10.0.0.1' }] }),
    );
    assert.equal(again.successful?.length, 1);
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '10.0.0.1' }] }),
    );
    assert.deepEqual(await statuses(tg.id), { '10.0.0.1:80': 'UNUSED', '10.0.0.2:80': 'UNUSED' });
  });

  test('INSTANCE targets must be known instances of the group VPC', async () => {
    const otherVpc = await createVpc(proc);
    const inVpc = await createInstance(proc, vpcId);
    const elsewhere = await createInstance(proc, otherVpc);
    const tg = await createGroup({
      type: 'INSTANCE',
      config: { protocol: 'HTTP', vpcIdentifier: vpcId },
    });
    const out = await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: inVpc, port: 8080 }, { id: elsewhere }, { id: 'i-0123456789abcdef0' }],
      }),
    );
    assert.deepEqual(out.successful, [{ id: inVpc, port: 8080 }]);
    assert.deepEqual(
      out.unsuccessful?.map((u) => [u.id, u.failureCode]),
      [
        [elsewhere, 'InstanceNotInVpc'],
        ['i-0123456789abcdef0', 'InstanceNotFound'],
      ],
    );
  });

  test('ALB and LAMBDA groups take one target; Lambda targets take no port', async () => {
    const lb1 = await createLoadBalancer(proc, vpcId, uniqueName('alb'));
    const lb2 = await createLoadBalancer(proc, vpcId, uniqueName('alb'));
    const alb = await createGroup({
      type: 'ALB',
      config: { protocol: 'HTTP', vpcIdentifier: vpcId },
    });
    const out = await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: alb.id,
        targets: [{ id: lb1 }, { id: lb2 }],
      }),
    );
    assert.deepEqual(
      out.successful?.map((t) => t.id),
      [lb1],
    );
    assert.equal(out.unsuccessful?.[0]?.failureCode, 'TargetLimitPerGroup');
    assert.deepEqual(await statuses(alb.id), { [`${lb1}:80`]: 'UNAVAILABLE' });
    const unknown = await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: alb.id,
        targets: [
          {
            id: `arn:aws:elasticloadbalancing:${proc.region}:${proc.accountId}:loadbalancer/app/none/0123456789abcdef`,
          },
        ],
      }),
    );
    assert.equal(unknown.unsuccessful?.[0]?.failureCode, 'LoadBalancerNotFound');

    const fn = await createGroup({ type: 'LAMBDA', config: undefined });
    const arn = `arn:aws:lambda:${proc.region}:${proc.accountId}:function:hello`;
    const lambda = await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: fn.id,
        targets: [{ id: `${arn}-2`, port: 80 }, { id: arn }, { id: `${arn}:live` }],
      }),
    );
    assert.deepEqual(lambda.successful, [{ id: arn }]);
    assert.deepEqual(
      lambda.unsuccessful?.map((u) => [u.id, u.failureCode]),
      [
        [`${arn}-2`, 'PortNotAllowed'],
        [`${arn}:live`, 'TargetLimitPerGroup'],
      ],
    );
    assert.deepEqual(await statuses(fn.id), { [`${arn}:`]: 'UNAVAILABLE' });
  });

  test('targetsPerTargetGroup quota → 402 ServiceQuotaExceededException; nothing is registered', async () => {
    const tg = await createGroup();
    await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: '10.0.0.1' }, { id: '10.0.0.2' }],
      }),
    );
    const err = await expectAwsError(
      lattice.send(
        new RegisterTargetsCommand({
          targetGroupIdentifier: tg.id,
          targets: [{ id: '10.0.0.1' }, { id: '10.0.0.3' }, { id: '10.0.0.4' }],
        }),
      ),
      ServiceQuotaExceededException,
      402,
    );
    assert.equal(err.quotaCode, 'L-D71303F3');
    assert.equal(err.serviceCode, 'vpc-lattice');
    assert.deepEqual(Object.keys(await statuses(tg.id)).sort(), ['10.0.0.1:80', '10.0.0.2:80']);
    // Re-registering what is there, plus one, fits.
    const ok = await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: '10.0.0.1' }, { id: '10.0.0.3' }],
      }),
    );
    assert.equal(ok.successful?.length, 2);
  });
});
