/**
 * `trellis ram …`: cross-account sharing of service networks and services through the AWS RAM
 * operations Trellis serves (issue 8 §4), with the official `@aws-sdk/client-ram`. Inside one
 * organization a share applies at once; an account outside it accepts the invitation with
 * `trellis ram accept-invitation`.
 */
import {
  AcceptResourceShareInvitationCommand,
  AssociateResourceShareCommand,
  CreateResourceShareCommand,
  DeleteResourceShareCommand,
  DisassociateResourceShareCommand,
  paginateGetResourceShareAssociations,
  paginateGetResourceShareInvitations,
  paginateGetResourceShares,
  paginateListResources,
  RAMClient,
  RejectResourceShareInvitationCommand,
  type Resource,
  type ResourceShare,
  type ResourceShareAssociation,
  type ResourceShareInvitation,
} from '@aws-sdk/client-ram';
import { Option } from 'commander';
import {
  addMaxItems,
  clientAction,
  createGroup,
  printDone,
  withExamples,
  type CommandContext,
} from './cli-command.js';
import type { Column } from './output.js';

const iso = (d: Date | undefined): string | undefined => d?.toISOString();

const SHARE_COLUMNS: Column<ResourceShare>[] = [
  { header: 'ARN', value: (s) => s.resourceShareArn },
  { header: 'NAME', value: (s) => s.name },
  { header: 'OWNER', value: (s) => s.owningAccountId },
  { header: 'STATUS', value: (s) => s.status },
  { header: 'EXTERNAL', value: (s) => (s.allowExternalPrincipals ? 'allowed' : 'no') },
  { header: 'CREATED', value: (s) => iso(s.creationTime) },
];

const ASSOCIATION_COLUMNS: Column<ResourceShareAssociation>[] = [
  { header: 'SHARE', value: (a) => a.resourceShareName },
  { header: 'TYPE', value: (a) => a.associationType },
  { header: 'ENTITY', value: (a) => a.associatedEntity },
  { header: 'STATUS', value: (a) => a.status },
  { header: 'EXTERNAL', value: (a) => (a.external ? 'yes' : 'no') },
];

const INVITATION_COLUMNS: Column<ResourceShareInvitation>[] = [
  { header: 'ARN', value: (i) => i.resourceShareInvitationArn },
  { header: 'SHARE', value: (i) => i.resourceShareName },
  { header: 'FROM', value: (i) => i.senderAccountId },
  { header: 'STATUS', value: (i) => i.status },
  { header: 'SENT', value: (i) => iso(i.invitationTimestamp) },
];

const RESOURCE_COLUMNS: Column<Resource>[] = [
  { header: 'ARN', value: (r) => r.arn },
  { header: 'TYPE', value: (r) => r.type },
  { header: 'SHARE', value: (r) => r.resourceShareArn },
  { header: 'STATUS', value: (r) => r.status },
];

async function withRam<R>(
  ctx: CommandContext<unknown>,
  fn: (c: RAMClient) => Promise<R>,
): Promise<R> {
  const c = ctx.config;
  const client = new RAMClient({
    endpoint: c.endpoint,
    region: c.region,
    credentials: c.credentials,
  });
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

async function collect<P, T>(
  pages: AsyncIterable<P>,
  itemsOf: (p: P) => T[] | undefined,
  maxItems?: number,
): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) {
    out.push(...(itemsOf(page) ?? []));
    if (maxItems !== undefined && out.length >= maxItems) return out.slice(0, maxItems);
  }
  return out;
}

function ownerOption(): Option {
  return new Option('--owner <who>', 'self: shares you own; other-accounts: shared with you')
    .choices(['self', 'other-accounts'])
    .default('self');
}

const memberFlags = {
  resource: ['--resource <arn...>', 'ARN of a service network or service you own'],
  principal: [
    '--principal <id...>',
    'a 12-digit account id, or your organization ARN (arn:aws:organizations::<account>:organization/o-…)',
  ],
} as const;

