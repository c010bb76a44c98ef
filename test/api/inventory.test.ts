import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateServiceNetworkCommand,
  CreateServiceNetworkVpcAssociationCommand,
  CreateTargetGroupCommand,
  DeleteServiceNetworkVpcAssociationCommand,
  DeleteTargetGroupCommand,
  RegisterTargetsCommand,
  DeregisterTargetsCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createInstance,
  createLoadBalancer,
  createVpc,
  freshLoopback,
  inventoryCall,
} from '../support/inventory-client.js';
import { createAccount, defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
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

describe('VPCs', () => {
  test('trellis up creates the default VPC; CreateVpc generates ids; Get/List/Delete', async () => {
    const list = await inventoryCall(proc, 'GET', '/_trellis/vpcs');
    assert.equal(list.status, 200);
    const items = list.body!.items as { vpcId: string; ingressAddresses: string[] }[];
    assert.ok(items.some((v) => v.vpcId === defaultVpcId(proc.accountId)));

    const address = freshLoopback();
    const created = await inventoryCall(proc, 'POST', '/_trellis/vpcs', {
      cidrBlocks: ['10.1.0.0/16', 'fd00::/64'],
      ingressAddresses: [address],
      tags: { Name: 'blue' },
    });
    assert.equal(created.status, 201);
    const vpc = created.body!;
    assert.match(vpc.vpcId as string, /^vpc-[0-9a-f]{17}$/);
    assert.equal(vpc.ownerAccountId, proc.accountId);
    assert.deepEqual(vpc.ingressAddresses, [address]);
    assert.deepEqual(vpc.cidrBlocks, ['10.1.0.0/16', 'fd00::/64']);
    assert.deepEqual(vpc.tags, { Name: 'blue' });

    const got = await inventoryCall(proc, 'GET', `/_trellis/vpcs/${vpc.vpcId}`);
    assert.deepEqual(got.body, vpc);
    const named = await inventoryCall(proc, 'POST', '/_trellis/vpcs', {
      vpcId: 'vpc-0123456789abcdef0',
      ingressAddresses: [freshLoopback()],
    });
    assert.equal(named.body?.vpcId, 'vpc-0123456789abcdef0');
    const dup = await inventoryCall(proc, 'POST', '/_trellis/vpcs', {
      vpcId: 'vpc-0123456789abcdef0',
      ingressAddresses: [freshLoopback()],
    });
    assert.equal(dup.status, 409);

    const del = await inventoryCall(proc, 'DELETE', `/_trellis/vpcs/${vpc.vpcId}`);
    assert.equal(del.status, 204);
    const gone = await inventoryCall(proc, 'GET', `/_trellis/vpcs/${vpc.vpcId}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.errorType, 'ResourceNotFoundException');
  });

  const invalid: [string, Record<string, unknown>, string[]][] = [
    ['no ingress addresses', {}, ['ingressAddresses']],
    ['an empty ingress list', { ingressAddresses: [] }, ['ingressAddresses']],
    ['a host name as address', { ingressAddresses: ['localhost'] }, ['ingressAddresses[0]']],
    ['a malformed vpc id', { vpcId: 'vpc-xyz', ingressAddresses: ['127.77.200.1'] }, ['vpcId']],
    [
      'a bad CIDR',
      { cidrBlocks: ['10.0.0.0/33'], ingressAddresses: ['127.77.200.1'] },
      ['cidrBlocks[0]'],
    ],
    ['an unknown member', { ingressAddresses: ['127.77.200.1'], subnets: [] }, ['subnets']],
  ];
  for (const [label, body, fields] of invalid) {
    test(`CreateVpc → 400 ValidationException: ${label}`, async () => {
      const res = await inventoryCall(proc, 'POST', '/_trellis/vpcs', body);
      assert.equal(res.status, 400);
      assert.equal(res.errorType, 'ValidationException');
      const fieldList = res.body!.fieldList as { name: string }[];
      assert.deepEqual(
        fieldList.map((f) => f.name),
        fields,
      );
    });
  }

  test('an ingress address belongs to one VPC only (the data plane tells VPCs apart by it)', async () => {
    const address = freshLoopback();
    await createVpc(proc, { ingressAddresses: [address] });
    const res = await inventoryCall(proc, 'POST', '/_trellis/vpcs', {
      ingressAddresses: [address],
    });
    assert.equal(res.status, 409);
    assert.equal(res.errorType, 'ConflictException');
    const v6 = await inventoryCall(proc, 'POST', '/_trellis/vpcs', { ingressAddresses: ['::1'] });
    assert.equal(v6.status, 201);
    const again = await inventoryCall(proc, 'POST', '/_trellis/vpcs', {
      ingressAddresses: ['0:0:0:0:0:0:0:1'],
    });
    assert.equal(again.status, 409, 'the same IPv6 address spelled differently');
  });

  test('DeleteVpc is refused (409) while associated or used by a target group', async () => {
    const vpcId = await createVpc(proc);
    const sn = await lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('net') }));
    const assoc = await lattice.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: sn.id!,
        vpcIdentifier: vpcId,
      }),
    );
    const refused = await inventoryCall(proc, 'DELETE', `/_trellis/vpcs/${vpcId}`);
    assert.equal(refused.status, 409);
    assert.match(refused.body!.message as string, /association/);
    await lattice.send(
      new DeleteServiceNetworkVpcAssociationCommand({
        serviceNetworkVpcAssociationIdentifier: assoc.id!,
      }),
    );
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('group'),
        type: 'IP',
        config: { protocol: 'HTTP', vpcIdentifier: vpcId },
      }),
    );
    assert.equal((await inventoryCall(proc, 'DELETE', `/_trellis/vpcs/${vpcId}`)).status, 409);
    await lattice.send(new DeleteTargetGroupCommand({ targetGroupIdentifier: tg.id! }));
    assert.equal((await inventoryCall(proc, 'DELETE', `/_trellis/vpcs/${vpcId}`)).status, 204);
  });

  test('VPCs are private to their account', async () => {
    const vpcId = await createVpc(proc);
    const other = await createAccount(proc);
    const res = await inventoryCall(
      proc,
      'GET',
      `/_trellis/vpcs/${vpcId}`,
      undefined,
      other.credentials,
    );
    assert.equal(res.status, 404);
    const list = await inventoryCall(proc, 'GET', '/_trellis/vpcs', undefined, other.credentials);
    assert.deepEqual(list.body!.items, []);
  });
});

describe('instances and load balancers', () => {
  test('CreateInstance / ListInstances / DeleteInstance (refused while registered)', async () => {
    const vpcId = await createVpc(proc);
    const instanceId = await createInstance(proc, vpcId, '127.0.0.9');
    assert.match(instanceId, /^i-[0-9a-f]{17}$/);
    const named = await inventoryCall(proc, 'POST', '/_trellis/instances', {
      instanceId: 'i-0abcdef0123456789',
      vpcId,
      address: '::1',
    });
    assert.equal(named.status, 201);
    const list = await inventoryCall(proc, 'GET', `/_trellis/instances?vpcId=${vpcId}`);
    assert.deepEqual(
      (list.body!.items as { instanceId: string; address: string }[])
        .map((i) => [i.instanceId, i.address])
        .sort(),
      [
        ['i-0abcdef0123456789', '::1'],
        [instanceId, '127.0.0.9'],
      ].sort(),
    );
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('group'),
        type: 'INSTANCE',
        config: { protocol: 'HTTP', vpcIdentifier: vpcId },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id!, targets: [{ id: instanceId }] }),
    );
    const refused = await inventoryCall(proc, 'DELETE', `/_trellis/instances/${instanceId}`);
    assert.equal(refused.status, 409);
    await lattice.send(new DeleteTargetGroupCommand({ targetGroupIdentifier: tg.id! }));
    assert.equal(
      (await inventoryCall(proc, 'DELETE', `/_trellis/instances/${instanceId}`)).status,
      204,
    );
    assert.equal(
      (await inventoryCall(proc, 'DELETE', `/_trellis/instances/${instanceId}`)).status,
      404,
    );
  });

  test('CreateInstance validates the id, the VPC and the address', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ vpcId: defaultVpcId(proc.accountId), address: 'host' }, 400, 'ValidationException'],
      [
        { instanceId: 'i-1', vpcId: defaultVpcId(proc.accountId), address: '127.0.0.1' },
        400,
        'ValidationException',
      ],
      [{ vpcId: 'vpc-0cccccccccccccccc', address: '127.0.0.1' }, 404, 'ResourceNotFoundException'],
    ];
    for (const [body, status, type] of cases) {
      const res = await inventoryCall(proc, 'POST', '/_trellis/instances', body);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.errorType, type);
    }
  });

  test('CreateLoadBalancer mints an ALB ARN; DeleteLoadBalancer takes it percent-encoded', async () => {
    const vpcId = await createVpc(proc);
    const name = uniqueName('alb');
    const arn = await createLoadBalancer(proc, vpcId, name, '127.0.0.10');
    assert.match(
      arn,
      new RegExp(
        `^arn:aws:elasticloadbalancing:${proc.region}:${proc.accountId}:loadbalancer/app/${name}/[0-9a-f]{16}$`,
      ),
    );
    const list = await inventoryCall(proc, 'GET', '/_trellis/loadbalancers');
    assert.ok(
      (list.body!.items as { loadBalancerArn: string }[]).some((lb) => lb.loadBalancerArn === arn),
    );
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('group'),
        type: 'ALB',
        config: { protocol: 'HTTP', vpcIdentifier: vpcId },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id!, targets: [{ id: arn }] }),
    );
    const path = `/_trellis/loadbalancers/${encodeURIComponent(arn)}`;
    assert.equal((await inventoryCall(proc, 'DELETE', path)).status, 409);
    // A draining target still holds it.
    await lattice.send(
      new DeregisterTargetsCommand({ targetGroupIdentifier: tg.id!, targets: [{ id: arn }] }),
    );
    assert.equal((await inventoryCall(proc, 'DELETE', path)).status, 409);
    await lattice.send(new DeleteTargetGroupCommand({ targetGroupIdentifier: tg.id! }));
    assert.equal((await inventoryCall(proc, 'DELETE', path)).status, 204);
    const bad = await inventoryCall(proc, 'POST', '/_trellis/loadbalancers', {
      name: '-bad-',
      vpcId,
      address: '127.0.0.1',
    });
    assert.equal(bad.status, 400);
  });
});
