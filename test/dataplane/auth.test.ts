/**
 * Zero-trust auth end to end through a real `trellis up` (spec §2, §3.1, §4.1, §8): services,
 * networks and auth policies configured with `@aws-sdk/client-vpc-lattice`, identities with
 * `@aws-sdk/client-iam` / `@aws-sdk/client-sts`, data-plane calls signed by `@smithy/signature-v4`
 * and `@aws-sdk/signature-v4a` exactly as the Lattice samples sign them (service
 * `vpc-lattice-svcs`, `x-amz-content-sha256: UNSIGNED-PAYLOAD`, path encoded once).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  PutAuthPolicyCommand,
  TagResourceCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { SignatureV4a } from '@aws-sdk/signature-v4a';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AccessKey } from '../../src/model/iam-types.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  createListener,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  send,
  startUpstream,
  waitFor,
  type ClientResponse,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { signedFetch } from '../support/signed-fetch.js';
import { startTrellis, type Credentials, type TrellisProcess } from '../support/trellis-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let iam: IAMClient;
let up: RecordingUpstream;
let networkId = '';
const svc: Record<string, { id: string; arn: string; host: string }> = {};
let roleArn = '';
let order: Credentials & { sessionArn: string };
let expiring: Credentials & { sessionArn: string };
let alice: Credentials;
let aliceArn = '';

const doc = (statements: object[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

interface CallOptions {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Credentials to sign with; omitted → unsigned (anonymous). */
  creds?: Credentials;
  v4a?: boolean;
  payloadHash?: string;
  /** Headers added after signing (forgery, tampering). */
  raw?: Record<string, string>;
}

async function call(name: string, o: CallOptions = {}): Promise<ClientResponse> {
  const host = svc[name]!.host;
  const method = o.method ?? 'GET';
  const path = o.path ?? '/';
  const qs = new URLSearchParams(o.query ?? {}).toString();
  if (o.creds === undefined)
    return send(ingress, port, {
      host,
      method,
      path: qs ? `${path}?${qs}` : path,
      headers: { ...o.headers, ...o.raw },
    });
  const request = new HttpRequest({
    method,
    protocol: 'http:',
    hostname: host,
    path,
    query: o.query ?? {},
    headers: { host, 'x-amz-content-sha256': o.payloadHash ?? 'UNSIGNED-PAYLOAD', ...o.headers },
  });
  const common = {
    service: 'vpc-lattice-svcs',
    credentials: o.creds,
    sha256: Sha256,
    uriEscapePath: false, // spec §2.2: the Lattice samples disable double path escaping
    applyChecksum: false,
  };
  const signed = o.v4a
    ? await new SignatureV4a({ ...common, region: '*' }).sign(request, {})
    : await new SignatureV4({ ...common, region: proc.region }).sign(request);
  return send(ingress, port, {
    host,
    method,
    path: qs ? `${path}?${qs}` : path,
    headers: { ...(signed.headers as Record<string, string>), ...o.raw },
  });
}

const denial = (user: string, name: string, path: string, tail: string): string =>
  `AccessDeniedException: User: ${user} is not authorized to perform: vpc-lattice-svcs:Invoke on resource: ${svc[name]!.arn}${path} ${tail}\n`;
const NO_SERVICE_ALLOW =
  'because no service-based policy allows the vpc-lattice-svcs:Invoke action';

