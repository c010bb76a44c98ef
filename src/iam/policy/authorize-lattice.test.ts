import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorizeLatticeRequest,
  chainKeys,
  compilePolicy,
  createPrincipalKeys,
  createStaticKeys,
  evaluatePolicy,
  explainDecision,
  latticeRequestAllowed,
  parsePolicy,
  type AuthorizationContext,
  type AuthorizationPrincipal,
  type CompiledPolicy,
  type PolicyKind,
  type PolicyLabel,
} from './index.js';

const ACCT = '123456789012';
const INVENTORY = `arn:aws:vpc-lattice:us-east-1:${ACCT}:service/svc-0a1b2c3d4e5f60001`;
const DELIVERY = `arn:aws:vpc-lattice:us-east-1:${ACCT}:service/svc-0a1b2c3d4e5f60002`;
const ORDER_ROLE = `arn:aws:iam::${ACCT}:role/OrderFunctionRole`;
const ORDER_SESSION: AuthorizationPrincipal = {
  arn: `arn:aws:sts::${ACCT}:assumed-role/OrderFunctionRole/order-fn`,
  accountId: ACCT,
  type: 'AssumedRole',
  roleArn: ORDER_ROLE,
  sessionName: 'order-fn',
};
const OTHER_SESSION: AuthorizationPrincipal = {
  arn: `arn:aws:sts::${ACCT}:assumed-role/OtherRole/x`,
  accountId: ACCT,
  type: 'AssumedRole',
};
const BOB: AuthorizationPrincipal = {
  arn: `arn:aws:iam::${ACCT}:user/bob`,
  accountId: ACCT,
  type: 'User',
};
const STRANGER: AuthorizationPrincipal = {
  arn: 'arn:aws:iam::999999999999:user/eve',
  accountId: '999999999999',
  type: 'User',
};

function compile(
  policy: object,
  label: PolicyLabel,
  kind: PolicyKind = 'resource',
): CompiledPolicy {
  return compilePolicy(parsePolicy(JSON.stringify(policy), { kind }), label);
}

function ctx(
  resource: string,
  principal: AuthorizationPrincipal | undefined,
  keys: Record<string, string | string[]> = {},
  action = 'vpc-lattice-svcs:Invoke',
): AuthorizationContext {
  return {
    action,
    resource,
    principal,
    keys: chainKeys(createStaticKeys(keys), createPrincipalKeys(principal)),
  };
}

/** The announcement's policy: GET-only on Inventory /stock, anything on Delivery /delivery*. */
const ANNOUNCEMENT = compile(
  {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ORDER_ROLE },
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: `${INVENTORY}/stock`,
        Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': 'GET' } },
      },
      {
        Effect: 'Allow',
        Principal: { AWS: ORDER_ROLE },
        Action: 'vpc-lattice-svcs:Invoke',
        Resource: `${DELIVERY}/delivery*`,
      },
    ],
  },
  { level: 'Network', name: 'ecommerce' },
);

describe('the announcement policy', () => {
  const cases: [
    string,
    string,
    AuthorizationPrincipal | undefined,
    string,
    'Allow' | 'NoMatch',
    number?,
  ][] = [
    ['GET /stock by an Order role session', `${INVENTORY}/stock`, ORDER_SESSION, 'GET', 'Allow', 0],
    ['POST /stock', `${INVENTORY}/stock`, ORDER_SESSION, 'POST', 'NoMatch'],
    ['GET /stock/1 (not the exact path)', `${INVENTORY}/stock/1`, ORDER_SESSION, 'GET', 'NoMatch'],
    ['POST /delivery', `${DELIVERY}/delivery`, ORDER_SESSION, 'POST', 'Allow', 1],
    ['DELETE /delivery/42', `${DELIVERY}/delivery/42`, ORDER_SESSION, 'DELETE', 'Allow', 1],
    ['GET /stock on Delivery', `${DELIVERY}/stock`, ORDER_SESSION, 'GET', 'NoMatch'],
    ['another role', `${INVENTORY}/stock`, OTHER_SESSION, 'GET', 'NoMatch'],
    ['a user of the same account', `${INVENTORY}/stock`, BOB, 'GET', 'NoMatch'],
    ['anonymous', `${INVENTORY}/stock`, undefined, 'GET', 'NoMatch'],
  ];
  for (const [name, resource, principal, method, effect, index] of cases) {
    it(name, () => {
      const v = evaluatePolicy(
        ANNOUNCEMENT,
        ctx(resource, principal, { 'vpc-lattice-svcs:RequestMethod': method }),
      );
      assert.equal(v.effect, effect);
      assert.equal(v.statement?.index, index);
    });
  }
});

