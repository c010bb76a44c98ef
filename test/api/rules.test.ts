import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  BatchUpdateRuleCommand,
  ConflictException,
  CreateListenerCommand,
  CreateRuleCommand,
  CreateServiceCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  GetRuleCommand,
  ListRulesCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  UpdateRuleCommand,
  ValidationException,
  type CreateRuleCommandInput,
  type RuleAction,
  type RuleMatch,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  CONTROL_PLANE_ONLY,
  ID,
  allPages,
  arnPattern,
  createAccount,
  defaultVpcId,
  expectAwsError,
  fieldNames,
  uniqueName,
} from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let other: VPCLatticeClient;

before(async () => {
  proc = await startTrellis(CONTROL_PLANE_ONLY);
  lattice = proc.lattice();
  other = proc.lattice((await createAccount(proc)).credentials);
});
after(async () => {
  lattice?.destroy();
  other?.destroy();
  await proc?.stop();
});

const FIXED_500: RuleAction = { fixedResponse: { statusCode: 500 } };
const GET: RuleMatch = { httpMatch: { method: 'GET' } };

interface Place {
  serviceId: string;
  serviceArn: string;
  listenerId: string;
  listenerArn: string;
}

async function newListener(): Promise<Place> {
  const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('app') }));
  const l = await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.id,
      name: 'http',
      protocol: 'HTTP',
      defaultAction: { fixedResponse: { statusCode: 404 } },
    }),
  );
  return { serviceId: svc.id!, serviceArn: svc.arn!, listenerId: l.id!, listenerArn: l.arn! };
}

function ruleInput(p: Place, extra: Partial<CreateRuleCommandInput> = {}): CreateRuleCommandInput {
  return {
    serviceIdentifier: p.serviceId,
    listenerIdentifier: p.listenerId,
    name: uniqueName('rule-x').replace(/^rule-/, 'r-'),
    priority: 1,
    match: GET,
    action: FIXED_500,
    ...extra,
  };
}

async function ruleState(p: Place): Promise<string[]> {
  const out = await lattice.send(
    new ListRulesCommand({ serviceIdentifier: p.serviceId, listenerIdentifier: p.listenerId }),
  );
  return (out.items ?? []).map((r) => `${r.id}:${r.priority ?? '-'}`).sort();
}

