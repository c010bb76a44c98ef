/**
 * `trellis iam …` (issue auth §1): the common IAM/STS flows over the official
 * `@aws-sdk/client-iam` and `@aws-sdk/client-sts` — create a role a service can assume, give it
 * a policy, get shell credentials for it, and ask who the current credentials are.
 */
import { readFileSync } from 'node:fs';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListRolePoliciesCommand,
  paginateListRoles,
  PutRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Option, type Command } from 'commander';
import {
  clientAction,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import { intInRange, parseTags } from './flag-parsers.js';
import type { Column } from './output.js';

function iamClient(ctx: CommandContext<unknown>): IAMClient {
  const c = ctx.config;
  return new IAMClient({ endpoint: c.endpoint, region: c.region, credentials: c.credentials });
}

function stsClient(ctx: CommandContext<unknown>): STSClient {
  const c = ctx.config;
  return new STSClient({ endpoint: c.endpoint, region: c.region, credentials: c.credentials });
}

/** Runs `fn` with a client that is destroyed afterwards (no sockets left open). */
async function using<C extends { destroy(): void }, R>(client: C, fn: (c: C) => Promise<R>) {
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

/** A JSON policy document from a file, checked to be JSON (IAM answers the finer errors). */
function readPolicyFile(ctx: CommandContext<unknown>, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    ctx.usage(
      `cannot read ${file}: ${(err as Error).message}`,
      'Give the path of a JSON IAM policy document.',
    );
  }
  try {
    return JSON.stringify(JSON.parse(text));
  } catch (err) {
    ctx.usage(
      `${file} is not valid JSON (${(err as Error).message}).`,
      'Give a JSON IAM policy document: {"Version":"2012-10-17","Statement":[…]}.',
    );
  }
}

/** A trust policy letting the given accounts / principal ARNs assume the role (and tag sessions). */
export function trustPolicyFor(principals: readonly string[]): string {
  const aws = principals.map((p) => (/^\d{12}$/.test(p) ? `arn:aws:iam::${p}:root` : p));
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: aws.length === 1 ? aws[0] : aws },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
      },
    ],
  });
}

