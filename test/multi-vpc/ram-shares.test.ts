/**
 * Cross-account sharing through AWS RAM (issue 8 §4) against a real `trellis up`, with the
 * official `@aws-sdk/client-ram` and `@aws-sdk/client-vpc-lattice`:
 *   - A (default account, no organization) and B (no organization): different organizations, so
 *     B must accept an invitation before A's share grants anything;
 *   - C and D (one organization): D is associated at once.
 * A share grants what RAM's default permission for Lattice grants (associate, Get by ARN);
 * removing it refuses later associations while existing ones stay (as in Lattice).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AcceptResourceShareInvitationCommand,
  AssociateResourceShareCommand,
  CreateResourceShareCommand,
  DeleteResourceShareCommand,
  DisassociateResourceShareCommand,
  GetResourceShareAssociationsCommand,
  GetResourceShareInvitationsCommand,
  GetResourceSharesCommand,
  IdempotentParameterMismatchException,
  InvalidParameterException,
  ListResourcesCommand,
  MalformedArnException,
  MissingRequiredParameterException,
  OperationNotPermittedException,
  RAMClient,
  RAMServiceException,
  RejectResourceShareInvitationCommand,
  ResourceShareInvitationAlreadyAcceptedException,
  ResourceShareInvitationAlreadyRejectedException,
  ResourceShareInvitationArnNotFoundException,
  UnknownResourceException,
} from '@aws-sdk/client-ram';
import {
  AccessDeniedException,
  ConflictException,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  GetServiceCommand,
  GetServiceNetworkServiceAssociationCommand,
  ListServiceNetworkVpcEndpointAssociationsCommand,
  ListServicesCommand,
  PutAuthPolicyCommand,
  ResourceNotFoundException,
  ValidationException,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createListener,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  send,
  startUpstream,
  waitFor,
  whoAnswers,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { jsonOf, type CliRun } from '../cli/support/run-cli.js';
import { runCliInProcess } from '../cli/support/run-cli-in-process.js';
import { createVpc } from '../support/inventory-client.js';
import { allPages, createAccount, expectAwsError, uniqueName } from '../support/sdk-helpers.js';
import { signedFetch } from '../support/signed-fetch.js';
import { startTrellis, type Credentials, type TrellisProcess } from '../support/trellis-process.js';

const ORG = 'o-trellisram01';

interface TestAccount {
  accountId: string;
  credentials: Credentials;
  lattice: VPCLatticeClient;
  ram: RAMClient;
}

let proc: TrellisProcess;
let upstream: RecordingUpstream;
let A: TestAccount;
let B: TestAccount;
let C: TestAccount;
let D: TestAccount;
const cleanups: (() => void)[] = [];

function ramClient(credentials: Credentials): RAMClient {
  return new RAMClient({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials,
    maxAttempts: 1,
  });
}

function account(accountId: string, credentials: Credentials): TestAccount {
  return {
    accountId,
    credentials,
    lattice: proc.lattice(credentials),
    ram: ramClient(credentials),
  };
}

/** An account in organization `ORG`, through Trellis's own CreateAccount (signed as the operator). */
async function createOrgAccount(): Promise<TestAccount> {
  const res = await signedFetch({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: proc.credentials,
    method: 'POST',
    path: '/_trellis/accounts',
    body: JSON.stringify({ organizationId: ORG }),
  });
  assert.equal(res.status, 201, res.text);
  const out = res.json() as { accountId: string; accessKeyId: string; secretAccessKey: string };
  return account(out.accountId, {
    accessKeyId: out.accessKeyId,
    secretAccessKey: out.secretAccessKey,
  });
}