function allowWith(extra: Record<string, unknown>, kind: PolicyKind = 'resource'): CompiledPolicy {
  const base: Record<string, unknown> = { Effect: 'Allow', Action: '*', Resource: '*' };
  if (kind !== 'identity') base.Principal = '*';
  return compile(
    { Version: '2012-10-17', Statement: [{ ...base, ...extra }] },
    { level: 'Service' },
    kind,
  );
}

describe('principals', () => {
  const cases: [string, unknown, AuthorizationPrincipal | undefined, boolean][] = [
    ['"*" matches anonymous', '*', undefined, true],
    ['{"AWS":"*"} matches a user', { AWS: '*' }, BOB, true],
    ['account id matches its users', { AWS: ACCT }, BOB, true],
    ['account id matches its role sessions', { AWS: ACCT }, ORDER_SESSION, true],
    ['account id does not match another account', { AWS: ACCT }, STRANGER, false],
    ['account root ARN matches its users', { AWS: `arn:aws:iam::${ACCT}:root` }, BOB, true],
    ['account id does not match anonymous', { AWS: ACCT }, undefined, false],
    ['user ARN matches the user', { AWS: BOB.arn }, BOB, true],
    ['user ARN does not match another user', { AWS: BOB.arn }, STRANGER, false],
    ['role ARN matches a session of the role', { AWS: ORDER_ROLE }, ORDER_SESSION, true],
    [
      'role ARN matches a session without roleArn given',
      { AWS: ORDER_ROLE },
      { ...ORDER_SESSION, roleArn: undefined },
      true,
    ],
    [
      'role ARN with a path matches its sessions',
      { AWS: `arn:aws:iam::${ACCT}:role/app/OrderFunctionRole` },
      ORDER_SESSION,
      true,
    ],
    ['role ARN does not match another role', { AWS: ORDER_ROLE }, OTHER_SESSION, false],
    [
      'role ARN of another account does not match',
      { AWS: 'arn:aws:iam::999999999999:role/OrderFunctionRole' },
      ORDER_SESSION,
      false,
    ],
    ['session ARN matches that session', { AWS: ORDER_SESSION.arn }, ORDER_SESSION, true],
    [
      'session ARN does not match another session',
      { AWS: `arn:aws:sts::${ACCT}:assumed-role/OrderFunctionRole/other` },
      ORDER_SESSION,
      false,
    ],
    [
      'Service principal never matches a caller',
      { Service: 'lambda.amazonaws.com' },
      ORDER_SESSION,
      false,
    ],
  ];
  for (const [name, principal, caller, want] of cases) {
    it(name, () => {
      const v = evaluatePolicy(allowWith({ Principal: principal }), ctx(`${INVENTORY}/x`, caller));
      assert.equal(v.effect, want ? 'Allow' : 'NoMatch');
    });
  }

  it('NotPrincipal applies to everyone except the named principals', () => {
    const p = compile(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', NotPrincipal: { AWS: ORDER_ROLE }, Action: '*', Resource: '*' },
        ],
      },
      { level: 'Service' },
    );
    assert.equal(evaluatePolicy(p, ctx('x', ORDER_SESSION)).effect, 'NoMatch');
    assert.equal(evaluatePolicy(p, ctx('x', BOB)).effect, 'Deny');
    assert.equal(evaluatePolicy(p, ctx('x', undefined)).effect, 'Deny');
  });
});

