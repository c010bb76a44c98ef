/**
 * VpcNamespaces without root (issue 8 §1: "without root Trellis says so and the plain ingress mode
 * keeps working"). `process.getuid` is mocked to a non-root uid: the real check is the uid, and a
 * test cannot drop root and get it back. The root path is exercised for real by
 * test/multi-vpc/netns-vpcs.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Vpc } from '../model/inventory-types.js';
import { latticeAddresses, VpcNamespaces } from './vpc-namespaces.js';

function vpc(id: string, namespace?: string): Vpc {
  return {
    vpcId: id,
    ownerAccountId: '111122223333',
    cidrBlocks: ['10.0.0.0/24'],
    ingressAddresses: namespace ? [] : ['127.0.0.9'],
    createdAt: '2026-01-01T00:00:00.000Z',
    ...(namespace ? { networkNamespace: { name: namespace, create: true } } : {}),
  };
}

test('without root a namespace VPC is not attached, said once, and nothing is touched', async (t) => {
  t.mock.method(process as unknown as { getuid(): number }, 'getuid', () => 1000);
  const slotDir = mkdtempSync(join(tmpdir(), 'trellis-slots-'));
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    info: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ level: 'info', message, fields }),
    warn: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ level: 'warn', message, fields }),
    error: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ level: 'error', message, fields }),
  };
  const ns = new VpcNamespaces({ logger, slotDir, checkIntervalMs: 60_000 });
  try {
    await ns.start();
    const vpcs = [vpc('vpc-00000000000000001', 'not-created'), vpc('vpc-00000000000000002')];
    await ns.reconcile(vpcs);
    await ns.reconcile(vpcs);
    assert.deepEqual(ns.addresses('vpc-00000000000000001'), []);
    assert.deepEqual(ns.list(), []);
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, 'said once, not on every snapshot');
    assert.equal(errors[0]!.fields?.vpcId, 'vpc-00000000000000001');
    assert.match(String(errors[0]!.fields?.reason), /need root .*ingress-addresses/);
  } finally {
    await ns.stop();
    rmSync(slotDir, { recursive: true, force: true });
  }
});

test('Lattice addresses of a slot come from 169.254.171.0/24 and fd00:ec2:80::/64', () => {
  assert.deepEqual(latticeAddresses(1), { ipv4: '169.254.171.1', ipv6: 'fd00:ec2:80::1' });
  assert.deepEqual(latticeAddresses(254), { ipv4: '169.254.171.254', ipv6: 'fd00:ec2:80::fe' });
});