before(async () => {
  proc = await startTrellis({ env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' } });
  upstream = await startUpstream('shared');
  A = account(proc.accountId, proc.credentials);
  const b = await createAccount(proc);
  B = account(b.accountId, b.credentials);
  C = await createOrgAccount();
  D = await createOrgAccount();
});
after(async () => {
  for (const c of cleanups) c();
  for (const t of [A, B, C, D]) {
    t?.ram.destroy();
    t?.lattice.destroy();
  }
  await upstream?.close();
  await proc?.stop();
});

/** A service of `owner` with a listener on a fresh port forwarding to the upstream. */
async function servedService(owner: TestAccount, stem: string) {
  const port = randomPort();
  const vpc = await createVpc(proc, {}, owner.credentials);
  const svc = await owner.lattice.send(new CreateServiceCommand({ name: uniqueName(stem) }));
  const tg = await createTargetGroup(owner.lattice, vpc, upstream.port, [{ id: '127.0.0.1' }]);
  await createListener(owner.lattice, svc.id!, port, forwardTo(tg.id));
  return { svc, port };
}

/** A network of `owner` with one of its VPCs (own ingress address) associated. */
async function networkWithVpc(owner: TestAccount, stem: string) {
  const ingress = randomLoopback();
  const vpc = await createVpc(proc, { ingressAddresses: [ingress] }, owner.credentials);
  const net = await owner.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName(stem) }));
  await owner.lattice.send(
    new CreateServiceNetworkVpcAssociationCommand({
      serviceNetworkIdentifier: net.id,
      vpcIdentifier: vpc,
    }),
  );
  return { net, vpc, ingress };
}

function associate(who: TestAccount, serviceArn: string, networkId: string) {
  return who.lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceIdentifier: serviceArn,
      serviceNetworkIdentifier: networkId,
    }),
  );
}

async function principalStatus(owner: TestAccount, shareArn: string, principal: string) {
  const out = await owner.ram.send(
    new GetResourceShareAssociationsCommand({
      associationType: 'PRINCIPAL',
      resourceShareArns: [shareArn],
      principal,
    }),
  );
  return out.resourceShareAssociations?.map((a) => a.status);
}

test('RAM answers on the Trellis endpoint in its own wire format and error shapes', async () => {
  const svc = await A.lattice.send(new CreateServiceCommand({ name: uniqueName('wire') }));
  const created = await A.ram.send(
    new CreateResourceShareCommand({
      name: 'wire-share',
      resourceArns: [svc.arn!],
      tags: [{ key: 'team', value: 'net' }],
      clientToken: 'wire-token-1',
    }),
  );
  const share = created.resourceShare!;
  assert.match(
    share.resourceShareArn!,
    new RegExp(`^arn:aws:ram:${proc.region}:${A.accountId}:resource-share/[0-9a-f-]{36}$`),
  );
  assert.equal(share.owningAccountId, A.accountId);
  assert.equal(share.status, 'ACTIVE');
  assert.equal(share.allowExternalPrincipals, true, 'RAM default');
  assert.ok(share.creationTime instanceof Date);
  assert.equal(created.clientToken, 'wire-token-1');

  // clientToken: same request → the same share; another request → mismatch.
  const again = await A.ram.send(
    new CreateResourceShareCommand({
      name: 'wire-share',
      resourceArns: [svc.arn!],
      tags: [{ key: 'team', value: 'net' }],
      clientToken: 'wire-token-1',
    }),
  );
  assert.equal(again.resourceShare!.resourceShareArn, share.resourceShareArn);
  await expectAwsError(
    A.ram.send(new CreateResourceShareCommand({ name: 'other', clientToken: 'wire-token-1' })),
    IdempotentParameterMismatchException,
    400,
  );

  const mine = await A.ram.send(
    new GetResourceSharesCommand({
      resourceOwner: 'SELF',
      tagFilters: [{ tagKey: 'team', tagValues: ['net'] }],
    }),
  );
  assert.deepEqual(
    mine.resourceShares!.map((s) => s.resourceShareArn),
    [share.resourceShareArn],
    'one share, even after the repeated token',
  );
  const resources = await A.ram.send(
    new GetResourceShareAssociationsCommand({
      associationType: 'RESOURCE',
      resourceShareArns: [share.resourceShareArn!],
    }),
  );
  assert.deepEqual(
    resources.resourceShareAssociations!.map((a) => [a.associatedEntity, a.status]),
    [[svc.arn, 'ASSOCIATED']],
  );
  const listed = await A.ram.send(new ListResourcesCommand({ resourceOwner: 'SELF' }));
  assert.ok(listed.resources!.some((r) => r.arn === svc.arn && r.type === 'vpc-lattice:Service'));

  const before = (await A.ram.send(new GetResourceSharesCommand({ resourceOwner: 'SELF' })))
    .resourceShares!.length;
  const create = (input: { resourceArns?: string[]; principals?: string[] }) =>
    A.ram.send(new CreateResourceShareCommand({ name: uniqueName('bad'), ...input }));
  const malformed = await expectAwsError(
    create({ resourceArns: ['not-an-arn'] }),
    MalformedArnException,
    400,
  );
  assert.match(malformed.message, /not-an-arn/);
  const noAccount = await expectAwsError(
    create({ resourceArns: [svc.arn!], principals: ['444455556666'] }),
    UnknownResourceException,
    400,
  );
  assert.match(noAccount.message, /444455556666 does not exist/);
  const bService = await B.lattice.send(new CreateServiceCommand({ name: uniqueName('b-own') }));
  const notOwned = await expectAwsError(
    create({ resourceArns: [bService.arn!] }),
    UnknownResourceException,
    400,
  );
  assert.match(notOwned.message, /only resources its owner owns/);
  await expectAwsError(
    create({
      resourceArns: [
        `arn:aws:vpc-lattice:${proc.region}:${A.accountId}:targetgroup/tg-0123456789abcdef0`,
      ],
    }),
    InvalidParameterException,
    400,
  );
  await expectAwsError(create({ principals: [A.accountId] }), InvalidParameterException, 400);
  await expectAwsError(
    A.ram.send(new CreateResourceShareCommand({ name: undefined as unknown as string })),
    MissingRequiredParameterException,
    400,
  );
  const after = (await A.ram.send(new GetResourceSharesCommand({ resourceOwner: 'SELF' })))
    .resourceShares!.length;
  assert.equal(after, before, 'a refused CreateResourceShare creates nothing');

  // A share of another account is unknown to the caller.
  await expectAwsError(
    B.ram.send(new DeleteResourceShareCommand({ resourceShareArn: share.resourceShareArn })),
    UnknownResourceException,
    400,
  );
  const deleted = await A.ram.send(
    new DeleteResourceShareCommand({ resourceShareArn: share.resourceShareArn }),
  );
  assert.equal(deleted.returnValue, true);
  const gone = await A.ram.send(
    new GetResourceSharesCommand({
      resourceOwner: 'SELF',
      resourceShareArns: [share.resourceShareArn!],
    }),
  );
  assert.equal(gone.resourceShares![0]!.status, 'DELETED', 'deleted shares stay listed, as in RAM');
});

