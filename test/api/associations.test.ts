import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConflictException,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  DeleteServiceCommand,
  DeleteServiceNetworkCommand,
  DeleteServiceNetworkServiceAssociationCommand,
  DeleteServiceNetworkVpcAssociationCommand,
  GetServiceNetworkCommand,
  GetServiceNetworkServiceAssociationCommand,
  GetServiceNetworkVpcAssociationCommand,
  ListServiceNetworkServiceAssociationsCommand,
  ListServiceNetworkVpcAssociationsCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  UpdateServiceNetworkVpcAssociationCommand,
  ValidationException,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { createVpc, inventoryCall } from '../support/inventory-client.js';
import {
  arnPattern,
  defaultVpcId,
  expectAwsError,
  fieldNames,
  uniqueName,
} from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

let proc: TrellisProcess;
let lattice: VPCLatticeClient;

before(async () => {
  proc = await startTrellis({
    args: ['--no-dataplane'],
    env: {
      TRELLIS_QUOTA_SERVICEASSOCIATIONSPERSERVICENETWORK: '2',
      TRELLIS_QUOTA_VPCASSOCIATIONSPERSERVICENETWORK: '1',
    },
  });
  lattice = proc.lattice();
});
after(async () => {
  lattice?.destroy();
  await proc?.stop();
});

async function network(): Promise<{ id: string; arn: string }> {
  const out = await lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('net') }));
  return { id: out.id!, arn: out.arn! };
}

async function service(
  customDomainName?: string,
): Promise<{ id: string; arn: string; dns: string }> {
  const out = await lattice.send(
    new CreateServiceCommand({
      name: uniqueName('app'),
      ...(customDomainName ? { customDomainName } : {}),
    }),
  );
  return { id: out.id!, arn: out.arn!, dns: out.dnsEntry!.domainName! };
}

