/**
 * Lambda targets behind zero-trust auth (issue 6, spec §2, §3.3) against a real `trellis up`:
 * a SigV4-signed caller reaches an `AWS_IAM` service whose target is a local function, and the
 * V2 event names that caller in `requestContext.identity`; and the announcement's Order function
 * calls Inventory with its execution role's credentials — allowed where Inventory's auth policy
 * allows the role, 403 with the Lattice message where it does not.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateTargetGroupCommand,
  PutAuthPolicyCommand,
  RegisterTargetsCommand,
  type RuleAction,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  createListener,
  createNetwork,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  send,
  startUpstream,
  waitFor,
  type ClientResponse,
  type Network,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type Credentials, type TrellisProcess } from '../support/trellis-process.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let lambda: LambdaClient;
let iam: IAMClient;
let net: Network;
let inventoryUpstream: RecordingUpstream;

const doc = (statements: object[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

interface Service {
  id: string;
  arn: string;
  host: string;
}

/** An `AWS_IAM` service in the network, forwarding to `action`, with auth policy `statements`. */
async function iamService(
  stem: string,
  action: RuleAction,
  statements: object[],
): Promise<Service> {
  const s = await lattice.send(
    new CreateServiceCommand({ name: uniqueName(stem), authType: 'AWS_IAM' }),
  );
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: s.id,
    }),
  );
  await lattice.send(
    new PutAuthPolicyCommand({ resourceIdentifier: s.id, policy: doc(statements) }),
  );
  await createListener(lattice, s.id!, port, action);
  const svc = { id: s.id!, arn: s.arn!, host: s.dnsEntry!.domainName! };
  // Served once the listener is live: an unsigned call is refused by auth (403), not 404.
  await waitFor(
    async () => {
      const r = await send(ingress, port, { host: svc.host }).catch(() => undefined);
      return r !== undefined && r.status !== 404;
    },
    { timeoutMs: 10_000, message: `${stem} is served` },
  );
  return svc;
}

/** A LAMBDA target group (V2 events) targeting `functionArn`. */
async function lambdaGroup(functionArn: string): Promise<string> {
  const tg = await lattice.send(
    new CreateTargetGroupCommand({
      name: uniqueName('fn-tg'),
      type: 'LAMBDA',
      config: { lambdaEventStructureVersion: 'V2' },
    }),
  );
  const reg = await lattice.send(
    new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: functionArn }] }),
  );
  assert.deepEqual(reg.unsuccessful ?? [], []);
  return tg.id!;
}

async function createFunction(handler: string, extra: Record<string, unknown> = {}) {
  const name = uniqueName('fn');
  const out = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Handler: handler,
      Role: undefined as unknown as string,
      Code: { S3Bucket: 'trellis-local', S3Key: FIXTURES },
      Timeout: 20,
      ...extra,
    }),
  );
  return { name, arn: out.FunctionArn! };
}