test('inside one organization the share applies at once; removing the principal stops new associations only', async () => {
  const { svc, port } = await servedService(C, 'org-svc');
  const dNet = await networkWithVpc(D, 'org-d');
  const dNet2 = await D.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('d2') }));

  // Before any share: refused, and invisible by Get.
  await expectAwsError(associate(D, svc.arn!, dNet.net.id!), AccessDeniedException, 403);
  await expectAwsError(
    D.lattice.send(new GetServiceCommand({ serviceIdentifier: svc.arn })),
    ResourceNotFoundException,
    404,
  );

  const { resourceShare } = await C.ram.send(
    new CreateResourceShareCommand({
      name: uniqueName('org-share'),
      resourceArns: [svc.arn!],
      principals: [D.accountId],
      allowExternalPrincipals: false,
    }),
  );
  const shareArn = resourceShare!.resourceShareArn!;
  assert.deepEqual(await principalStatus(C, shareArn, D.accountId), ['ASSOCIATED']);
  const invitations = await D.ram.send(new GetResourceShareInvitationsCommand({}));
  assert.ok(
    !invitations.resourceShareInvitations!.some((i) => i.resourceShareArn === shareArn),
    'no invitation inside an organization',
  );
  const seen = await D.ram.send(new GetResourceSharesCommand({ resourceOwner: 'OTHER-ACCOUNTS' }));
  assert.ok(seen.resourceShares!.some((s) => s.resourceShareArn === shareArn));
  const sharedResources = await D.ram.send(
    new ListResourcesCommand({ resourceOwner: 'OTHER-ACCOUNTS' }),
  );
  assert.ok(sharedResources.resources!.some((r) => r.arn === svc.arn));

  // D reads C's service by ARN and associates it with its own network.
  const got = await D.lattice.send(new GetServiceCommand({ serviceIdentifier: svc.arn }));
  assert.equal(got.id, svc.id);
  // ListServices: D's own services, then the ones shared with D, page after page.
  const own = await D.lattice.send(new CreateServiceCommand({ name: uniqueName('d-own') }));
  const listIds = async () =>
    (
      await allPages((nextToken) =>
        D.lattice.send(new ListServicesCommand({ maxResults: 1, nextToken })),
      )
    )
      .flat()
      .map((s) => s.id);
  const ids = await listIds();
  assert.ok(ids.includes(own.id) && ids.includes(svc.id), JSON.stringify(ids));
  assert.ok(ids.indexOf(own.id) < ids.indexOf(svc.id), 'owned first, then shared');
  const assoc = await associate(D, svc.arn!, dNet.net.id!);
  assert.equal(assoc.createdBy, D.accountId);
  await waitFor(
    async () =>
      (await whoAnswers(dNet.ingress, port, { host: svc.dnsEntry!.domainName! })) === 'shared',
    { timeoutMs: 30_000, message: 'D reaches C’s shared service' },
  );
  // The same share does not help B (another organization, not a principal).
  const bNet = await B.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('b') }));
  await expectAwsError(associate(B, svc.arn!, bNet.id!), AccessDeniedException, 403);

  // C removes D: later associations are refused; the existing one stays.
  const removed = await C.ram.send(
    new DisassociateResourceShareCommand({ resourceShareArn: shareArn, principals: [D.accountId] }),
  );
  assert.equal(removed.resourceShareAssociations![0]!.status, 'DISASSOCIATED');
  await expectAwsError(associate(D, svc.arn!, dNet2.id!), AccessDeniedException, 403);
  assert.ok(!(await listIds()).includes(svc.id), 'no longer listed once unshared');
  const kept = await D.lattice.send(
    new GetServiceNetworkServiceAssociationCommand({
      serviceNetworkServiceAssociationIdentifier: assoc.id,
    }),
  );
  assert.equal(kept.status, 'ACTIVE');

  // Adding D back (AssociateResourceShare) grants again.
  await C.ram.send(
    new AssociateResourceShareCommand({ resourceShareArn: shareArn, principals: [D.accountId] }),
  );
  const again = await associate(D, svc.arn!, dNet2.id!);
  assert.equal(again.status, 'ACTIVE');
});

