import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { jsonOf, runCli, type CliRun } from './support/run-cli.js';

/**
 * `node bin/trellis.js …` as a user runs it, against a real `trellis up`: found through
 * `--data-dir` and through TRELLIS_ENDPOINT plus the standard AWS credential variables; exit
 * codes 1 (API failure) and 2 (usage). Runs are started together where they are independent.
 */
let trellis: TrellisProcess;
before(async () => {
  trellis = await startTrellis();
});
after(async () => {
  await trellis?.stop();
});

function awsEnv(): Record<string, string> {
  return {
    TRELLIS_ENDPOINT: trellis.endpoint,
    AWS_ACCESS_KEY_ID: trellis.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: trellis.credentials.secretAccessKey,
    AWS_REGION: trellis.region,
  };
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return run;
}

function failsWith(run: CliRun, code: number, ...patterns: RegExp[]): void {
  assert.equal(run.code, code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  for (const p of patterns) assert.match(run.stderr, p);
}

/** A loopback port that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('node bin/trellis.js', () => {
  it('vpc list --output json prints an array of objects with vpcId, through either discovery path', async () => {
    const runs = await Promise.all([
      runCli(['vpc', 'list', '--output', 'json', '--data-dir', trellis.dataDir]),
      runCli(['vpc', 'list', '--output', 'json'], { env: awsEnv() }),
    ]);
    for (const run of runs) {
      const vpcs = jsonOf<{ vpcId: string }[]>(ok(run));
      assert.ok(Array.isArray(vpcs) && vpcs.length >= 1, run.stdout);
      for (const v of vpcs) assert.match(v.vpcId, /^vpc-/);
    }
  });

  it('creates through the data dir and lists in a table through the AWS environment', async () => {
    const created = ok(
      await runCli([
        'service-network',
        'create',
        '--name',
        'proc-net',
        '--data-dir',
        trellis.dataDir,
      ]),
    );
    const id = /^id +(sn-\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);
    const table = ok(await runCli(['service-network', 'list'], { env: awsEnv() })).stdout;
    assert.ok(table.includes('proc-net') && table.includes(id) && table.includes('NAME'), table);
  });

  it('API failures print what was wrong and what to do, and exit 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'trellis-cli-empty-'));
    const port = await closedPort();
    const refused = {
      TRELLIS_ENDPOINT: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'AKIAX',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_MAX_ATTEMPTS: '1',
    };
    try {
      const [noEndpoint, refusedInventory, refusedSdk, invalid, unknownKey] = await Promise.all([
        runCli(['service-network', 'list', '--data-dir', empty]),
        runCli(['vpc', 'list'], { env: refused }),
        runCli(['service-network', 'list'], { env: refused }),
        runCli(['service-network', 'create', '--name', 'Bad_Name', '--data-dir', trellis.dataDir]),
        runCli(['service-network', 'list'], {
          env: { ...awsEnv(), AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000' },
        }),
      ]);
      failsWith(noEndpoint!, 1, /No Trellis endpoint found/, /npx trellis up/);
      for (const run of [refusedInventory!, refusedSdk!]) {
        failsWith(
          run,
          1,
          new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
          /Is `trellis up` running\?/,
        );
      }
      failsWith(invalid!, 1, /ValidationException/, /name: /, /What to do: Fix the value/);
      failsWith(unknownKey!, 1, /What to do: Use an access key Trellis issued/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('usage errors name the mistake and exit 2', async () => {
    const usage: [string[], RegExp][] = [
      [['service-network', 'create'], /required option '--name <name>'/],
      [['service', 'list', '--bogus'], /unknown option '--bogus'/],
      [
        ['service-network', 'create', '--name', 'x', '--auth-type', 'MAYBE'],
        /Allowed choices are NONE, AWS_IAM/,
      ],
      [['targets', 'register', 'tg-0', '--targets', '10.0.0.1:99999'], /not 1–65535/],
      [
        [
          'listener',
          'create',
          '--service',
          's',
          '--name',
          'n',
          '--protocol',
          'HTTP',
          '--forward',
          'tg-1',
          '--fixed-response',
          '404',
        ],
        /give only one of the action flags/,
      ],
      [['rule'], /Usage: trellis rule/],
      [['vpc', 'frobnicate'], /unknown command 'frobnicate'/],
    ];
    const runs = await Promise.all(usage.map(([args]) => runCli(args)));
    runs.forEach((run, i) => failsWith(run, 2, usage[i]![1]));
  });

  it('--help lists every command group', async () => {
    const help = ok(await runCli(['--help'])).stdout;
    for (const g of [
      'service-network',
      'service',
      'listener',
      'rule',
      'target-group',
      'targets',
      'association',
      'auth-policy',
      'vpc',
      'instance',
      'load-balancer',
    ]) {
      assert.match(help, new RegExp(`^  ${g} `, 'm'), help);
    }
  });
});