describe('service network ↔ service associations', () => {
  test('create answers 200 ACTIVE with createdBy and the service dnsEntry; Get/List/Delete', async () => {
    const sn = await network();
    const svc = await service();
    const out = await lattice.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceNetworkIdentifier: sn.arn,
        serviceIdentifier: svc.id,
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.match(out.id!, /^snsa-[0-9a-f]{17}$/);
    assert.match(
      out.arn!,
      arnPattern(proc.region, proc.accountId, `servicenetworkserviceassociation/${out.id}`),
    );
    assert.equal(out.status, 'ACTIVE');
    assert.equal(out.createdBy, proc.accountId);
    assert.equal(out.dnsEntry?.domainName, svc.dns);

    const got = await lattice.send(
      new GetServiceNetworkServiceAssociationCommand({
        serviceNetworkServiceAssociationIdentifier: out.arn,
      }),
    );
    assert.equal(got.serviceId, svc.id);
    assert.equal(got.serviceNetworkId, sn.id);
    assert.equal(got.serviceArn, svc.arn);
    assert.ok(got.createdAt instanceof Date);

    const bySn = await lattice.send(
      new ListServiceNetworkServiceAssociationsCommand({ serviceNetworkIdentifier: sn.id }),
    );
    const bySvc = await lattice.send(
      new ListServiceNetworkServiceAssociationsCommand({ serviceIdentifier: svc.arn }),
    );
    assert.deepEqual(
      bySn.items?.map((i) => i.id),
      [out.id],
    );
    assert.deepEqual(
      bySvc.items?.map((i) => i.id),
      [out.id],
    );
    const counted = await lattice.send(
      new GetServiceNetworkCommand({ serviceNetworkIdentifier: sn.id }),
    );
    assert.equal(counted.numberOfAssociatedServices, 1);

    // Both sides refuse deletion while associated.
    await expectAwsError(
      lattice.send(new DeleteServiceNetworkCommand({ serviceNetworkIdentifier: sn.id })),
      ConflictException,
      409,
    );
    await expectAwsError(
      lattice.send(new DeleteServiceCommand({ serviceIdentifier: svc.id })),
      ConflictException,
      409,
    );

    const del = await lattice.send(
      new DeleteServiceNetworkServiceAssociationCommand({
        serviceNetworkServiceAssociationIdentifier: out.id,
      }),
    );
    assert.equal(del.$metadata.httpStatusCode, 200);
    assert.deepEqual(
      { id: del.id, arn: del.arn, status: del.status },
      { id: out.id, arn: out.arn, status: 'DELETE_IN_PROGRESS' },
    );
    await expectAwsError(
      lattice.send(
        new GetServiceNetworkServiceAssociationCommand({
          serviceNetworkServiceAssociationIdentifier: out.id,
        }),
      ),
      ResourceNotFoundException,
      404,
    );
    await lattice.send(new DeleteServiceCommand({ serviceIdentifier: svc.id }));
    await lattice.send(new DeleteServiceNetworkCommand({ serviceNetworkIdentifier: sn.id }));
  });

  test('associating twice → ConflictException; the same clientToken replays the first answer', async () => {
    const sn = await network();
    const svc = await service();
    const input = {
      serviceNetworkIdentifier: sn.id,
      serviceIdentifier: svc.id,
      clientToken: 'token-1',
    };
    const first = await lattice.send(new CreateServiceNetworkServiceAssociationCommand(input));
    const replay = await lattice.send(new CreateServiceNetworkServiceAssociationCommand(input));
    assert.equal(replay.id, first.id);
    await expectAwsError(
      lattice.send(
        new CreateServiceNetworkServiceAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          serviceIdentifier: svc.id,
        }),
      ),
      ConflictException,
      409,
    );
  });

  test('a custom domain name is unique within a service network', async () => {
    const sn = await network();
    const domain = `${uniqueName('api')}.example.com`;
    const a = await service(domain);
    const b = await service(domain);
    const out = await lattice.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        serviceIdentifier: a.id,
      }),
    );
    assert.equal(out.customDomainName, domain);
    await expectAwsError(
      lattice.send(
        new CreateServiceNetworkServiceAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          serviceIdentifier: b.id,
        }),
      ),
      ConflictException,
      409,
    );
    // In another network the same domain is fine.
    const other = await network();
    await lattice.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceNetworkIdentifier: other.id,
        serviceIdentifier: b.id,
      }),
    );
  });

  test('errors: unknown service → 404, missing members → fieldList, List without a filter → 400', async () => {
    const sn = await network();
    const err = await expectAwsError(
      lattice.send(
        new CreateServiceNetworkServiceAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          serviceIdentifier: 'svc-0123456789abcdef0',
        }),
      ),
      ResourceNotFoundException,
      404,
    );
    assert.equal(err.resourceId, 'svc-0123456789abcdef0');
    const missing = await expectAwsError(
      lattice.send(new CreateServiceNetworkServiceAssociationCommand({} as never)),
      ValidationException,
      400,
    );
    assert.deepEqual(fieldNames(missing).sort(), ['serviceIdentifier', 'serviceNetworkIdentifier']);
    await expectAwsError(
      lattice.send(new ListServiceNetworkServiceAssociationsCommand({})),
      ValidationException,
      400,
    );
  });

  test('serviceAssociationsPerServiceNetwork quota → 402; the refused association is not stored', async () => {
    const sn = await network();
    for (let i = 0; i < 2; i++) {
      const svc = await service();
      await lattice.send(
        new CreateServiceNetworkServiceAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          serviceIdentifier: svc.id,
        }),
      );
    }
    const third = await service();
    const err = await expectAwsError(
      lattice.send(
        new CreateServiceNetworkServiceAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          serviceIdentifier: third.id,
        }),
      ),
      ServiceQuotaExceededException,
      402,
    );
    assert.equal(err.quotaCode, 'L-75D4A19E');
    const list = await lattice.send(
      new ListServiceNetworkServiceAssociationsCommand({ serviceNetworkIdentifier: sn.id }),
    );
    assert.equal(list.items?.length, 2);
  });
});