test('a service network shared with the organization ARN lets member VPCs join it', async () => {
  const cNet = await C.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('c-sn') }));
  const dVpc = await createVpc(proc, {}, D.credentials);
  const join = () =>
    D.lattice.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: cNet.arn,
        vpcIdentifier: dVpc,
      }),
    );
  await expectAwsError(join(), AccessDeniedException, 403);
  await C.ram.send(
    new CreateResourceShareCommand({
      name: uniqueName('org-wide'),
      resourceArns: [cNet.arn!],
      principals: [`arn:aws:organizations::${C.accountId}:organization/${ORG}`],
    }),
  );
  const joined = await join();
  assert.equal(joined.createdBy, D.accountId);
  // …and D's own services join C's network too (the same share, the other association action).
  const dSvc = await D.lattice.send(new CreateServiceCommand({ name: uniqueName('d-svc') }));
  const dJoins = await D.lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceIdentifier: dSvc.id,
      serviceNetworkIdentifier: cNet.arn,
    }),
  );
  assert.equal(dJoins.createdBy, D.accountId);
  // One service-network association per VPC (spec §1.5 SNVA): a second one is a conflict.
  const other = await D.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('d') }));
  await expectAwsError(
    D.lattice.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: other.id,
        vpcIdentifier: dVpc,
      }),
    ),
    ConflictException,
    409,
  );
  // Sharing with an organization the owner is not in is not permitted.
  await expectAwsError(
    A.ram.send(
      new CreateResourceShareCommand({
        name: uniqueName('foreign-org'),
        principals: [`arn:aws:organizations::${C.accountId}:organization/${ORG}`],
      }),
    ),
    OperationNotPermittedException,
    400,
  );
});

