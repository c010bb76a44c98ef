import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  ConflictException,
  CreateListenerCommand,
  CreateRuleCommand,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  DeleteServiceCommand,
  DeleteServiceNetworkServiceAssociationCommand,
  GetListenerCommand,
  GetServiceCommand,
  ListListenersCommand,
  ListServicesCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  UpdateServiceCommand,
  ValidationException,
  type CreateServiceCommandInput,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  CONTROL_PLANE_ONLY,
  ID,
  allPages,
  arnPattern,
  createAccount,
  expectAwsError,
  fieldNames,
  serviceDnsPattern,
  uniqueName,
} from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { importSelfSigned } from '../tls/tls-fixtures.js';

/** Quota for this file's process, small enough to reach in a test (spec §6: default 2,000). */
const SERVICES_QUOTA = 20;

let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let other: { accountId: string; client: VPCLatticeClient };

before(async () => {
  proc = await startTrellis({
    ...CONTROL_PLANE_ONLY,
    env: { ...CONTROL_PLANE_ONLY.env, TRELLIS_QUOTA_SERVICESPERREGION: String(SERVICES_QUOTA) },
  });
  lattice = proc.lattice();
  const acct = await createAccount(proc);
  other = { accountId: acct.accountId, client: proc.lattice(acct.credentials) };
});
after(async () => {
  lattice?.destroy();
  other?.client.destroy();
  await proc?.stop();
});

async function listServiceIds(client: VPCLatticeClient): Promise<string[]> {
  const pages = await allPages((nextToken) =>
    client.send(new ListServicesCommand({ maxResults: 100, nextToken })),
  );
  return pages
    .flat()
    .map((s) => s.id!)
    .sort();
}

describe('CreateService', () => {
  test('creates an ACTIVE service with defaults, spec ID/ARN/DNS formats', async () => {
    const name = uniqueName('billing');
    const out = await lattice.send(new CreateServiceCommand({ name }));
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.match(out.id!, ID.service);
    assert.match(out.arn!, arnPattern(proc.region, proc.accountId, `service/${out.id}`));
    assert.equal(out.name, name);
    assert.equal(out.status, 'ACTIVE');
    assert.equal(out.authType, 'NONE');
    assert.equal(out.idleTimeoutSeconds, 60);
    assert.equal(out.customDomainName, undefined);
    assert.match(out.dnsEntry!.domainName!, serviceDnsPattern(name, out.id!, proc.region));
    assert.match(out.dnsEntry!.hostedZoneId!, /^Z[0-9A-Z]+$/);
  });

  test('keeps customDomainName, certificateArn, authType, idleTimeoutSeconds and tags', async () => {
    const name = uniqueName('payments');
    // spec §1.5: certificateArn must name a certificate of the account (imported through ACM).
    const certificateArn = await importSelfSigned(proc, 'payments.example.com');
    const created = await lattice.send(
      new CreateServiceCommand({
        name,
        customDomainName: 'payments.example.com',
        certificateArn,
        authType: 'AWS_IAM',
        idleTimeoutSeconds: 600,
        tags: { team: 'payments' },
      }),
    );
    const got = await lattice.send(new GetServiceCommand({ serviceIdentifier: created.id }));
    assert.equal(got.customDomainName, 'payments.example.com');
    assert.equal(got.certificateArn, certificateArn);
    assert.equal(got.authType, 'AWS_IAM');
    assert.equal(got.idleTimeoutSeconds, 600);
    assert.ok(got.createdAt instanceof Date && got.lastUpdatedAt instanceof Date);
    assert.deepEqual(got.dnsEntry, created.dnsEntry);
  });

  const invalid: [string, Partial<CreateServiceCommandInput>, string][] = [
    ['a 2-character name', { name: 'ab' }, 'name'],
    ['a 41-character name', { name: 'a'.repeat(41) }, 'name'],
    ['a name starting with svc-', { name: 'svc-billing' }, 'name'],
    ['an upper-case name', { name: 'Billing' }, 'name'],
    ['a name with --', { name: 'bill--ing' }, 'name'],
    ['a name ending with -', { name: 'billing-' }, 'name'],
    ['a 2-character custom domain', { customDomainName: 'ab' }, 'customDomainName'],
    [
      'a custom domain of 256 characters',
      { customDomainName: `${'a'.repeat(60)}.`.repeat(4) + 'abcdefghijkl' },
      'customDomainName',
    ],
    [
      'a non-ACM certificate',
      { certificateArn: 'arn:aws:iam::111122223333:server-certificate/x' },
      'certificateArn',
    ],
    ['an unknown authType', { authType: 'SIGV4' as never }, 'authType'],
    ['idleTimeoutSeconds 59', { idleTimeoutSeconds: 59 }, 'idleTimeoutSeconds'],
    ['idleTimeoutSeconds 601', { idleTimeoutSeconds: 601 }, 'idleTimeoutSeconds'],
  ];
  for (const [what, input, field] of invalid) {
    test(`refuses ${what} with ValidationException naming ${field}`, async () => {
      const err = await expectAwsError(
        lattice.send(new CreateServiceCommand({ name: uniqueName('bad'), ...input })),
        ValidationException,
        400,
      );
      assert.equal(err.reason, 'fieldValidationFailed');
      assert.ok(fieldNames(err).includes(field), `fieldList ${JSON.stringify(err.fieldList)}`);
    });
  }

  test('a second service with the same name is a ConflictException; nothing is stored', async () => {
    const name = uniqueName('dup');
    await lattice.send(new CreateServiceCommand({ name }));
    const before = await listServiceIds(lattice);
    await expectAwsError(lattice.send(new CreateServiceCommand({ name })), ConflictException, 409);
    assert.deepEqual(await listServiceIds(lattice), before);
  });

  test('replaying a clientToken returns the same service; other parameters conflict', async () => {
    const clientToken = randomUUID();
    const name = uniqueName('idem');
    const first = await lattice.send(new CreateServiceCommand({ name, clientToken }));
    const again = await lattice.send(new CreateServiceCommand({ name, clientToken }));
    assert.equal(again.id, first.id);
    assert.equal(again.arn, first.arn);
    const before = await listServiceIds(lattice);
    await expectAwsError(
      lattice.send(new CreateServiceCommand({ name: uniqueName('idem'), clientToken })),
      ConflictException,
      409,
    );
    assert.deepEqual(await listServiceIds(lattice), before);
  });
});

