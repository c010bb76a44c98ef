import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  GetTargetGroupCommand,
  paginateListTargetGroups,
  UpdateTargetGroupCommand,
  type HealthCheckConfig,
  type TargetGroupConfig,
  type TargetGroupSummary,
  type TargetGroupType,
} from '@aws-sdk/client-vpc-lattice';
import { Option } from 'commander';
import {
  addMaxItems,
  clientAction,
  collectItems,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import { intInRange, parseJsonObject } from './flag-parsers.js';
import type { Column } from './output.js';
import { tagsOption } from './service-network-commands.js';

const TARGET_GROUP_COLUMNS: Column<TargetGroupSummary>[] = [
  { header: 'ID', value: (t) => t.id },
  { header: 'NAME', value: (t) => t.name },
  { header: 'TYPE', value: (t) => t.type },
  { header: 'PROTOCOL', value: (t) => t.protocol },
  { header: 'PORT', value: (t) => t.port },
  { header: 'VPC', value: (t) => t.vpcIdentifier },
  { header: 'STATUS', value: (t) => t.status },
];

interface HealthCheckOptions {
  healthCheck?: Record<string, unknown>;
  healthCheckPath?: string;
  healthCheckDisabled?: boolean;
}

/** The HealthCheckConfig the flags name (JSON, then the path/disabled shorthands on top). */
function healthCheckFromFlags(
  ctx: CommandContext<HealthCheckOptions>,
): HealthCheckConfig | undefined {
  const o = ctx.opts;
  if (o.healthCheckDisabled && o.healthCheckPath !== undefined) {
    ctx.usage('give only one of --health-check-path and --health-check-disabled.');
  }
  if (!o.healthCheck && o.healthCheckPath === undefined && !o.healthCheckDisabled) return undefined;
  const hc = { ...(o.healthCheck ?? {}) } as HealthCheckConfig;
  if (o.healthCheckPath !== undefined) {
    hc.enabled = true;
    hc.path = o.healthCheckPath;
  }
  if (o.healthCheckDisabled) hc.enabled = false;
  return hc;
}

const healthCheckOptions = (cmd: ReturnType<ReturnType<typeof createGroup>['command']>) =>
  cmd
    .addOption(
      new Option(
        '--health-check <json>',
        `HealthCheckConfig as JSON (or @file), e.g. '{"enabled":true,"path":"/health","healthyThresholdCount":2}'`,
      ).argParser(parseJsonObject),
    )
    .option('--health-check-path <path>', 'shorthand: enable health checks on this path')
    .option('--health-check-disabled', 'shorthand: disable health checks');

/** `trellis target-group …`: create, get, list, update, delete. */
export function targetGroupCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'target-group',
    'Target groups: the IPs, instances, Lambda functions or ALBs that listeners and rules forward to.',
  );

  const create = withExamples(
    healthCheckOptions(
      group
        .command('create')
        .description('Create a target group.')
        .requiredOption('--name <name>', 'name, 3–128 of a-z 0-9 and -, not starting with tg-')
        .addOption(
          new Option('--type <type>', 'target type (immutable)')
            .choices(['IP', 'INSTANCE', 'LAMBDA', 'ALB'])
            .makeOptionMandatory(),
        )
        .option('--port <port>', 'target port, 1–65535 (not for LAMBDA)', intInRange(1, 65535))
        .addOption(
          new Option('--protocol <protocol>', 'target protocol (not for LAMBDA)').choices([
            'HTTP',
            'HTTPS',
            'TCP',
          ]),
        )
        .addOption(
          new Option('--protocol-version <version>', 'HTTP1 (default), HTTP2 or GRPC').choices([
            'HTTP1',
            'HTTP2',
            'GRPC',
          ]),
        )
        .option(
          '--vpc <vpc-id>',
          'the VPC of the targets (required except for LAMBDA); see `trellis vpc list`',
        )
        .addOption(
          new Option('--ip-address-type <type>', 'IPV4 (default) or IPV6, for IP targets').choices([
            'IPV4',
            'IPV6',
          ]),
        )
        .addOption(
          new Option(
            '--lambda-event-structure-version <v>',
            'V1 (default) or V2, for LAMBDA',
          ).choices(['V1', 'V2']),
        )
        .addOption(
          new Option(
            '--config <json>',
            'the whole TargetGroupConfig as JSON (or @file); flags override its members',
          ).argParser(parseJsonObject),
        )
        .addOption(tagsOption()),
    ),
    'trellis target-group create --name checkout-v1 --type IP --protocol HTTP --port 8080 --vpc vpc-0123456789abcdef0 --health-check-path /health',
    'trellis target-group create --name resize --type LAMBDA --lambda-event-structure-version V2',
  );
  clientAction<
    HealthCheckOptions & {
      name: string;
      type: TargetGroupType;
      port?: number;
      protocol?: TargetGroupConfig['protocol'];
      protocolVersion?: TargetGroupConfig['protocolVersion'];
      vpc?: string;
      ipAddressType?: TargetGroupConfig['ipAddressType'];
      lambdaEventStructureVersion?: TargetGroupConfig['lambdaEventStructureVersion'];
      config?: Record<string, unknown>;
      tags?: Record<string, string>;
    }
  >(create, async (ctx) => {
    const o = ctx.opts;
    const config: TargetGroupConfig = { ...(o.config as TargetGroupConfig | undefined) };
    if (o.port !== undefined) config.port = o.port;
    if (o.protocol) config.protocol = o.protocol;
    if (o.protocolVersion) config.protocolVersion = o.protocolVersion;
    if (o.vpc) config.vpcIdentifier = o.vpc;
    if (o.ipAddressType) config.ipAddressType = o.ipAddressType;
    if (o.lambdaEventStructureVersion)
      config.lambdaEventStructureVersion = o.lambdaEventStructureVersion;
    const healthCheck = healthCheckFromFlags(ctx);
    if (healthCheck) config.healthCheck = healthCheck;
    ctx.printResource(
      await ctx.lattice().send(
        new CreateTargetGroupCommand({
          name: o.name,
          type: o.type,
          config: Object.keys(config).length ? config : undefined,
          tags: o.tags,
        }),
      ),
    );
  });

  const get = withExamples(
    group
      .command('get')
      .description('Show one target group.')
      .argument('<target-group>', 'id (tg-…) or ARN'),
    'trellis target-group get tg-0123456789abcdef0',
  );
  clientAction(get, async (ctx, [id]) => {
    ctx.printResource(
      await ctx.lattice().send(new GetTargetGroupCommand({ targetGroupIdentifier: id })),
    );
  });

  const list = withExamples(
    addMaxItems(
      group
        .command('list')
        .description('List target groups (all pages), optionally of one VPC or type.')
        .option('--vpc <vpc-id>', 'only target groups of this VPC')
        .addOption(
          new Option('--type <type>', 'only target groups of this type').choices([
            'IP',
            'INSTANCE',
            'LAMBDA',
            'ALB',
          ]),
        ),
    ),
    'trellis target-group list --type IP --output json',
  );
  clientAction<{ vpc?: string; type?: TargetGroupType; maxItems?: number }>(list, async (ctx) => {
    const items = await collectItems(
      paginateListTargetGroups(
        { client: ctx.lattice() },
        { vpcIdentifier: ctx.opts.vpc, targetGroupType: ctx.opts.type },
      ),
      ctx.opts.maxItems,
    );
    ctx.printList(items, TARGET_GROUP_COLUMNS);
  });

  const update = withExamples(
    healthCheckOptions(
      group
        .command('update')
        .description("Change a target group's health check (the only mutable field).")
        .argument('<target-group>', 'id (tg-…) or ARN'),
    ),
    'trellis target-group update tg-0123456789abcdef0 --health-check-path /ready',
    'trellis target-group update tg-0123456789abcdef0 --health-check-disabled',
  );
  clientAction<HealthCheckOptions>(update, async (ctx, [id]) => {
    const healthCheck = healthCheckFromFlags(ctx);
    if (!healthCheck) {
      ctx.usage(
        'nothing to change.',
        'Give --health-check, --health-check-path or --health-check-disabled.',
      );
    }
    ctx.printResource(
      await ctx
        .lattice()
        .send(new UpdateTargetGroupCommand({ targetGroupIdentifier: id, healthCheck })),
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Delete a target group. No listener or rule may forward to it.')
      .argument('<target-group>', 'id (tg-…) or ARN'),
    'trellis target-group delete tg-0123456789abcdef0',
  );
  clientAction(del, async (ctx, [id]) => {
    const out = await ctx
      .lattice()
      .send(new DeleteTargetGroupCommand({ targetGroupIdentifier: id }));
    printDone(ctx, `Deleted target group ${id}.`, { ...out, id: out.id ?? id });
  });

  return group;
}
