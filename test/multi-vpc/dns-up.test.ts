/** `trellis up --dns-listen 127.0.0.1:0`: the generated name of an associated service resolves. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TagResourceCommand } from '@aws-sdk/client-vpc-lattice';
import {
  createNetwork,
  createService,
  randomLoopback,
  randomPort,
  waitFor,
} from '../support/dataplane-fixtures.js';
import { createVpc } from '../support/inventory-client.js';
import { defaultVpcId } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

let proc: TrellisProcess;
let resolver: Resolver;

before(async () => {
  proc = await startTrellis({
    args: ['--dns-listen', '127.0.0.1:0', '--dataplane-host', '127.0.0.1'],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  const runtime = JSON.parse(readFileSync(join(proc.dataDir, 'runtime.json'), 'utf8')) as {
    dnsEndpoint?: string;
  };
  assert.match(runtime.dnsEndpoint ?? '', /^127\.0\.0\.1:\d+$/, 'runtime.json names the responder');
  resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([runtime.dnsEndpoint!]);
});
after(() => proc.stop());

async function lookup(name: string): Promise<string[] | string> {
  try {
    return await resolver.resolve4(name);
  } catch (err) {
    return (err as { code: string }).code;
  }
}

test('a service associated with the default VPC’s network resolves to its ingress address', async () => {
  const client = proc.lattice();
  const sn = await createNetwork(client, defaultVpcId(proc.accountId));
  const svc = await createService(client, sn.id, { customDomainName: 'orders.corp.internal' });
  await waitFor(async () => JSON.stringify(await lookup(svc.dnsName)) === '["127.0.0.1"]', {
    message: 'generated name resolves',
  });
  assert.equal(await lookup('orders.corp.internal'), 'EREFUSED', 'custom names need the tag');
  await client.send(
    new TagResourceCommand({ resourceArn: svc.arn, tags: { 'trellis:serve-dns': 'true' } }),
  );
  await waitFor(
    async () => JSON.stringify(await lookup('orders.corp.internal')) === '["127.0.0.1"]',
    {
      message: 'tagged custom name resolves',
    },
  );
  assert.equal(await lookup('unknown-0.abc.vpc-lattice-svcs.us-east-1.on.aws'), 'ENOTFOUND');
});

describe('trellis up --dns-listen vpcs:<port>: each VPC asks on its own ingress address', () => {
  let perVpc: TrellisProcess;
  const port = randomPort();
  before(async () => {
    perVpc = await startTrellis({
      args: ['--dns-listen', `vpcs:${port}`, '--dataplane-host', randomLoopback()],
      env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
    });
  });
  after(() => perVpc.stop());

  test('a name answers in the associated VPC and is NXDOMAIN in another', async () => {
    const client = perVpc.lattice();
    const inside = randomLoopback();
    const outside = randomLoopback();
    const vpcIn = await createVpc(perVpc, { ingressAddresses: [inside] });
    await createVpc(perVpc, { ingressAddresses: [outside] });
    const sn = await createNetwork(client, vpcIn);
    const svc = await createService(client, sn.id);
    const ask = async (at: string): Promise<string> => {
      const r = new Resolver({ timeout: 500, tries: 1 });
      r.setServers([`${at}:${port}`]);
      try {
        return JSON.stringify(await r.resolve4(svc.dnsName));
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    await waitFor(async () => (await ask(inside)) === JSON.stringify([inside]), {
      message: 'answered in the associated VPC',
    });
    await waitFor(async () => (await ask(outside)) === 'ENOTFOUND', {
      message: 'NXDOMAIN in the other VPC',
    });
  });
});