/** SigV4 headers for a data-plane GET (service `vpc-lattice-svcs`, spec §2.2). */
async function signedHeaders(host: string, credentials: Credentials) {
  const signer = new SignatureV4({
    service: 'vpc-lattice-svcs',
    region: proc.region,
    credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'GET',
    protocol: 'http:',
    hostname: host,
    path: '/',
    query: {},
    headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  const out = { ...(signed.headers as Record<string, string>) };
  delete out.host;
  return out;
}

test('across organizations B must accept the invitation; B’s signed clients then reach A’s service with B’s accounts', async () => {
  const port = randomPort();
  const aVpc = await createVpc(proc, {}, A.credentials);
  const svc = await A.lattice.send(
    new CreateServiceCommand({ name: uniqueName('xorg'), authType: 'AWS_IAM' }),
  );
  const tg = await createTargetGroup(A.lattice, aVpc, upstream.port, [{ id: '127.0.0.1' }]);
  await createListener(A.lattice, svc.id!, port, forwardTo(tg.id));
  await A.lattice.send(
    new PutAuthPolicyCommand({
      resourceIdentifier: svc.id,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'vpc-lattice-svcs:Invoke',
            Resource: '*',
            Condition: {
              StringEquals: {
                'vpc-lattice-svcs:SourceVpcOwnerAccount': B.accountId,
                'aws:PrincipalAccount': B.accountId,
              },
            },
          },
        ],
      }),
    }),
  );
  const bNet = await networkWithVpc(B, 'xorg-b');

  // An account outside A's organization is refused when the share disallows external principals.
  await expectAwsError(
    A.ram.send(
      new CreateResourceShareCommand({
        name: uniqueName('closed'),
        resourceArns: [svc.arn!],
        principals: [B.accountId],
        allowExternalPrincipals: false,
      }),
    ),
    OperationNotPermittedException,
    400,
  );

  const { resourceShare } = await A.ram.send(
    new CreateResourceShareCommand({
      name: uniqueName('xorg-share'),
      resourceArns: [svc.arn!],
      principals: [B.accountId],
    }),
  );
  const shareArn = resourceShare!.resourceShareArn!;
  assert.deepEqual(await principalStatus(A, shareArn, B.accountId), ['ASSOCIATING']);
  // Not accepted yet: still refused, and the share is not B's to see.
  await expectAwsError(associate(B, svc.arn!, bNet.net.id!), AccessDeniedException, 403);
  const notYet = await B.ram.send(
    new GetResourceSharesCommand({ resourceOwner: 'OTHER-ACCOUNTS' }),
  );
  assert.ok(!notYet.resourceShares!.some((s) => s.resourceShareArn === shareArn));

  const { resourceShareInvitations } = await B.ram.send(
    new GetResourceShareInvitationsCommand({ resourceShareArns: [shareArn] }),
  );
  assert.equal(resourceShareInvitations!.length, 1);
  const invitation = resourceShareInvitations![0]!;
  assert.equal(invitation.status, 'PENDING');
  assert.equal(invitation.senderAccountId, A.accountId);
  assert.equal(invitation.receiverAccountId, B.accountId);
  // Only the receiver may answer it.
  await expectAwsError(
    D.ram.send(
      new AcceptResourceShareInvitationCommand({
        resourceShareInvitationArn: invitation.resourceShareInvitationArn,
      }),
    ),
    ResourceShareInvitationArnNotFoundException,
    400,
  );
  const accepted = await B.ram.send(
    new AcceptResourceShareInvitationCommand({
      resourceShareInvitationArn: invitation.resourceShareInvitationArn,
    }),
  );
  assert.equal(accepted.resourceShareInvitation!.status, 'ACCEPTED');
  await expectAwsError(
    B.ram.send(
      new AcceptResourceShareInvitationCommand({
        resourceShareInvitationArn: invitation.resourceShareInvitationArn,
      }),
    ),
    ResourceShareInvitationAlreadyAcceptedException,
    400,
  );
  assert.deepEqual(await principalStatus(A, shareArn, B.accountId), ['ASSOCIATED']);

  const assoc = await associate(B, svc.arn!, bNet.net.id!);
  assert.equal(assoc.createdBy, B.accountId);
  const host = svc.dnsEntry!.domainName!;
  await waitFor(
    async () =>
      (
        await send(bNet.ingress, port, {
          host,
          headers: await signedHeaders(host, B.credentials),
        })
      ).status === 200,
    { timeoutMs: 30_000, message: 'B, signed, from B’s VPC reaches A’s service' },
  );
  const echo = (
    await send(bNet.ingress, port, { host, headers: await signedHeaders(host, B.credentials) })
  ).echo();
  assert.equal(echo.headers['x-amzn-source-vpc'], bNet.vpc);
  assert.match(
    String(echo.headers['x-amzn-lattice-identity']),
    new RegExp(`Principal=arn:aws:iam::${B.accountId}:root`),
  );
  const asA = await send(bNet.ingress, port, {
    host,
    headers: await signedHeaders(host, A.credentials),
  });
  assert.equal(asA.status, 403, 'aws:PrincipalAccount is A’s, not B’s');

  // A deletes the share: B's next association is refused; the existing one keeps serving.
  await A.ram.send(new DeleteResourceShareCommand({ resourceShareArn: shareArn }));
  const bNet2 = await B.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('b2') }));
  await expectAwsError(associate(B, svc.arn!, bNet2.id!), AccessDeniedException, 403);
  const still = await send(bNet.ingress, port, {
    host,
    headers: await signedHeaders(host, B.credentials),
  });
  assert.equal(still.status, 200, 'existing associations stay after the share is deleted');
});

