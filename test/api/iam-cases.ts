/**
 * IAM and STS behaviour every Trellis deployment must share, run with the official
 * `@aws-sdk/client-iam`, `@aws-sdk/client-sts` and `@aws-sdk/client-vpc-lattice` (issue auth §1).
 * `iam.test.ts`/`sts.test.ts` run these cases against a real `trellis up`; the in-process suite
 * runs them against the API edge on an in-memory store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteConflictException,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  LimitExceededException,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  TagRoleCommand,
  TagUserCommand,
  UntagRoleCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  AccessDeniedException,
  CreateServiceCommand,
  CreateServiceNetworkCommand,
  ListServiceNetworksCommand,
  VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A running control plane the cases talk to. */
export interface IamTarget {
  endpoint: string;
  region: string;
  accountId: string;
  /** The bootstrap administrator (account root). */
  credentials: Credentials;
  /** Makes a session's temporary credentials expired; says how in `expiryMethod`. */
  expireSession(accessKeyId: string): Promise<void>;
  readonly expiryMethod: string;
  stop(): Promise<void>;
}

const ADMIN_ONLY = Symbol('admin');

function clients(t: IamTarget, creds: Credentials | typeof ADMIN_ONLY = ADMIN_ONLY) {
  const credentials = creds === ADMIN_ONLY ? t.credentials : creds;
  const common = { endpoint: t.endpoint, region: t.region, credentials, maxAttempts: 1 };
  return {
    iam: new IAMClient(common),
    sts: new STSClient(common),
    lattice: new VPCLatticeClient(common),
  };
}

function policy(statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function trustAccount(accountId: string, actions: string[] = ['sts:AssumeRole']): string {
  return policy([
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: actions },
  ]);
}

async function rejects(p: Promise<unknown>, check: (e: Error & Record<string, unknown>) => void) {
  try {
    await p;
  } catch (err) {
    check(err as Error & Record<string, unknown>);
    return;
  }
  assert.fail('expected the call to fail');
}

