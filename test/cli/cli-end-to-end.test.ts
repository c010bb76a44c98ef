import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { runCliInProcess } from './support/run-cli-in-process.js';
import { jsonOf, type CliRun } from './support/run-cli.js';

/**
 * Every client command group against a real `trellis up` (through the SDK over HTTP), run in
 * this process for speed with the commands bin/trellis.ts registers; cli-process.test.ts runs
 * `node bin/trellis.js` itself.
 */
let trellis: TrellisProcess;
let scratch: string;

before(async () => {
  trellis = await startTrellis();
  scratch = mkdtempSync(join(tmpdir(), 'trellis-cli-e2e-'));
});
after(async () => {
  await trellis?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A run found through the data dir. */
function viaDataDir(...args: string[]): Promise<CliRun> {
  return runCliInProcess([...args, '--data-dir', trellis.dataDir]);
}

/**
 * A run found through TRELLIS_ENDPOINT (credentials from TRELLIS_DATA_DIR: in this process the
 * SDK's credential chain would read the test runner's own AWS variables; cli-process.test.ts
 * covers AWS environment credentials in a child process).
 */
function viaEnvironment(...args: string[]): Promise<CliRun> {
  return runCliInProcess(args, {
    TRELLIS_ENDPOINT: trellis.endpoint,
    TRELLIS_DATA_DIR: trellis.dataDir,
    AWS_REGION: trellis.region,
  });
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return run;
}

function failsWith(run: CliRun, code: number, ...patterns: RegExp[]): void {
  assert.equal(run.code, code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  for (const p of patterns) assert.match(run.stderr, p);
}

describe('trellis client commands against trellis up', () => {
  const ids: Record<string, string> = {};

  it('vpc list --output json prints an array of objects with vpcId (both discovery paths)', async () => {
    for (const run of await Promise.all([
      viaDataDir('vpc', 'list', '--output', 'json'),
      viaEnvironment('vpc', 'list', '--output', 'json'),
    ])) {
      const vpcs = jsonOf<{ vpcId: string }[]>(ok(run));
      assert.ok(Array.isArray(vpcs) && vpcs.length >= 1, run.stdout);
      for (const v of vpcs) assert.match(v.vpcId, /^vpc-/);
    }
  });

  it('service-network create/get/list/update in tables and JSON', async () => {
    const created = ok(
      await viaDataDir('service-network', 'create', '--name', 'cli-net', '--tags', 'team=cli'),
    );
    assert.match(created.stdout, /^name +cli-net$/m);
    const id = /^id +(sn-\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);
    ids.sn = id;

    const table = ok(await viaEnvironment('service-network', 'list'));
    assert.ok(table.stdout.includes('cli-net') && table.stdout.includes(id), table.stdout);

    const list = jsonOf<{ id: string; name: string; arn: string }[]>(
      ok(await viaDataDir('service-network', 'list', '-o', 'json')),
    );
    const mine = list.find((s) => s.id === id);
    assert.equal(mine?.name, 'cli-net');
    assert.match(mine.arn, /:servicenetwork\/sn-/);

    const updated = jsonOf<{ authType: string }>(
      ok(await viaDataDir('service-network', 'update', id, '--auth-type', 'AWS_IAM', '-o', 'json')),
    );
    assert.equal(updated.authType, 'AWS_IAM');
    const got = jsonOf<{ id: string; authType: string }>(
      ok(await viaEnvironment('service-network', 'get', id, '--output', 'json')),
    );
    assert.deepEqual([got.id, got.authType], [id, 'AWS_IAM']);
  });

  it('service, target group, targets, listener and rule', async () => {
    const svc = jsonOf<{ id: string; name: string; dnsEntry: { domainName: string } }>(
      ok(await viaDataDir('service', 'create', '--name', 'cli-svc', '-o', 'json')),
    );
    assert.equal(svc.name, 'cli-svc');
    assert.ok(svc.dnsEntry.domainName.startsWith('cli-svc-'));
    ids.svc = svc.id;
    assert.ok(ok(await viaEnvironment('service', 'list')).stdout.includes('cli-svc'));

    const vpcId = jsonOf<{ vpcId: string }[]>(ok(await viaDataDir('vpc', 'list', '-o', 'json')))[0]!
      .vpcId;
    const tg = jsonOf<{ id: string; config: { port: number; vpcIdentifier: string } }>(
      ok(
        await viaDataDir(
          'target-group',
          'create',
          '--name',
          'cli-tg',
          '--type',
          'IP',
          '--protocol',
          'HTTP',
          '--port',
          '8080',
          '--vpc',
          vpcId,
          '--health-check-path',
          '/health',
          '-o',
          'json',
        ),
      ),
    );
    assert.deepEqual([tg.config.port, tg.config.vpcIdentifier], [8080, vpcId]);
    ids.tg = tg.id;
    const tgTable = ok(await viaDataDir('target-group', 'list', '--type', 'IP')).stdout;
    assert.ok(tgTable.includes('cli-tg') && tgTable.includes('8080'), tgTable);

    const reg = ok(
      await viaDataDir('targets', 'register', tg.id, '--targets', '127.0.0.1:9001,127.0.0.1'),
    );
    assert.match(reg.stdout, /127\.0\.0\.1.*9001.*registered/);
    const targets = jsonOf<{ id: string; port: number; status: string }[]>(
      ok(await viaEnvironment('targets', 'list', tg.id, '-o', 'json')),
    );
    assert.deepEqual(targets.map((t) => `${t.id}:${t.port}`).sort(), [
      '127.0.0.1:8080',
      '127.0.0.1:9001',
    ]);
    for (const t of targets) assert.ok(t.status, JSON.stringify(t));
    failsWith(
      await viaDataDir('targets', 'register', tg.id, '--targets', 'not-an-ip'),
      1,
      /1 of 1 target\(s\) were not registered/,
      /What to do: /,
    );

    const listener = jsonOf<{ id: string; port: number; defaultAction: unknown }>(
      ok(
        await viaDataDir(
          'listener',
          'create',
          '--service',
          svc.id,
          '--name',
          'http',
          '--protocol',
          'HTTP',
          '--port',
          '8081',
          '--forward',
          `${tg.id}:100`,
          '-o',
          'json',
        ),
      ),
    );
    assert.equal(listener.port, 8081);
    assert.deepEqual(listener.defaultAction, {
      forward: { targetGroups: [{ targetGroupIdentifier: tg.id, weight: 100 }] },
    });
    ids.listener = listener.id;
    assert.ok(
      ok(await viaDataDir('listener', 'list', '--service', svc.id)).stdout.includes('http'),
    );
    const updatedListener = jsonOf<{ defaultAction: unknown }>(
      ok(
        await viaEnvironment(
          'listener',
          'update',
          listener.id,
          '--service',
          svc.id,
          '--default-action',
          '{"fixedResponse":{"statusCode":404}}',
          '-o',
          'json',
        ),
      ),
    );
    assert.deepEqual(updatedListener.defaultAction, { fixedResponse: { statusCode: 404 } });

    const rule = jsonOf<{ id: string; priority: number; match: unknown; action: unknown }>(
      ok(
        await viaDataDir(
          'rule',
          'create',
          '--service',
          svc.id,
          '--listener',
          listener.id,
          '--name',
          'api',
          '--priority',
          '10',
          '--path-prefix',
          '/api',
          '--method',
          'GET',
          '--header',
          'x-beta=1',
          '--forward',
          tg.id,
          '-o',
          'json',
        ),
      ),
    );
    assert.equal(rule.priority, 10);
    assert.deepEqual(rule.match, {
      httpMatch: {
        method: 'GET',
        pathMatch: { match: { prefix: '/api' } },
        headerMatches: [{ name: 'x-beta', match: { exact: '1' } }],
      },
    });
    const rules = ok(
      await viaDataDir('rule', 'list', '--service', svc.id, '--listener', listener.id),
    ).stdout;
    assert.ok(rules.includes('api') && rules.includes('default'), rules);
    const moved = jsonOf<{ priority: number }>(
      ok(
        await viaDataDir(
          'rule',
          'update',
          rule.id,
          '--service',
          svc.id,
          '--listener',
          listener.id,
          '--priority',
          '20',
          '-o',
          'json',
        ),
      ),
    );
    assert.equal(moved.priority, 20);
  });

  it('associations and auth policies; delete refused with a hint, then --cascade', async () => {
    const snsa = jsonOf<{ id: string }>(
      ok(
        await viaDataDir(
          'association',
          'create',
          '--service-network',
          ids.sn!,
          '--service',
          ids.svc!,
          '-o',
          'json',
        ),
      ),
    );
    assert.match(snsa.id, /^snsa-/);
    const vpcId = jsonOf<{ vpcId: string }[]>(ok(await viaDataDir('vpc', 'list', '-o', 'json')))[0]!
      .vpcId;
    const snva = jsonOf<{ id: string }>(
      ok(
        await viaDataDir(
          'association',
          'create',
          '--service-network',
          ids.sn!,
          '--vpc',
          vpcId,
          '-o',
          'json',
        ),
      ),
    );
    assert.match(snva.id, /^snva-/);
    const rows = jsonOf<{ kind: string; id: string }[]>(
      ok(await viaEnvironment('association', 'list', '--service-network', ids.sn!, '-o', 'json')),
    );
    assert.deepEqual(rows.map((r) => `${r.kind}:${r.id}`).sort(), [
      `service:${snsa.id}`,
      `vpc:${snva.id}`,
    ]);
    const got = jsonOf<{ id: string; serviceId: string }>(
      ok(await viaDataDir('association', 'get', snsa.id, '-o', 'json')),
    );
    assert.equal(got.serviceId, ids.svc);

    const policyFile = join(scratch, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify(
        {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
          ],
        },
        null,
        2,
      ),
    );
    const put = jsonOf<{ policy: string; state: string }>(
      ok(
        await viaDataDir('auth-policy', 'put', ids.sn!, '--policy-file', policyFile, '-o', 'json'),
      ),
    );
    assert.equal(put.state, 'Active');
    assert.ok(!put.policy.includes('\n'), 'the policy is sent without newlines');
    const shown = ok(await viaEnvironment('auth-policy', 'get', ids.sn!)).stdout;
    assert.match(shown, /^state +Active$/m);
    assert.match(shown, /"Action": "vpc-lattice-svcs:Invoke"/);

    failsWith(
      await viaDataDir('service-network', 'delete', ids.sn!),
      1,
      /ConflictException/,
      /What to do: .*delete the dependent associations first/,
    );
    const cascade = ok(await viaDataDir('service-network', 'delete', ids.sn!, '--cascade'));
    assert.match(cascade.stderr, /deleting service association snsa-/);
    assert.match(cascade.stderr, /deleting VPC association snva-/);
    assert.match(cascade.stdout, /Deleted service network sn-/);
    failsWith(
      await viaDataDir('service-network', 'get', ids.sn!),
      1,
      /ResourceNotFoundException/,
      /What to do: /,
    );
  });

  it('inventory: vpc create/get/delete, instance and load-balancer', async () => {
    const vpc = jsonOf<{ vpcId: string; ingressAddresses: string[]; tags: Record<string, string> }>(
      ok(
        await viaDataDir(
          'vpc',
          'create',
          '--ingress-addresses',
          '127.0.0.42',
          '--cidr-blocks',
          '10.9.0.0/16',
          '--name',
          'cli-vpc',
          '-o',
          'json',
        ),
      ),
    );
    assert.deepEqual(vpc.ingressAddresses, ['127.0.0.42']);
    assert.equal(vpc.tags.Name, 'cli-vpc');
    assert.match(ok(await viaEnvironment('vpc', 'get', vpc.vpcId)).stdout, /^vpcId +vpc-/m);
    assert.ok(ok(await viaDataDir('vpc', 'list')).stdout.includes('cli-vpc'));

    const inst = jsonOf<{ instanceId: string }>(
      ok(
        await viaDataDir(
          'instance',
          'create',
          '--vpc',
          vpc.vpcId,
          '--address',
          '127.0.0.43',
          '-o',
          'json',
        ),
      ),
    );
    assert.match(inst.instanceId, /^i-/);
    assert.ok(
      ok(await viaDataDir('instance', 'list', '--vpc', vpc.vpcId)).stdout.includes(inst.instanceId),
    );
    assert.ok(
      ok(await viaDataDir('instance', 'get', inst.instanceId)).stdout.includes('127.0.0.43'),
    );
    const lb = jsonOf<{ loadBalancerArn: string }>(
      ok(
        await viaDataDir(
          'load-balancer',
          'create',
          '--name',
          'cli-alb',
          '--vpc',
          vpc.vpcId,
          '--address',
          '127.0.0.44',
          '-o',
          'json',
        ),
      ),
    );
    assert.match(lb.loadBalancerArn, /:loadbalancer\/app\/cli-alb\//);
    assert.ok(ok(await viaEnvironment('load-balancer', 'list')).stdout.includes('cli-alb'));

    failsWith(await viaDataDir('vpc', 'delete', vpc.vpcId), 1, /ConflictException/, /What to do: /);
    ok(await viaDataDir('load-balancer', 'delete', lb.loadBalancerArn));
    ok(await viaDataDir('instance', 'delete', inst.instanceId));
    assert.match(ok(await viaDataDir('vpc', 'delete', vpc.vpcId)).stdout, /Deleted VPC vpc-/);
    failsWith(await viaDataDir('vpc', 'get', vpc.vpcId), 1, /ResourceNotFoundException/);
  });

  it('API errors name what was wrong and what to do, and exit 1', async () => {
    failsWith(
      await viaDataDir('service-network', 'create', '--name', 'Bad_Name'),
      1,
      /ValidationException/,
      /name: /,
      /What to do: Fix the value/,
    );
  });
});