/** The `trellis ram` command group. */
export function ramCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'ram',
    'Share service networks and services with other accounts (AWS RAM resource shares and invitations).',
  );

  const create = withExamples(
    group
      .command('create-share')
      .description(
        'Create a resource share. Accounts of your organization get it at once; others accept an invitation.',
      )
      .requiredOption('--name <name>', 'name of the share')
      .option(...memberFlags.resource)
      .option(...memberFlags.principal)
      .option('--no-external', 'refuse principals outside your organization'),
    'trellis ram create-share --name inventory --resource arn:aws:vpc-lattice:us-east-1:111122223333:service/svc-0123456789abcdef0 --principal 444455556666',
  );
  clientAction<{ name: string; resource?: string[]; principal?: string[]; external: boolean }>(
    create,
    async (ctx) => {
      const o = ctx.opts;
      await withRam(ctx, async (client) => {
        const out = await client.send(
          new CreateResourceShareCommand({
            name: o.name,
            allowExternalPrincipals: o.external,
            ...(o.resource ? { resourceArns: o.resource } : {}),
            ...(o.principal ? { principals: o.principal } : {}),
          }),
        );
        ctx.printResource(out.resourceShare);
      });
    },
  );

  const list = withExamples(
    addMaxItems(group.command('list-shares').description('List resource shares.')).addOption(
      ownerOption(),
    ),
    'trellis ram list-shares',
    'trellis ram list-shares --owner other-accounts --output json',
  );
  clientAction<{ owner: string; maxItems?: number }>(list, async (ctx) => {
    await withRam(ctx, async (client) => {
      const items = await collect(
        paginateGetResourceShares(
          { client },
          { resourceOwner: ctx.opts.owner === 'self' ? 'SELF' : 'OTHER-ACCOUNTS' },
        ),
        (p) => p.resourceShares,
        ctx.opts.maxItems,
      );
      ctx.printList(items, SHARE_COLUMNS);
    });
  });

  const members = withExamples(
    addMaxItems(
      group
        .command('list-members')
        .description('List the resources or principals of your shares and their status.'),
    )
      .addOption(
        new Option('--type <type>', 'which members')
          .choices(['resource', 'principal'])
          .default('principal'),
      )
      .option('--share <arn>', 'only this share'),
    'trellis ram list-members --type principal',
  );
  clientAction<{ type: string; share?: string; maxItems?: number }>(members, async (ctx) => {
    await withRam(ctx, async (client) => {
      const items = await collect(
        paginateGetResourceShareAssociations(
          { client },
          {
            associationType: ctx.opts.type === 'resource' ? 'RESOURCE' : 'PRINCIPAL',
            ...(ctx.opts.share ? { resourceShareArns: [ctx.opts.share] } : {}),
          },
        ),
        (p) => p.resourceShareAssociations,
        ctx.opts.maxItems,
      );
      ctx.printList(items, ASSOCIATION_COLUMNS);
    });
  });

  for (const [verb, description, Cmd] of [
    ['add', 'Add resources and/or principals to a share.', AssociateResourceShareCommand],
    [
      'remove',
      'Remove resources and/or principals from a share (existing associations stay).',
      DisassociateResourceShareCommand,
    ],
  ] as const) {
    const cmd = withExamples(
      group
        .command(verb)
        .description(description)
        .argument('<share-arn>')
        .option(...memberFlags.resource)
        .option(...memberFlags.principal),
      `trellis ram ${verb} arn:aws:ram:us-east-1:111122223333:resource-share/… --principal 444455556666`,
    );
    clientAction<{ resource?: string[]; principal?: string[] }>(cmd, async (ctx, [arn]) => {
      if (!ctx.opts.resource && !ctx.opts.principal)
        ctx.usage('name at least one --resource or --principal.');
      await withRam(ctx, async (client) => {
        const out = await client.send(
          new Cmd({
            resourceShareArn: arn,
            ...(ctx.opts.resource ? { resourceArns: ctx.opts.resource } : {}),
            ...(ctx.opts.principal ? { principals: ctx.opts.principal } : {}),
          }),
        );
        ctx.printList(out.resourceShareAssociations ?? [], ASSOCIATION_COLUMNS);
      });
    });
  }

  const del = withExamples(
    group
      .command('delete-share')
      .description('Delete a share: nobody can use it for new associations (existing ones stay).')
      .argument('<share-arn>'),
    'trellis ram delete-share arn:aws:ram:us-east-1:111122223333:resource-share/…',
  );
  clientAction(del, async (ctx, [arn]) => {
    await withRam(ctx, (client) =>
      client.send(new DeleteResourceShareCommand({ resourceShareArn: arn })),
    );
    printDone(ctx, `Deleted ${arn}.`, { resourceShareArn: arn, returnValue: true });
  });

  const invitations = withExamples(
    addMaxItems(
      group.command('list-invitations').description('List the invitations sent to your account.'),
    ),
    'trellis ram list-invitations',
  );
  clientAction<{ maxItems?: number }>(invitations, async (ctx) => {
    await withRam(ctx, async (client) => {
      const items = await collect(
        paginateGetResourceShareInvitations({ client }, {}),
        (p) => p.resourceShareInvitations,
        ctx.opts.maxItems,
      );
      ctx.printList(items, INVITATION_COLUMNS);
    });
  });

  for (const [verb, Cmd] of [
    ['accept-invitation', AcceptResourceShareInvitationCommand],
    ['reject-invitation', RejectResourceShareInvitationCommand],
  ] as const) {
    const cmd = withExamples(
      group
        .command(verb)
        .description(
          verb === 'accept-invitation'
            ? 'Accept an invitation: the shared resources become usable by your account.'
            : 'Reject an invitation: the share grants your account nothing.',
        )
        .argument('<invitation-arn>'),
      `trellis ram ${verb} arn:aws:ram:us-east-1:111122223333:resource-share-invitation/…`,
    );
    clientAction(cmd, async (ctx, [arn]) => {
      await withRam(ctx, async (client) => {
        const out = await client.send(new Cmd({ resourceShareInvitationArn: arn }));
        ctx.printResource(out.resourceShareInvitation);
      });
    });
  }

  const resources = withExamples(
    addMaxItems(
      group
        .command('list-resources')
        .description('List the resources you share, or that are shared with you.'),
    ).addOption(ownerOption()),
    'trellis ram list-resources --owner other-accounts',
  );
  clientAction<{ owner: string; maxItems?: number }>(resources, async (ctx) => {
    await withRam(ctx, async (client) => {
      const items = await collect(
        paginateListResources(
          { client },
          { resourceOwner: ctx.opts.owner === 'self' ? 'SELF' : 'OTHER-ACCOUNTS' },
        ),
        (p) => p.resources,
        ctx.opts.maxItems,
      );
      ctx.printList(items, RESOURCE_COLUMNS);
    });
  });

  return group;
}
