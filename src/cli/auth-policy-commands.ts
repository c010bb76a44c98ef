import { readFileSync } from 'node:fs';
import {
  DeleteAuthPolicyCommand,
  GetAuthPolicyCommand,
  PutAuthPolicyCommand,
} from '@aws-sdk/client-vpc-lattice';
import {
  clientAction,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import { renderResource } from './output.js';

/**
 * The policy text to send: the file or inline JSON, checked to be JSON and sent without
 * newlines (spec §1.5 AuthPolicy: "without newlines or blank lines").
 */
function policyText(ctx: CommandContext<{ policyFile?: string; policy?: string }>): string {
  const { policyFile, policy } = ctx.opts;
  if (Boolean(policyFile) === Boolean(policy))
    ctx.usage('give exactly one of --policy-file and --policy.');
  let text = policy ?? '';
  if (policyFile) {
    try {
      text = readFileSync(policyFile, 'utf8');
    } catch (err) {
      ctx.usage(
        `cannot read ${policyFile}: ${(err as Error).message}`,
        'Give the path of a JSON IAM policy document.',
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    ctx.usage(
      `the policy is not valid JSON (${(err as Error).message}).`,
      'Give a JSON IAM policy document: {"Version":"2012-10-17","Statement":[…]}.',
    );
  }
  return JSON.stringify(parsed);
}

/** Prints a policy response: state and dates, then the policy pretty-printed (table mode). */
function printPolicy(ctx: CommandContext<unknown>, out: { policy?: string }): void {
  if (ctx.output === 'json') return ctx.printResource(out);
  const { policy, ...rest } = out;
  ctx.io.out(renderResource(rest, 'table'));
  if (policy !== undefined) {
    let pretty = policy;
    try {
      pretty = JSON.stringify(JSON.parse(policy), null, 2);
    } catch {
      // Not JSON: show it as stored.
    }
    ctx.io.out(`policy\n${pretty}\n`);
  }
}

/** `trellis auth-policy …`: put, get, delete. */
export function authPolicyCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'auth-policy',
    'Auth policies: IAM policies that decide, for AWS_IAM service networks and services, who may call what.',
  );

  const put = withExamples(
    group
      .command('put')
      .description(
        'Set the auth policy of a service network or service (replaces it). Active only when its auth type is AWS_IAM.',
      )
      .argument('<resource>', 'service network or service: id (sn-…, svc-…) or ARN')
      .option('--policy-file <file>', 'a JSON IAM policy document')
      .option('--policy <json>', 'the policy inline'),
    'trellis auth-policy put svc-0123456789abcdef0 --policy-file policy.json',
    `trellis auth-policy put sn-0123456789abcdef0 --policy '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"vpc-lattice-svcs:Invoke","Resource":"*"}]}'`,
  );
  clientAction<{ policyFile?: string; policy?: string }>(put, async (ctx, [resource]) => {
    const policy = policyText(ctx);
    const out = await ctx
      .lattice()
      .send(new PutAuthPolicyCommand({ resourceIdentifier: resource, policy }));
    printPolicy(ctx, out);
  });

  const get = withExamples(
    group
      .command('get')
      .description(
        'Show the auth policy of a service network or service, and whether it is Active.',
      )
      .argument('<resource>', 'service network or service: id (sn-…, svc-…) or ARN'),
    'trellis auth-policy get svc-0123456789abcdef0',
  );
  clientAction(get, async (ctx, [resource]) => {
    printPolicy(
      ctx,
      await ctx.lattice().send(new GetAuthPolicyCommand({ resourceIdentifier: resource })),
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Remove the auth policy of a service network or service.')
      .argument('<resource>', 'service network or service: id (sn-…, svc-…) or ARN'),
    'trellis auth-policy delete svc-0123456789abcdef0',
  );
  clientAction(del, async (ctx, [resource]) => {
    await ctx.lattice().send(new DeleteAuthPolicyCommand({ resourceIdentifier: resource }));
    printDone(ctx, `Deleted the auth policy of ${resource}.`, { resourceIdentifier: resource });
  });

  return group;
}
