import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  ConflictException,
  CreateListenerCommand,
  CreateRuleCommand,
  CreateServiceCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteServiceCommand,
  GetListenerCommand,
  GetRuleCommand,
  ListListenersCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  UpdateListenerCommand,
  ValidationException,
  type CreateListenerCommandInput,
  type RuleAction,
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

const NOT_FOUND_404: RuleAction = { fixedResponse: { statusCode: 404 } };

async function newService(customDomainName?: string): Promise<{ id: string; arn: string }> {
  const s = await lattice.send(
    new CreateServiceCommand({
      name: uniqueName('app'),
      ...(customDomainName ? { customDomainName } : {}),
    }),
  );
  return { id: s.id!, arn: s.arn! };
}

async function newTargetGroup(
  client: VPCLatticeClient,
  kind: 'LAMBDA' | 'TCP' | 'HTTP' | 'GRPC' = 'LAMBDA',
): Promise<{ id: string; arn: string }> {
  const tg = await client.send(
    new CreateTargetGroupCommand(
      kind === 'LAMBDA'
        ? { name: uniqueName('grp'), type: 'LAMBDA' }
        : {
            name: uniqueName('grp'),
            type: 'IP',
            config: {
              vpcIdentifier: defaultVpcId(proc.accountId),
              port: 8443,
              protocol: kind === 'TCP' ? 'TCP' : 'HTTPS',
              ...(kind === 'GRPC' ? { protocolVersion: 'GRPC' as const } : {}),
            },
          },
    ),
  );
  return { id: tg.id!, arn: tg.arn! };
}

function listenerInput(
  serviceIdentifier: string,
  extra: Partial<CreateListenerCommandInput> = {},
): CreateListenerCommandInput {
  return {
    serviceIdentifier,
    name: uniqueName('lsn'),
    protocol: 'HTTP',
    defaultAction: NOT_FOUND_404,
    ...extra,
  };
}

async function listenerIds(serviceIdentifier: string): Promise<string[]> {
  const out = await lattice.send(new ListListenersCommand({ serviceIdentifier }));
  return (out.items ?? []).map((l) => l.id!).sort();
}

