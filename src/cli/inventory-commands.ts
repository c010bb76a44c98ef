import type { Instance, LoadBalancer, Vpc } from '../model/inventory-types.js';
import { addMaxItems, clientAction, createGroup, printDone, withExamples } from './cli-command.js';
import { parseTags } from './flag-parsers.js';
import { CliFailure, USAGE_ERROR_EXIT, type Column } from './output.js';

/**
 * Paths of Trellis's own inventory API (src/api/operations/inventory-operations.ts): each kind
 * has `POST/GET <base>` and `GET/DELETE <base>/{id}`; lists answer `{ items, nextToken }`.
 */
export const INVENTORY_PATHS = Object.freeze({
  vpc: '/_trellis/vpcs',
  instance: '/_trellis/instances',
  loadBalancer: '/_trellis/loadbalancers',
});

const VPC_COLUMNS: Column<Vpc>[] = [
  { header: 'VPC ID', value: (v) => v.vpcId },
  { header: 'NAME', value: (v) => v.tags?.Name },
  {
    header: 'INGRESS',
    value: (v) =>
      v.networkNamespace !== undefined
        ? `netns ${v.networkNamespace.name}${v.networkNamespace.create ? '' : ' (attached)'}`
        : v.ingressAddresses?.join(','),
  },
  { header: 'CIDR BLOCKS', value: (v) => v.cidrBlocks?.join(',') },
  { header: 'OWNER', value: (v) => v.ownerAccountId },
];

const INSTANCE_COLUMNS: Column<Instance>[] = [
  { header: 'INSTANCE ID', value: (i) => i.instanceId },
  { header: 'VPC', value: (i) => i.vpcId },
  { header: 'ADDRESS', value: (i) => i.address },
  { header: 'CREATED', value: (i) => i.createdAt },
];