async function assumeOrder(sessionName: string): Promise<Credentials & { sessionArn: string }> {
  const sts = new STSClient({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: proc.credentials,
    maxAttempts: 1,
  });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        Tags: [{ Key: 'tier', Value: 'gold' }],
      }),
    );
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
      sessionArn: out.AssumedRoleUser!.Arn!,
    };
  } finally {
    sts.destroy();
  }
}

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
  iam = new IAMClient({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: proc.credentials,
    maxAttempts: 1,
  });
  up = await startUpstream('target');
  const vpcId = defaultVpcId(proc.accountId);

  const sn = await lattice.send(
    new CreateServiceNetworkCommand({ name: uniqueName('zt'), authType: 'AWS_IAM' }),
  );
  networkId = sn.id!;
  await lattice.send(
    new CreateServiceNetworkVpcAssociationCommand({
      serviceNetworkIdentifier: networkId,
      vpcIdentifier: vpcId,
    }),
  );
  for (const name of ['inventory', 'delivery', 'open']) {
    // spec §1.5: a target group serves one service, so one group each, all on the same upstream.
    const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: '127.0.0.1' }]);
    const s = await lattice.send(
      new CreateServiceCommand({ name: uniqueName(name), authType: 'AWS_IAM' }),
    );
    await lattice.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceNetworkIdentifier: networkId,
        serviceIdentifier: s.id,
      }),
    );
    await createListener(lattice, s.id!, port, forwardTo(tg.id));
    svc[name] = { id: s.id!, arn: s.arn!, host: s.dnsEntry!.domainName! };
  }

  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: 'Order',
      AssumeRolePolicyDocument: doc([
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${proc.accountId}:root` },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        },
      ]),
      Tags: [{ Key: 'team', Value: 'orders' }],
    }),
  );
  roleArn = role.Role!.Arn!;
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'Order',
      PolicyName: 'invoke-services',
      PolicyDocument: doc([{ Effect: 'Allow', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' }]),
    }),
  );
  const user = await iam.send(new CreateUserCommand({ UserName: uniqueName('alice') }));
  aliceArn = user.User!.Arn!;
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: user.User!.UserName }));
  alice = {
    accessKeyId: key.AccessKey!.AccessKeyId!,
    secretAccessKey: key.AccessKey!.SecretAccessKey!,
  };
  order = await assumeOrder('order-1');
  expiring = await assumeOrder('order-2');

  // Network: everyone may call, except /admin (explicit deny) — spec §2.1 step 5.
  const put = (resourceIdentifier: string, statements: object[]) =>
    lattice.send(new PutAuthPolicyCommand({ resourceIdentifier, policy: doc(statements) }));
  await put(networkId, [
    { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
    { Sid: 'NoAdmin', Effect: 'Deny', Principal: '*', Action: '*', Resource: '*/admin*' },
  ]);
  // The announcement: Order may GET /stock on Inventory and call /delivery* on Delivery.
  await put(svc.inventory!.id, [
    {
      Effect: 'Allow',
      Principal: { AWS: roleArn },
      Action: 'vpc-lattice-svcs:Invoke',
      Resource: `${svc.inventory!.arn}/stock`,
      Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': 'GET' } },
    },
  ]);
  await put(svc.delivery!.id, [
    {
      Effect: 'Allow',
      Principal: { AWS: roleArn },
      Action: 'vpc-lattice-svcs:Invoke',
      Resource: `${svc.delivery!.arn}/delivery*`,
    },
  ]);
  await put(svc.open!.id, [
    { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
    {
      Sid: 'NoDebug',
      Effect: 'Deny',
      Principal: '*',
      Action: 'vpc-lattice-svcs:Invoke',
      Resource: '*',
      Condition: { StringEquals: { 'vpc-lattice-svcs:RequestHeader/x-debug': 'on' } },
    },
  ]);
  await waitFor(async () => (await call('open', { path: '/ready' })).status === 200, {
    timeoutMs: 10_000,
    message: 'the open service never answered',
  });
});

after(async () => {
  lattice?.destroy();
  iam?.destroy();
  await proc?.stop();
  await up?.close();
});

describe('the announcement policy (spec §2.1, §2.5)', () => {
  test('Order GET /stock on Inventory → 200; the target receives the identity headers', async () => {
    const r = await call('inventory', { path: '/stock', creds: order });
    assert.equal(r.status, 200, r.body);
    const seen = r.echo().headers;
    assert.equal(
      seen['x-amzn-lattice-identity'],
      `Principal=${order.sessionArn}; SessionName=order-1; Type=AWS_IAM`,
    );
    assert.equal(
      seen['x-amzn-lattice-identity-tags'],
      `principal=${order.sessionArn};team=orders;tier=gold`,
    );
  });

  test('Order POST /stock on Inventory → 403 with the §2.5 message', async () => {
    const r = await call('inventory', { method: 'POST', path: '/stock', creds: order });
    assert.equal(r.status, 403);
    assert.equal(r.body, denial(order.sessionArn, 'inventory', '/stock', NO_SERVICE_ALLOW));
  });

  for (const [method, path] of [
    ['GET', '/delivery'],
    ['POST', '/delivery/42'],
    ['DELETE', '/delivery-slots/7'],
  ] as const) {
    test(`Order ${method} ${path} on Delivery (SigV4A) → 200`, async () => {
      const r = await call('delivery', { method, path, creds: order, v4a: true });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.echo().method, method);
    });
  }

  test('Order GET /stock on Delivery → 403 (not in its policy)', async () => {
    const r = await call('delivery', { path: '/stock', creds: order });
    assert.equal(r.status, 403);
    assert.equal(r.body, denial(order.sessionArn, 'delivery', '/stock', NO_SERVICE_ALLOW));
  });
});

describe('anonymous callers (spec §2.2)', () => {
  test('allowed by "Principal": "*"; no identity headers; forged ones stripped', async () => {
    const r = await call('open', {
      path: '/hello',
      headers: {
        'x-amzn-lattice-identity': `Principal=arn:aws:iam::${proc.accountId}:root; Type=AWS_IAM`,
        'x-amzn-lattice-identity-tags': 'principal=forged',
      },
    });
    assert.equal(r.status, 200, r.body);
    const seen = r.echo().headers;
    assert.equal(seen['x-amzn-lattice-identity'], undefined);
    assert.equal(seen['x-amzn-lattice-identity-tags'], undefined);
  });

  test('a signed caller gets its own identity, never the forged one', async () => {
    const r = await call('open', {
      path: '/hello',
      creds: order,
      raw: { 'x-amzn-lattice-identity': 'Principal=forged; Type=AWS_IAM' },
    });
    assert.equal(r.status, 200, r.body);
    assert.match(String(r.echo().headers['x-amzn-lattice-identity']), /^Principal=arn:aws:sts::/);
  });

  test('not allowed where the policy names a principal → 403, User: anonymous', async () => {
    const r = await call('inventory', { path: '/stock' });
    assert.equal(r.status, 403);
    assert.equal(r.body, denial('anonymous', 'inventory', '/stock', NO_SERVICE_ALLOW));
  });
});

describe('denials at each level (spec §2.1, §4.1 authDeniedReason)', () => {
  const cases: {
    name: string;
    service: string;
    o: () => CallOptions;
    body: () => string;
  }[] = [
    {
      name: 'Network: explicit deny on /admin*, even for an allowed caller',
      service: 'open',
      o: () => ({ path: '/admin/users', creds: order }),
      body: () =>
        denial(
          order.sessionArn,
          'open',
          '/admin/users',
          'with an explicit deny in a service network-based policy',
        ),
    },
    {
      name: 'Service: explicit deny on a request header',
      service: 'open',
      o: () => ({ path: '/x', creds: order, headers: { 'x-debug': 'on' } }),
      body: () =>
        denial(order.sessionArn, 'open', '/x', 'with an explicit deny in a service-based policy'),
    },
    {
      name: 'Identity: a user with no identity policy',
      service: 'open',
      o: () => ({ path: '/x', creds: alice }),
      body: () =>
        denial(
          aliceArn,
          'open',
          '/x',
          'because no identity-based policy allows the vpc-lattice-svcs:Invoke action',
        ),
    },
  ];
  for (const tc of cases) {
    test(tc.name, async () => {
      const r = await call(tc.service, tc.o());
      assert.equal(r.status, 403);
      assert.equal(r.body, tc.body());
    });
  }
});

describe('authentication (spec §2.2)', () => {
  test('a bad signature is refused even where anonymous access is allowed', async () => {
    const r = await call('open', {
      path: '/x',
      creds: { ...order, secretAccessKey: 'not-the-secret' },
    });
    assert.equal(r.status, 403);
    assert.match(r.body, /^InvalidSignatureException: The request signature we calculated/);
  });

  test('changing a signed header after signing is refused', async () => {
    const r = await call('open', {
      path: '/x',
      creds: order,
      headers: { 'x-amount': '10' },
      raw: { 'x-amount': '1000' },
    });
    assert.equal(r.status, 403);
    assert.match(r.body, /^InvalidSignatureException/);
  });

  test('a signed payload gets a clear 400', async () => {
    const r = await call('open', {
      path: '/x',
      creds: order,
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /Payload signing is not supported/);
  });

  test('expired temporary credentials are refused', async () => {
    assert.equal((await call('open', { path: '/x', creds: expiring })).status, 200);
    // Move the session's expiration into the past in the store file, then make the control
    // plane publish a new snapshot (any write) so the data plane sees the record as it is now.
    const store = createSqliteStore({ filename: join(proc.dataDir, 'trellis.db') });
    try {
      await store.transact(async (tx) => {
        const key = await tx.get<AccessKey>('access-key', expiring.accessKeyId);
        assert.ok(key, 'session key stored');
        await tx.update({
          kind: 'access-key',
          id: key.id,
          accountId: key.accountId,
          parentId: key.parentId,
          data: { ...key.data, expiration: new Date(Date.now() - 1000).toISOString() },
        });
      });
    } finally {
      await store.close();
    }
    await lattice.send(
      new TagResourceCommand({ resourceArn: svc.open!.arn, tags: { touched: 'yes' } }),
    );
    const r = await waitFor(
      async () => {
        const x = await call('open', { path: '/x', creds: expiring });
        return x.status === 403 ? x : undefined;
      },
      { timeoutMs: 10_000, message: 'expired session still accepted' },
    );
    assert.equal(
      r!.body,
      'ExpiredTokenException: The security token included in the request is expired\n',
    );
  });
});

describe('path tricks: routing and authorization see one path', () => {
  for (const path of [
    '/stock/../admin',
    '/stock/%2e%2e/admin',
    '/stock%2Fadmin',
    '/a\\..\\admin',
  ]) {
    test(`${path} → 400`, async () => {
      const r = await call('open', { path, creds: order });
      assert.equal(r.status, 400, r.body);
    });
  }

  test('//stock is merged: allowed as /stock and the target sees /stock', async () => {
    const r = await call('inventory', { path: '//stock', creds: order });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.echo().url, '/stock');
  });

  test('//admin cannot slip past the network deny', async () => {
    const r = await call('open', { path: '//admin', creds: order });
    assert.equal(r.status, 403);
  });

  test('case is significant: /STOCK is not /stock', async () => {
    const r = await call('inventory', { path: '/STOCK', creds: order });
    assert.equal(r.status, 403);
  });
});

describe('SimulateAuth (POST /_trellis/auth/simulate) decides as the data plane does', () => {
  interface Simulation {
    decision: string;
    authDeniedReason?: string;
    message: string;
    levels: {
      level: string;
      effect: string;
      policies: { effect: string; statement?: { index: number; sid?: string } }[];
    }[];
    identityHeaders?: Record<string, string>;
    explanation: string[];
  }
  async function simulate(body: object): Promise<{ status: number; out: Simulation }> {
    const r = await signedFetch({
      endpoint: proc.endpoint,
      region: proc.region,
      credentials: proc.credentials,
      method: 'POST',
      path: '/_trellis/auth/simulate',
      body: JSON.stringify(body),
    });
    return { status: r.status, out: r.json() as Simulation };
  }

  const cases: { name: string; body: () => object; call: () => [string, CallOptions] }[] = [
    {
      name: 'Order GET /stock on Inventory',
      body: () => ({ principal: order.sessionArn, service: svc.inventory!.id, path: '/stock' }),
      call: () => ['inventory', { path: '/stock', creds: order }],
    },
    {
      name: 'Order POST /stock on Inventory',
      body: () => ({
        principal: order.sessionArn,
        service: svc.inventory!.arn,
        method: 'POST',
        path: '/stock',
      }),
      call: () => ['inventory', { method: 'POST', path: '/stock', creds: order }],
    },
    {
      name: 'anonymous on /admin (network deny)',
      body: () => ({ principal: 'anonymous', service: svc.open!.id, path: '/admin' }),
      call: () => ['open', { path: '/admin' }],
    },
    {
      name: 'Order with x-debug: on (service deny on a header)',
      body: () => ({
        principal: order.sessionArn,
        service: svc.open!.id,
        path: '/x',
        headers: { 'X-Debug': 'on' },
      }),
      call: () => ['open', { path: '/x', creds: order, headers: { 'x-debug': 'on' } }],
    },
    {
      name: 'alice (no identity policy)',
      body: () => ({ principal: aliceArn, service: svc.open!.id, path: '/x' }),
      call: () => ['open', { path: '/x', creds: alice }],
    },
  ];
  for (const tc of cases) {
    test(`${tc.name}: same decision and message as a real call`, async () => {
      const { status, out } = await simulate(tc.body());
      assert.equal(status, 200, JSON.stringify(out));
      const [name, o] = tc.call();
      const real = await call(name, o);
      assert.equal(out.decision, real.status === 200 ? 'ALLOW' : 'DENY');
      if (real.status !== 200) assert.equal(`${out.message}\n`, real.body);
      assert.ok(out.explanation.length >= 4, out.explanation.join('\n'));
    });
  }

  test('names the deciding statement of each policy', async () => {
    const { out } = await simulate({
      principal: 'anonymous',
      service: svc.open!.id,
      path: '/admin',
    });
    assert.equal(out.authDeniedReason, 'Network');
    const network = out.levels.find((l) => l.level === 'Network')!;
    assert.equal(network.effect, 'Deny');
    assert.deepEqual(network.policies[0]!.statement, { index: 1, sid: 'NoAdmin' });
    assert.match(out.explanation.join('\n'), /Statement\[1\] \(Sid "NoAdmin"\)/);
  });

  test('a role ARN is simulated as a session of the role, with its identity headers', async () => {
    const { out } = await simulate({
      principal: roleArn,
      service: svc.inventory!.id,
      path: '/stock',
      sessionTags: { tier: 'gold' },
    });
    assert.equal(out.decision, 'ALLOW');
    assert.match(out.identityHeaders!['x-amzn-lattice-identity']!, /SessionName=trellis-simulate/);
    assert.match(out.identityHeaders!['x-amzn-lattice-identity-tags']!, /tier=gold/);
  });

  test('a path the data plane refuses is a ValidationException', async () => {
    const { status } = await simulate({
      principal: 'anonymous',
      service: svc.open!.id,
      path: '/a/../admin',
    });
    assert.equal(status, 400);
  });
});

describe('CLI: trellis auth simulate and trellis curl', () => {
  const trellis = async (
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        [join(ROOT, 'bin/trellis.js'), ...args, '--data-dir', proc.dataDir],
        {
          env: {
            ...process.env,
            AWS_ACCESS_KEY_ID: '',
            AWS_SECRET_ACCESS_KEY: '',
            AWS_PROFILE: '',
          },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  test('auth simulate explains an allow and a deny', async () => {
    const allow = await trellis(
      'auth',
      'simulate',
      '--principal',
      roleArn,
      '--service',
      svc.inventory!.id,
      '--method',
      'GET',
      '--path',
      '/stock',
    );
    assert.equal(allow.code, 0, allow.stderr);
    assert.match(allow.stdout, /^Decision: ALLOW/);
    assert.match(allow.stdout, /Target receives x-amzn-lattice-identity: Principal=arn:aws:sts::/);
    const deny = await trellis(
      'auth',
      'simulate',
      '--principal',
      'anonymous',
      '--service',
      svc.open!.id,
      '--path',
      '/x',
      '--header',
      'x-debug=on',
      '-o',
      'json',
    );
    assert.equal(deny.code, 0, deny.stderr);
    const out = JSON.parse(deny.stdout) as { decision: string; authDeniedReason: string };
    assert.equal(out.decision, 'DENY');
    assert.equal(out.authDeniedReason, 'Service');
  });

  test('curl --role signs with a session of the role; -i prints status and headers', async () => {
    const url = `http://${svc.inventory!.host}:${port}/stock`;
    const ok = await trellis('curl', '-i', '--role', 'Order', '--connect-to', ingress, url);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^HTTP\/1\.1 200 OK\n/);
    const echoed = JSON.parse(ok.stdout.slice(ok.stdout.indexOf('\n\n') + 2)) as {
      headers: Record<string, string>;
    };
    assert.match(echoed.headers['x-amzn-lattice-identity']!, /assumed-role\/Order\/trellis-curl/);
    const denied = await trellis(
      'curl',
      '-f',
      '-X',
      'POST',
      '--role',
      'Order',
      '--connect-to',
      ingress,
      url,
    );
    assert.equal(denied.code, 22);
    assert.match(denied.stderr, /403 Forbidden/);
    assert.match(
      denied.stdout,
      /^AccessDeniedException: User: arn:aws:sts::\d+:assumed-role\/Order\/trellis-curl/,
    );
  });
});