/** A request to `svc` through the data plane, SigV4-signed as the Lattice samples sign. */
async function signedCall(
  svc: Service,
  creds: Credentials,
  o: { method?: string; path?: string } = {},
): Promise<ClientResponse> {
  const method = o.method ?? 'GET';
  const path = o.path ?? '/';
  const signed = await new SignatureV4({
    service: 'vpc-lattice-svcs',
    region: proc.region,
    credentials: creds,
    sha256: Sha256,
    uriEscapePath: false, // spec §2.2: the Lattice samples disable double path escaping
    applyChecksum: false,
  }).sign({
    method,
    protocol: 'http:',
    hostname: svc.host,
    path,
    query: {},
    headers: { host: svc.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  return send(ingress, port, {
    host: svc.host,
    method,
    path,
    headers: signed.headers as Record<string, string>,
  });
}

/** spec §2.1 step 2: a signed caller also needs an identity policy allowing Invoke. */
const INVOKE_ANYTHING = doc([
  { Effect: 'Allow', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
]);

const denial = (principal: string, resource: string): string =>
  `AccessDeniedException: User: ${principal} is not authorized to perform: vpc-lattice-svcs:Invoke on resource: ${resource} because no service-based policy allows the vpc-lattice-svcs:Invoke action\n`;

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  const client = { endpoint: proc.endpoint, region: proc.region, credentials: proc.credentials };
  lattice = proc.lattice();
  lambda = new LambdaClient({ ...client, maxAttempts: 1 });
  iam = new IAMClient({ ...client, maxAttempts: 1 });
  net = await createNetwork(lattice, defaultVpcId(proc.accountId));
  inventoryUpstream = await startUpstream('inventory');
});

after(async () => {
  lattice?.destroy();
  lambda?.destroy();
  iam?.destroy();
  await proc?.stop();
  await inventoryUpstream?.close();
});

describe('a signed caller of an AWS_IAM service with a LAMBDA target (spec §3.3)', () => {
  let svc: Service;
  let alice: Credentials;
  let aliceArn: string;
  let session: Credentials & { arn: string };
  let roleArn: string;

  before(async () => {
    const user = await iam.send(new CreateUserCommand({ UserName: uniqueName('alice') }));
    aliceArn = user.User!.Arn!;
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: user.User!.UserName }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: user.User!.UserName,
        PolicyName: 'invoke-services',
        PolicyDocument: INVOKE_ANYTHING,
      }),
    );
    alice = {
      accessKeyId: key.AccessKey!.AccessKeyId!,
      secretAccessKey: key.AccessKey!.SecretAccessKey!,
    };
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: uniqueName('Checkout'),
        AssumeRolePolicyDocument: doc([
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${proc.accountId}:root` },
            Action: 'sts:AssumeRole',
          },
        ]),
      }),
    );
    roleArn = role.Role!.Arn!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role.Role!.RoleName,
        PolicyName: 'invoke-services',
        PolicyDocument: INVOKE_ANYTHING,
      }),
    );
    const sts = new STSClient({
      endpoint: proc.endpoint,
      region: proc.region,
      credentials: proc.credentials,
      maxAttempts: 1,
    });
    const assumed = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'checkout-7' }),
    );
    sts.destroy();
    session = {
      accessKeyId: assumed.Credentials!.AccessKeyId!,
      secretAccessKey: assumed.Credentials!.SecretAccessKey!,
      sessionToken: assumed.Credentials!.SessionToken!,
      arn: assumed.AssumedRoleUser!.Arn!,
    };
    const fn = await createFunction('echo-event.handler');
    svc = await iamService('echo-auth', forwardTo(await lambdaGroup(fn.arn)), [
      {
        Effect: 'Allow',
        Principal: { AWS: [aliceArn, roleArn] },
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: '*',
      },
    ]);
  });

  const sourceVpcArn = (): string =>
    `arn:aws:ec2:${proc.region}:${proc.accountId}:vpc/${defaultVpcId(proc.accountId)}`;

  it('an IAM user: requestContext.identity carries its principal and type', async () => {
    const r = await signedCall(svc, alice, { path: '/cart' });
    assert.equal(r.status, 200, r.body);
    const event = JSON.parse(r.body) as { path: string; requestContext: { identity: unknown } };
    assert.equal(event.path, '/cart');
    assert.deepEqual(event.requestContext.identity, {
      sourceVpcArn: sourceVpcArn(),
      type: 'AWS_IAM',
      principal: aliceArn,
    });
  });

  it('an assumed-role session: the session ARN and its session name', async () => {
    const r = await signedCall(svc, session, { method: 'POST', path: '/pay' });
    assert.equal(r.status, 200, r.body);
    const event = JSON.parse(r.body) as { method: string; requestContext: { identity: unknown } };
    assert.equal(event.method, 'POST');
    assert.deepEqual(event.requestContext.identity, {
      sourceVpcArn: sourceVpcArn(),
      type: 'AWS_IAM',
      principal: session.arn,
      sessionName: 'checkout-7',
    });
  });

  it('an unsigned caller is refused by the service auth policy (403 anonymous)', async () => {
    const r = await send(ingress, port, { host: svc.host, path: '/cart' });
    assert.equal(r.status, 403);
    assert.match(r.body, /^AccessDeniedException: User: anonymous is not authorized/);
  });
});

describe("the Order function calls Inventory with its execution role's credentials", () => {
  let inventory: Service;
  let order: Service;
  let fnName: string;
  let orderRoleName: string;

  before(async () => {
    orderRoleName = uniqueName('Order');
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: orderRoleName,
        AssumeRolePolicyDocument: doc([
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ]),
      }),
    );
    const roleArn = role.Role!.Arn!;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: orderRoleName,
        PolicyName: 'invoke-services',
        PolicyDocument: INVOKE_ANYTHING,
      }),
    );
    const vpcId = defaultVpcId(proc.accountId);
    const tg = await createTargetGroup(lattice, vpcId, inventoryUpstream.port, [
      { id: '127.0.0.1' },
    ]);
    // The announcement: Order may GET /stock on Inventory, nothing else.
    inventory = await iamService('inventory', forwardTo(tg.id), [
      {
        Effect: 'Allow',
        Principal: { AWS: roleArn },
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: `*/stock`,
        Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': 'GET' } },
      },
    ]);
    const fn = await createFunction('order-calls-inventory.handler', {
      Role: roleArn,
      Environment: {
        Variables: {
          INVENTORY_HOST: inventory.host,
          DATAPLANE_ADDRESS: ingress,
          DATAPLANE_PORT: String(port),
        },
      },
    });
    fnName = fn.name;
    order = await iamService('order', forwardTo(await lambdaGroup(fn.arn)), [
      { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
    ]);
  });

  const sessionArn = (): string =>
    `arn:aws:sts::${proc.accountId}:assumed-role/${orderRoleName}/${fnName}`;

  it('GET /stock is allowed: Inventory sees the function role session as the caller', async () => {
    const before = inventoryUpstream.requests.length;
    const r = await send(ingress, port, { host: order.host, path: '/stock' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-called'], 'inventory');
    assert.equal(r.echo().url, '/stock');
    const seen = inventoryUpstream.requests.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(
      seen[0]!.headers['x-amzn-lattice-identity'],
      `Principal=${sessionArn()}; SessionName=${fnName}; Type=AWS_IAM`,
    );
  });

  it('POST /stock is denied by the Inventory policy: 403 with the Lattice message', async () => {
    const before = inventoryUpstream.requests.length;
    const r = await send(ingress, port, { host: order.host, method: 'POST', path: '/stock' });
    assert.equal(r.status, 403, r.body);
    assert.equal(r.headers['x-called'], 'inventory');
    assert.equal(r.body, denial(sessionArn(), `${inventory.arn}/stock`));
    assert.equal(inventoryUpstream.requests.length, before, 'Inventory never saw the request');
  });

  it('GET /admin is not in the policy either', async () => {
    const r = await send(ingress, port, { host: order.host, path: '/admin' });
    assert.equal(r.status, 403);
    assert.equal(r.body, denial(sessionArn(), `${inventory.arn}/admin`));
  });
});