describe('CreateListener', () => {
  test('an HTTP listener defaults to port 80; IDs and ARNs follow spec §1.3', async () => {
    const svc = await newService();
    const out = await lattice.send(new CreateListenerCommand(listenerInput(svc.arn)));
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.match(out.id!, ID.listener);
    assert.match(
      out.arn!,
      arnPattern(proc.region, proc.accountId, `service/${svc.id}/listener/${out.id}`),
    );
    assert.equal(out.port, 80);
    assert.equal(out.protocol, 'HTTP');
    assert.equal(out.serviceId, svc.id);
    assert.equal(out.serviceArn, svc.arn);
    assert.deepEqual(out.defaultAction, NOT_FOUND_404);
  });

  test('HTTPS defaults to 443; forward takes target groups by ID or ARN and answers IDs', async () => {
    const svc = await newService();
    const a = await newTargetGroup(lattice);
    const b = await newTargetGroup(lattice);
    const out = await lattice.send(
      new CreateListenerCommand(
        listenerInput(svc.id, {
          protocol: 'HTTPS',
          defaultAction: {
            forward: {
              targetGroups: [
                { targetGroupIdentifier: a.arn, weight: 90 },
                { targetGroupIdentifier: b.id, weight: 10 },
              ],
            },
          },
        }),
      ),
    );
    assert.equal(out.port, 443);
    assert.deepEqual(out.defaultAction, {
      forward: {
        targetGroups: [
          { targetGroupIdentifier: a.id, weight: 90 },
          { targetGroupIdentifier: b.id, weight: 10 },
        ],
      },
    });
    const got = await lattice.send(
      new GetListenerCommand({ serviceIdentifier: svc.id, listenerIdentifier: out.arn }),
    );
    assert.deepEqual(got.defaultAction, out.defaultAction);
    assert.ok(got.createdAt instanceof Date);
  });

  test('TLS_PASSTHROUGH needs a custom domain and a TCP target group; defaults to port 443', async () => {
    const plain = await newService();
    const tcp = await newTargetGroup(lattice, 'TCP');
    const forwardTcp: RuleAction = {
      forward: { targetGroups: [{ targetGroupIdentifier: tcp.id }] },
    };
    let err = await expectAwsError(
      lattice.send(
        new CreateListenerCommand(
          listenerInput(plain.id, { protocol: 'TLS_PASSTHROUGH', defaultAction: forwardTcp }),
        ),
      ),
      ValidationException,
    );
    assert.deepEqual(fieldNames(err), ['protocol']);
    const svc = await newService('tls.example.com');
    const http = await newTargetGroup(lattice, 'HTTP');
    err = await expectAwsError(
      lattice.send(
        new CreateListenerCommand(
          listenerInput(svc.id, {
            protocol: 'TLS_PASSTHROUGH',
            defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: http.id }] } },
          }),
        ),
      ),
      ValidationException,
    );
    assert.deepEqual(fieldNames(err), [
      'defaultAction.forward.targetGroups[0].targetGroupIdentifier',
    ]);
    await expectAwsError(
      lattice.send(
        new CreateListenerCommand(
          listenerInput(svc.id, { protocol: 'TLS_PASSTHROUGH', defaultAction: NOT_FOUND_404 }),
        ),
      ),
      ValidationException,
    );
    const out = await lattice.send(
      new CreateListenerCommand(
        listenerInput(svc.id, { protocol: 'TLS_PASSTHROUGH', defaultAction: forwardTcp }),
      ),
    );
    assert.equal(out.port, 443);
    // spec §7.1: TCP target groups serve only TLS_PASSTHROUGH listeners.
    err = await expectAwsError(
      lattice.send(new CreateListenerCommand(listenerInput(svc.id, { defaultAction: forwardTcp }))),
      ValidationException,
    );
    assert.deepEqual(fieldNames(err), [
      'defaultAction.forward.targetGroups[0].targetGroupIdentifier',
    ]);
  });

  test('a GRPC target group is refused behind HTTP and accepted behind HTTPS (spec §7.3)', async () => {
    const svc = await newService();
    const grpc = await newTargetGroup(lattice, 'GRPC');
    const action: RuleAction = { forward: { targetGroups: [{ targetGroupIdentifier: grpc.id }] } };
    await expectAwsError(
      lattice.send(new CreateListenerCommand(listenerInput(svc.id, { defaultAction: action }))),
      ValidationException,
    );
    const ok = await lattice.send(
      new CreateListenerCommand(
        listenerInput(svc.id, { protocol: 'HTTPS', defaultAction: action }),
      ),
    );
    assert.equal(ok.port, 443);
  });

  const invalid: [string, Partial<CreateListenerCommandInput>, string][] = [
    ['a name starting with listener-', { name: 'listener-one' }, 'name'],
    ['a 64-character name', { name: 'a'.repeat(64) }, 'name'],
    ['an unknown protocol', { protocol: 'TCP' as never }, 'protocol'],
    ['port 0', { port: 0 }, 'port'],
    ['port 65536', { port: 65536 }, 'port'],
    ['an empty action', { defaultAction: {} as never }, 'defaultAction'],
    [
      'an action with both members',
      {
        defaultAction: {
          fixedResponse: { statusCode: 404 },
          forward: { targetGroups: [{ targetGroupIdentifier: 'tg-0123456789abcdef0' }] },
        } as never,
      },
      'defaultAction',
    ],
    [
      'status 600',
      { defaultAction: { fixedResponse: { statusCode: 600 } } },
      'defaultAction.fixedResponse.statusCode',
    ],
    [
      'weight 1000',
      {
        defaultAction: {
          forward: {
            targetGroups: [{ targetGroupIdentifier: 'tg-0123456789abcdef0', weight: 1000 }],
          },
        },
      },
      'defaultAction.forward.targetGroups[0].weight',
    ],
    [
      'eleven target groups',
      {
        defaultAction: {
          forward: {
            targetGroups: Array.from({ length: 11 }, (_, i) => ({
              targetGroupIdentifier: `tg-0123456789abcde${i.toString(16).padStart(2, '0')}`,
            })),
          },
        },
      },
      'defaultAction.forward.targetGroups',
    ],
  ];
  for (const [what, extra, field] of invalid) {
    test(`refuses ${what} with ValidationException naming ${field}`, async () => {
      const svc = await newService();
      const err = await expectAwsError(
        lattice.send(new CreateListenerCommand(listenerInput(svc.id, extra))),
        ValidationException,
        400,
      );
      assert.ok(fieldNames(err).includes(field), JSON.stringify(err.fieldList));
      assert.deepEqual(await listenerIds(svc.id), []);
    });
  }

  test('an unknown service or target group is ResourceNotFoundException', async () => {
    await expectAwsError(
      lattice.send(new CreateListenerCommand(listenerInput('svc-0123456789abcdef0'))),
      ResourceNotFoundException,
      404,
    );
    const svc = await newService();
    const err = await expectAwsError(
      lattice.send(
        new CreateListenerCommand(
          listenerInput(svc.id, {
            defaultAction: {
              forward: { targetGroups: [{ targetGroupIdentifier: 'tg-0123456789abcdef0' }] },
            },
          }),
        ),
      ),
      ResourceNotFoundException,
    );
    assert.equal(err.resourceType, 'TARGET_GROUP');
    const theirs = await newTargetGroup(other);
    await expectAwsError(
      lattice.send(
        new CreateListenerCommand(
          listenerInput(svc.id, {
            defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: theirs.arn }] } },
          }),
        ),
      ),
      ResourceNotFoundException,
    );
    assert.deepEqual(await listenerIds(svc.id), []);
  });

  test('same port or same name in one service is a ConflictException', async () => {
    const svc = await newService();
    const first = await lattice.send(
      new CreateListenerCommand(listenerInput(svc.id, { port: 8080 })),
    );
    await expectAwsError(
      lattice.send(new CreateListenerCommand(listenerInput(svc.id, { port: 8080 }))),
      ConflictException,
      409,
    );
    await expectAwsError(
      lattice.send(
        new CreateListenerCommand(listenerInput(svc.id, { name: first.name, port: 8081 })),
      ),
      ConflictException,
      409,
    );
    assert.deepEqual(await listenerIds(svc.id), [first.id]);
    // Another service may reuse both.
    const svc2 = await newService();
    await lattice.send(
      new CreateListenerCommand(listenerInput(svc2.id, { name: first.name, port: 8080 })),
    );
  });

  test('a target group used by another service is a ConflictException until that service is gone', async () => {
    const svcA = await newService();
    const svcB = await newService();
    const tg = await newTargetGroup(lattice);
    const action: RuleAction = { forward: { targetGroups: [{ targetGroupIdentifier: tg.id }] } };
    await lattice.send(
      new CreateListenerCommand(listenerInput(svcA.id, { defaultAction: action })),
    );
    // spec §1.5: several listeners of one service may share it.
    await lattice.send(
      new CreateListenerCommand(listenerInput(svcA.id, { port: 81, defaultAction: action })),
    );
    const err = await expectAwsError(
      lattice.send(new CreateListenerCommand(listenerInput(svcB.id, { defaultAction: action }))),
      ConflictException,
      409,
    );
    assert.equal(err.resourceId, tg.id);
    assert.deepEqual(await listenerIds(svcB.id), []);
    await lattice.send(new DeleteServiceCommand({ serviceIdentifier: svcA.id }));
    await lattice.send(
      new CreateListenerCommand(listenerInput(svcB.id, { defaultAction: action })),
    );
  });

  test('listenersPerService (2) answers ServiceQuotaExceededException with HTTP 402', async () => {
    const svc = await newService();
    await lattice.send(new CreateListenerCommand(listenerInput(svc.id, { port: 80 })));
    await lattice.send(new CreateListenerCommand(listenerInput(svc.id, { port: 81 })));
    const before = await listenerIds(svc.id);
    const err = await expectAwsError(
      lattice.send(new CreateListenerCommand(listenerInput(svc.id, { port: 82 }))),
      ServiceQuotaExceededException,
      402,
    );
    assert.equal(err.quotaCode, 'L-D64E952E');
    assert.deepEqual(await listenerIds(svc.id), before);
  });

  test('targetGroupsPerService (10) counts distinct groups across listeners: 402 past it', async () => {
    const svc = await newService();
    const ten = await Promise.all(Array.from({ length: 10 }, () => newTargetGroup(lattice)));
    const eleventh = await newTargetGroup(lattice);
    await lattice.send(
      new CreateListenerCommand(
        listenerInput(svc.id, {
          defaultAction: {
            forward: { targetGroups: ten.map((t) => ({ targetGroupIdentifier: t.id })) },
          },
        }),
      ),
    );
    const before = await listenerIds(svc.id);
    const err = await expectAwsError(
      lattice.send(
        new CreateListenerCommand(
          listenerInput(svc.id, {
            port: 81,
            defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: eleventh.id }] } },
          }),
        ),
      ),
      ServiceQuotaExceededException,
      402,
    );
    assert.equal(err.quotaCode, 'L-3DEC3B9F');
    assert.deepEqual(await listenerIds(svc.id), before);
    // Reusing one of the ten stays within the quota.
    await lattice.send(
      new CreateListenerCommand(
        listenerInput(svc.id, {
          port: 81,
          defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: ten[0]!.id }] } },
        }),
      ),
    );
  });

  test('replaying a clientToken returns the same listener; other parameters conflict', async () => {
    const svc = await newService();
    const input = listenerInput(svc.id, { clientToken: randomUUID() });
    const first = await lattice.send(new CreateListenerCommand(input));
    const again = await lattice.send(new CreateListenerCommand(input));
    assert.equal(again.id, first.id);
    await expectAwsError(
      lattice.send(new CreateListenerCommand({ ...input, name: uniqueName('lsn'), port: 9000 })),
      ConflictException,
    );
    assert.deepEqual(await listenerIds(svc.id), [first.id]);
  });
});

