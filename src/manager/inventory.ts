/**
 * Trellis's inventory of what Lattice refers to but does not own (spec §1.5: target groups and
 * associations name VPCs, instances and load balancers): kinds `vpc` (id = vpcId), `instance`
 * (id = instanceId) and `load-balancer` (id = arn = the load balancer ARN), each owned by the
 * account that created it.
 */
import { ConflictException, ValidationException } from '../errors/aws-errors.js';
import { randomHex17 } from '../model/ids.js';
import type { Instance, LoadBalancer, Vpc, VpcNetworkNamespace } from '../model/inventory-types.js';
import type { Tags } from '../model/lattice-types.js';
import { checkString, checkTags, type FieldViolation } from '../model/validation/field-rules.js';
import {
  canonicalIp,
  checkIpList,
  INSTANCE_ID_PATTERN,
  ipFamily,
  isCidr,
  LOAD_BALANCER_NAME_PATTERN,
  NETWORK_NAMESPACE_NAME_PATTERN,
  VPC_ID_PATTERN,
} from '../model/validation/inventory-validation.js';
import { StoreConflictError } from '../store/store-errors.js';
import type { StoredResource } from '../store/store.js';
import { notFound, RESOURCE_TYPE } from './lookups.js';
import type { OperationScope, WriteScope } from './manager-context.js';
import { listPage } from './pagination.js';
import { findVpc } from './target-groups.js';

type Page = { maxResults?: string; nextToken?: string };

function alreadyExists(kind: 'vpc' | 'instance' | 'load-balancer', id: string): ConflictException {
  return new ConflictException(
    `${RESOURCE_TYPE[kind]} ${id} already exists.`,
    id,
    RESOURCE_TYPE[kind],
  );
}

async function insertOnce<T>(
  scope: WriteScope,
  kind: 'vpc' | 'instance' | 'load-balancer',
  id: string,
  data: T,
  arn?: string,
): Promise<void> {
  try {
    await scope.tx.insert({ kind, id, accountId: scope.caller.accountId, arn: arn ?? null, data });
  } catch (err) {
    if (err instanceof StoreConflictError) throw alreadyExists(kind, id);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// VPCs

/**
 * CreateVpc: `vpcId` optional (generated `vpc-` + 17 hex), `cidrBlocks`, `ingressAddresses`
 * (required, ≥1 IP literal, not used by another VPC: the data plane tells VPCs apart by the
 * address a client connects to), `tags`.
 */
export async function createVpc(
  scope: WriteScope,
  input: {
    vpcId?: unknown;
    cidrBlocks?: unknown;
    ingressAddresses?: unknown;
    networkNamespace?: unknown;
    tags?: unknown;
  },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkString(fields, 'vpcId', input.vpcId, 12, 21, false, VPC_ID_PATTERN);
  const namespace = readNetworkNamespace(fields, input.networkNamespace);
  if (input.cidrBlocks !== undefined) {
    if (!Array.isArray(input.cidrBlocks) || input.cidrBlocks.length > 50) {
      fields.push({ name: 'cidrBlocks', message: 'must be a list of at most 50 CIDR blocks' });
    } else {
      input.cidrBlocks.forEach((c, i) => {
        if (typeof c !== 'string' || !isCidr(c)) {
          fields.push({
            name: `cidrBlocks[${i}]`,
            message: 'must be a CIDR block such as 10.0.0.0/16',
          });
        }
      });
    }
  }
  if (namespace === undefined)
    checkIpList(fields, 'ingressAddresses', input.ingressAddresses, 1, 16);
  else if (input.ingressAddresses !== undefined && !isEmptyList(input.ingressAddresses))
    fields.push({
      name: 'ingressAddresses',
      message:
        'must be absent for a network-namespace VPC: the data plane gives it a Lattice address inside the namespace',
    });
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const vpcId = (input.vpcId as string | undefined) ?? `vpc-${randomHex17()}`;
  const addresses = namespace === undefined ? (input.ingressAddresses as string[]) : [];
  const wanted = new Set(addresses.map(canonicalIp));
  if (wanted.size !== addresses.length) {
    throw ValidationException.fromFields([
      { name: 'ingressAddresses', message: 'must not repeat an address' },
    ]);
  }
  const all = await scope.reader.list<Vpc>({ kind: 'vpc' });
  // A namespace Trellis creates is named after the VPC unless the caller names it.
  const networkNamespace: VpcNetworkNamespace | undefined = namespace && {
    name: namespace.name ?? `trellis-${vpcId.slice(4, 14)}`,
    create: namespace.create,
  };
  for (const other of all.items) {
    if (
      networkNamespace !== undefined &&
      other.data.networkNamespace?.name === networkNamespace.name
    ) {
      throw new ConflictException(
        `Network namespace ${networkNamespace.name} already belongs to ${other.id}; each VPC needs its own namespace.`,
        other.id,
        RESOURCE_TYPE.vpc,
      );
    }
    const used = other.data.ingressAddresses.find((a) => wanted.has(canonicalIp(a)));
    if (used !== undefined) {
      throw new ConflictException(
        `Ingress address ${used} already belongs to ${other.id}; each VPC needs its own addresses.`,
        other.id,
        RESOURCE_TYPE.vpc,
      );
    }
  }
  const vpc: Vpc = {
    vpcId,
    ownerAccountId: scope.caller.accountId,
    cidrBlocks: (input.cidrBlocks as string[] | undefined) ?? [],
    ingressAddresses: addresses,
    createdAt: scope.ctx.now(),
  };
  if (networkNamespace !== undefined) vpc.networkNamespace = networkNamespace;
  if (input.tags) vpc.tags = input.tags as Tags;
  await insertOnce(scope, 'vpc', vpcId, vpc);
  return { ...vpc };
}

function isEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

/**
 * `networkNamespace`: `{ name?, create? }` (issue 8 §1). `create: true` (the default) makes
 * Trellis create the namespace and delete it when it stops; `create: false` attaches the user's
 * existing namespace `name` and never deletes it.
 */
function readNetworkNamespace(
  fields: FieldViolation[],
  value: unknown,
): { name: string | undefined; create: boolean } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    fields.push({ name: 'networkNamespace', message: 'must be an object { name?, create? }' });
    return undefined;
  }
  const { name, create, ...rest } = value as Record<string, unknown>;
  for (const key of Object.keys(rest))
    fields.push({ name: `networkNamespace.${key}`, message: 'is not a known member' });
  if (create !== undefined && typeof create !== 'boolean')
    fields.push({ name: 'networkNamespace.create', message: 'must be true or false' });
  if (
    name !== undefined &&
    (typeof name !== 'string' || !NETWORK_NAMESPACE_NAME_PATTERN.test(name))
  )
    fields.push({
      name: 'networkNamespace.name',
      message:
        'must be 1-64 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
    });
  if (create === false && name === undefined)
    fields.push({
      name: 'networkNamespace.name',
      message: 'is required to attach an existing namespace (create: false)',
    });
  return { name: typeof name === 'string' ? name : undefined, create: create !== false };
}

