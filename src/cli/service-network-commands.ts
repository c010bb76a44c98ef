import {
  CreateServiceNetworkCommand,
  DeleteServiceNetworkCommand,
  DeleteServiceNetworkServiceAssociationCommand,
  DeleteServiceNetworkVpcAssociationCommand,
  GetServiceNetworkCommand,
  paginateListServiceNetworks,
  paginateListServiceNetworkServiceAssociations,
  paginateListServiceNetworkVpcAssociations,
  UpdateServiceNetworkCommand,
  type AuthType,
  type ServiceNetworkSummary,
  type VPCLatticeClient,
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
import { parseTags } from './flag-parsers.js';
import { CliFailure, type Column } from './output.js';

const SERVICE_NETWORK_COLUMNS: Column<ServiceNetworkSummary>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'NAME', value: (s) => s.name },
  { header: 'SERVICES', value: (s) => s.numberOfAssociatedServices },
  { header: 'VPCS', value: (s) => s.numberOfAssociatedVPCs },
  { header: 'CREATED', value: (s) => s.createdAt },
];

/** `--auth-type NONE|AWS_IAM` (spec §2.1). */
export function authTypeOption(description = 'NONE (default) or AWS_IAM'): Option {
  return new Option('--auth-type <type>', description).choices(['NONE', 'AWS_IAM']);
}

/** `--tags k=v,k2=v2` (repeatable). */
export function tagsOption(): Option {
  return new Option('--tags <k=v,...>', 'tags, e.g. team=payments,env=dev (repeatable)').argParser(
    parseTags,
  );
}

/** How long `delete --cascade` waits for the associations to go away. */
const CASCADE_WAIT_MS = 60_000;

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Deletes every service and VPC association of a service network, with progress lines. */
async function deleteAssociations(
  ctx: CommandContext<unknown>,
  client: VPCLatticeClient,
  serviceNetworkIdentifier: string,
): Promise<void> {
  const listBoth = async (): Promise<{ snsa: string[]; snva: string[] }> => ({
    snsa: (
      await collectItems(
        paginateListServiceNetworkServiceAssociations({ client }, { serviceNetworkIdentifier }),
      )
    ).map((a) => a.id!),
    snva: (
      await collectItems(
        paginateListServiceNetworkVpcAssociations({ client }, { serviceNetworkIdentifier }),
      )
    ).map((a) => a.id!),
  });
  const { snsa, snva } = await listBoth();
  for (const id of snsa) {
    ctx.progress(`deleting service association ${id}`);
    await client.send(
      new DeleteServiceNetworkServiceAssociationCommand({
        serviceNetworkServiceAssociationIdentifier: id,
      }),
    );
  }
  for (const id of snva) {
    ctx.progress(`deleting VPC association ${id}`);
    await client.send(
      new DeleteServiceNetworkVpcAssociationCommand({ serviceNetworkVpcAssociationIdentifier: id }),
    );
  }
  if (snsa.length + snva.length === 0) return;
  ctx.progress('waiting for the associations to be deleted');
  const gone = await waitUntil(async () => {
    const left = await listBoth();
    return left.snsa.length + left.snva.length === 0;
  }, CASCADE_WAIT_MS);
  if (!gone) {
    throw new CliFailure(
      [`${serviceNetworkIdentifier}: the associations were not deleted within a minute.`],
      `Check them with \`trellis association list --service-network ${serviceNetworkIdentifier}\` and retry.`,
    );
  }
}

/** `trellis service-network …`: create, get, list, update, delete. */
export function serviceNetworkCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'service-network',
    'Service networks: logical boundaries that group services and connect VPCs to them.',
  );

  const create = withExamples(
    group
      .command('create')
      .description('Create a service network.')
      .requiredOption('--name <name>', 'name, 3–63 of a-z 0-9 and -, unique in the account')
      .addOption(authTypeOption())
      .addOption(tagsOption()),
    'trellis service-network create --name my-network --auth-type AWS_IAM --tags team=payments',
  );
  clientAction<{ name: string; authType?: AuthType; tags?: Record<string, string> }>(
    create,
    async (ctx) => {
      const out = await ctx.lattice().send(
        new CreateServiceNetworkCommand({
          name: ctx.opts.name,
          authType: ctx.opts.authType,
          tags: ctx.opts.tags,
        }),
      );
      ctx.printResource(out);
    },
  );

  const get = withExamples(
    group
      .command('get')
      .description('Show one service network.')
      .argument('<service-network>', 'id (sn-…) or ARN'),
    'trellis service-network get sn-0123456789abcdef0',
  );
  clientAction(get, async (ctx, [id]) => {
    ctx.printResource(
      await ctx.lattice().send(new GetServiceNetworkCommand({ serviceNetworkIdentifier: id })),
    );
  });

  const list = withExamples(
    addMaxItems(group.command('list').description('List service networks (all pages).')),
    'trellis service-network list',
    'trellis service-network list --output json',
  );
  clientAction<{ maxItems?: number }>(list, async (ctx) => {
    const items = await collectItems(
      paginateListServiceNetworks({ client: ctx.lattice() }, {}),
      ctx.opts.maxItems,
    );
    ctx.printList(items, SERVICE_NETWORK_COLUMNS);
  });

  const update = withExamples(
    group
      .command('update')
      .description("Change a service network's auth type (the only mutable field).")
      .argument('<service-network>', 'id (sn-…) or ARN')
      .addOption(authTypeOption('NONE or AWS_IAM').makeOptionMandatory()),
    'trellis service-network update sn-0123456789abcdef0 --auth-type AWS_IAM',
  );
  clientAction<{ authType: AuthType }>(update, async (ctx, [id]) => {
    ctx.printResource(
      await ctx.lattice().send(
        new UpdateServiceNetworkCommand({
          serviceNetworkIdentifier: id,
          authType: ctx.opts.authType,
        }),
      ),
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description(
        'Delete a service network. It must have no service or VPC associations, unless --cascade.',
      )
      .argument('<service-network>', 'id (sn-…) or ARN')
      .option('--cascade', 'first delete its service and VPC associations'),
    'trellis service-network delete sn-0123456789abcdef0',
    'trellis service-network delete sn-0123456789abcdef0 --cascade',
  );
  clientAction<{ cascade?: boolean }>(del, async (ctx, [id]) => {
    const client = ctx.lattice();
    if (ctx.opts.cascade) await deleteAssociations(ctx, client, id!);
    if (ctx.opts.cascade) ctx.progress(`deleting service network ${id}`);
    await client.send(new DeleteServiceNetworkCommand({ serviceNetworkIdentifier: id }));
    printDone(ctx, `Deleted service network ${id}.`, { id });
  });

  return group;
}