/** `export AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_SESSION_TOKEN=…` for `eval`. */
export function exportLine(c: {
  AccessKeyId?: string | undefined;
  SecretAccessKey?: string | undefined;
  SessionToken?: string | undefined;
}): string {
  const q = (v: string | undefined) => `'${(v ?? '').replace(/'/g, `'\\''`)}'`;
  return `export AWS_ACCESS_KEY_ID=${q(c.AccessKeyId)} AWS_SECRET_ACCESS_KEY=${q(c.SecretAccessKey)} AWS_SESSION_TOKEN=${q(c.SessionToken)}\n`;
}

const ROLE_COLUMNS: Column<Role>[] = [
  { header: 'NAME', value: (r) => r.RoleName },
  { header: 'ARN', value: (r) => r.Arn },
  { header: 'MAX SESSION', value: (r) => r.MaxSessionDuration },
  { header: 'CREATED', value: (r) => r.CreateDate },
];

function decodedRole(role: Role | undefined): Record<string, unknown> {
  if (!role) return {};
  const out: Record<string, unknown> = { ...role };
  if (role.AssumeRolePolicyDocument) {
    out.AssumeRolePolicyDocument = decodeURIComponent(role.AssumeRolePolicyDocument);
  }
  return out;
}

interface CreateRoleFlags {
  name: string;
  path?: string;
  trustAccount?: string[];
  trustPrincipal?: string[];
  trustPolicyFile?: string;
  policyFile?: string;
  policyName: string;
  description?: string;
  maxSessionDuration?: number;
  tags?: Record<string, string>;
}

interface CredentialsFlags {
  role: string;
  sessionName?: string;
  duration?: number;
  tag?: Record<string, string>;
  export?: boolean;
}

/** Adds `trellis iam …` to the program. */
export function registerIamCommands(program: Command): void {
  const group = createGroup(
    'iam',
    'IAM roles, users and credentials: who may manage Trellis and who may call services.',
  );

  clientAction<CreateRoleFlags>(
    withExamples(
      group
        .command('create-role')
        .description(
          'Create a role. Without --trust-*, principals of your own account may assume it.',
        )
        .requiredOption('--name <name>', 'role name')
        .option('--path <path>', 'IAM path, e.g. /services/')
        .option(
          '--trust-account <account>',
          'account id (or principal ARN) allowed to assume the role (repeatable)',
          (v: string, prev: string[] = []) => [...prev, v],
        )
        .option(
          '--trust-principal <arn>',
          'user or role ARN allowed to assume the role (repeatable)',
          (v: string, prev: string[] = []) => [...prev, v],
        )
        .option('--trust-policy-file <file>', 'a full trust policy document instead')
        .option('--policy-file <file>', 'an identity policy to attach inline')
        .option('--policy-name <name>', 'name of the inline policy', 'inline')
        .option('--description <text>', 'description')
        .addOption(
          new Option('--max-session-duration <seconds>', '3600–43200').argParser(
            intInRange(3600, 43200),
          ),
        )
        .option('--tags <k=v,...>', 'tags (repeatable)', parseTags),
      'trellis iam create-role --name checkout --policy-file checkout-policy.json',
      'trellis iam create-role --name ci --trust-account 444455556666',
    ),
    async (ctx) => {
      const o = ctx.opts;
      const principals = [...(o.trustAccount ?? []), ...(o.trustPrincipal ?? [])];
      if (o.trustPolicyFile && principals.length) {
        ctx.usage('give either --trust-policy-file or --trust-account/--trust-principal.');
      }
      const policy = o.policyFile ? readPolicyFile(ctx, o.policyFile) : undefined;
      let trust: string;
      if (o.trustPolicyFile) trust = readPolicyFile(ctx, o.trustPolicyFile);
      else if (principals.length) trust = trustPolicyFor(principals);
      else {
        const me = await using(stsClient(ctx), (s) => s.send(new GetCallerIdentityCommand({})));
        trust = trustPolicyFor([me.Account ?? '']);
      }
      await using(iamClient(ctx), async (iam) => {
        const out = await iam.send(
          new CreateRoleCommand({
            RoleName: o.name,
            Path: o.path,
            AssumeRolePolicyDocument: trust,
            Description: o.description,
            MaxSessionDuration: o.maxSessionDuration,
            Tags: o.tags
              ? Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value }))
              : undefined,
          }),
        );
        if (policy) {
          ctx.progress(`attaching inline policy ${o.policyName}`);
          await iam.send(
            new PutRolePolicyCommand({
              RoleName: o.name,
              PolicyName: o.policyName,
              PolicyDocument: policy,
            }),
          );
        }
        ctx.printResource(decodedRole(out.Role));
      });
    },
  );

  clientAction<{ role: string; policyName: string; policyFile: string }>(
    withExamples(
      group
        .command('put-role-policy')
        .description("Create or replace one of a role's inline identity policies.")
        .requiredOption('--role <name>', 'role name')
        .requiredOption('--policy-name <name>', 'policy name')
        .requiredOption('--policy-file <file>', 'a JSON IAM policy document'),
      'trellis iam put-role-policy --role checkout --policy-name read --policy-file read.json',
    ),
    async (ctx) => {
      const doc = readPolicyFile(ctx, ctx.opts.policyFile);
      await using(iamClient(ctx), (iam) =>
        iam.send(
          new PutRolePolicyCommand({
            RoleName: ctx.opts.role,
            PolicyName: ctx.opts.policyName,
            PolicyDocument: doc,
          }),
        ),
      );
      printDone(ctx, `Policy ${ctx.opts.policyName} set on role ${ctx.opts.role}.`, {
        RoleName: ctx.opts.role,
        PolicyName: ctx.opts.policyName,
      });
    },
  );

  clientAction<{ name: string }>(
    group
      .command('get-role')
      .description('Show a role (trust policy decoded) and its inline policy names.')
      .requiredOption('--name <name>', 'role name'),
    async (ctx) => {
      await using(iamClient(ctx), async (iam) => {
        const role = (await iam.send(new GetRoleCommand({ RoleName: ctx.opts.name }))).Role;
        const policies = await iam.send(new ListRolePoliciesCommand({ RoleName: ctx.opts.name }));
        ctx.printResource({ ...decodedRole(role), InlinePolicies: policies.PolicyNames ?? [] });
      });
    },
  );

  clientAction(
    group.command('list-roles').description('List the roles of your account.'),
    async (ctx) => {
      const roles: Role[] = [];
      await using(iamClient(ctx), async (iam) => {
        for await (const page of paginateListRoles({ client: iam }, {})) {
          roles.push(...(page.Roles ?? []));
        }
      });
      ctx.printList(roles, ROLE_COLUMNS);
    },
  );

  clientAction<{ name: string }>(
    group
      .command('delete-role')
      .description('Delete a role and its inline policies.')
      .requiredOption('--name <name>', 'role name'),
    async (ctx) => {
      await using(iamClient(ctx), async (iam) => {
        const names = await iam.send(new ListRolePoliciesCommand({ RoleName: ctx.opts.name }));
        for (const p of names.PolicyNames ?? []) {
          ctx.progress(`deleting inline policy ${p}`);
          await iam.send(new DeleteRolePolicyCommand({ RoleName: ctx.opts.name, PolicyName: p }));
        }
        await iam.send(new DeleteRoleCommand({ RoleName: ctx.opts.name }));
      });
      printDone(ctx, `Role ${ctx.opts.name} deleted.`, { RoleName: ctx.opts.name });
    },
  );

  clientAction<CredentialsFlags>(
    withExamples(
      group
        .command('credentials')
        .description('Assume a role and print its temporary credentials.')
        .requiredOption('--role <name|arn>', 'role name (of your account) or ARN')
        .option('--session-name <name>', 'role session name (default trellis-cli-<time>)')
        .addOption(
          new Option(
            '--duration <seconds>',
            'session duration, 900 up to the role maximum',
          ).argParser(intInRange(900, 43200)),
        )
        .option('--tag <k=v,...>', 'session tags (repeatable)', parseTags)
        .option('--export', 'print one `export AWS_…=…` line for eval in a shell'),
      'eval "$(trellis iam credentials --role checkout --export)"',
      'trellis iam credentials --role arn:aws:iam::111122223333:role/ci --duration 900 -o json',
    ),
    async (ctx) => {
      const o = ctx.opts;
      let roleArn = o.role;
      if (!roleArn.startsWith('arn:')) {
        roleArn = await using(iamClient(ctx), async (iam) => {
          const role = await iam.send(new GetRoleCommand({ RoleName: o.role }));
          return role.Role?.Arn ?? '';
        });
      }
      const out = await using(stsClient(ctx), (sts) =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: o.sessionName ?? `trellis-cli-${Date.now()}`,
            DurationSeconds: o.duration,
            Tags: o.tag ? Object.entries(o.tag).map(([Key, Value]) => ({ Key, Value })) : undefined,
          }),
        ),
      );
      const c: Partial<NonNullable<typeof out.Credentials>> = out.Credentials ?? {};
      if (o.export) {
        ctx.io.out(exportLine(c));
        return;
      }
      ctx.printResource({
        AccessKeyId: c.AccessKeyId,
        SecretAccessKey: c.SecretAccessKey,
        SessionToken: c.SessionToken,
        Expiration: c.Expiration,
        Arn: out.AssumedRoleUser?.Arn,
      });
    },
  );

  clientAction(
    group.command('whoami').description('Show the account and ARN of the current credentials.'),
    async (ctx) => {
      const me = await using(stsClient(ctx), (s) => s.send(new GetCallerIdentityCommand({})));
      ctx.printResource({ Account: me.Account, Arn: me.Arn, UserId: me.UserId });
    },
  );

  clientAction<{ name: string; path?: string }>(
    group
      .command('create-user')
      .description('Create an IAM user (long-term credentials come from create-access-key).')
      .requiredOption('--name <name>', 'user name')
      .option('--path <path>', 'IAM path'),
    async (ctx) => {
      const out = await using(iamClient(ctx), (iam) =>
        iam.send(new CreateUserCommand({ UserName: ctx.opts.name, Path: ctx.opts.path })),
      );
      ctx.printResource(out.User);
    },
  );

  clientAction<{ user: string; export?: boolean }>(
    group
      .command('create-access-key')
      .description('Create an access key for a user (the secret is shown only now).')
      .requiredOption('--user <name>', 'user name')
      .option('--export', 'print one `export AWS_…=…` line for eval in a shell'),
    async (ctx) => {
      const out = await using(iamClient(ctx), (iam) =>
        iam.send(new CreateAccessKeyCommand({ UserName: ctx.opts.user })),
      );
      const k = out.AccessKey;
      if (ctx.opts.export) {
        ctx.io.out(
          `export AWS_ACCESS_KEY_ID='${k?.AccessKeyId ?? ''}' AWS_SECRET_ACCESS_KEY='${k?.SecretAccessKey ?? ''}'\n`,
        );
        return;
      }
      ctx.printResource(k);
    },
  );

  program.addCommand(group);
}
