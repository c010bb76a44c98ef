import {
  CreateRuleCommand,
  DeleteRuleCommand,
  GetRuleCommand,
  paginateListRules,
  UpdateRuleCommand,
  type HeaderMatch,
  type HttpMatch,
  type RuleMatch,
  type RuleSummary,
} from '@aws-sdk/client-vpc-lattice';
import { Option, type Command } from 'commander';
import {
  addMaxItems,
  clientAction,
  collectItems,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import { intInRange, parseHeaderMatch, parseJsonObject } from './flag-parsers.js';
import {
  actionFromFlags,
  addActionOptions,
  serviceOption,
  type ActionOptions,
} from './listener-commands.js';
import type { Column } from './output.js';
import { tagsOption } from './service-network-commands.js';

const RULE_COLUMNS: Column<RuleSummary>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'NAME', value: (r) => r.name },
  { header: 'PRIORITY', value: (r) => (r.isDefault ? 'default' : r.priority) },
  { header: 'CREATED', value: (r) => r.createdAt },
];

function listenerOption(): Option {
  return new Option(
    '--listener <listener>',
    'the listener: id (listener-…) or ARN',
  ).makeOptionMandatory();
}

/** spec §1.5 Rule: priority 1–2000 in the API. */
const parsePriority = intInRange(1, 2000);

interface MatchOptions {
  match?: Record<string, unknown>;
  pathPrefix?: string;
  pathExact?: string;
  caseSensitive?: boolean;
  method?: string;
  header?: HeaderMatch[];
}

function addMatchOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--match <json>',
        `the RuleMatch as JSON (or @file), e.g. '{"httpMatch":{"method":"GET"}}'`,
      ).argParser(parseJsonObject),
    )
    .option('--path-prefix <path>', 'match paths starting with this (e.g. /api)')
    .option('--path-exact <path>', 'match exactly this path')
    .option('--case-sensitive', 'compare the path case-sensitively (default: not)')
    .option('--method <method>', 'match this HTTP method (exact, e.g. GET)')
    .option(
      '--header <name=value>',
      'match a header: name=value (exact), name^=value (prefix), name*=value (contains); repeatable',
      parseHeaderMatch,
    );
}

/** The `RuleMatch` the flags name; undefined when none; a usage error on conflicting flags. */
function matchFromFlags(ctx: CommandContext<MatchOptions>): RuleMatch | undefined {
  const o = ctx.opts;
  const shorthand =
    o.pathPrefix !== undefined ||
    o.pathExact !== undefined ||
    o.method !== undefined ||
    o.header !== undefined;
  if (o.match && shorthand) {
    ctx.usage(
      'give either --match or the shorthand flags (--path-prefix, --path-exact, --method, --header), not both.',
    );
  }
  if (o.match) return o.match as unknown as RuleMatch;
  if (o.pathPrefix !== undefined && o.pathExact !== undefined) {
    ctx.usage('give only one of --path-prefix and --path-exact.');
  }
  if (!shorthand) {
    if (o.caseSensitive) ctx.usage('--case-sensitive needs --path-prefix or --path-exact.');
    return undefined;
  }
  const httpMatch: HttpMatch = {};
  if (o.method !== undefined) httpMatch.method = o.method;
  const path = o.pathPrefix ?? o.pathExact;
  if (path !== undefined) {
    httpMatch.pathMatch = {
      match: o.pathPrefix !== undefined ? { prefix: path } : { exact: path },
      ...(o.caseSensitive ? { caseSensitive: true } : {}),
    } as HttpMatch['pathMatch'];
  }
  if (o.header) httpMatch.headerMatches = o.header;
  return { httpMatch };
}

type RuleOpts = ActionOptions &
  MatchOptions & {
    service: string;
    listener: string;
    action?: Record<string, unknown>;
    priority?: number;
  };

