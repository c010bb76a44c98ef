/**
 * Security groups (issue 8 §3; spec §1.5 SNVA, §7.5 layer 2, §8.15) through `trellis up`: the
 * registry on the Trellis endpoint, `securityGroupIds` checked against the VPC, and enforcement at
 * the ingress — two clients on different loopback source addresses, one admitted, one refused
 * before any HTTP is read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateServiceNetworkCommand,
  CreateServiceNetworkVpcAssociationCommand,
  ResourceNotFoundException,
  UpdateServiceNetworkVpcAssociationCommand,
  ValidationException,
} from '@aws-sdk/client-vpc-lattice';
import {
  createListener,
  createService,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  startUpstream,
  waitFor,
  whoAnswers,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { createVpc, inventoryCall } from '../support/inventory-client.js';
import { expectAwsError, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

let proc: TrellisProcess;
let upstream: RecordingUpstream;

before(async () => {
  proc = await startTrellis({ env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' } });
  upstream = await startUpstream('orders');
});
after(async () => {
  await upstream.close();
  await proc.stop();
});

async function createGroup(body: Record<string, unknown>): Promise<string> {
  const res = await inventoryCall(proc, 'POST', '/_trellis/securitygroups', {
    groupName: uniqueName('sg'),
    ...body,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.match(res.body!.groupId as string, /^sg-[0-9a-f]{17}$/);
  return res.body!.groupId as string;
}

describe('the security-group registry', () => {
  test('bad input answers ValidationException naming each field; unknown VPC → 404', async () => {
    const vpcId = await createVpc(proc);
    const table: [string, Record<string, unknown>, string[]][] = [
      ['no name', { vpcId, groupName: undefined }, ['groupName']],
      [
        'bad protocol',
        { vpcId, inboundRules: [{ protocol: 'udp', cidrIpv4: '10.0.0.0/8' }] },
        ['inboundRules[0].protocol'],
      ],
      [
        'two sources',
        { vpcId, inboundRules: [{ protocol: '-1', cidrIpv4: '10.0.0.0/8', cidrIpv6: '::/0' }] },
        ['inboundRules[0]'],
      ],
      [
        'bad CIDR',
        { vpcId, inboundRules: [{ protocol: '-1', cidrIpv4: '10.0.0.0/33' }] },
        ['inboundRules[0].cidrIpv4'],
      ],
      [
        'ports reversed',
        {
          vpcId,
          inboundRules: [{ protocol: 'tcp', fromPort: 90, toPort: 80, cidrIpv4: '10.0.0.0/8' }],
        },
        ['inboundRules[0].fromPort'],
      ],
      ['bad member', { vpcId, memberAddresses: ['nope'] }, ['memberAddresses[0]']],
    ];
    for (const [why, body, names] of table) {
      const res = await inventoryCall(proc, 'POST', '/_trellis/securitygroups', {
        groupName: 'x',
        ...body,
      });
      assert.equal(res.status, 400, why);
      assert.equal(res.errorType?.split(':')[0], 'ValidationException', why);
      const fields = (res.body!.fieldList as { name: string }[]).map((f) => f.name);
      for (const n of names) assert.ok(fields.includes(n), `${why}: ${JSON.stringify(fields)}`);
    }
    const missing = await inventoryCall(proc, 'POST', '/_trellis/securitygroups', {
      groupName: 'x',
      vpcId: 'vpc-0123456789abcdef0',
    });
    assert.equal(missing.status, 404);
  });

  test('authorize, revoke, list and delete', async () => {
    const vpcId = await createVpc(proc);
    const groupId = await createGroup({ vpcId });
    const rule = { protocol: 'tcp', fromPort: 80, toPort: 80, cidrIpv4: '10.0.0.0/16' };
    const added = await inventoryCall(proc, 'POST', `/_trellis/securitygroups/${groupId}/ingress`, {
      inboundRules: [rule],
    });
    assert.equal(added.status, 200);
    assert.deepEqual(added.body!.inboundRules, [rule]);
    const again = await inventoryCall(proc, 'POST', `/_trellis/securitygroups/${groupId}/ingress`, {
      inboundRules: [rule],
    });
    assert.equal(again.status, 409, 'a duplicate rule');
    const list = await inventoryCall(proc, 'GET', `/_trellis/securitygroups?vpcId=${vpcId}`);
    assert.deepEqual(
      (list.body!.items as { groupId: string }[]).map((g) => g.groupId),
      [groupId],
    );
    const revoked = await inventoryCall(
      proc,
      'POST',
      `/_trellis/securitygroups/${groupId}/ingress/revoke`,
      { inboundRules: [rule] },
    );
    assert.deepEqual(revoked.body!.inboundRules, []);
    const gone = await inventoryCall(
      proc,
      'POST',
      `/_trellis/securitygroups/${groupId}/ingress/revoke`,
      { inboundRules: [rule] },
    );
    assert.equal(gone.status, 404, 'revoking a rule the group lacks');
    assert.equal(
      (await inventoryCall(proc, 'DELETE', `/_trellis/securitygroups/${groupId}`)).status,
      204,
    );
    assert.equal(
      (await inventoryCall(proc, 'GET', `/_trellis/securitygroups/${groupId}`)).status,
      404,
    );
  });
});

describe('securityGroupIds on an SN–VPC association, enforced at the ingress', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  let vpcId: string;
  let otherVpcId: string;
  let allowTwo: string;
  let viaMembers: string;
  let host: string;
  let associationId: string;

  before(async () => {
    const client = proc.lattice();
    vpcId = await createVpc(proc, { ingressAddresses: [ingress] });
    otherVpcId = await createVpc(proc);
    allowTwo = await createGroup({
      vpcId,
      inboundRules: [{ protocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: '127.0.0.2/32' }],
    });
    // A group admitting the members of another group (client 127.0.0.3).
    const members = await createGroup({ vpcId, memberAddresses: ['127.0.0.3'] });
    viaMembers = await createGroup({
      vpcId,
      inboundRules: [{ protocol: '-1', sourceSecurityGroupId: members }],
    });
    const sn = await client.send(new CreateServiceNetworkCommand({ name: uniqueName('sn') }));
    const foreign = await createGroup({ vpcId: otherVpcId });
    for (const ids of [[foreign], ['sg-0123456789abcdef0']]) {
      await expectAwsError(
        client.send(
          new CreateServiceNetworkVpcAssociationCommand({
            serviceNetworkIdentifier: sn.id,
            vpcIdentifier: vpcId,
            securityGroupIds: ids,
          }),
        ),
        ResourceNotFoundException,
        404,
      );
    }
    const assoc = await client.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: sn.id,
        vpcIdentifier: vpcId,
        securityGroupIds: [allowTwo],
      }),
    );
    associationId = assoc.id!;
    assert.deepEqual(assoc.securityGroupIds, [allowTwo]);
    const svc = await createService(client, sn.id!);
    host = svc.dnsName;
    const tg = await createTargetGroup(client, vpcId, upstream.port, [{ id: '127.0.0.1' }]);
    await createListener(client, svc.id, port, forwardTo(tg.id));
  });

  test('an allowed source is served; another is refused before any HTTP, with a log line', async () => {
    await waitFor(
      async () =>
        (await whoAnswers(ingress, port, { host, localAddress: '127.0.0.2' })) === 'orders',
      {
        message: 'allowed client served',
      },
    );
    const before = upstream.requests.length;
    const refused = await whoAnswers(ingress, port, { host, localAddress: '127.0.0.3' });
    assert.match(refused, /^<(ECONNRESET|EPIPE|error)>$/, `refused client saw ${refused}`);
    assert.equal(upstream.requests.length, before, 'nothing reached the target');
    await waitFor(() => proc.output().includes('connection refused by security groups'), {
      message: 'refusal logged',
    });
  });

  test('updating the groups applies to the running listener; they can never be emptied', async () => {
    const client = proc.lattice();
    await client.send(
      new UpdateServiceNetworkVpcAssociationCommand({
        serviceNetworkVpcAssociationIdentifier: associationId,
        securityGroupIds: [viaMembers],
      }),
    );
    await waitFor(
      async () =>
        (await whoAnswers(ingress, port, { host, localAddress: '127.0.0.3' })) === 'orders',
      {
        message: 'member of the source group admitted',
      },
    );
    assert.notEqual(await whoAnswers(ingress, port, { host, localAddress: '127.0.0.2' }), 'orders');
    await expectAwsError(
      client.send(
        new UpdateServiceNetworkVpcAssociationCommand({
          serviceNetworkVpcAssociationIdentifier: associationId,
          securityGroupIds: [],
        }),
      ),
      ValidationException,
      400,
    );
    const inUse = await inventoryCall(proc, 'DELETE', `/_trellis/securitygroups/${viaMembers}`);
    assert.equal(inUse.status, 409, 'a group an association uses');
  });
});