function status(e: Record<string, unknown>): number | undefined {
  return (e.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode;
}

/** IAM users, roles, keys, inline policies and tags through `@aws-sdk/client-iam`. */
export function iamCases(start: () => Promise<IamTarget>): void {
  let t: IamTarget;
  let iam: IAMClient;
  before(async () => {
    t = await start();
    iam = clients(t).iam;
  });
  after(async () => {
    iam?.destroy();
    await t?.stop();
  });

  it('CreateRole answers the Role shape: AROA id, ARN with path, URL-encoded trust policy', async () => {
    const trust = trustAccount(t.accountId);
    const out = await iam.send(
      new CreateRoleCommand({
        RoleName: 'checkout',
        Path: '/services/',
        AssumeRolePolicyDocument: trust,
        Description: 'the checkout service',
        Tags: [{ Key: 'team', Value: 'payments' }],
      }),
    );
    const role = out.Role!;
    assert.equal(role.RoleName, 'checkout');
    assert.equal(role.Path, '/services/');
    assert.equal(role.Arn, `arn:aws:iam::${t.accountId}:role/services/checkout`);
    assert.match(role.RoleId!, /^AROA[A-Z2-7]{17}$/);
    assert.equal(role.MaxSessionDuration, 3600);
    assert.equal(role.Description, 'the checkout service');
    assert.ok(role.CreateDate instanceof Date);
    assert.notEqual(role.AssumeRolePolicyDocument, trust, 'IAM returns the document URL-encoded');
    assert.equal(decodeURIComponent(role.AssumeRolePolicyDocument!), trust);
    assert.deepEqual(role.Tags, [{ Key: 'team', Value: 'payments' }]);

    const got = await iam.send(new GetRoleCommand({ RoleName: 'checkout' }));
    assert.equal(got.Role!.Arn, role.Arn);
    assert.equal(got.Role!.RoleId, role.RoleId);
    const list = await iam.send(new ListRolesCommand({ PathPrefix: '/services/' }));
    assert.deepEqual(
      list.Roles!.map((r) => r.RoleName),
      ['checkout'],
    );
    assert.equal(list.IsTruncated, false);
  });

  const errorCases: {
    name: string;
    call: () => Promise<unknown>;
    type: new (...args: never[]) => Error;
    status: number;
    message?: RegExp;
  }[] = [
    {
      name: 'GetRole of a missing role → NoSuchEntityException 404',
      call: () => iam.send(new GetRoleCommand({ RoleName: 'missing' })),
      type: NoSuchEntityException,
      status: 404,
      message: /The role with name missing cannot be found/,
    },
    {
      name: 'CreateRole with a taken name (any case) → EntityAlreadyExistsException 409',
      call: () =>
        iam.send(
          new CreateRoleCommand({
            RoleName: 'CHECKOUT',
            AssumeRolePolicyDocument: trustAccount(t.accountId),
          }),
        ),
      type: EntityAlreadyExistsException,
      status: 409,
    },
    {
      name: 'CreateRole with a trust policy that is not JSON → MalformedPolicyDocumentException 400',
      call: () =>
        iam.send(new CreateRoleCommand({ RoleName: 'bad1', AssumeRolePolicyDocument: '{' })),
      type: MalformedPolicyDocumentException,
      status: 400,
    },
    {
      name: 'CreateRole with a trust policy without Principal → MalformedPolicyDocumentException',
      call: () =>
        iam.send(
          new CreateRoleCommand({
            RoleName: 'bad2',
            AssumeRolePolicyDocument: policy([{ Effect: 'Allow', Action: 'sts:AssumeRole' }]),
          }),
        ),
      type: MalformedPolicyDocumentException,
      status: 400,
    },
    {
      name: 'PutRolePolicy with a Principal in an identity policy → MalformedPolicyDocumentException',
      call: () =>
        iam.send(
          new PutRolePolicyCommand({
            RoleName: 'checkout',
            PolicyName: 'p',
            PolicyDocument: policy([
              { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice:*', Resource: '*' },
            ]),
          }),
        ),
      type: MalformedPolicyDocumentException,
      status: 400,
    },
    {
      name: 'PutRolePolicy on a missing role → NoSuchEntityException',
      call: () =>
        iam.send(
          new PutRolePolicyCommand({
            RoleName: 'missing',
            PolicyName: 'p',
            PolicyDocument: policy([{ Effect: 'Allow', Action: '*', Resource: '*' }]),
          }),
        ),
      type: NoSuchEntityException,
      status: 404,
    },
    {
      name: 'DeleteUser of a missing user → NoSuchEntityException',
      call: () => iam.send(new DeleteUserCommand({ UserName: 'nobody' })),
      type: NoSuchEntityException,
      status: 404,
    },
  ];
  for (const c of errorCases) {
    it(c.name, async () => {
      await rejects(c.call(), (e) => {
        assert.ok(e instanceof c.type, `expected ${c.type.name}, got ${e.name}: ${e.message}`);
        assert.equal(status(e), c.status);
        if (c.message) assert.match(e.message, c.message);
      });
    });
  }

  it('an invalid role name answers ValidationError 400', async () => {
    await rejects(
      iam.send(
        new CreateRoleCommand({
          RoleName: 'has space',
          AssumeRolePolicyDocument: trustAccount(t.accountId),
        }),
      ),
      (e) => {
        assert.equal(e.name, 'ValidationError');
        assert.equal(status(e), 400);
        assert.match(e.message, /roleName/);
      },
    );
  });

  it('inline role policies: put, get (URL-encoded), list, delete; DeleteRole waits for them', async () => {
    const doc = policy([{ Effect: 'Allow', Action: 'vpc-lattice:Get*', Resource: '*' }]);
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'checkout', PolicyName: 'read', PolicyDocument: doc }),
    );
    const got = await iam.send(
      new GetRolePolicyCommand({ RoleName: 'checkout', PolicyName: 'read' }),
    );
    assert.equal(got.RoleName, 'checkout');
    assert.equal(got.PolicyName, 'read');
    assert.equal(decodeURIComponent(got.PolicyDocument!), doc);
    const names = await iam.send(new ListRolePoliciesCommand({ RoleName: 'checkout' }));
    assert.deepEqual(names.PolicyNames, ['read']);
    await rejects(iam.send(new DeleteRoleCommand({ RoleName: 'checkout' })), (e) =>
      assert.ok(e instanceof DeleteConflictException, e.name),
    );
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'checkout', PolicyName: 'read' }));
    await rejects(
      iam.send(new GetRolePolicyCommand({ RoleName: 'checkout', PolicyName: 'read' })),
      (e) => assert.ok(e instanceof NoSuchEntityException, e.name),
    );
  });

  it('role tags: TagRole merges, UntagRole removes, ListRoleTags shows them', async () => {
    await iam.send(
      new TagRoleCommand({
        RoleName: 'checkout',
        Tags: [
          { Key: 'team', Value: 'storefront' },
          { Key: 'env', Value: 'dev' },
        ],
      }),
    );
    let tags = await iam.send(new ListRoleTagsCommand({ RoleName: 'checkout' }));
    assert.deepEqual(Object.fromEntries(tags.Tags!.map((x) => [x.Key, x.Value])), {
      team: 'storefront',
      env: 'dev',
    });
    await iam.send(new UntagRoleCommand({ RoleName: 'checkout', TagKeys: ['env'] }));
    tags = await iam.send(new ListRoleTagsCommand({ RoleName: 'checkout' }));
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'storefront' }]);
  });

  it('UpdateRole and UpdateAssumeRolePolicy change what GetRole shows; DeleteRole removes it', async () => {
    await iam.send(new UpdateRoleCommand({ RoleName: 'checkout', MaxSessionDuration: 7200 }));
    const next = trustAccount(t.accountId, ['sts:AssumeRole', 'sts:TagSession']);
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'checkout', PolicyDocument: next }),
    );
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'checkout' }))).Role!;
    assert.equal(role.MaxSessionDuration, 7200);
    assert.equal(decodeURIComponent(role.AssumeRolePolicyDocument!), next);
    await iam.send(new DeleteRoleCommand({ RoleName: 'checkout' }));
    await rejects(iam.send(new GetRoleCommand({ RoleName: 'checkout' })), (e) =>
      assert.ok(e instanceof NoSuchEntityException),
    );
  });

  it('users: create, get, tag, inline policies, two access keys at most, keys authenticate', async () => {
    const user = (
      await iam.send(
        new CreateUserCommand({ UserName: 'alice', Tags: [{ Key: 'team', Value: 'ops' }] }),
      )
    ).User!;
    assert.match(user.UserId!, /^AIDA[A-Z2-7]{17}$/);
    assert.equal(user.Arn, `arn:aws:iam::${t.accountId}:user/alice`);
    assert.equal(
      (await iam.send(new GetUserCommand({ UserName: 'alice' }))).User!.UserId,
      user.UserId,
    );

    await iam.send(new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'env', Value: 'dev' }] }));
    await iam.send(new UntagUserCommand({ UserName: 'alice', TagKeys: ['team'] }));
    assert.deepEqual((await iam.send(new ListUserTagsCommand({ UserName: 'alice' }))).Tags, [
      { Key: 'env', Value: 'dev' },
    ]);

    const doc = policy([{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }]);
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'self', PolicyDocument: doc }),
    );
    const got = await iam.send(new GetUserPolicyCommand({ UserName: 'alice', PolicyName: 'self' }));
    assert.equal(decodeURIComponent(got.PolicyDocument!), doc);
    assert.deepEqual(
      (await iam.send(new ListUserPoliciesCommand({ UserName: 'alice' }))).PolicyNames,
      ['self'],
    );

    const k1 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!;
    assert.match(k1.AccessKeyId!, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(k1.SecretAccessKey!.length, 40);
    assert.equal(k1.Status, 'Active');
    const k2 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }))).AccessKey!;
    await rejects(iam.send(new CreateAccessKeyCommand({ UserName: 'alice' })), (e) => {
      assert.ok(e instanceof LimitExceededException, e.name);
      assert.equal(status(e), 409);
    });
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    assert.deepEqual(
      listed.AccessKeyMetadata!.map((k) => k.AccessKeyId).sort(),
      [k1.AccessKeyId, k2.AccessKeyId].sort(),
    );
    assert.ok(listed.AccessKeyMetadata!.every((k) => !('SecretAccessKey' in k)));

    // The new key is a working credential: alice sees herself, and her policy lets her GetUser.
    const as = clients(t, { accessKeyId: k1.AccessKeyId!, secretAccessKey: k1.SecretAccessKey! });
    const me = await as.sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, user.Arn);
    assert.equal(me.UserId, user.UserId);
    assert.equal((await as.iam.send(new GetUserCommand({}))).User!.UserName, 'alice');
    await rejects(as.iam.send(new CreateUserCommand({ UserName: 'mallory' })), (e) => {
      assert.equal(e.name, 'AccessDenied');
      assert.equal(status(e), 403);
      assert.match(
        e.message,
        /is not authorized to perform: iam:CreateUser on resource: .* because no identity-based policy allows the iam:CreateUser action/,
      );
    });

    // An inactive key no longer authenticates.
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'alice',
        AccessKeyId: k2.AccessKeyId!,
        Status: 'Inactive',
      }),
    );
    const inactive = clients(t, {
      accessKeyId: k2.AccessKeyId!,
      secretAccessKey: k2.SecretAccessKey!,
    });
    await rejects(inactive.sts.send(new GetCallerIdentityCommand({})), (e) => {
      assert.equal(e.name, 'InvalidClientTokenId');
      assert.equal(status(e), 403);
    });

    await rejects(iam.send(new DeleteUserCommand({ UserName: 'alice' })), (e) =>
      assert.ok(e instanceof DeleteConflictException, e.name),
    );
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'self' }));
    for (const k of [k1, k2]) {
      await iam.send(
        new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: k.AccessKeyId! }),
      );
    }
    await iam.send(new DeleteUserCommand({ UserName: 'alice' }));
    await rejects(iam.send(new GetUserCommand({ UserName: 'alice' })), (e) =>
      assert.ok(e instanceof NoSuchEntityException),
    );
  });

  it('ListUsers pages with MaxItems and Marker', async () => {
    for (const n of ['u1', 'u2', 'u3', 'u4', 'u5']) {
      await iam.send(new CreateUserCommand({ UserName: n, Path: '/paged/' }));
    }
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await iam.send(
        new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 2, Marker: marker }),
      );
      pages += 1;
      seen.push(...page.Users!.map((u) => u.UserName!));
      marker = page.IsTruncated ? page.Marker : undefined;
      if (page.IsTruncated) assert.ok(page.Marker);
    } while (marker);
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['u1', 'u2', 'u3', 'u4', 'u5']);
  });
}