/** `trellis rule …`: create, get, list, update, delete. */
export function ruleCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'rule',
    'Listener rules: match requests by path, method and headers, then forward or answer; evaluated by priority.',
  );

  const create = withExamples(
    addActionOptions(
      addMatchOptions(
        group
          .command('create')
          .description('Create a rule on a listener.')
          .addOption(serviceOption())
          .addOption(listenerOption())
          .requiredOption('--name <name>', 'name, unique within the listener')
          .requiredOption(
            '--priority <n>',
            'priority, 1–2000 (lower is evaluated first)',
            parsePriority,
          )
          .addOption(tagsOption()),
      ),
      'action',
    ),
    'trellis rule create --service svc-0123456789abcdef0 --listener listener-0123456789abcdef0 --name api --priority 10 --path-prefix /api --forward tg-0123456789abcdef0',
    'trellis rule create --service svc-0123456789abcdef0 --listener listener-0123456789abcdef0 --name beta --priority 20 --header x-beta=1 --method GET --fixed-response 404',
  );
  clientAction<RuleOpts & { name: string; priority: number; tags?: Record<string, string> }>(
    create,
    async (ctx) => {
      const o = ctx.opts;
      const match = matchFromFlags(ctx);
      if (!match) {
        ctx.usage(
          'a match is required.',
          'Give --path-prefix, --path-exact, --method, --header or --match.',
        );
      }
      const action = actionFromFlags(ctx, o.action, 'action', true);
      ctx.printResource(
        await ctx.lattice().send(
          new CreateRuleCommand({
            serviceIdentifier: o.service,
            listenerIdentifier: o.listener,
            name: o.name,
            priority: o.priority,
            match,
            action,
            tags: o.tags,
          }),
        ),
      );
    },
  );

  const get = withExamples(
    group
      .command('get')
      .description('Show one rule (also the default rule).')
      .addOption(serviceOption())
      .addOption(listenerOption())
      .argument('<rule>', 'id (rule-…) or ARN'),
    'trellis rule get --service svc-0123456789abcdef0 --listener listener-0123456789abcdef0 rule-0123456789abcdef0',
  );
  clientAction<{ service: string; listener: string }>(get, async (ctx, [id]) => {
    ctx.printResource(
      await ctx.lattice().send(
        new GetRuleCommand({
          serviceIdentifier: ctx.opts.service,
          listenerIdentifier: ctx.opts.listener,
          ruleIdentifier: id,
        }),
      ),
    );
  });

  const list = withExamples(
    addMaxItems(
      group
        .command('list')
        .description("List a listener's rules, the default rule included.")
        .addOption(serviceOption())
        .addOption(listenerOption()),
    ),
    'trellis rule list --service svc-0123456789abcdef0 --listener listener-0123456789abcdef0',
  );
  clientAction<{ service: string; listener: string; maxItems?: number }>(list, async (ctx) => {
    const items = await collectItems(
      paginateListRules(
        { client: ctx.lattice() },
        { serviceIdentifier: ctx.opts.service, listenerIdentifier: ctx.opts.listener },
      ),
      ctx.opts.maxItems,
    );
    ctx.printList(items, RULE_COLUMNS);
  });

  const update = withExamples(
    addActionOptions(
      addMatchOptions(
        group
          .command('update')
          .description(
            "Change a rule's match, priority or action (not the default rule: use `listener update`).",
          )
          .addOption(serviceOption())
          .addOption(listenerOption())
          .argument('<rule>', 'id (rule-…) or ARN')
          .option('--priority <n>', 'new priority, 1–2000', parsePriority),
      ),
      'action',
    ),
    'trellis rule update --service svc-0123456789abcdef0 --listener listener-0123456789abcdef0 rule-0123456789abcdef0 --priority 5',
  );
  clientAction<RuleOpts>(update, async (ctx, [id]) => {
    const o = ctx.opts;
    const match = matchFromFlags(ctx);
    const action = actionFromFlags(ctx, o.action, 'action', false);
    if (!match && !action && o.priority === undefined) {
      ctx.usage('nothing to change.', 'Give a match flag, --priority or an action flag.');
    }
    ctx.printResource(
      await ctx.lattice().send(
        new UpdateRuleCommand({
          serviceIdentifier: o.service,
          listenerIdentifier: o.listener,
          ruleIdentifier: id,
          match,
          priority: o.priority,
          action,
        }),
      ),
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Delete a rule (not the default rule).')
      .addOption(serviceOption())
      .addOption(listenerOption())
      .argument('<rule>', 'id (rule-…) or ARN'),
    'trellis rule delete --service svc-0123456789abcdef0 --listener listener-0123456789abcdef0 rule-0123456789abcdef0',
  );
  clientAction<{ service: string; listener: string }>(del, async (ctx, [id]) => {
    await ctx.lattice().send(
      new DeleteRuleCommand({
        serviceIdentifier: ctx.opts.service,
        listenerIdentifier: ctx.opts.listener,
        ruleIdentifier: id,
      }),
    );
    printDone(ctx, `Deleted rule ${id}.`, { id });
  });

  return group;
}