describe('CreateRule', () => {
  test('creates a rule with path, header and method match and a weighted forward', async () => {
    const p = await newListener();
    const tgA = await lattice.send(
      new CreateTargetGroupCommand({ name: uniqueName('grp'), type: 'LAMBDA' }),
    );
    const tgB = await lattice.send(
      new CreateTargetGroupCommand({ name: uniqueName('grp'), type: 'LAMBDA' }),
    );
    const match: RuleMatch = {
      httpMatch: {
        method: 'POST',
        pathMatch: { match: { prefix: '/api/v2' }, caseSensitive: true },
        headerMatches: [
          { name: 'x-canary', match: { exact: 'true' } },
          { name: 'user-agent', match: { contains: 'curl' }, caseSensitive: false },
        ],
      },
    };
    const out = await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier: p.serviceArn,
        listenerIdentifier: p.listenerArn,
        name: 'v2-canary',
        priority: 2000,
        match,
        action: {
          forward: {
            targetGroups: [
              { targetGroupIdentifier: tgA.arn, weight: 90 },
              { targetGroupIdentifier: tgB.id, weight: 10 },
            ],
          },
        },
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.match(out.id!, ID.rule);
    assert.match(
      out.arn!,
      arnPattern(
        proc.region,
        proc.accountId,
        `service/${p.serviceId}/listener/${p.listenerId}/rule/${out.id}`,
      ),
    );
    assert.equal(out.priority, 2000);
    assert.deepEqual(out.match, match);
    assert.deepEqual(out.action, {
      forward: {
        targetGroups: [
          { targetGroupIdentifier: tgA.id, weight: 90 },
          { targetGroupIdentifier: tgB.id, weight: 10 },
        ],
      },
    });
    const got = await lattice.send(
      new GetRuleCommand({
        serviceIdentifier: p.serviceId,
        listenerIdentifier: p.listenerId,
        ruleIdentifier: out.arn,
      }),
    );
    assert.equal(got.isDefault, false);
    assert.deepEqual(got.match, match);
    assert.ok(got.createdAt instanceof Date);
  });

  const invalid: [string, Partial<CreateRuleCommandInput>, string][] = [
    ['a name starting with rule-', { name: 'rule-one' }, 'name'],
    ['priority 0', { priority: 0 }, 'priority'],
    ['priority 2001', { priority: 2001 }, 'priority'],
    ['an empty match', { match: {} as never }, 'match'],
    [
      'a 17-character method',
      { match: { httpMatch: { method: 'M'.repeat(17) } } },
      'match.httpMatch.method',
    ],
    [
      'a path without /',
      { match: { httpMatch: { pathMatch: { match: { exact: 'api' } } } } },
      'match.httpMatch.pathMatch.match.exact',
    ],
    [
      'a path with a wildcard',
      { match: { httpMatch: { pathMatch: { match: { prefix: '/api/*' } } } } },
      'match.httpMatch.pathMatch.match.prefix',
    ],
    [
      'a 201-character path',
      { match: { httpMatch: { pathMatch: { match: { prefix: `/${'p'.repeat(200)}` } } } } },
      'match.httpMatch.pathMatch.match.prefix',
    ],
    [
      'six header matches',
      {
        match: {
          httpMatch: {
            headerMatches: Array.from({ length: 6 }, (_, i) => ({
              name: `h${i}`,
              match: { exact: 'v' },
            })),
          },
        },
      },
      'match.httpMatch.headerMatches',
    ],
    [
      'a 101-character header name',
      {
        match: { httpMatch: { headerMatches: [{ name: 'h'.repeat(101), match: { exact: 'v' } }] } },
      },
      'match.httpMatch.headerMatches[0].name',
    ],
    [
      'a header match with two kinds',
      {
        match: {
          httpMatch: {
            headerMatches: [{ name: 'h', match: { exact: 'v', prefix: 'w' } as never }],
          },
        },
      },
      'match.httpMatch.headerMatches[0].match',
    ],
    [
      'status 600',
      { action: { fixedResponse: { statusCode: 600 } } },
      'action.fixedResponse.statusCode',
    ],
  ];
  for (const [what, extra, field] of invalid) {
    test(`refuses ${what} with ValidationException naming ${field}`, async () => {
      const p = await newListener();
      const err = await expectAwsError(
        lattice.send(new CreateRuleCommand(ruleInput(p, extra))),
        ValidationException,
        400,
      );
      assert.ok(fieldNames(err).includes(field), JSON.stringify(err.fieldList));
      assert.deepEqual(await ruleState(p), ['default:-']);
    });
  }

  test('same priority or same name in one listener is a ConflictException', async () => {
    const p = await newListener();
    const first = await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 7 })));
    const before = await ruleState(p);
    await expectAwsError(
      lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 7 }))),
      ConflictException,
      409,
    );
    await expectAwsError(
      lattice.send(new CreateRuleCommand(ruleInput(p, { name: first.name, priority: 8 }))),
      ConflictException,
      409,
    );
    assert.deepEqual(await ruleState(p), before);
  });

  test('rulesPerListener (10) answers ServiceQuotaExceededException with HTTP 402', async () => {
    const p = await newListener();
    for (let i = 1; i <= 10; i++) {
      await lattice.send(new CreateRuleCommand(ruleInput(p, { name: `r-${i}`, priority: i })));
    }
    const before = await ruleState(p);
    assert.equal(before.length, 11);
    const err = await expectAwsError(
      lattice.send(new CreateRuleCommand(ruleInput(p, { name: 'r-11', priority: 11 }))),
      ServiceQuotaExceededException,
      402,
    );
    assert.equal(err.quotaCode, 'L-CF78395E');
    assert.deepEqual(await ruleState(p), before);
  });

  test('a TLS_PASSTHROUGH listener accepts only its default rule', async () => {
    const svc = await lattice.send(
      new CreateServiceCommand({ name: uniqueName('tls'), customDomainName: 'tls.example.com' }),
    );
    const tcp = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('grp'),
        type: 'IP',
        config: { vpcIdentifier: defaultVpcId(proc.accountId), port: 443, protocol: 'TCP' },
      }),
    );
    const l = await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.id,
        name: 'tls',
        protocol: 'TLS_PASSTHROUGH',
        defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: tcp.id }] } },
      }),
    );
    const p = { serviceId: svc.id!, serviceArn: svc.arn!, listenerId: l.id!, listenerArn: l.arn! };
    const err = await expectAwsError(
      lattice.send(new CreateRuleCommand(ruleInput(p))),
      ValidationException,
    );
    assert.match(err.message, /TLS_PASSTHROUGH/);
    assert.deepEqual(await ruleState(p), ['default:-']);
  });

  test('replaying a clientToken returns the same rule; other parameters conflict', async () => {
    const p = await newListener();
    const input = ruleInput(p, { clientToken: randomUUID(), priority: 3 });
    const first = await lattice.send(new CreateRuleCommand(input));
    const again = await lattice.send(new CreateRuleCommand(input));
    assert.equal(again.id, first.id);
    await expectAwsError(
      lattice.send(new CreateRuleCommand({ ...input, priority: 4 })),
      ConflictException,
    );
    assert.deepEqual(await ruleState(p), [`${first.id}:3`, 'default:-'].sort());
  });
});