describe('GetListener / ListListeners / UpdateListener / DeleteListener', () => {
  test('a listener is found only under its own service, and not from another account', async () => {
    const svc = await newService();
    const otherSvc = await newService();
    const l = await lattice.send(new CreateListenerCommand(listenerInput(svc.id)));
    await expectAwsError(
      lattice.send(
        new GetListenerCommand({ serviceIdentifier: otherSvc.id, listenerIdentifier: l.id }),
      ),
      ResourceNotFoundException,
    );
    for (const client of [other]) {
      await expectAwsError(
        client.send(
          new GetListenerCommand({ serviceIdentifier: svc.arn, listenerIdentifier: l.arn }),
        ),
        ResourceNotFoundException,
      );
      await expectAwsError(
        client.send(new ListListenersCommand({ serviceIdentifier: svc.id })),
        ResourceNotFoundException,
      );
      await expectAwsError(
        client.send(
          new UpdateListenerCommand({
            serviceIdentifier: svc.id,
            listenerIdentifier: l.id,
            defaultAction: NOT_FOUND_404,
          }),
        ),
        ResourceNotFoundException,
      );
      await expectAwsError(
        client.send(
          new DeleteListenerCommand({ serviceIdentifier: svc.id, listenerIdentifier: l.id }),
        ),
        ResourceNotFoundException,
      );
    }
    assert.deepEqual(await listenerIds(svc.id), [l.id]);
  });

  test('ListListeners pages with maxResults/nextToken', async () => {
    const svc = await newService();
    const a = await lattice.send(new CreateListenerCommand(listenerInput(svc.id, { port: 80 })));
    const b = await lattice.send(
      new CreateListenerCommand(listenerInput(svc.id, { protocol: 'HTTPS' })),
    );
    const pages = await allPages((nextToken) =>
      lattice.send(
        new ListListenersCommand({ serviceIdentifier: svc.id, maxResults: 1, nextToken }),
      ),
    );
    assert.deepEqual(
      pages.map((p) => p.length).filter((n) => n > 0),
      [1, 1],
    );
    const items = pages.flat();
    assert.deepEqual(items.map((l) => l.id).sort(), [a.id, b.id].sort());
    const https = items.find((l) => l.id === b.id)!;
    assert.equal(https.protocol, 'HTTPS');
    assert.equal(https.port, 443);
    assert.ok(https.createdAt instanceof Date);
  });

  test('UpdateListener changes the default action, which GetRule default reflects', async () => {
    const svc = await newService();
    const tg = await newTargetGroup(lattice);
    const l = await lattice.send(new CreateListenerCommand(listenerInput(svc.id)));
    const action: RuleAction = { forward: { targetGroups: [{ targetGroupIdentifier: tg.arn }] } };
    const out = await lattice.send(
      new UpdateListenerCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: l.id,
        defaultAction: action,
      }),
    );
    assert.deepEqual(out.defaultAction, {
      forward: { targetGroups: [{ targetGroupIdentifier: tg.id }] },
    });
    assert.equal(out.port, 80);
    const rule = await lattice.send(
      new GetRuleCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: l.id,
        ruleIdentifier: 'default',
      }),
    );
    assert.equal(rule.isDefault, true);
    assert.deepEqual(rule.action, out.defaultAction);
    await expectAwsError(
      lattice.send(
        new UpdateListenerCommand({
          serviceIdentifier: svc.id,
          listenerIdentifier: l.id,
          defaultAction: { fixedResponse: { statusCode: 99 } },
        }),
      ),
      ValidationException,
    );
    const got = await lattice.send(
      new GetListenerCommand({ serviceIdentifier: svc.id, listenerIdentifier: l.id }),
    );
    assert.deepEqual(got.defaultAction, out.defaultAction);
  });

  test('DeleteListener answers 204 and takes its rules with it', async () => {
    const svcA = await newService();
    const svcB = await newService();
    const tg = await newTargetGroup(lattice);
    const l = await lattice.send(new CreateListenerCommand(listenerInput(svcA.id)));
    await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier: svcA.id,
        listenerIdentifier: l.id,
        name: 'to-tg',
        priority: 1,
        match: { httpMatch: { method: 'GET' } },
        action: { forward: { targetGroups: [{ targetGroupIdentifier: tg.id }] } },
      }),
    );
    const del = await lattice.send(
      new DeleteListenerCommand({ serviceIdentifier: svcA.id, listenerIdentifier: l.arn }),
    );
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectAwsError(
      lattice.send(
        new GetListenerCommand({ serviceIdentifier: svcA.id, listenerIdentifier: l.id }),
      ),
      ResourceNotFoundException,
    );
    assert.deepEqual(await listenerIds(svcA.id), []);
    // The rule went too: its target group is free for another service.
    await lattice.send(
      new CreateListenerCommand(
        listenerInput(svcB.id, {
          defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: tg.id }] } },
        }),
      ),
    );
  });
});