export async function getVpc(
  scope: OperationScope,
  vpcId: string,
): Promise<Record<string, unknown>> {
  const found = await findVpc(scope, vpcId);
  return { ...found.data };
}

export async function listVpcs(
  scope: OperationScope,
  page: Page,
): Promise<Record<string, unknown>> {
  return listPage<Vpc, Vpc>(
    scope.reader,
    { kind: 'vpc', accountId: scope.caller.accountId },
    page,
    (r) => r.data,
  );
}

/** DeleteVpc: 409 while a service-network association, target group, instance or load balancer uses it. */
export async function deleteVpc(scope: WriteScope, vpcId: string): Promise<void> {
  const found = await findVpc(scope, vpcId);
  const id = found.id;
  const [associations, instances, loadBalancers, groups] = await Promise.all([
    scope.reader.count({ kind: 'service-network-vpc-association', where: { vpcId: id } }),
    scope.reader.count({ kind: 'instance', where: { vpcId: id } }),
    scope.reader.count({ kind: 'load-balancer', where: { vpcId: id } }),
    scope.reader.list<{ config?: { vpcIdentifier?: string } }>({
      kind: 'target-group',
      accountId: found.accountId,
    }),
  ]);
  const inGroups = groups.items.filter((g) => g.data.config?.vpcIdentifier === id).length;
  const uses: string[] = [];
  if (associations) uses.push('a service network association');
  if (inGroups) uses.push(`${inGroups} target group(s)`);
  if (instances) uses.push(`${instances} instance(s)`);
  if (loadBalancers) uses.push(`${loadBalancers} load balancer(s)`);
  if (uses.length) {
    throw new ConflictException(
      `VPC ${id} is in use by ${uses.join(', ')}. Delete them first.`,
      id,
      RESOURCE_TYPE.vpc,
    );
  }
  await scope.tx.delete('vpc', id);
}

// ---------------------------------------------------------------------------------------------
// Instances and load balancers

function checkAddress(fields: FieldViolation[], value: unknown): void {
  if (typeof value !== 'string' || !ipFamily(value)) {
    fields.push({
      name: 'address',
      message: 'is required and must be an IPv4 or IPv6 address literal',
    });
  }
}

