import {
  CreateListenerCommand,
  DeleteListenerCommand,
  GetListenerCommand,
  paginateListListeners,
  UpdateListenerCommand,
  type ListenerProtocol,
  type ListenerSummary,
  type RuleAction,
  type WeightedTargetGroup,
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
import {
  intInRange,
  parseForward,
  parseJsonObject,
  parseStatusCode,
  ruleActionFrom,
} from './flag-parsers.js';
import type { Column } from './output.js';
import { tagsOption } from './service-network-commands.js';

const LISTENER_COLUMNS: Column<ListenerSummary>[] = [
  { header: 'ID', value: (l) => l.id },
  { header: 'NAME', value: (l) => l.name },
  { header: 'PROTOCOL', value: (l) => l.protocol },
  { header: 'PORT', value: (l) => l.port },
  { header: 'CREATED', value: (l) => l.createdAt },
];

/** Flags naming a rule action: JSON (`<jsonFlag>`), `--forward` or `--fixed-response`. */
export interface ActionOptions {
  forward?: WeightedTargetGroup[];
  fixedResponse?: number;
}

/** Adds `--<jsonFlag> <json>`, `--forward` and `--fixed-response` to a command. */
export function addActionOptions(cmd: Command, jsonFlag: 'default-action' | 'action'): Command {
  return cmd
    .addOption(
      new Option(
        `--${jsonFlag} <json>`,
        `the RuleAction as JSON (or @file), e.g. '{"fixedResponse":{"statusCode":404}}'`,
      ).argParser(parseJsonObject),
    )
    .option(
      '--forward <tg[:weight],...>',
      'shorthand: forward to target groups with optional weights (0–999)',
      parseForward,
    )
    .option(
      '--fixed-response <status>',
      'shorthand: answer with this status (404 or 500)',
      parseStatusCode,
    );
}

/** The action the flags name, or a usage error (none given when required, or several). */
export function actionFromFlags(
  ctx: CommandContext<ActionOptions>,
  json: Record<string, unknown> | undefined,
  jsonFlag: string,
  required: boolean,
): RuleAction | undefined {
  const action = ruleActionFrom({
    json,
    forward: ctx.opts.forward,
    fixedResponse: ctx.opts.fixedResponse,
  });
  if (typeof action === 'string') ctx.usage(action.replace('JSON', `--${jsonFlag}`));
  if (!action && required) {
    ctx.usage(
      'an action is required.',
      `Give --${jsonFlag} '<json>', --forward tg-id[:weight],… or --fixed-response 404.`,
    );
  }
  return action;
}

/** `--service <service>` (required on every listener and rule command). */
export function serviceOption(): Option {
  return new Option('--service <service>', 'the service: id (svc-…) or ARN').makeOptionMandatory();
}

type ListenerOpts = ActionOptions & { service: string; defaultAction?: Record<string, unknown> };

/** `trellis listener …`: create, get, list, update, delete. */
export function listenerCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'listener',
    "Listeners: a service's protocol and port, with a default action for requests no rule matches.",
  );

  const create = withExamples(
    addActionOptions(
      group
        .command('create')
        .description('Create a listener on a service.')
        .addOption(serviceOption())
        .requiredOption('--name <name>', 'name, unique within the service')
        .addOption(
          new Option('--protocol <protocol>', 'listener protocol')
            .choices(['HTTP', 'HTTPS', 'TLS_PASSTHROUGH'])
            .makeOptionMandatory(),
        )
        .option(
          '--port <port>',
          'port, 1–65535 (default 80 for HTTP, 443 for HTTPS)',
          intInRange(1, 65535),
        )
        .addOption(tagsOption()),
      'default-action',
    ),
    'trellis listener create --service svc-0123456789abcdef0 --name http --protocol HTTP --port 80 --forward tg-0123456789abcdef0',
    `trellis listener create --service svc-0123456789abcdef0 --name http --protocol HTTP --default-action '{"fixedResponse":{"statusCode":404}}'`,
  );
  clientAction<
    ListenerOpts & {
      name: string;
      protocol: ListenerProtocol;
      port?: number;
      tags?: Record<string, string>;
    }
  >(create, async (ctx) => {
    const o = ctx.opts;
    const defaultAction = actionFromFlags(ctx, o.defaultAction, 'default-action', true);
    ctx.printResource(
      await ctx.lattice().send(
        new CreateListenerCommand({
          serviceIdentifier: o.service,
          name: o.name,
          protocol: o.protocol,
          port: o.port,
          defaultAction,
          tags: o.tags,
        }),
      ),
    );
  });

  const get = withExamples(
    group
      .command('get')
      .description('Show one listener.')
      .addOption(serviceOption())
      .argument('<listener>', 'id (listener-…) or ARN'),
    'trellis listener get --service svc-0123456789abcdef0 listener-0123456789abcdef0',
  );
  clientAction<{ service: string }>(get, async (ctx, [id]) => {
    ctx.printResource(
      await ctx
        .lattice()
        .send(
          new GetListenerCommand({ serviceIdentifier: ctx.opts.service, listenerIdentifier: id }),
        ),
    );
  });

  const list = withExamples(
    addMaxItems(
      group.command('list').description("List a service's listeners.").addOption(serviceOption()),
    ),
    'trellis listener list --service svc-0123456789abcdef0',
  );
  clientAction<{ service: string; maxItems?: number }>(list, async (ctx) => {
    const items = await collectItems(
      paginateListListeners({ client: ctx.lattice() }, { serviceIdentifier: ctx.opts.service }),
      ctx.opts.maxItems,
    );
    ctx.printList(items, LISTENER_COLUMNS);
  });

  const update = withExamples(
    addActionOptions(
      group
        .command('update')
        .description("Change a listener's default action (the only mutable field).")
        .addOption(serviceOption())
        .argument('<listener>', 'id (listener-…) or ARN'),
      'default-action',
    ),
    'trellis listener update --service svc-0123456789abcdef0 listener-0123456789abcdef0 --forward tg-0a:80,tg-0b:20',
  );
  clientAction<ListenerOpts>(update, async (ctx, [id]) => {
    const defaultAction = actionFromFlags(ctx, ctx.opts.defaultAction, 'default-action', true);
    ctx.printResource(
      await ctx.lattice().send(
        new UpdateListenerCommand({
          serviceIdentifier: ctx.opts.service,
          listenerIdentifier: id,
          defaultAction,
        }),
      ),
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Delete a listener and its rules.')
      .addOption(serviceOption())
      .argument('<listener>', 'id (listener-…) or ARN'),
    'trellis listener delete --service svc-0123456789abcdef0 listener-0123456789abcdef0',
  );
  clientAction<{ service: string }>(del, async (ctx, [id]) => {
    await ctx
      .lattice()
      .send(
        new DeleteListenerCommand({ serviceIdentifier: ctx.opts.service, listenerIdentifier: id }),
      );
    printDone(ctx, `Deleted listener ${id}.`, { id });
  });

  return group;
}
