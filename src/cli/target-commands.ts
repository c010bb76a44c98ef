import {
  DeregisterTargetsCommand,
  paginateListTargets,
  RegisterTargetsCommand,
  type Target,
  type TargetFailure,
  type TargetSummary,
} from '@aws-sdk/client-vpc-lattice';
import { Option } from 'commander';
import {
  addMaxItems,
  clientAction,
  collectItems,
  createGroup,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import { parseTargets } from './flag-parsers.js';
import { CliFailure, type Column } from './output.js';

const TARGET_COLUMNS: Column<TargetSummary>[] = [
  { header: 'ID', value: (t) => t.id },
  { header: 'PORT', value: (t) => t.port },
  { header: 'STATUS', value: (t) => t.status },
  { header: 'REASON', value: (t) => t.reasonCode },
];

interface TargetResult {
  id?: string;
  port?: number;
  result: string;
  failureCode?: string;
  failureMessage?: string;
}

const RESULT_COLUMNS: Column<TargetResult>[] = [
  { header: 'ID', value: (t) => t.id },
  { header: 'PORT', value: (t) => t.port },
  { header: 'RESULT', value: (t) => t.result },
  { header: 'FAILURE', value: (t) => [t.failureCode, t.failureMessage].filter(Boolean).join(': ') },
];

/** spec §6: 1–100 targets per RegisterTargets/DeregisterTargets call. */
const BATCH = 100;

function targetsOption(): Option {
  return new Option(
    '--targets <id[:port],...>',
    'targets: IPs ([v6]:port), instance ids, Lambda or ALB ARNs; repeatable',
  )
    .argParser(parseTargets)
    .makeOptionMandatory();
}

/** Sends targets in batches of 100 (progress lines when more than one), then reports them. */
async function changeTargets(
  ctx: CommandContext<{ targets: Target[] }>,
  targetGroupIdentifier: string,
  verb: 'register' | 'deregister',
): Promise<void> {
  const all = ctx.opts.targets;
  const results: TargetResult[] = [];
  const done = verb === 'register' ? 'registered' : 'deregistered';
  for (let i = 0; i < all.length; i += BATCH) {
    const targets = all.slice(i, i + BATCH);
    if (all.length > BATCH)
      ctx.progress(`${verb}ing targets ${i + 1}–${i + targets.length} of ${all.length}`);
    const input = { targetGroupIdentifier, targets };
    const out = await ctx
      .lattice()
      .send(
        verb === 'register'
          ? new RegisterTargetsCommand(input)
          : new DeregisterTargetsCommand(input),
      );
    for (const t of out.successful ?? []) results.push({ id: t.id, port: t.port, result: done });
    for (const f of (out.unsuccessful ?? []) as TargetFailure[]) {
      results.push({
        id: f.id,
        port: f.port,
        result: 'failed',
        failureCode: f.failureCode,
        failureMessage: f.failureMessage,
      });
    }
  }
  ctx.printList(results, RESULT_COLUMNS);
  const failed = results.filter((r) => r.result === 'failed');
  if (failed.length) {
    throw new CliFailure(
      [
        `${failed.length} of ${all.length} target(s) were not ${done}:`,
        ...failed.map((f) =>
          `  ${f.id}${f.port ? `:${f.port}` : ''}: ${f.failureCode ?? ''} ${f.failureMessage ?? ''}`.trimEnd(),
        ),
      ],
      verb === 'register'
        ? "Check each target's address, that it lies in the target group's VPC (`trellis vpc get`), and the target group type."
        : 'Check the target ids and ports (`trellis targets list <target-group>`).',
    );
  }
}

/** `trellis targets …`: register, deregister, list. */
export function targetCommands(): ReturnType<typeof createGroup> {
  const group = createGroup('targets', 'The targets of a target group and their health status.');

  const register = withExamples(
    group
      .command('register')
      .description('Register targets with a target group (batches of 100).')
      .argument('<target-group>', 'id (tg-…) or ARN')
      .addOption(targetsOption()),
    'trellis targets register tg-0123456789abcdef0 --targets 10.0.0.5:8080,10.0.0.6:8080',
    'trellis targets register tg-0123456789abcdef0 --targets i-0123456789abcdef0',
  );
  clientAction<{ targets: Target[] }>(register, (ctx, [tg]) => changeTargets(ctx, tg!, 'register'));

  const deregister = withExamples(
    group
      .command('deregister')
      .description('Deregister targets from a target group (they drain first).')
      .argument('<target-group>', 'id (tg-…) or ARN')
      .addOption(targetsOption()),
    'trellis targets deregister tg-0123456789abcdef0 --targets 10.0.0.5:8080',
  );
  clientAction<{ targets: Target[] }>(deregister, (ctx, [tg]) =>
    changeTargets(ctx, tg!, 'deregister'),
  );

  const list = withExamples(
    addMaxItems(
      group
        .command('list')
        .description(
          'List the targets of a target group with their status (INITIAL, HEALTHY, UNHEALTHY, …).',
        )
        .argument('<target-group>', 'id (tg-…) or ARN')
        .addOption(
          new Option('--targets <id[:port],...>', 'only these targets (up to 20)').argParser(
            parseTargets,
          ),
        ),
    ),
    'trellis targets list tg-0123456789abcdef0',
  );
  clientAction<{ targets?: Target[]; maxItems?: number }>(list, async (ctx, [tg]) => {
    const items = await collectItems(
      paginateListTargets(
        { client: ctx.lattice() },
        { targetGroupIdentifier: tg, targets: ctx.opts.targets },
      ),
      ctx.opts.maxItems,
    );
    ctx.printList(items, TARGET_COLUMNS);
  });

  return group;
}