test('a rejected invitation grants nothing', async () => {
  const svc = await A.lattice.send(new CreateServiceCommand({ name: uniqueName('rej') }));
  const bNet = await B.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('rej') }));
  const { resourceShare } = await A.ram.send(
    new CreateResourceShareCommand({
      name: uniqueName('rej-share'),
      resourceArns: [svc.arn!],
      principals: [B.accountId],
    }),
  );
  const shareArn = resourceShare!.resourceShareArn!;
  const { resourceShareInvitations } = await B.ram.send(
    new GetResourceShareInvitationsCommand({ resourceShareArns: [shareArn] }),
  );
  const arn = resourceShareInvitations![0]!.resourceShareInvitationArn!;
  const rejected = await B.ram.send(
    new RejectResourceShareInvitationCommand({ resourceShareInvitationArn: arn }),
  );
  assert.equal(rejected.resourceShareInvitation!.status, 'REJECTED');
  await expectAwsError(
    B.ram.send(new AcceptResourceShareInvitationCommand({ resourceShareInvitationArn: arn })),
    ResourceShareInvitationAlreadyRejectedException,
    400,
  );
  assert.deepEqual(await principalStatus(A, shareArn, B.accountId), ['FAILED']);
  await expectAwsError(associate(B, svc.arn!, bNet.id!), AccessDeniedException, 403);
});

test('RAM calls need ram:* in the caller’s identity policies; unsupported operations are well-formed errors', async () => {
  const iam = new IAMClient({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: A.credentials,
    maxAttempts: 1,
  });
  try {
    const user = await iam.send(new CreateUserCommand({ UserName: uniqueName('ram-user') }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: user.User!.UserName }));
    const userRam = ramClient({
      accessKeyId: key.AccessKey!.AccessKeyId!,
      secretAccessKey: key.AccessKey!.SecretAccessKey!,
    });
    try {
      const denied = await expectAwsError(
        userRam.send(new GetResourceSharesCommand({ resourceOwner: 'SELF' })),
        RAMServiceException,
        403,
      );
      assert.equal(denied.name, 'AccessDeniedException');
      assert.match(denied.message, /ram:GetResourceShares/);
      await iam.send(
        new PutUserPolicyCommand({
          UserName: user.User!.UserName,
          PolicyName: 'ram-read',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'ram:Get*', Resource: '*' }],
          }),
        }),
      );
      const allowed = await userRam.send(new GetResourceSharesCommand({ resourceOwner: 'SELF' }));
      assert.ok(Array.isArray(allowed.resourceShares));
      await expectAwsError(
        userRam.send(new CreateResourceShareCommand({ name: 'nope' })),
        RAMServiceException,
        403,
      );
    } finally {
      userRam.destroy();
    }
  } finally {
    iam.destroy();
  }

  // A RAM operation Trellis does not serve: a RAM error naming what is supported.
  const res = await signedFetch({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: A.credentials,
    service: 'ram',
    method: 'POST',
    path: '/listpermissions',
    body: '{}',
  });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('x-amzn-errortype'), 'OperationNotPermittedException');
  assert.match(res.text, /CreateResourceShare/);
  // Service-network VPC endpoints belong to EC2; Lattice's listing of them is not supported yet.
  const sn = await A.lattice.send(new CreateServiceNetworkCommand({ name: uniqueName('vpce') }));
  const unsupported = await expectAwsError(
    A.lattice.send(
      new ListServiceNetworkVpcEndpointAssociationsCommand({ serviceNetworkIdentifier: sn.id }),
    ),
    ValidationException,
    400,
  );
  assert.equal(unsupported.reason, 'unknownOperation');
});