const LOAD_BALANCER_COLUMNS: Column<LoadBalancer>[] = [
  { header: 'NAME', value: (l) => l.name },
  { header: 'VPC', value: (l) => l.vpcId },
  { header: 'ADDRESS', value: (l) => l.address },
  { header: 'ARN', value: (l) => l.loadBalancerArn },
];

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `trellis vpc …`: the VPCs Trellis knows (clients in a VPC reach Lattice at its ingress). */
export function vpcCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'vpc',
    "VPCs in Trellis's inventory: clients arriving on a VPC's ingress addresses are in that VPC.",
  );
  const base = INVENTORY_PATHS.vpc;

  const create = withExamples(
    group
      .command('create')
      .description(
        'Register a VPC: ingress addresses where its clients reach the data plane, or a Linux network namespace (root).',
      )
      .option(
        '--ingress-addresses <ip,...>',
        'local addresses the data plane listens on for this VPC (e.g. 127.0.0.2)',
        commaList,
      )
      .option(
        '--netns [name]',
        'make the VPC a network namespace Trellis creates (and deletes when it stops); default name trellis-<vpc id>',
      )
      .option(
        '--attach-netns <name>',
        "make the VPC the user's existing network namespace <name> (Trellis never deletes it)",
      )
      .option('--vpc-id <vpc-id>', 'the id (default: a generated vpc-…)')
      .option(
        '--cidr-blocks <cidr,...>',
        'address ranges of the VPC (targets must lie inside)',
        commaList,
      )
      .option('--name <name>', 'shorthand for the Name tag')
      .option('--tags <k=v,...>', 'tags (repeatable)', parseTags),
    'trellis vpc create --ingress-addresses 127.0.0.2 --cidr-blocks 10.1.0.0/16 --name staging',
    'sudo trellis vpc create --netns shop --cidr-blocks 10.0.0.0/24 --name shop',
    'trellis vpc create --attach-netns my-existing-ns --cidr-blocks 10.0.0.0/24',
  );
  clientAction<{
    ingressAddresses?: string[];
    netns?: string | boolean;
    attachNetns?: string;
    vpcId?: string;
    cidrBlocks?: string[];
    name?: string;
    tags?: Record<string, string>;
  }>(create, async (ctx) => {
    const o = ctx.opts;
    const modes = [o.ingressAddresses, o.netns, o.attachNetns].filter((m) => m !== undefined);
    if (modes.length !== 1)
      throw new CliFailure(
        ['A VPC needs exactly one way in for its clients.'],
        'give one of --ingress-addresses <ip,...>, --netns [name] or --attach-netns <name>.',
        USAGE_ERROR_EXIT,
      );
    const networkNamespace =
      o.attachNetns !== undefined
        ? { name: o.attachNetns, create: false }
        : o.netns !== undefined
          ? { ...(typeof o.netns === 'string' ? { name: o.netns } : {}), create: true }
          : undefined;
    const tags = o.name !== undefined ? { ...o.tags, Name: o.name } : o.tags;
    ctx.printResource(
      await ctx.trellis().request('POST', base, {
        body: {
          vpcId: o.vpcId,
          ingressAddresses: o.ingressAddresses,
          networkNamespace,
          cidrBlocks: o.cidrBlocks,
          tags,
        },
      }),
    );
  });

  const get = withExamples(
    group.command('get').description('Show one VPC.').argument('<vpc-id>', 'vpc-…'),
    'trellis vpc get vpc-0111122223333def0',
  );
  clientAction(get, async (ctx, [id]) => {
    ctx.printResource(await ctx.trellis().request('GET', `${base}/${encodeURIComponent(id!)}`));
  });

  const list = withExamples(
    addMaxItems(
      group.command('list').description('List VPCs (JSON: an array of objects with vpcId).'),
    ),
    'trellis vpc list',
    'trellis vpc list --output json',
  );
  clientAction<{ maxItems?: number }>(list, async (ctx) => {
    ctx.printList(
      await ctx.trellis().listAll<Vpc>(base, { maxItems: ctx.opts.maxItems }),
      VPC_COLUMNS,
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description(
        'Remove a VPC. It must have no instances, load balancers, target groups or associations.',
      )
      .argument('<vpc-id>', 'vpc-…'),
    'trellis vpc delete vpc-0123456789abcdef0',
  );
  clientAction(del, async (ctx, [id]) => {
    await ctx.trellis().request('DELETE', `${base}/${encodeURIComponent(id!)}`);
    printDone(ctx, `Deleted VPC ${id}.`, { vpcId: id });
  });
  return group;
}

/** `trellis instance …`: EC2-style instances, the targets of INSTANCE target groups. */
export function instanceCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'instance',
    "Instances in Trellis's inventory: an INSTANCE target resolves to its address.",
  );
  const base = INVENTORY_PATHS.instance;

  const create = withExamples(
    group
      .command('create')
      .description('Register an instance in a VPC.')
      .requiredOption('--vpc <vpc-id>', 'its VPC')
      .requiredOption('--address <ip>', 'its IP address')
      .option('--instance-id <id>', 'the id (default: a generated i-…)'),
    'trellis instance create --vpc vpc-0111122223333def0 --address 127.0.0.1',
  );
  clientAction<{ vpc: string; address: string; instanceId?: string }>(create, async (ctx) => {
    const o = ctx.opts;
    ctx.printResource(
      await ctx.trellis().request('POST', base, {
        body: { vpcId: o.vpc, address: o.address, instanceId: o.instanceId },
      }),
    );
  });

  const get = withExamples(
    group.command('get').description('Show one instance.').argument('<instance-id>', 'i-…'),
    'trellis instance get i-0123456789abcdef0',
  );
  clientAction(get, async (ctx, [id]) => {
    // The inventory API has no GetInstance: find it in the list.
    const found = (await ctx.trellis().listAll<Instance>(base)).find((i) => i.instanceId === id);
    if (!found) {
      throw new CliFailure(
        [`instance ${id} not found.`],
        'List the instances with `trellis instance list`.',
      );
    }
    ctx.printResource(found);
  });

  const list = withExamples(
    addMaxItems(
      group
        .command('list')
        .description('List instances.')
        .option('--vpc <vpc-id>', 'only of this VPC'),
    ),
    'trellis instance list --vpc vpc-0111122223333def0',
  );
  clientAction<{ vpc?: string; maxItems?: number }>(list, async (ctx) => {
    ctx.printList(
      await ctx
        .trellis()
        .listAll<Instance>(base, { maxItems: ctx.opts.maxItems, query: { vpcId: ctx.opts.vpc } }),
      INSTANCE_COLUMNS,
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Remove an instance. It must not be registered as a target.')
      .argument('<instance-id>', 'i-…'),
    'trellis instance delete i-0123456789abcdef0',
  );
  clientAction(del, async (ctx, [id]) => {
    await ctx.trellis().request('DELETE', `${base}/${encodeURIComponent(id!)}`);
    printDone(ctx, `Deleted instance ${id}.`, { instanceId: id });
  });
  return group;
}

/** `trellis load-balancer …`: application load balancers, the targets of ALB target groups. */
export function loadBalancerCommands(): ReturnType<typeof createGroup> {
  const group = createGroup(
    'load-balancer',
    "Application load balancers in Trellis's inventory: an ALB target resolves to its address.",
  );
  const base = INVENTORY_PATHS.loadBalancer;

  const create = withExamples(
    group
      .command('create')
      .description('Register an application load balancer in a VPC.')
      .requiredOption('--name <name>', 'name, 1–32 letters, digits and hyphens')
      .requiredOption('--vpc <vpc-id>', 'its VPC')
      .requiredOption('--address <ip[:port]>', 'where it listens'),
    'trellis load-balancer create --name internal-web --vpc vpc-0111122223333def0 --address 127.0.0.1',
  );
  clientAction<{ name: string; vpc: string; address: string }>(create, async (ctx) => {
    const o = ctx.opts;
    ctx.printResource(
      await ctx
        .trellis()
        .request('POST', base, { body: { name: o.name, vpcId: o.vpc, address: o.address } }),
    );
  });

  const get = withExamples(
    group
      .command('get')
      .description('Show one load balancer.')
      .argument('<arn>', 'its ARN (or name)'),
    'trellis load-balancer get arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/internal-web/0123456789abcdef',
  );
  clientAction(get, async (ctx, [arn]) => {
    // The inventory API has no GetLoadBalancer: find it (by ARN or name) in the list.
    const found = (await ctx.trellis().listAll<LoadBalancer>(base)).find(
      (l) => l.loadBalancerArn === arn || l.name === arn,
    );
    if (!found) {
      throw new CliFailure(
        [`load balancer ${arn} not found.`],
        'List the load balancers with `trellis load-balancer list`.',
      );
    }
    ctx.printResource(found);
  });

  const list = withExamples(
    addMaxItems(
      group
        .command('list')
        .description('List load balancers.')
        .option('--vpc <vpc-id>', 'only of this VPC'),
    ),
    'trellis load-balancer list',
  );
  clientAction<{ vpc?: string; maxItems?: number }>(list, async (ctx) => {
    ctx.printList(
      await ctx.trellis().listAll<LoadBalancer>(base, {
        maxItems: ctx.opts.maxItems,
        query: { vpcId: ctx.opts.vpc },
      }),
      LOAD_BALANCER_COLUMNS,
    );
  });

  const del = withExamples(
    group
      .command('delete')
      .description('Remove a load balancer. It must not be registered as a target.')
      .argument('<arn>', 'its ARN'),
    'trellis load-balancer delete arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/internal-web/0123456789abcdef',
  );
  clientAction(del, async (ctx, [arn]) => {
    await ctx.trellis().request('DELETE', `${base}/${encodeURIComponent(arn!)}`);
    printDone(ctx, `Deleted load balancer ${arn}.`, { loadBalancerArn: arn });
  });
  return group;
}
