import {
  CreateServiceNetworkServiceAssociationCommand,
  CreateServiceNetworkVpcAssociationCommand,
  DeleteServiceNetworkServiceAssociationCommand,
  DeleteServiceNetworkVpcAssociationCommand,
  GetServiceNetworkServiceAssociationCommand,
  GetServiceNetworkVpcAssociationCommand,
  paginateListServiceNetworkServiceAssociations,
  paginateListServiceNetworkVpcAssociations,
  UpdateServiceNetworkVpcAssociationCommand,
} from '@aws-sdk/client-vpc-lattice';
import {
  addMaxItems,
  clientAction,
  collectItems,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import type { Column } from './output.js';
import { tagsOption } from './service-network-commands.js';

/** One row of `association list`: either kind, told apart by `kind`. */
export interface AssociationRow {
  kind: 'service' | 'vpc';
  id?: string;
  status?: string;
  serviceNetworkId?: string;
  serviceNetworkName?: string;
  serviceId?: string;
  serviceName?: string;
  vpcId?: string;
  [member: string]: unknown;
}

const ASSOCIATION_COLUMNS: Column<AssociationRow>[] = [
  { header: 'ID', value: (a) => a.id },
  { header: 'KIND', value: (a) => a.kind },
  { header: 'SERVICE NETWORK', value: (a) => a.serviceNetworkName ?? a.serviceNetworkId },
  {
    header: 'ASSOCIATED',
    value: (a) => (a.kind === 'service' ? (a.serviceName ?? a.serviceId) : a.vpcId),
  },
  { header: 'STATUS', value: (a) => a.status },
];

/** `service` for `snsa-…` ids and their ARNs, `vpc` for `snva-…`; undefined otherwise. */
export function associationKind(identifier: string): 'service' | 'vpc' | undefined {
  if (/(^|\/)snsa-/.test(identifier)) return 'service';
  if (/(^|\/)snva-/.test(identifier)) return 'vpc';
  return undefined;
}

function kindOf(ctx: CommandContext<unknown>, identifier: string): 'service' | 'vpc' {
  const kind = associationKind(identifier);
  if (!kind) {
    ctx.usage(
      `"${identifier}" is not an association id.`,
      'Give a service association (snsa-…) or VPC association (snva-…) id or ARN; list them with `trellis association list`.',
    );
  }
  return kind;
}

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `trellis association …`: service-network ↔ service and ↔ VPC associations. */
export function associationCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'association',
    'Associations: attach services to a service network, and connect VPCs to it.',
  );

  const create = withExamples(
    group
      .command('create')
      .description('Associate a service, or a VPC, with a service network.')
      .requiredOption(
        '--service-network <service-network>',
        'id (sn-…) or ARN (ARN when shared across accounts)',
      )
      .option('--service <service>', 'associate this service (svc-… or ARN)')
      .option('--vpc <vpc-id>', 'associate this VPC (see `trellis vpc list`)')
      .option(
        '--security-group-ids <sg,...>',
        'VPC association: up to 5 security groups',
        commaList,
      )
      .option('--private-dns-enabled', 'VPC association: resolve service names privately')
      .addOption(tagsOption()),
    'trellis association create --service-network sn-0123456789abcdef0 --service svc-0123456789abcdef0',
    'trellis association create --service-network sn-0123456789abcdef0 --vpc vpc-0123456789abcdef0',
  );
  clientAction<{
    serviceNetwork: string;
    service?: string;
    vpc?: string;
    securityGroupIds?: string[];
    privateDnsEnabled?: boolean;
    tags?: Record<string, string>;
  }>(create, async (ctx) => {
    const o = ctx.opts;
    if (Boolean(o.service) === Boolean(o.vpc)) {
      ctx.usage('give exactly one of --service and --vpc.');
    }
    if (o.service && (o.securityGroupIds || o.privateDnsEnabled)) {
      ctx.usage('--security-group-ids and --private-dns-enabled apply to VPC associations only.');
    }
    const out = o.service
      ? await ctx.lattice().send(
          new CreateServiceNetworkServiceAssociationCommand({
            serviceNetworkIdentifier: o.serviceNetwork,
            serviceIdentifier: o.service,
            tags: o.tags,
          }),
        )
      : await ctx.lattice().send(
          new CreateServiceNetworkVpcAssociationCommand({
            serviceNetworkIdentifier: o.serviceNetwork,
            vpcIdentifier: o.vpc,
            securityGroupIds: o.securityGroupIds,
            privateDnsEnabled: o.privateDnsEnabled,
            tags: o.tags,
          }),
        );
    ctx.printResource(out);
  });

  const get = withExamples(
    group
      .command('get')
      .description('Show one association (service or VPC, told by its id).')
      .argument('<association>', 'id (snsa-… or snva-…) or ARN'),
    'trellis association get snsa-0123456789abcdef0',
  );
  clientAction(get, async (ctx, [id]) => {
    const out =
      kindOf(ctx, id!) === 'service'
        ? await ctx.lattice().send(
            new GetServiceNetworkServiceAssociationCommand({
              serviceNetworkServiceAssociationIdentifier: id,
            }),
          )
        : await ctx.lattice().send(
            new GetServiceNetworkVpcAssociationCommand({
              serviceNetworkVpcAssociationIdentifier: id,
            }),
          );
    ctx.printResource(out);
  });

  const list = withExamples(
    addMaxItems(
      group
        .command('list')
        .description(
          'List associations of a service network (both kinds), of a service, or of a VPC. JSON items carry kind: "service" | "vpc".',
        )
        .option('--service-network <service-network>', 'of this service network')
        .option('--service <service>', 'of this service')
        .option('--vpc <vpc-id>', 'of this VPC'),
    ),
    'trellis association list --service-network sn-0123456789abcdef0',
    'trellis association list --vpc vpc-0123456789abcdef0 --output json',
  );
  clientAction<{ serviceNetwork?: string; service?: string; vpc?: string; maxItems?: number }>(
    list,
    async (ctx) => {
      const o = ctx.opts;
      if (!o.serviceNetwork && !o.service && !o.vpc) {
        ctx.usage(
          'give --service-network, --service or --vpc.',
          'The API lists associations of one of them (spec: "must provide either").',
        );
      }
      if (o.service && o.vpc) ctx.usage('give only one of --service and --vpc.');
      const client = ctx.lattice();
      const rows: AssociationRow[] = [];
      if (!o.vpc) {
        const items = await collectItems(
          paginateListServiceNetworkServiceAssociations(
            { client },
            { serviceNetworkIdentifier: o.serviceNetwork, serviceIdentifier: o.service },
          ),
          o.maxItems,
        );
        rows.push(...items.map((a) => ({ kind: 'service' as const, ...a })));
      }
      if (!o.service) {
        const items = await collectItems(
          paginateListServiceNetworkVpcAssociations(
            { client },
            { serviceNetworkIdentifier: o.serviceNetwork, vpcIdentifier: o.vpc },
          ),
          o.maxItems,
        );
        rows.push(...items.map((a) => ({ kind: 'vpc' as const, ...a })));
      }
      ctx.printList(
        o.maxItems === undefined ? rows : rows.slice(0, o.maxItems),
        ASSOCIATION_COLUMNS,
      );
    },
  );

  const update = withExamples(
    group
      .command('update')
      .description(
        "Replace a VPC association's security groups (1–5; there is no way back to none).",
      )
      .argument('<association>', 'VPC association id (snva-…) or ARN')
      .requiredOption('--security-group-ids <sg,...>', 'the new security groups', commaList),
    'trellis association update snva-0123456789abcdef0 --security-group-ids sg-0123456789abcdef0',
  );
  clientAction<{ securityGroupIds: string[] }>(update, async (ctx, [id]) => {
    if (kindOf(ctx, id!) !== 'vpc')
      ctx.usage('only VPC associations (snva-…) have security groups.');
    ctx.printResource(
      await ctx.lattice().send(
        new UpdateServiceNetworkVpcAssociationCommand({
          serviceNetworkVpcAssociationIdentifier: id,
          securityGroupIds: ctx.opts.securityGroupIds,
        }),
      ),
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Delete an association (service or VPC, told by its id).')
      .argument('<association>', 'id (snsa-… or snva-…) or ARN'),
    'trellis association delete snva-0123456789abcdef0',
  );
  clientAction(del, async (ctx, [id]) => {
    const out =
      kindOf(ctx, id!) === 'service'
        ? await ctx.lattice().send(
            new DeleteServiceNetworkServiceAssociationCommand({
              serviceNetworkServiceAssociationIdentifier: id,
            }),
          )
        : await ctx.lattice().send(
            new DeleteServiceNetworkVpcAssociationCommand({
              serviceNetworkVpcAssociationIdentifier: id,
            }),
          );
    printDone(ctx, `Deleted association ${id}.`, { ...out, id: out.id ?? id });
  });

  return group;
}
