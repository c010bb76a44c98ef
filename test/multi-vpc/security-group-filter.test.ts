/** The compiled security-group gate: which (client address, listener port) pairs it admits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSecurityGroupGates } from '../../src/dataplane/security-group-filter.js';
import type { SecurityGroup } from '../../src/model/security-group-types.js';
import type { Snapshot } from '../../src/model/snapshot-types.js';
import { DnsSnapshot } from './dns-fixtures.js';

function group(
  groupId: string,
  vpcId: string,
  rules: SecurityGroup['inboundRules'],
  members: string[] = [],
): SecurityGroup {
  return {
    groupId,
    groupName: groupId,
    description: '',
    vpcId,
    ownerAccountId: '111122223333',
    inboundRules: rules,
    memberAddresses: members,
    createdAt: '',
  };
}

test('gates admit by listener port and source CIDR / group membership', () => {
  const fx = new DnsSnapshot();
  const vpc = fx.vpc(['127.1.1.1']);
  const open = fx.vpc(['127.1.1.2']);
  const sn = fx.network();
  fx.associateVpc(sn, vpc);
  fx.associateVpc(sn, open);
  fx.s.serviceNetworkVpcAssociations[0]!.securityGroupIds = ['sg-a', 'sg-b', 'sg-missing'];
  const snapshot: Snapshot = {
    ...fx.build(),
    securityGroups: [
      group('sg-a', vpc, [
        { protocol: 'tcp', fromPort: 80, toPort: 80, cidrIpv4: '10.0.0.0/24' },
        { protocol: 'tcp', fromPort: 80, toPort: 80, cidrIpv4: '10.0.1.0/24' }, // merges with the one above
        { protocol: 'tcp', fromPort: 8000, toPort: 8100, cidrIpv6: 'fd00:1::/64' },
      ]),
      group('sg-b', vpc, [
        { protocol: '-1', fromPort: 0, toPort: 65535, sourceSecurityGroupId: 'sg-m' },
      ]),
      group('sg-m', vpc, [], ['192.0.2.9', 'FD00::9']),
    ],
  };
  const gates = compileSecurityGroupGates(snapshot);
  assert.equal(gates.has(open), false, 'a VPC whose association has no groups is not filtered');
  const gate = gates.get(vpc)!;
  const table: [string | undefined, number, boolean][] = [
    ['10.0.0.7', 80, true],
    ['10.0.1.255', 80, true],
    ['10.0.2.0', 80, false],
    ['10.0.0.7', 81, false],
    ['::ffff:10.0.0.7', 80, true],
    ['fd00:1::5', 8050, true],
    ['fd00:1::5', 80, false],
    ['fd00:2::5', 8050, false],
    ['192.0.2.9', 12345, true],
    ['fd00:0::9', 443, true],
    ['192.0.2.10', 12345, false],
    [undefined, 80, false],
    ['not-an-ip', 80, false],
  ];
  for (const [address, port, allowed] of table)
    assert.equal(gate.allows(address, port), allowed, `${address}:${port}`);
});

test('a VPC whose groups are all gone denies everyone (closed, not open)', () => {
  const fx = new DnsSnapshot();
  const vpc = fx.vpc(['127.1.1.1']);
  fx.associateVpc(fx.network(), vpc);
  fx.s.serviceNetworkVpcAssociations[0]!.securityGroupIds = ['sg-gone'];
  const gate = compileSecurityGroupGates(fx.build()).get(vpc)!;
  assert.equal(gate.allows('127.0.0.1', 80), false);
});