async function refuseWhileTarget(
  scope: WriteScope,
  kind: 'instance' | 'load-balancer',
  id: string,
): Promise<void> {
  const registered = await scope.reader.count({ kind: 'target', where: { id } });
  if (registered) {
    throw new ConflictException(
      `${RESOURCE_TYPE[kind]} ${id} is registered in ${registered} target group(s). Deregister it first.`,
      id,
      RESOURCE_TYPE[kind],
    );
  }
}

/** CreateInstance: `instanceId` optional (generated `i-` + 17 hex), `vpcId`, `address`. */
export async function createInstance(
  scope: WriteScope,
  input: { instanceId?: unknown; vpcId?: unknown; address?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkString(fields, 'instanceId', input.instanceId, 10, 19, false, INSTANCE_ID_PATTERN);
  checkString(fields, 'vpcId', input.vpcId, 12, 21, true, VPC_ID_PATTERN);
  checkAddress(fields, input.address);
  if (fields.length) throw ValidationException.fromFields(fields);
  const vpc = await findVpc(scope, input.vpcId as string);
  const instanceId = (input.instanceId as string | undefined) ?? `i-${randomHex17()}`;
  const instance: Instance = {
    instanceId,
    vpcId: vpc.id,
    ownerAccountId: scope.caller.accountId,
    address: input.address as string,
    createdAt: scope.ctx.now(),
  };
  await insertOnce(scope, 'instance', instanceId, instance);
  return { ...instance };
}

export async function listInstances(
  scope: OperationScope,
  page: Page & { vpcId?: string },
): Promise<Record<string, unknown>> {
  return listPage<Instance, Instance>(
    scope.reader,
    {
      kind: 'instance',
      accountId: scope.caller.accountId,
      ...(page.vpcId ? { where: { vpcId: page.vpcId } } : {}),
    },
    page,
    (r) => r.data,
  );
}

async function findOwnedInventory<T>(
  scope: OperationScope,
  kind: 'instance' | 'load-balancer',
  id: string,
): Promise<StoredResource<T>> {
  const found = await scope.reader.get<T>(kind, id);
  if (!found || found.accountId !== scope.caller.accountId) throw notFound(kind, id);
  return found;
}

/** DeleteInstance: 409 while the instance is registered as a target. */
export async function deleteInstance(scope: WriteScope, instanceId: string): Promise<void> {
  const found = await findOwnedInventory<Instance>(scope, 'instance', instanceId);
  await refuseWhileTarget(scope, 'instance', found.id);
  await scope.tx.delete('instance', found.id);
}

/**
 * CreateLoadBalancer: `name` (1–32, alphanumerics and hyphens), `vpcId`, `address`; the ARN is
 * `arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{16 hex}`.
 */
export async function createLoadBalancer(
  scope: WriteScope,
  input: { name?: unknown; vpcId?: unknown; address?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkString(fields, 'name', input.name, 1, 32, true, LOAD_BALANCER_NAME_PATTERN);
  checkString(fields, 'vpcId', input.vpcId, 12, 21, true, VPC_ID_PATTERN);
  checkAddress(fields, input.address);
  if (fields.length) throw ValidationException.fromFields(fields);
  const vpc = await findVpc(scope, input.vpcId as string);
  const name = input.name as string;
  const { partition, region } = scope.ctx;
  const arn = `arn:${partition}:elasticloadbalancing:${region}:${scope.caller.accountId}:loadbalancer/app/${name}/${randomHex17().slice(0, 16)}`;
  const lb: LoadBalancer = {
    loadBalancerArn: arn,
    name,
    vpcId: vpc.id,
    ownerAccountId: scope.caller.accountId,
    address: input.address as string,
    createdAt: scope.ctx.now(),
  };
  await insertOnce(scope, 'load-balancer', arn, lb, arn);
  return { ...lb };
}

export async function listLoadBalancers(
  scope: OperationScope,
  page: Page & { vpcId?: string },
): Promise<Record<string, unknown>> {
  return listPage<LoadBalancer, LoadBalancer>(
    scope.reader,
    {
      kind: 'load-balancer',
      accountId: scope.caller.accountId,
      ...(page.vpcId ? { where: { vpcId: page.vpcId } } : {}),
    },
    page,
    (r) => r.data,
  );
}

/** DeleteLoadBalancer: 409 while it is registered as an ALB target. */
export async function deleteLoadBalancer(scope: WriteScope, arn: string): Promise<void> {
  const found = await findOwnedInventory<LoadBalancer>(scope, 'load-balancer', arn);
  await refuseWhileTarget(scope, 'load-balancer', found.id);
  await scope.tx.delete('load-balancer', found.id);
}
