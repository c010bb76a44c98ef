/**
 * `trellis iam …` as a user runs it (`node bin/trellis.js iam …`) against a real `trellis up`:
 * create a role with an inline policy, get its credentials with `--export`, use them from the
 * environment (whoami shows the session; the policy lets it list but not create).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { jsonOf, runCli, type CliRun } from './support/run-cli.js';

let trellis: TrellisProcess;
let scratch: string;

before(async () => {
  trellis = await startTrellis();
  scratch = mkdtempSync(join(tmpdir(), 'trellis-iam-cli-'));
});
after(async () => {
  await trellis?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function admin(...args: string[]): Promise<CliRun> {
  return runCli([...args, '--data-dir', trellis.dataDir]);
}

function ok(run: CliRun): CliRun {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return run;
}

/** Parses `export A=… B=…` (single-quoted values) into a map. */
function parseExport(line: string): Record<string, string> {
  assert.match(
    line,
    /^export AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=\S+ AWS_SESSION_TOKEN=\S+\n$/,
  );
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(AWS_\w+)='([^']*)'/g)) out[m[1] as string] = m[2] as string;
  return out;
}

describe('trellis iam', () => {
  it('whoami with the data dir credentials is the account root', async () => {
    const me = jsonOf<{ Account: string; Arn: string }>(
      ok(await admin('iam', 'whoami', '-o', 'json')),
    );
    assert.equal(me.Account, trellis.accountId);
    assert.equal(me.Arn, `arn:aws:iam::${trellis.accountId}:root`);
  });

  it('create-role with --policy-file, credentials --export, then act as the role', async () => {
    const policyFile = join(scratch, 'read-only.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['vpc-lattice:Get*', 'vpc-lattice:List*'], Resource: '*' },
        ],
      }),
    );
    const role = jsonOf<{ Arn: string; AssumeRolePolicyDocument: string }>(
      ok(
        await admin(
          'iam',
          'create-role',
          '--name',
          'viewer',
          '--policy-file',
          policyFile,
          '--policy-name',
          'read',
          '-o',
          'json',
        ),
      ),
    );
    assert.equal(role.Arn, `arn:aws:iam::${trellis.accountId}:role/viewer`);
    // Default trust: the caller's own account, decoded for reading.
    assert.match(
      role.AssumeRolePolicyDocument,
      new RegExp(`arn:aws:iam::${trellis.accountId}:root`),
    );

    const shown = jsonOf<{ InlinePolicies: string[] }>(
      ok(await admin('iam', 'get-role', '--name', 'viewer', '-o', 'json')),
    );
    assert.deepEqual(shown.InlinePolicies, ['read']);

    const exported = parseExport(
      ok(
        await admin(
          'iam',
          'credentials',
          '--role',
          'viewer',
          '--session-name',
          'cli-test',
          '--duration',
          '900',
          '--export',
        ),
      ).stdout,
    );
    assert.match(exported.AWS_ACCESS_KEY_ID ?? '', /^ASIA/);

    const asRole = (...args: string[]) =>
      runCli(args, {
        env: {
          TRELLIS_ENDPOINT: trellis.endpoint,
          AWS_REGION: trellis.region,
          ...exported,
        },
      });
    const me = jsonOf<{ Arn: string }>(ok(await asRole('iam', 'whoami', '-o', 'json')));
    assert.equal(me.Arn, `arn:aws:sts::${trellis.accountId}:assumed-role/viewer/cli-test`);
    ok(await asRole('service-network', 'list', '-o', 'json'));
    const denied = await asRole('service-network', 'create', '--name', 'rogue');
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /AccessDeniedException/);
    assert.match(
      denied.stderr,
      /no identity-based policy allows the vpc-lattice:CreateServiceNetwork action/,
    );
  });

  it('put-role-policy, list-roles and delete-role (inline policies removed first)', async () => {
    ok(await admin('iam', 'create-role', '--name', 'ci', '--trust-account', '444455556666'));
    const policyFile = join(scratch, 'admin.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'vpc-lattice:*', Resource: '*' }],
      }),
    );
    ok(
      await admin(
        'iam',
        'put-role-policy',
        '--role',
        'ci',
        '--policy-name',
        'lattice',
        '--policy-file',
        policyFile,
      ),
    );
    const roles = jsonOf<{ RoleName: string }[]>(
      ok(await admin('iam', 'list-roles', '-o', 'json')),
    );
    assert.ok(roles.some((r) => r.RoleName === 'ci'));
    ok(await admin('iam', 'delete-role', '--name', 'ci'));
    const gone = await admin('iam', 'get-role', '--name', 'ci');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NoSuchEntity/);
  });

  it('a malformed policy file is a usage error (exit 2) naming the file', async () => {
    const bad = join(scratch, 'bad.json');
    writeFileSync(bad, '{ not json');
    const run = await admin('iam', 'create-role', '--name', 'x', '--policy-file', bad);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /bad\.json is not valid JSON/);
  });
});