describe('actions and resources', () => {
  const cases: [string, Record<string, unknown>, string, string, boolean][] = [
    [
      'action match is case-insensitive',
      { Action: 'VPC-LATTICE-SVCS:invoke' },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/x`,
      true,
    ],
    [
      'action wildcard',
      { Action: 'vpc-lattice-svcs:*' },
      'vpc-lattice-svcs:Connect',
      INVENTORY,
      true,
    ],
    [
      'action ? wildcard',
      { Action: 'vpc-lattice:?etService' },
      'vpc-lattice:GetService',
      '*',
      true,
    ],
    ['other service', { Action: 'vpc-lattice-svcs:*' }, 'vpc-lattice:CreateService', '*', false],
    [
      'NotAction excludes',
      { Action: undefined, NotAction: 'vpc-lattice-svcs:Connect' },
      'vpc-lattice-svcs:Connect',
      '*',
      false,
    ],
    [
      'NotAction includes the rest',
      { Action: undefined, NotAction: 'vpc-lattice-svcs:Connect' },
      'vpc-lattice-svcs:Invoke',
      '*',
      true,
    ],
    [
      '*/stock matches any service',
      { Resource: '*/stock' },
      'vpc-lattice-svcs:Invoke',
      `${DELIVERY}/stock`,
      true,
    ],
    [
      '*/stock does not match /stock/1',
      { Resource: '*/stock' },
      'vpc-lattice-svcs:Invoke',
      `${DELIVERY}/stock/1`,
      false,
    ],
    [
      'service/* path wildcard',
      { Resource: `${INVENTORY}/*` },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/a/b`,
      true,
    ],
    [
      'delivery* prefix',
      { Resource: `${DELIVERY}/delivery*` },
      'vpc-lattice-svcs:Invoke',
      `${DELIVERY}/delivery-status`,
      true,
    ],
    [
      'resource match is case-sensitive',
      { Resource: `${INVENTORY}/Stock` },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/stock`,
      false,
    ],
    [
      '? matches one character',
      { Resource: `${INVENTORY}/v?/items` },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/v2/items`,
      true,
    ],
    [
      'gRPC path',
      { Resource: `${INVENTORY}/api.parking/*` },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/api.parking/GetRates`,
      true,
    ],
    [
      'root path resource',
      { Resource: `${INVENTORY}/` },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/`,
      true,
    ],
    [
      'NotResource excludes',
      { Resource: undefined, NotResource: '*/admin*' },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/admin/x`,
      false,
    ],
    [
      'NotResource includes the rest',
      { Resource: undefined, NotResource: '*/admin*' },
      'vpc-lattice-svcs:Invoke',
      `${INVENTORY}/stock`,
      true,
    ],
    [
      '"*" matches a management call on "*"',
      { Resource: '*' },
      'vpc-lattice:CreateService',
      '*',
      true,
    ],
    [
      'an ARN pattern does not match "*"',
      { Resource: 'arn:aws:vpc-lattice:*' },
      'vpc-lattice:CreateService',
      '*',
      false,
    ],
  ];
  for (const [name, extra, action, resource, want] of cases) {
    it(name, () => {
      const v = evaluatePolicy(allowWith(extra), ctx(resource, BOB, {}, action));
      assert.equal(v.effect, want ? 'Allow' : 'NoMatch');
    });
  }

  it('resolves policy variables in resources (identity policy)', () => {
    const p = allowWith({ Resource: `${INVENTORY}/home/\${aws:username}/*` }, 'identity');
    assert.equal(evaluatePolicy(p, ctx(`${INVENTORY}/home/bob/f`, BOB)).effect, 'Allow');
    assert.equal(evaluatePolicy(p, ctx(`${INVENTORY}/home/eve/f`, BOB)).effect, 'NoMatch');
    // A role session has no aws:username: the resource does not match.
    assert.equal(evaluatePolicy(p, ctx(`${INVENTORY}/home//f`, ORDER_SESSION)).effect, 'NoMatch');
    const tag = allowWith(
      { Resource: `arn:aws:vpc-lattice:*:\${aws:PrincipalAccount}:service/*` },
      'identity',
    );
    assert.equal(evaluatePolicy(tag, ctx(`${INVENTORY}/x`, BOB)).effect, 'Allow');
    assert.equal(evaluatePolicy(tag, ctx(`${INVENTORY}/x`, STRANGER)).effect, 'NoMatch');
  });

  it('explicit Deny wins inside one policy, whatever the statement order', () => {
    const p = compile(
      {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'AllowAll', Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' },
          {
            Sid: 'NoPost',
            Effect: 'Deny',
            Principal: '*',
            Action: '*',
            Resource: '*',
            Condition: { StringEquals: { 'vpc-lattice-svcs:RequestMethod': 'POST' } },
          },
        ],
      },
      { level: 'Service' },
    );
    assert.deepEqual(
      evaluatePolicy(p, ctx('x', BOB, { 'vpc-lattice-svcs:RequestMethod': 'POST' })),
      {
        effect: 'Deny',
        statement: { index: 1, sid: 'NoPost' },
      },
    );
    assert.deepEqual(
      evaluatePolicy(p, ctx('x', BOB, { 'vpc-lattice-svcs:RequestMethod': 'GET' })),
      {
        effect: 'Allow',
        statement: { index: 0, sid: 'AllowAll' },
      },
    );
  });
});