describe('service network ↔ VPC associations', () => {
  test('create answers 200 ACTIVE; Get/List/Update/Delete; the network refuses deletion meanwhile', async () => {
    const sn = await network();
    const vpcId = await createVpc(proc);
    // spec §1.5 SNVA: security groups must be groups of that VPC (Trellis's registry).
    const [sg0, sg1, sg2] = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const res = await inventoryCall(proc, 'POST', '/_trellis/securitygroups', {
          groupName: `g${i}`,
          vpcId,
        });
        return res.body!.groupId as string;
      }),
    );
    const out = await lattice.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        vpcIdentifier: vpcId,
        securityGroupIds: [sg0!],
        privateDnsEnabled: false,
        tags: { env: 'test' },
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.match(out.id!, /^snva-[0-9a-f]{17}$/);
    assert.equal(out.status, 'ACTIVE');
    assert.equal(out.createdBy, proc.accountId);
    assert.deepEqual(out.securityGroupIds, [sg0]);
    assert.equal(out.privateDnsEnabled, false);

    const got = await lattice.send(
      new GetServiceNetworkVpcAssociationCommand({
        serviceNetworkVpcAssociationIdentifier: out.id,
      }),
    );
    assert.equal(got.vpcId, vpcId);
    assert.equal(got.serviceNetworkId, sn.id);
    assert.equal(got.serviceNetworkArn, sn.arn);
    const byVpc = await lattice.send(
      new ListServiceNetworkVpcAssociationsCommand({ vpcIdentifier: vpcId }),
    );
    assert.deepEqual(
      byVpc.items?.map((i) => [i.id, i.vpcId, i.serviceNetworkId]),
      [[out.id, vpcId, sn.id]],
    );
    await expectAwsError(
      lattice.send(new ListServiceNetworkVpcAssociationsCommand({})),
      ValidationException,
      400,
    );
    const counted = await lattice.send(
      new GetServiceNetworkCommand({ serviceNetworkIdentifier: sn.id }),
    );
    assert.equal(counted.numberOfAssociatedVPCs, 1);

    const updated = await lattice.send(
      new UpdateServiceNetworkVpcAssociationCommand({
        serviceNetworkVpcAssociationIdentifier: out.arn,
        securityGroupIds: [sg1!, sg2!],
      }),
    );
    assert.deepEqual(updated.securityGroupIds, [sg1, sg2]);
    // spec §8.15: once set, the security groups can never be emptied.
    const empty = await expectAwsError(
      lattice.send(
        new UpdateServiceNetworkVpcAssociationCommand({
          serviceNetworkVpcAssociationIdentifier: out.id,
          securityGroupIds: [],
        }),
      ),
      ValidationException,
      400,
    );
    assert.deepEqual(fieldNames(empty), ['securityGroupIds']);
    const still = await lattice.send(
      new GetServiceNetworkVpcAssociationCommand({
        serviceNetworkVpcAssociationIdentifier: out.id,
      }),
    );
    assert.deepEqual(still.securityGroupIds, [sg1, sg2]);

    const refused = await expectAwsError(
      lattice.send(new DeleteServiceNetworkCommand({ serviceNetworkIdentifier: sn.id })),
      ConflictException,
      409,
    );
    assert.match(refused.message, /VPC/);
    const del = await lattice.send(
      new DeleteServiceNetworkVpcAssociationCommand({
        serviceNetworkVpcAssociationIdentifier: out.id,
      }),
    );
    assert.equal(del.$metadata.httpStatusCode, 200);
    assert.equal(del.status, 'DELETE_IN_PROGRESS');
    await lattice.send(new DeleteServiceNetworkCommand({ serviceNetworkIdentifier: sn.id }));
  });

  test('one service-network association per VPC → ConflictException (spec §1.5)', async () => {
    const vpcId = await createVpc(proc);
    const a = await network();
    const b = await network();
    await lattice.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: a.id,
        vpcIdentifier: vpcId,
      }),
    );
    const err = await expectAwsError(
      lattice.send(
        new CreateServiceNetworkVpcAssociationCommand({
          serviceNetworkIdentifier: b.id,
          vpcIdentifier: vpcId,
        }),
      ),
      ConflictException,
      409,
    );
    assert.equal(err.resourceId, vpcId);
    const list = await lattice.send(
      new ListServiceNetworkVpcAssociationsCommand({ vpcIdentifier: vpcId }),
    );
    assert.deepEqual(
      list.items?.map((i) => i.serviceNetworkId),
      [a.id],
    );
  });

  test('errors: unknown VPC → 404; malformed security groups → fieldList; quota → 402', async () => {
    const sn = await network();
    const err = await expectAwsError(
      lattice.send(
        new CreateServiceNetworkVpcAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          vpcIdentifier: 'vpc-0bbbbbbbbbbbbbbbb',
        }),
      ),
      ResourceNotFoundException,
      404,
    );
    assert.equal(err.resourceId, 'vpc-0bbbbbbbbbbbbbbbb');
    const sgs = await expectAwsError(
      lattice.send(
        new CreateServiceNetworkVpcAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          vpcIdentifier: defaultVpcId(proc.accountId),
          securityGroupIds: ['default'],
        }),
      ),
      ValidationException,
      400,
    );
    assert.deepEqual(fieldNames(sgs), ['securityGroupIds[0]']);
    const six = await expectAwsError(
      lattice.send(
        new CreateServiceNetworkVpcAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          vpcIdentifier: defaultVpcId(proc.accountId),
          securityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-0000000${i}`),
        }),
      ),
      ValidationException,
      400,
    );
    assert.deepEqual(fieldNames(six), ['securityGroupIds']);

    await lattice.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        vpcIdentifier: await createVpc(proc),
      }),
    );
    const quota = await expectAwsError(
      lattice.send(
        new CreateServiceNetworkVpcAssociationCommand({
          serviceNetworkIdentifier: sn.id,
          vpcIdentifier: await createVpc(proc),
        }),
      ),
      ServiceQuotaExceededException,
      402,
    );
    assert.equal(quota.quotaCode, 'L-EF6E2D62');
  });
});