test('trellis ram: A shares from the CLI, B lists and accepts the invitation, then B’s CLI sees the share', async () => {
  const svc = await A.lattice.send(new CreateServiceCommand({ name: uniqueName('cli') }));
  const asA = (...args: string[]) => runCliInProcess([...args, '--data-dir', proc.dataDir]);
  // B's keys in a credentials file of its own folder, as `trellis up` writes A's (the CLI runs
  // in this process, where the SDK's environment chain would read the runner's own variables).
  const bDir = mkdtempSync(join(tmpdir(), 'trellis-ram-cli-'));
  cleanups.push(() => rmSync(bDir, { recursive: true, force: true }));
  writeFileSync(
    join(bDir, 'credentials'),
    `[default]\naws_access_key_id = ${B.credentials.accessKeyId}\naws_secret_access_key = ${B.credentials.secretAccessKey}\n`,
  );
  const asB = (...args: string[]) =>
    runCliInProcess([
      ...args,
      '--data-dir',
      bDir,
      '--endpoint',
      proc.endpoint,
      '--region',
      proc.region,
    ]);
  const ok = (run: CliRun): CliRun => {
    assert.equal(run.code, 0, `exit ${run.code}\n${run.stdout}\n${run.stderr}`);
    return run;
  };
  const name = uniqueName('cli-share');
  const created = jsonOf<{ resourceShareArn: string; status: string }>(
    ok(
      await asA(
        'ram',
        'create-share',
        '--name',
        name,
        '--resource',
        svc.arn!,
        '--principal',
        B.accountId,
        '--output',
        'json',
      ),
    ),
  );
  assert.equal(created.status, 'ACTIVE');
  const table = ok(await asA('ram', 'list-shares')).stdout;
  assert.match(table, /│ ARN +│ NAME +│ OWNER +│ STATUS +│/);
  assert.ok(table.includes(name), table);
  const members = ok(
    await asA('ram', 'list-members', '--share', created.resourceShareArn, '--output', 'json'),
  );
  assert.deepEqual(
    jsonOf<{ associatedEntity: string; status: string }[]>(members).map((m) => [
      m.associatedEntity,
      m.status,
    ]),
    [[B.accountId, 'ASSOCIATING']],
  );
  const usage = await asA('ram', 'add', created.resourceShareArn);
  assert.equal(usage.code, 2, 'add without members is a usage error');
  assert.match(usage.stderr, /--resource or --principal/);

  const invitations = jsonOf<{ resourceShareInvitationArn: string; resourceShareArn: string }[]>(
    ok(await asB('ram', 'list-invitations', '--output', 'json')),
  );
  const mine = invitations.find((i) => i.resourceShareArn === created.resourceShareArn);
  assert.ok(mine, JSON.stringify(invitations));
  const accepted = ok(
    await asB('ram', 'accept-invitation', mine.resourceShareInvitationArn, '--output', 'json'),
  );
  assert.equal(jsonOf<{ status: string }>(accepted).status, 'ACCEPTED');
  const again = await asB('ram', 'accept-invitation', mine.resourceShareInvitationArn);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already accepted/);
  const shared = ok(await asB('ram', 'list-resources', '--owner', 'other-accounts')).stdout;
  assert.ok(shared.includes(svc.arn!), shared);
});