describe('management calls and trust policies', () => {
  it('identity policy gates vpc-lattice:CreateService and iam:CreateRole', () => {
    const p = compile(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['vpc-lattice:Create*', 'vpc-lattice:Get*'], Resource: '*' },
          { Effect: 'Deny', Action: 'iam:*', Resource: '*' },
        ],
      },
      { level: 'Identity', name: 'dev' },
      'identity',
    );
    assert.equal(evaluatePolicy(p, ctx('*', BOB, {}, 'vpc-lattice:CreateService')).effect, 'Allow');
    assert.equal(
      evaluatePolicy(p, ctx('*', BOB, {}, 'vpc-lattice:DeleteService')).effect,
      'NoMatch',
    );
    assert.equal(evaluatePolicy(p, ctx('*', BOB, {}, 'iam:CreateRole')).effect, 'Deny');
  });

  it('trust policy: sts:AssumeRole needs the caller to match Principal', () => {
    const trust = compile(
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: BOB.arn }, Action: 'sts:AssumeRole' }],
      },
      { level: 'Trust', resourceArn: ORDER_ROLE },
      'trust',
    );
    assert.equal(evaluatePolicy(trust, ctx(ORDER_ROLE, BOB, {}, 'sts:AssumeRole')).effect, 'Allow');
    assert.equal(
      evaluatePolicy(trust, ctx(ORDER_ROLE, STRANGER, {}, 'sts:AssumeRole')).effect,
      'NoMatch',
    );
    assert.equal(
      evaluatePolicy(trust, ctx(ORDER_ROLE, BOB, {}, 'sts:TagSession')).effect,
      'NoMatch',
    );
  });
});

const ALLOW_ALL = (level: PolicyLabel['level']) =>
  compile(
    {
      Version: '2012-10-17',
      Statement: [{ Sid: 'All', Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
    },
    { level },
  );
const DENY_ALL = (level: PolicyLabel['level']) =>
  compile(
    {
      Version: '2012-10-17',
      Statement: [{ Sid: 'None', Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }],
    },
    { level },
  );
const ID_ALLOW = compile(
  {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' }],
  },
  { level: 'Identity', name: 'invoke' },
  'identity',
);
const ID_DENY = compile(
  { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] },
  { level: 'Identity', name: 'deny' },
  'identity',
);

describe('authorizeLatticeRequest (spec §2.1, §2.5)', () => {
  const R = `${INVENTORY}/stock`;
  const head = (user: string) =>
    `User: ${user} is not authorized to perform: vpc-lattice-svcs:Invoke on resource: ${R}`;
  const IAM = 'AWS_IAM' as const;
  const NONE = 'NONE' as const;
  type Row = {
    name: string;
    network?: { authType: 'AWS_IAM' | 'NONE'; policy?: CompiledPolicy };
    service: { authType: 'AWS_IAM' | 'NONE'; policy?: CompiledPolicy };
    identity?: CompiledPolicy[];
    principal?: AuthorizationPrincipal;
    allowed: boolean;
    deniedBy?: string;
    explicit?: boolean;
    message?: string;
  };
  const rows: Row[] = [
    {
      name: 'both NONE: allowed, nothing evaluated',
      network: { authType: NONE },
      service: { authType: NONE },
      identity: [],
      principal: BOB,
      allowed: true,
    },
    {
      name: 'service AWS_IAM, allow, identity allows',
      service: { authType: IAM, policy: ALLOW_ALL('Service') },
      identity: [ID_ALLOW],
      principal: BOB,
      allowed: true,
    },
    {
      name: 'service AWS_IAM without a policy denies',
      service: { authType: IAM },
      identity: [ID_ALLOW],
      principal: BOB,
      allowed: false,
      deniedBy: 'Service',
      explicit: false,
      message: `${head(BOB.arn)} because no service-based policy allows the vpc-lattice-svcs:Invoke action`,
    },
    {
      name: 'signed caller without identity allow',
      service: { authType: IAM, policy: ALLOW_ALL('Service') },
      identity: [],
      principal: ORDER_SESSION,
      allowed: false,
      deniedBy: 'Identity',
      explicit: false,
      message: `${head(ORDER_SESSION.arn)} because no identity-based policy allows the vpc-lattice-svcs:Invoke action`,
    },
    {
      name: 'explicit deny in the service policy',
      network: { authType: IAM, policy: ALLOW_ALL('Network') },
      service: { authType: IAM, policy: DENY_ALL('Service') },
      identity: [ID_ALLOW],
      principal: ORDER_SESSION,
      allowed: false,
      deniedBy: 'Service',
      explicit: true,
      message: `${head(ORDER_SESSION.arn)} with an explicit deny in a service-based policy`,
    },
    {
      name: 'explicit deny at the network wins over a missing identity allow',
      network: { authType: IAM, policy: DENY_ALL('Network') },
      service: { authType: NONE },
      identity: [],
      principal: BOB,
      allowed: false,
      deniedBy: 'Network',
      explicit: true,
      message: `${head(BOB.arn)} with an explicit deny in a service network-based policy`,
    },
    {
      name: 'network AWS_IAM without allow',
      network: { authType: IAM, policy: ANNOUNCEMENT },
      service: { authType: NONE },
      identity: [ID_ALLOW],
      principal: BOB,
      allowed: false,
      deniedBy: 'Network',
      explicit: false,
      message: `${head(BOB.arn)} because no service network-based policy allows the vpc-lattice-svcs:Invoke action`,
    },
    {
      name: 'explicit deny in an identity policy',
      service: { authType: IAM, policy: ALLOW_ALL('Service') },
      identity: [ID_ALLOW, ID_DENY],
      principal: BOB,
      allowed: false,
      deniedBy: 'Identity',
      explicit: true,
      message: `${head(BOB.arn)} with an explicit deny in an identity-based policy`,
    },
    {
      name: 'anonymous allowed by "Principal":"*"',
      network: { authType: IAM, policy: ALLOW_ALL('Network') },
      service: { authType: IAM, policy: ALLOW_ALL('Service') },
      allowed: true,
    },
    {
      name: 'anonymous not allowed by a role principal',
      service: { authType: IAM, policy: ANNOUNCEMENT },
      allowed: false,
      deniedBy: 'Service',
      explicit: false,
      message: `${head('anonymous')} because no service-based policy allows the vpc-lattice-svcs:Invoke action`,
    },
    {
      name: 'announcement at the network, GET /stock by the Order session',
      network: { authType: IAM, policy: ANNOUNCEMENT },
      service: { authType: NONE },
      identity: [ID_ALLOW],
      principal: ORDER_SESSION,
      allowed: true,
    },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const d = authorizeLatticeRequest({
        network: r.network,
        service: r.service,
        identityPolicies: r.principal === undefined ? undefined : r.identity,
        ctx: ctx(R, r.principal, { 'vpc-lattice-svcs:RequestMethod': 'GET' }),
      });
      assert.equal(d.allowed, r.allowed);
      assert.equal(d.deniedBy, r.deniedBy);
      if (r.explicit !== undefined) assert.equal(d.explicit, r.explicit);
      if (r.message !== undefined) assert.equal(d.message, r.message);
      assert.deepEqual(
        d.verdicts.map((v) => v.level),
        ['Identity', 'Network', 'Service'],
      );
      assert.ok(explainDecision(d).length >= 4);
    });
  }
});

