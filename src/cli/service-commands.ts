import {
  CreateServiceCommand,
  DeleteServiceCommand,
  GetServiceCommand,
  paginateListServices,
  UpdateServiceCommand,
  type AuthType,
  type ServiceSummary,
} from '@aws-sdk/client-vpc-lattice';
import {
  addMaxItems,
  clientAction,
  collectItems,
  createGroup,
  printDone,
  withExamples,
} from './cli-command.js';
import { intInRange } from './flag-parsers.js';
import type { Column } from './output.js';
import { authTypeOption, tagsOption } from './service-network-commands.js';

const SERVICE_COLUMNS: Column<ServiceSummary>[] = [
  { header: 'ID', value: (s) => s.id },
  { header: 'NAME', value: (s) => s.name },
  { header: 'STATUS', value: (s) => s.status },
  { header: 'DNS NAME', value: (s) => s.dnsEntry?.domainName },
  { header: 'CUSTOM DOMAIN', value: (s) => s.customDomainName },
];

/** spec §1.5 Service: idleTimeoutSeconds 60–600. */
const parseIdleTimeout = intInRange(60, 600);

/** `trellis service …`: create, get, list, update, delete. */
export function serviceCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'service',
    'Services: what clients call; each has listeners, rules and a generated DNS name.',
  );

  const create = withExamples(
    group
      .command('create')
      .description('Create a service.')
      .requiredOption('--name <name>', 'name, 3–40 of a-z 0-9 and -, not starting with svc-')
      .addOption(authTypeOption())
      .option('--custom-domain-name <domain>', 'custom domain name (immutable)')
      .option('--certificate-arn <arn>', 'certificate for the custom domain')
      .option('--idle-timeout <seconds>', 'idle timeout, 60–600 (default 60)', parseIdleTimeout)
      .addOption(tagsOption()),
    'trellis service create --name checkout --auth-type AWS_IAM',
  );
  clientAction<{
    name: string;
    authType?: AuthType;
    customDomainName?: string;
    certificateArn?: string;
    idleTimeout?: number;
    tags?: Record<string, string>;
  }>(create, async (ctx) => {
    const o = ctx.opts;
    ctx.printResource(
      await ctx.lattice().send(
        new CreateServiceCommand({
          name: o.name,
          authType: o.authType,
          customDomainName: o.customDomainName,
          certificateArn: o.certificateArn,
          idleTimeoutSeconds: o.idleTimeout,
          tags: o.tags,
        }),
      ),
    );
  });

  const get = withExamples(
    group
      .command('get')
      .description('Show one service.')
      .argument('<service>', 'id (svc-…) or ARN'),
    'trellis service get svc-0123456789abcdef0',
  );
  clientAction(get, async (ctx, [id]) => {
    ctx.printResource(await ctx.lattice().send(new GetServiceCommand({ serviceIdentifier: id })));
  });

  const list = withExamples(
    addMaxItems(group.command('list').description('List services (all pages).')),
    'trellis service list --output json',
  );
  clientAction<{ maxItems?: number }>(list, async (ctx) => {
    const items = await collectItems(
      paginateListServices({ client: ctx.lattice() }, {}),
      ctx.opts.maxItems,
    );
    ctx.printList(items, SERVICE_COLUMNS);
  });

  const update = withExamples(
    group
      .command('update')
      .description("Change a service's auth type, certificate or idle timeout.")
      .argument('<service>', 'id (svc-…) or ARN')
      .addOption(authTypeOption('NONE or AWS_IAM'))
      .option('--certificate-arn <arn>', 'certificate for the custom domain')
      .option('--idle-timeout <seconds>', 'idle timeout, 60–600', parseIdleTimeout),
    'trellis service update svc-0123456789abcdef0 --auth-type NONE --idle-timeout 120',
  );
  clientAction<{ authType?: AuthType; certificateArn?: string; idleTimeout?: number }>(
    update,
    async (ctx, [id]) => {
      const o = ctx.opts;
      if (!o.authType && !o.certificateArn && o.idleTimeout === undefined) {
        ctx.usage('nothing to change.', 'Give --auth-type, --certificate-arn or --idle-timeout.');
      }
      ctx.printResource(
        await ctx.lattice().send(
          new UpdateServiceCommand({
            serviceIdentifier: id,
            authType: o.authType,
            certificateArn: o.certificateArn,
            idleTimeoutSeconds: o.idleTimeout,
          }),
        ),
      );
    },
  );

  const del = withExamples(
    group
      .command('delete')
      .description(
        'Delete a service with its listeners and rules. It must not be associated with a service network.',
      )
      .argument('<service>', 'id (svc-…) or ARN'),
    'trellis service delete svc-0123456789abcdef0',
  );
  clientAction(del, async (ctx, [id]) => {
    const out = await ctx.lattice().send(new DeleteServiceCommand({ serviceIdentifier: id }));
    printDone(ctx, `Deleted service ${id}.`, { ...out, id: out.id ?? id });
  });

  return group;
}
