/**
 * Cross-account sharing (issue 8 §4; spec §1.5 SNSA, ResourcePolicy, §2.4 SourceVpcOwnerAccount)
 * through `trellis up` and the official SDK, with two accounts: B cannot associate A's service
 * until A shares it with a resource policy; then B's network carries it and B's clients reach it,
 * with B's VPC owner in the headers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  AccessDeniedException,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  CreateServiceCommand,
  PutAuthPolicyCommand,
  PutResourcePolicyCommand,
  ResourceNotFoundException,
  UpdateServiceCommand,
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
import { createVpc } from '../support/inventory-client.js';
import { createAccount, expectAwsError, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type Credentials, type TrellisProcess } from '../support/trellis-process.js';

let proc: TrellisProcess;
let upstream: RecordingUpstream;
let a: VPCLatticeClient;
let b: VPCLatticeClient;
let bAccount: { accountId: string; credentials: Credentials };

before(async () => {
  proc = await startTrellis({ env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' } });
  upstream = await startUpstream('inventory');
  bAccount = await createAccount(proc);
  a = proc.lattice();
  b = proc.lattice(bAccount.credentials);
});
after(async () => {
  await upstream.close();
  await proc.stop();
});

function sharePolicy(resourceArn: string, accountId: string, actions: string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: actions,
        Resource: resourceArn,
      },
    ],
  });
}

test('B associates A’s service only after A shares it; B’s clients then reach it', async () => {
  // Account A: a service with a listener forwarding to an upstream in A's VPC.
  const port = randomPort();
  const aVpc = await createVpc(proc);
  const svc = await a.send(new CreateServiceCommand({ name: uniqueName('inventory') }));
  const tg = await createTargetGroup(a, aVpc, upstream.port, [{ id: '127.0.0.1' }]);
  await createListener(a, svc.id!, port, forwardTo(tg.id));

  // Account B: its own VPC (own ingress address) and service network.
  const ingressB = randomLoopback();
  const bVpc = await createVpc(proc, { ingressAddresses: [ingressB] }, bAccount.credentials);
  const bNet = await b.send(new CreateServiceNetworkCommand({ name: uniqueName('sn-b') }));
  await b.send(
    new CreateServiceNetworkVpcAssociationCommand({
      serviceNetworkIdentifier: bNet.id,
      vpcIdentifier: bVpc,
    }),
  );
  const associate = (serviceIdentifier: string) =>
    b.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceIdentifier,
        serviceNetworkIdentifier: bNet.id,
      }),
    );

  // Before the share: by ARN → 403; by bare id the resource is invisible → 404.
  const denied = await expectAwsError(associate(svc.arn!), AccessDeniedException, 403);
  assert.match(denied.message, /not shared|PutResourcePolicy/);
  await expectAwsError(associate(svc.id!), ResourceNotFoundException, 404);
  // A share naming some other account does not help B.
  await a.send(
    new PutResourcePolicyCommand({
      resourceArn: svc.arn,
      policy: sharePolicy(svc.arn!, '444455556666', [
        'vpc-lattice:CreateServiceNetworkServiceAssociation',
      ]),
    }),
  );
  await expectAwsError(associate(svc.arn!), AccessDeniedException, 403);
  assert.equal(
    await whoAnswers(ingressB, port, { host: svc.dnsEntry!.domainName!, timeoutMs: 1000 }),
    '<ECONNREFUSED>',
    'nothing listens for B before the association',
  );

  // A shares the service with B.
  await a.send(
    new PutResourcePolicyCommand({
      resourceArn: svc.arn,
      policy: sharePolicy(svc.arn!, bAccount.accountId, [
        'vpc-lattice:CreateServiceNetworkServiceAssociation',
        'vpc-lattice:GetService',
      ]),
    }),
  );
  const assoc = await associate(svc.arn!);
  assert.equal(assoc.createdBy, bAccount.accountId);
  assert.match(
    assoc.arn!,
    new RegExp(
      `^arn:aws:vpc-lattice:${proc.region}:${bAccount.accountId}:servicenetworkserviceassociation/snsa-`,
    ),
  );

  // B's client reaches A's service through B's network; the headers carry B's VPC and owner.
  const host = svc.dnsEntry!.domainName!;
  await waitFor(async () => (await whoAnswers(ingressB, port, { host })) === 'inventory', {
    message: 'B reaches the shared service',
  });
  const echo = (await send(ingressB, port, { host })).echo();
  assert.equal(echo.headers['x-amzn-source-vpc'], bVpc);
  assert.equal(
    echo.headers['x-amzn-lattice-network'],
    `SourceVpcArn=arn:aws:ec2:${proc.region}:${bAccount.accountId}:vpc/${bVpc}`,
  );
});

test('B’s VPC joins A’s service network only when A shares the network for it', async () => {
  const aNet = await a.send(new CreateServiceNetworkCommand({ name: uniqueName('sn-a') }));
  const bVpc = await createVpc(proc, {}, bAccount.credentials);
  const join = () =>
    b.send(
      new CreateServiceNetworkVpcAssociationCommand({
        serviceNetworkIdentifier: aNet.arn,
        vpcIdentifier: bVpc,
      }),
    );
  // Shared for service associations only: not enough for a VPC association.
  await a.send(
    new PutResourcePolicyCommand({
      resourceArn: aNet.arn,
      policy: sharePolicy(aNet.arn!, bAccount.accountId, [
        'vpc-lattice:CreateServiceNetworkServiceAssociation',
      ]),
    }),
  );
  await expectAwsError(join(), AccessDeniedException, 403);
  await a.send(
    new PutResourcePolicyCommand({
      resourceArn: aNet.arn,
      policy: sharePolicy(aNet.arn!, bAccount.accountId, ['vpc-lattice:Create*Association']),
    }),
  );
  const assoc = await join();
  assert.equal(assoc.status, 'ACTIVE');
  assert.equal(assoc.createdBy, bAccount.accountId);
});

/** SigV4 headers for a data-plane GET (service `vpc-lattice-svcs`, spec §2.2). */
async function signedHeaders(
  host: string,
  credentials: Credentials,
): Promise<Record<string, string>> {
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

test('A’s auth policy sees B’s accounts: SourceVpcOwnerAccount and aws:PrincipalAccount (spec §2.4)', async () => {
  const port = randomPort();
  const aVpc = await createVpc(proc);
  const svc = await a.send(new CreateServiceCommand({ name: uniqueName('guarded') }));
  const tg = await createTargetGroup(a, aVpc, upstream.port, [{ id: '127.0.0.1' }]);
  await createListener(a, svc.id!, port, forwardTo(tg.id));
  await a.send(
    new PutResourcePolicyCommand({
      resourceArn: svc.arn,
      policy: sharePolicy(svc.arn!, bAccount.accountId, [
        'vpc-lattice:CreateServiceNetworkServiceAssociation',
      ]),
    }),
  );
  const ingressB = randomLoopback();
  const bVpc = await createVpc(proc, { ingressAddresses: [ingressB] }, bAccount.credentials);
  const bNet = await b.send(new CreateServiceNetworkCommand({ name: uniqueName('sn-b') }));
  await b.send(
    new CreateServiceNetworkVpcAssociationCommand({
      serviceNetworkIdentifier: bNet.id,
      vpcIdentifier: bVpc,
    }),
  );
  await b.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceIdentifier: svc.arn,
      serviceNetworkIdentifier: bNet.id,
    }),
  );
  await a.send(new UpdateServiceCommand({ serviceIdentifier: svc.id, authType: 'AWS_IAM' }));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: '*',
        Condition: {
          StringEquals: {
            'vpc-lattice-svcs:SourceVpcOwnerAccount': bAccount.accountId,
            'aws:PrincipalAccount': bAccount.accountId,
          },
        },
      },
    ],
  };
  await a.send(
    new PutAuthPolicyCommand({ resourceIdentifier: svc.id, policy: JSON.stringify(policy) }),
  );
  const host = svc.dnsEntry!.domainName!;
  // Until AWS_IAM and the policy propagate, the service still answers as NONE (200 with no
  // identity header): wait for the answer that came through the auth gate.
  const signedByB = async () =>
    send(ingressB, port, { host, headers: await signedHeaders(host, bAccount.credentials) });
  await waitFor(
    async () => {
      const r = await signedByB();
      return r.status === 200 && r.echo().headers['x-amzn-lattice-identity'] !== undefined;
    },
    { message: 'B, signed, from B’s VPC is allowed through the auth gate' },
  );
  const echo = (await signedByB()).echo();
  assert.match(
    String(echo.headers['x-amzn-lattice-identity']),
    new RegExp(`Principal=arn:aws:iam::${bAccount.accountId}:root`),
  );
  const asA = await send(ingressB, port, {
    host,
    headers: await signedHeaders(host, proc.credentials),
  });
  assert.equal(asA.status, 403, 'A’s own principal is not B’s account');
  assert.equal((await send(ingressB, port, { host })).status, 403, 'anonymous');
});