describe("latticeRequestAllowed (the data plane's allocation-free yes/no)", () => {
  it('answers exactly authorizeLatticeRequest(…).allowed over every combination of levels', () => {
    const R = `${INVENTORY}/stock`;
    const policies = [
      undefined,
      ALLOW_ALL('Service'),
      DENY_ALL('Service'),
      ANNOUNCEMENT,
      allowWith({ Principal: { AWS: BOB.arn } }),
    ];
    const levels = [
      undefined,
      ...(['AWS_IAM', 'NONE'] as const).flatMap((authType) =>
        policies.map((policy) => (policy === undefined ? { authType } : { authType, policy })),
      ),
    ];
    const identities: (CompiledPolicy[] | undefined)[] = [
      undefined,
      [],
      [ID_ALLOW],
      [ID_DENY],
      [ID_ALLOW, ID_DENY],
    ];
    const principals = [undefined, BOB, ORDER_SESSION, STRANGER];
    let checked = 0;
    let allowed = 0;
    for (const network of levels)
      for (const service of levels) {
        if (service === undefined) continue;
        for (const identityPolicies of identities)
          for (const principal of principals)
            for (const method of ['GET', 'POST']) {
              const c = ctx(R, principal, { 'vpc-lattice-svcs:RequestMethod': method });
              const expected: boolean = authorizeLatticeRequest({
                network,
                service,
                identityPolicies,
                ctx: c,
              }).allowed;
              const got = latticeRequestAllowed(
                network?.authType,
                network?.policy,
                service.authType,
                service.policy,
                identityPolicies,
                'vpc-lattice-svcs:invoke',
                c,
              );
              assert.equal(got, expected, JSON.stringify({ network, service, principal, method }));
              checked++;
              if (got) allowed++;
            }
      }
    // Both answers occur often enough for the comparison to mean something.
    assert.ok(checked > 1000 && allowed > 100 && checked - allowed > 100, `${allowed}/${checked}`);
  });
});