describe('GetService / ListServices', () => {
  test('GetService accepts the ID or the ARN; an unknown ID is ResourceNotFoundException', async () => {
    const created = await lattice.send(new CreateServiceCommand({ name: uniqueName('lookup') }));
    const byArn = await lattice.send(new GetServiceCommand({ serviceIdentifier: created.arn }));
    assert.equal(byArn.id, created.id);
    const err = await expectAwsError(
      lattice.send(new GetServiceCommand({ serviceIdentifier: 'svc-0123456789abcdef0' })),
      ResourceNotFoundException,
      404,
    );
    assert.equal(err.resourceId, 'svc-0123456789abcdef0');
    assert.equal(err.resourceType, 'SERVICE');
  });

  test('ListServices pages with maxResults/nextToken and returns each service once', async () => {
    const all = await listServiceIds(lattice);
    assert.ok(all.length >= 3, 'earlier tests created services');
    const pages = await allPages((nextToken) =>
      lattice.send(new ListServicesCommand({ maxResults: 2, nextToken })),
    );
    assert.ok(pages.length >= 2);
    for (const p of pages) assert.ok(p.length <= 2);
    const seen = pages.flat().map((s) => s.id!);
    assert.deepEqual([...seen].sort(), all);
    const item = pages.flat()[0]!;
    assert.match(item.dnsEntry!.domainName!, /\.vpc-lattice-svcs\./);
    assert.equal(item.status, 'ACTIVE');
    await expectAwsError(
      lattice.send(new ListServicesCommand({ maxResults: 101 })),
      ValidationException,
      400,
    );
    await expectAwsError(
      lattice.send(new ListServicesCommand({ nextToken: 'not-a-token' })),
      ValidationException,
      400,
    );
  });
});