describe('the default rule', () => {
  test('GetRule and ListRules show it (id default, isDefault, last); it cannot be changed or deleted', async () => {
    const p = await newListener();
    const r = await lattice.send(new CreateRuleCommand(ruleInput(p)));
    const list = await lattice.send(
      new ListRulesCommand({ serviceIdentifier: p.serviceId, listenerIdentifier: p.listenerId }),
    );
    assert.deepEqual(
      list.items!.map((i) => [i.id, i.isDefault]),
      [
        [r.id, false],
        ['default', true],
      ],
    );
    for (const ruleIdentifier of ['default', `${p.listenerArn}/rule/default`]) {
      const d = await lattice.send(
        new GetRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier,
        }),
      );
      assert.equal(d.id, 'default');
      assert.equal(d.isDefault, true);
      assert.equal(d.arn, `${p.listenerArn}/rule/default`);
      assert.deepEqual(d.action, { fixedResponse: { statusCode: 404 } });
    }
    const err = await expectAwsError(
      lattice.send(
        new UpdateRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier: 'default',
          priority: 5,
        }),
      ),
      ValidationException,
    );
    assert.match(err.message, /UpdateListener/);
    await expectAwsError(
      lattice.send(
        new DeleteRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier: 'default',
        }),
      ),
      ValidationException,
    );
  });

  test('ListRules pages with maxResults/nextToken; the default rule comes last', async () => {
    const p = await newListener();
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      ids.push((await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: i })))).id!);
    }
    for (const maxResults of [1, 2, 4, 5]) {
      const pages = await allPages((nextToken) =>
        lattice.send(
          new ListRulesCommand({
            serviceIdentifier: p.serviceId,
            listenerIdentifier: p.listenerId,
            maxResults,
            nextToken,
          }),
        ),
      );
      for (const page of pages) assert.ok(page.length <= maxResults);
      const seen = pages.flat().map((r) => r.id!);
      assert.equal(seen.length, 5, `maxResults ${maxResults}`);
      assert.equal(seen[4], 'default');
      assert.deepEqual(seen.slice(0, 4).sort(), [...ids].sort());
    }
  });
});