/** STS AssumeRole / GetCallerIdentity and management authorisation with session credentials. */
export function stsCases(start: () => Promise<IamTarget>): void {
  let t: IamTarget;
  let admin: ReturnType<typeof clients>;
  before(async () => {
    t = await start();
    admin = clients(t);
  });
  after(async () => {
    admin?.iam.destroy();
    admin?.sts.destroy();
    admin?.lattice.destroy();
    await t?.stop();
  });

  async function assume(
    roleArn: string,
    options: { as?: Credentials; duration?: number; tags?: Record<string, string> } = {},
  ) {
    const sts = options.as ? clients(t, options.as).sts : admin.sts;
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'test-session',
        DurationSeconds: options.duration,
        Tags: options.tags
          ? Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value }))
          : undefined,
      }),
    );
    const c = out.Credentials!;
    return {
      out,
      creds: {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
      },
    };
  }

  async function role(name: string, trust: string, inline?: string): Promise<string> {
    const arn = (
      await admin.iam.send(
        new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }),
      )
    ).Role!.Arn!;
    if (inline) {
      await admin.iam.send(
        new PutRolePolicyCommand({ RoleName: name, PolicyName: 'inline', PolicyDocument: inline }),
      );
    }
    return arn;
  }

  it('GetCallerIdentity of the bootstrap administrator is the account root', async () => {
    const me = await admin.sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, t.accountId);
    assert.equal(me.Arn, `arn:aws:iam::${t.accountId}:root`);
    assert.equal(me.UserId, t.accountId);
  });

  it('AssumeRole issues ASIA credentials; GetCallerIdentity with them shows the assumed-role ARN', async () => {
    const arn = await role(
      'reader',
      trustAccount(t.accountId, ['sts:AssumeRole', 'sts:TagSession']),
    );
    const before = Date.now();
    const { out, creds } = await assume(arn, { duration: 900, tags: { tenant: 'blue' } });
    assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(creds.secretAccessKey.length >= 40);
    assert.ok(creds.sessionToken.length > 100);
    const expiresIn = out.Credentials!.Expiration!.getTime() - before;
    assert.ok(expiresIn > 890_000 && expiresIn <= 905_000, `expires in ${expiresIn} ms`);
    assert.equal(
      out.AssumedRoleUser!.Arn,
      `arn:aws:sts::${t.accountId}:assumed-role/reader/test-session`,
    );
    const roleId = (await admin.iam.send(new GetRoleCommand({ RoleName: 'reader' }))).Role!.RoleId;
    assert.equal(out.AssumedRoleUser!.AssumedRoleId, `${roleId}:test-session`);

    const me = await clients(t, creds).sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, `arn:aws:sts::${t.accountId}:assumed-role/reader/test-session`);
    assert.equal(me.UserId, `${roleId}:test-session`);
    assert.equal(me.Account, t.accountId);
  });

  const durationCases = [
    { duration: 899, why: 'below the 900-second minimum' },
    { duration: 3601, why: "above the role's MaxSessionDuration (3600)" },
  ];
  for (const c of durationCases) {
    it(`AssumeRole with DurationSeconds ${c.duration} (${c.why}) → ValidationError`, async () => {
      const arn = `arn:aws:iam::${t.accountId}:role/reader`;
      await rejects(assume(arn, { duration: c.duration }), (e) => {
        assert.equal(e.name, 'ValidationError');
        assert.equal(status(e), 400);
      });
    });
  }

  it('session tags need sts:TagSession in the trust policy', async () => {
    const arn = await role('no-tags', trustAccount(t.accountId));
    await assume(arn);
    await rejects(assume(arn, { tags: { tenant: 'red' } }), (e) => {
      assert.equal(e.name, 'AccessDenied');
      assert.match(e.message, /sts:TagSession/);
    });
  });

  it('trust policy refusal: a role trusting someone else, and a missing role, answer AccessDenied', async () => {
    const arn = await role(
      'elsewhere',
      policy([
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::999988887777:root' },
          Action: 'sts:AssumeRole',
        },
      ]),
    );
    for (const target of [arn, `arn:aws:iam::${t.accountId}:role/does-not-exist`]) {
      await rejects(assume(target), (e) => {
        assert.equal(e.name, 'AccessDenied');
        assert.equal(status(e), 403);
        assert.match(
          e.message,
          new RegExp(`not authorized to perform: sts:AssumeRole on resource: ${target}`),
        );
      });
    }
  });

  it('a user needs both the trust policy and an identity policy allowing sts:AssumeRole', async () => {
    const userArn = (await admin.iam.send(new CreateUserCommand({ UserName: 'deployer' }))).User!
      .Arn!;
    const key = (await admin.iam.send(new CreateAccessKeyCommand({ UserName: 'deployer' })))
      .AccessKey!;
    const as = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const trustsUser = await role(
      'deploy-target',
      policy([{ Effect: 'Allow', Principal: { AWS: userArn }, Action: 'sts:AssumeRole' }]),
    );
    const trustsOther = await role(
      'other-target',
      policy([
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${t.accountId}:user/someone-else` },
          Action: 'sts:AssumeRole',
        },
      ]),
    );
    // Trusted, but no identity policy yet.
    await rejects(assume(trustsUser, { as }), (e) => assert.equal(e.name, 'AccessDenied'));
    await admin.iam.send(
      new PutUserPolicyCommand({
        UserName: 'deployer',
        PolicyName: 'assume',
        PolicyDocument: policy([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]),
      }),
    );
    const { creds } = await assume(trustsUser, { as });
    const me = await clients(t, creds).sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, `arn:aws:sts::${t.accountId}:assumed-role/deploy-target/test-session`);
    // Identity policy allows, but the trust policy names someone else.
    await rejects(assume(trustsOther, { as }), (e) => assert.equal(e.name, 'AccessDenied'));
  });

  it('role chaining caps DurationSeconds at one hour', async () => {
    const first = await role(
      'chain-1',
      trustAccount(t.accountId),
      policy([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]),
    );
    await admin.iam.send(new UpdateRoleCommand({ RoleName: 'chain-1', MaxSessionDuration: 7200 }));
    const second = await role('chain-2', trustAccount(t.accountId));
    await admin.iam.send(new UpdateRoleCommand({ RoleName: 'chain-2', MaxSessionDuration: 7200 }));
    const { creds } = await assume(first);
    await rejects(assume(second, { as: creds, duration: 7200 }), (e) => {
      assert.equal(e.name, 'ValidationError');
      assert.match(e.message, /role chaining/);
    });
    const chained = await assume(second, { as: creds, duration: 3600 });
    const me = await clients(t, chained.creds).sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, `arn:aws:sts::${t.accountId}:assumed-role/chain-2/test-session`);
  });

  it('an expired session is refused (ExpiredToken 403)', async () => {
    const arn = `arn:aws:iam::${t.accountId}:role/reader`;
    const { creds } = await assume(arn, { duration: 900 });
    const sts = clients(t, creds).sts;
    await sts.send(new GetCallerIdentityCommand({}));
    await t.expireSession(creds.accessKeyId);
    await rejects(sts.send(new GetCallerIdentityCommand({})), (e) => {
      assert.equal(e.name, 'ExpiredToken', `${e.name}: ${e.message} (${t.expiryMethod})`);
      assert.equal(status(e), 403);
    });
  });

  it('a role with only vpc-lattice:Get*/List* can ListServiceNetworks but not CreateService', async () => {
    const arn = await role(
      'read-only',
      trustAccount(t.accountId),
      policy([
        { Effect: 'Allow', Action: ['vpc-lattice:Get*', 'vpc-lattice:List*'], Resource: '*' },
      ]),
    );
    await admin.lattice.send(new CreateServiceNetworkCommand({ name: 'authz-net' }));
    const { creds } = await assume(arn);
    const lattice = clients(t, creds).lattice;
    const nets = await lattice.send(new ListServiceNetworksCommand({}));
    assert.ok(nets.items!.some((n) => n.name === 'authz-net'));
    for (const call of [
      () => lattice.send(new CreateServiceCommand({ name: 'rogue' })),
      () => lattice.send(new CreateServiceNetworkCommand({ name: 'rogue-net' })),
    ]) {
      await rejects(call(), (e) => {
        assert.ok(e instanceof AccessDeniedException, `${e.name}: ${e.message}`);
        assert.equal(status(e), 403);
        assert.match(
          e.message,
          new RegExp(
            `^User: arn:aws:sts::${t.accountId}:assumed-role/read-only/test-session is not authorized to perform: vpc-lattice:Create\\w+ on resource: \\* because no identity-based policy allows the vpc-lattice:Create\\w+ action$`,
          ),
        );
      });
    }
    // Nor may it rewrite IAM.
    await rejects(
      clients(t, creds).iam.send(
        new PutRolePolicyCommand({
          RoleName: 'read-only',
          PolicyName: 'escalate',
          PolicyDocument: policy([{ Effect: 'Allow', Action: '*', Resource: '*' }]),
        }),
      ),
      (e) => assert.equal(e.name, 'AccessDenied'),
    );
    // The administrator (account root) may.
    const svc = await admin.lattice.send(new CreateServiceCommand({ name: 'admin-made' }));
    assert.ok(svc.id);
  });

  it('a policy change takes effect on the next call of an existing session', async () => {
    const arn = await role(
      'grows',
      trustAccount(t.accountId),
      policy([{ Effect: 'Allow', Action: 'vpc-lattice:List*', Resource: '*' }]),
    );
    const { creds } = await assume(arn);
    const lattice = clients(t, creds).lattice;
    await rejects(lattice.send(new CreateServiceNetworkCommand({ name: 'grows-net' })), (e) =>
      assert.ok(e instanceof AccessDeniedException),
    );
    await admin.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'grows',
        PolicyName: 'inline',
        PolicyDocument: policy([{ Effect: 'Allow', Action: 'vpc-lattice:*', Resource: '*' }]),
      }),
    );
    const created = await lattice.send(new CreateServiceNetworkCommand({ name: 'grows-net' }));
    assert.ok(created.id);
  });

  it('an explicit Deny in an identity policy wins over an Allow', async () => {
    const arn = await role(
      'denied',
      trustAccount(t.accountId),
      policy([
        { Effect: 'Allow', Action: 'vpc-lattice:*', Resource: '*' },
        { Effect: 'Deny', Action: 'vpc-lattice:ListServiceNetworks', Resource: '*' },
      ]),
    );
    const { creds } = await assume(arn);
    await rejects(clients(t, creds).lattice.send(new ListServiceNetworksCommand({})), (e) => {
      assert.ok(e instanceof AccessDeniedException);
      assert.match(e.message, /with an explicit deny in an identity-based policy$/);
    });
  });
}

/** Describes both suites against one kind of target. */
export function describeIamAndSts(label: string, start: () => Promise<IamTarget>): void {
  describe(`IAM (${label})`, () => iamCases(start));
  describe(`STS and management authorisation (${label})`, () => stsCases(start));
}