describe('UpdateService', () => {
  test('changes authType, idleTimeoutSeconds and certificateArn only', async () => {
    const created = await lattice.send(
      new CreateServiceCommand({ name: uniqueName('upd'), customDomainName: 'upd.example.com' }),
    );
    const certificateArn = await importSelfSigned(proc, 'upd.example.com');
    const out = await lattice.send(
      new UpdateServiceCommand({
        serviceIdentifier: created.arn,
        authType: 'AWS_IAM',
        idleTimeoutSeconds: 120,
        certificateArn,
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(
      {
        id: out.id,
        name: out.name,
        authType: out.authType,
        idleTimeoutSeconds: out.idleTimeoutSeconds,
        certificateArn: out.certificateArn,
        customDomainName: out.customDomainName,
      },
      {
        id: created.id,
        name: created.name,
        authType: 'AWS_IAM',
        idleTimeoutSeconds: 120,
        certificateArn,
        customDomainName: 'upd.example.com',
      },
    );
    const got = await lattice.send(new GetServiceCommand({ serviceIdentifier: created.id }));
    assert.equal(got.idleTimeoutSeconds, 120);
    assert.equal(got.authType, 'AWS_IAM');
    assert.deepEqual(got.dnsEntry, created.dnsEntry);
  });

  test('refuses out-of-range values and leaves the service unchanged', async () => {
    const created = await lattice.send(new CreateServiceCommand({ name: uniqueName('upd') }));
    const err = await expectAwsError(
      lattice.send(
        new UpdateServiceCommand({
          serviceIdentifier: created.id,
          idleTimeoutSeconds: 30,
          authType: 'BASIC' as never,
        }),
      ),
      ValidationException,
    );
    assert.deepEqual(fieldNames(err).sort(), ['authType', 'idleTimeoutSeconds']);
    const got = await lattice.send(new GetServiceCommand({ serviceIdentifier: created.id }));
    assert.equal(got.idleTimeoutSeconds, 60);
    assert.equal(got.authType, 'NONE');
    await expectAwsError(
      lattice.send(
        new UpdateServiceCommand({ serviceIdentifier: 'svc-0123456789abcdef0', authType: 'NONE' }),
      ),
      ResourceNotFoundException,
    );
  });
});

describe('DeleteService', () => {
  test('answers 200 DELETE_IN_PROGRESS and takes its listeners and rules with it', async () => {
    const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('gone') }));
    const listener = await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.id,
        name: 'http',
        protocol: 'HTTP',
        defaultAction: { fixedResponse: { statusCode: 404 } },
      }),
    );
    await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listener.id,
        name: 'api',
        priority: 1,
        match: { httpMatch: { pathMatch: { match: { prefix: '/api' } } } },
        action: { fixedResponse: { statusCode: 500 } },
      }),
    );
    const out = await lattice.send(new DeleteServiceCommand({ serviceIdentifier: svc.arn }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(
      { id: out.id, arn: out.arn, name: out.name, status: out.status },
      { id: svc.id, arn: svc.arn, name: svc.name, status: 'DELETE_IN_PROGRESS' },
    );
    await expectAwsError(
      lattice.send(new GetServiceCommand({ serviceIdentifier: svc.id })),
      ResourceNotFoundException,
    );
    await expectAwsError(
      lattice.send(new ListListenersCommand({ serviceIdentifier: svc.id })),
      ResourceNotFoundException,
    );
    await expectAwsError(
      lattice.send(
        new GetListenerCommand({ serviceIdentifier: svc.id, listenerIdentifier: listener.id }),
      ),
      ResourceNotFoundException,
    );
    // The name is free again: nothing of the old service is left behind.
    const again = await lattice.send(new CreateServiceCommand({ name: svc.name! }));
    assert.notEqual(again.id, svc.id);
    await lattice.send(new DeleteServiceCommand({ serviceIdentifier: again.id }));
    await expectAwsError(
      lattice.send(new DeleteServiceCommand({ serviceIdentifier: svc.id })),
      ResourceNotFoundException,
    );
  });
  test('is refused (409) while the service is associated with a service network', async () => {
    const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('linked') }));
    const sn = await lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('net') }));
    const snsa = await lattice.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceIdentifier: svc.id,
        serviceNetworkIdentifier: sn.id,
      }),
    );
    const err = await expectAwsError(
      lattice.send(new DeleteServiceCommand({ serviceIdentifier: svc.id })),
      ConflictException,
      409,
    );
    assert.equal(err.resourceId, svc.id);
    assert.equal(
      (await lattice.send(new GetServiceCommand({ serviceIdentifier: svc.id }))).status,
      'ACTIVE',
    );
    await lattice.send(
      new DeleteServiceNetworkServiceAssociationCommand({
        serviceNetworkServiceAssociationIdentifier: snsa.id,
      }),
    );
    const out = await lattice.send(new DeleteServiceCommand({ serviceIdentifier: svc.id }));
    assert.equal(out.status, 'DELETE_IN_PROGRESS');
  });
});

describe('accounts and quotas', () => {
  test('another account sees none of these services, by ID or by ARN', async () => {
    const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('private') }));
    const theirs = await other.client.send(new ListServicesCommand({}));
    assert.ok(!(theirs.items ?? []).some((s) => s.id === svc.id));
    for (const serviceIdentifier of [svc.id!, svc.arn!]) {
      await expectAwsError(
        other.client.send(new GetServiceCommand({ serviceIdentifier })),
        ResourceNotFoundException,
      );
      await expectAwsError(
        other.client.send(new UpdateServiceCommand({ serviceIdentifier, authType: 'AWS_IAM' })),
        ResourceNotFoundException,
      );
      await expectAwsError(
        other.client.send(new DeleteServiceCommand({ serviceIdentifier })),
        ResourceNotFoundException,
      );
    }
    // The same name is free in another account, with that account in its ARN.
    const mine = await other.client.send(new CreateServiceCommand({ name: svc.name! }));
    assert.match(mine.arn!, arnPattern(proc.region, other.accountId, `service/${mine.id}`));
    await other.client.send(new DeleteServiceCommand({ serviceIdentifier: mine.id }));
    const got = await lattice.send(new GetServiceCommand({ serviceIdentifier: svc.id }));
    assert.equal(got.authType, 'NONE');
  });

  test('servicesPerRegion is enforced with ServiceQuotaExceededException (HTTP 402)', async () => {
    const acct = await createAccount(proc);
    const client = proc.lattice(acct.credentials);
    try {
      for (let i = 0; i < SERVICES_QUOTA; i++) {
        await client.send(new CreateServiceCommand({ name: `quota-${i}` }));
      }
      const before = await listServiceIds(client);
      assert.equal(before.length, SERVICES_QUOTA);
      const err = await expectAwsError(
        client.send(new CreateServiceCommand({ name: 'one-too-many' })),
        ServiceQuotaExceededException,
        402,
      );
      assert.equal(err.quotaCode, 'L-620C821E');
      assert.equal(err.serviceCode, 'vpc-lattice');
      assert.deepEqual(await listServiceIds(client), before);
    } finally {
      client.destroy();
    }
  });
});