describe('UpdateRule / BatchUpdateRule / DeleteRule', () => {
  test('UpdateRule changes match, priority and action; a taken priority conflicts', async () => {
    const p = await newListener();
    const a = await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 1 })));
    const b = await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 2 })));
    const match: RuleMatch = { httpMatch: { pathMatch: { match: { exact: '/health' } } } };
    const out = await lattice.send(
      new UpdateRuleCommand({
        serviceIdentifier: p.serviceId,
        listenerIdentifier: p.listenerId,
        ruleIdentifier: a.arn,
        priority: 3,
        match,
        action: { fixedResponse: { statusCode: 404 } },
      }),
    );
    assert.deepEqual(
      {
        id: out.id,
        name: out.name,
        priority: out.priority,
        match: out.match,
        action: out.action,
        isDefault: out.isDefault,
      },
      {
        id: a.id,
        name: a.name,
        priority: 3,
        match,
        action: { fixedResponse: { statusCode: 404 } },
        isDefault: false,
      },
    );
    const before = await ruleState(p);
    await expectAwsError(
      lattice.send(
        new UpdateRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier: b.id,
          priority: 3,
        }),
      ),
      ConflictException,
      409,
    );
    await expectAwsError(
      lattice.send(
        new UpdateRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier: b.id,
          match: { httpMatch: { method: 'X'.repeat(17) } },
        }),
      ),
      ValidationException,
    );
    assert.deepEqual(await ruleState(p), before);
  });

  test('BatchUpdateRule swaps priorities and reports per-rule failures (partial success, 200)', async () => {
    const p = await newListener();
    const a = await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 10 })));
    const b = await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 20 })));
    const c = await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 30 })));
    const out = await lattice.send(
      new BatchUpdateRuleCommand({
        serviceIdentifier: p.serviceId,
        listenerIdentifier: p.listenerId,
        rules: [
          { ruleIdentifier: a.id, priority: 20 },
          { ruleIdentifier: b.arn, priority: 10 },
          { ruleIdentifier: c.id, priority: 10 },
          { ruleIdentifier: 'default', priority: 5 },
          { ruleIdentifier: 'rule-0123456789abcdef0', priority: 6 },
          { ruleIdentifier: c.id, priority: 0 },
        ],
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(
      out.successful!.map((s) => [s.id, s.priority]).sort(),
      [
        [a.id, 20],
        [b.id, 10],
      ].sort(),
    );
    const failures = new Map<string, string[]>();
    for (const f of out.unsuccessful!) {
      failures.set(f.ruleIdentifier!, [...(failures.get(f.ruleIdentifier!) ?? []), f.failureCode!]);
      assert.ok(f.failureMessage!.length > 0);
    }
    assert.deepEqual(failures.get(c.id!)?.sort(), ['ConflictException', 'ValidationException']);
    assert.deepEqual(failures.get('default'), ['ValidationException']);
    assert.deepEqual(failures.get('rule-0123456789abcdef0'), ['ResourceNotFoundException']);
    assert.deepEqual(
      await ruleState(p),
      [`${a.id}:20`, `${b.id}:10`, `${c.id}:30`, 'default:-'].sort(),
    );
    await expectAwsError(
      lattice.send(
        new BatchUpdateRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          rules: [],
        }),
      ),
      ValidationException,
    );
  });

  test('DeleteRule answers 204; the rule is gone and its priority free', async () => {
    const p = await newListener();
    const r = await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 9 })));
    const out = await lattice.send(
      new DeleteRuleCommand({
        serviceIdentifier: p.serviceId,
        listenerIdentifier: p.listenerId,
        ruleIdentifier: r.arn,
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 204);
    await expectAwsError(
      lattice.send(
        new GetRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier: r.id,
        }),
      ),
      ResourceNotFoundException,
      404,
    );
    await lattice.send(new CreateRuleCommand(ruleInput(p, { priority: 9 })));
  });

  test('rules are found only under their own listener, and not from another account', async () => {
    const p = await newListener();
    const q = await newListener();
    const r = await lattice.send(new CreateRuleCommand(ruleInput(p)));
    await expectAwsError(
      lattice.send(
        new GetRuleCommand({
          serviceIdentifier: q.serviceId,
          listenerIdentifier: q.listenerId,
          ruleIdentifier: r.id,
        }),
      ),
      ResourceNotFoundException,
    );
    await expectAwsError(
      lattice.send(
        new GetRuleCommand({
          serviceIdentifier: q.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier: r.id,
        }),
      ),
      ResourceNotFoundException,
    );
    await expectAwsError(
      other.send(
        new GetRuleCommand({
          serviceIdentifier: p.serviceArn,
          listenerIdentifier: p.listenerArn,
          ruleIdentifier: r.arn,
        }),
      ),
      ResourceNotFoundException,
    );
    await expectAwsError(
      other.send(
        new ListRulesCommand({ serviceIdentifier: p.serviceId, listenerIdentifier: p.listenerId }),
      ),
      ResourceNotFoundException,
    );
    await expectAwsError(
      other.send(
        new DeleteRuleCommand({
          serviceIdentifier: p.serviceId,
          listenerIdentifier: p.listenerId,
          ruleIdentifier: r.id,
        }),
      ),
      ResourceNotFoundException,
    );
    await expectAwsError(
      other.send(new CreateRuleCommand(ruleInput(p, { priority: 50 }))),
      ResourceNotFoundException,
    );
    assert.deepEqual(await ruleState(p), [`${r.id}:1`, 'default:-'].sort());
  });
});
