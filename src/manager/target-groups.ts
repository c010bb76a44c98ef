import { ConflictException, ValidationException } from '../errors/aws-errors.js';
import {
  ID_PREFIX,
  idFromIdentifier,
  newResourceId,
  serviceArn,
  targetGroupArn,
} from '../model/ids.js';
import type { Vpc } from '../model/inventory-types.js';
import type {
  HealthCheckConfig,
  Listener,
  Rule,
  RuleAction,
  Tags,
  TargetGroup,
  TargetGroupType,
} from '../model/lattice-types.js';
import {
  checkEnum,
  checkResourceName,
  checkTags,
  isPlainObject,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import {
  checkHealthCheck,
  checkTargetGroupConfig,
  normalizeTargetGroupConfig,
  resolvedHealthCheckConfig,
  TARGET_GROUP_TYPES,
} from '../model/validation/target-group-validation.js';
import { StoreConflictError } from '../store/store-errors.js';
import type { StoredResource } from '../store/store.js';
import { checkQuota, findOwned, notFound } from './lookups.js';
import { arnScope, type OperationScope, type WriteScope } from './manager-context.js';
import { encodeNextToken, parsePageParams } from './pagination.js';

export interface CreateTargetGroupInput {
  name?: unknown;
  type?: unknown;
  config?: unknown;
  tags?: unknown;
}

/**
 * Pages an in-memory list sorted by `key` with the same opaque token format as `listPage`; used
 * where a filter is not a top-level data field (e.g. `config.vpcIdentifier`).
 */
export function pageArray<T, R>(
  items: readonly T[],
  key: (item: T) => string,
  page: { maxResults?: string | number; nextToken?: string },
  render: (item: T) => R,
): { items: R[]; nextToken?: string } {
  const { limit, afterId } = parsePageParams(page.maxResults, page.nextToken);
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const rest = afterId === undefined ? sorted : sorted.filter((i) => key(i) > afterId);
  const slice = rest.slice(0, limit);
  const out: { items: R[]; nextToken?: string } = { items: slice.map(render) };
  if (rest.length > limit && slice.length)
    out.nextToken = encodeNextToken(key(slice[slice.length - 1]!));
  return out;
}

/** Finds a VPC of the caller's inventory (kind `vpc`) by id or EC2 ARN; not found otherwise. */
export async function findVpc(
  scope: OperationScope,
  identifier: string,
): Promise<StoredResource<Vpc>> {
  const found = await scope.reader.get<Vpc>('vpc', idFromIdentifier(identifier));
  if (!found || found.accountId !== scope.caller.accountId) throw notFound('vpc', identifier);
  return found;
}

function forwardedGroupIds(action: RuleAction | undefined): string[] {
  return (action?.forward?.targetGroups ?? []).map((w) =>
    idFromIdentifier(w.targetGroupIdentifier),
  );
}

/**
 * Which services forward to which target groups of the account: listener default actions (kind
 * `listener`, `data.defaultAction`) and rules (kind `rule`, `data.action`). Keyed by group id.
 * With `targetGroupId`, only that group's users, read through the store's reference index
 * (`refersTo`) instead of every listener and rule of the account.
 */
export async function targetGroupUsage(
  scope: OperationScope,
  accountId: string,
  targetGroupId?: string,
): Promise<Map<string, Set<string>>> {
  const usage = new Map<string, Set<string>>();
  const add = (tgId: string, svcArn: string): void => {
    let set = usage.get(tgId);
    if (!set) usage.set(tgId, (set = new Set()));
    set.add(svcArn);
  };
  const [listeners, rules] = await Promise.all([
    scope.reader.list<Listener>({ kind: 'listener', accountId, refersTo: targetGroupId }),
    scope.reader.list<Rule>({ kind: 'rule', accountId, refersTo: targetGroupId }),
  ]);
  const arns = { partition: scope.ctx.partition, region: scope.ctx.region, accountId };
  for (const l of listeners.items) {
    const svc = l.data.serviceArn ?? serviceArn(arns, l.data.serviceId);
    for (const tg of forwardedGroupIds(l.data.defaultAction)) add(tg, svc);
  }
  for (const r of rules.items) {
    const svc = serviceArn(arns, r.data.serviceId);
    for (const tg of forwardedGroupIds(r.data.action)) add(tg, svc);
  }
  return usage;
}

/** CreateTargetGroup (spec §1.5 TargetGroup): 201 `{id, arn, name, type, config, status}`. */
export async function createTargetGroup(
  scope: WriteScope,
  input: CreateTargetGroupInput,
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkResourceName(fields, 'name', input.name, 128, 'tg-');
  checkEnum(fields, 'type', input.type, TARGET_GROUP_TYPES, true);
  if (
    typeof input.type === 'string' &&
    (TARGET_GROUP_TYPES as readonly string[]).includes(input.type)
  ) {
    checkTargetGroupConfig(fields, input.type as TargetGroupType, input.config);
  }
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const name = input.name as string;
  const type = input.type as TargetGroupType;
  const config = normalizeTargetGroupConfig(
    type,
    input.config as Record<string, unknown> | undefined,
  );
  if (config.vpcIdentifier) {
    // spec §1.5: the VPC must exist (Trellis's inventory); store its bare id.
    const vpc = await findVpc(scope, config.vpcIdentifier);
    config.vpcIdentifier = vpc.id;
  }
  const accountId = scope.caller.accountId;
  const existing = await scope.reader.getByName('target-group', accountId, name);
  if (existing) throw duplicateName(name);
  await checkQuota(scope, 'targetGroupsPerRegion', { kind: 'target-group', accountId });
  const id = newResourceId(ID_PREFIX['target-group']);
  const now = scope.ctx.now();
  const tg: TargetGroup = {
    id,
    arn: targetGroupArn(arnScope(scope), id),
    name,
    type,
    config,
    status: 'ACTIVE',
    createdAt: now,
    lastUpdatedAt: now,
  };
  if (input.tags) tg.tags = input.tags as Tags;
  try {
    await scope.tx.insert({ kind: 'target-group', id, accountId, arn: tg.arn, name, data: tg });
  } catch (err) {
    if (err instanceof StoreConflictError && err.field === 'name') throw duplicateName(name);
    throw err;
  }
  return { id, arn: tg.arn, name, type, config, status: tg.status };
}

function duplicateName(name: string): ConflictException {
  return new ConflictException(
    `A target group named ${name} already exists in this account.`,
    name,
    'TARGET_GROUP',
  );
}

export async function getTargetGroup(
  scope: OperationScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findOwned<TargetGroup>(scope, 'target-group', identifier);
  const tg = found.data;
  const usage = await targetGroupUsage(scope, found.accountId, found.id);
  const out: Record<string, unknown> = {
    id: tg.id,
    arn: tg.arn,
    name: tg.name,
    type: tg.type,
    config: tg.config ?? {},
    createdAt: tg.createdAt,
    lastUpdatedAt: tg.lastUpdatedAt,
    status: tg.status,
    serviceArns: [...(usage.get(tg.id) ?? [])].sort(),
  };
  return out;
}

/** ListTargetGroups with the `vpcIdentifier` and `targetGroupType` filters (spec §1.5). */
export async function listTargetGroups(
  scope: OperationScope,
  query: {
    maxResults?: string;
    nextToken?: string;
    vpcIdentifier?: string;
    targetGroupType?: string;
  },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkEnum(fields, 'targetGroupType', query.targetGroupType, TARGET_GROUP_TYPES);
  if (fields.length) throw ValidationException.fromFields(fields);
  const accountId = scope.caller.accountId;
  const where: Record<string, string> = {};
  if (query.targetGroupType) where.type = query.targetGroupType;
  const all = await scope.reader.list<TargetGroup>({ kind: 'target-group', accountId, where });
  const vpcId = query.vpcIdentifier ? idFromIdentifier(query.vpcIdentifier) : undefined;
  const matching = all.items.filter((r) => !vpcId || r.data.config?.vpcIdentifier === vpcId);
  const usage = await targetGroupUsage(scope, accountId);
  return pageArray(
    matching,
    (r) => r.id,
    query,
    (r) => {
      const tg = r.data;
      const c = tg.config ?? {};
      const summary: Record<string, unknown> = {
        id: tg.id,
        arn: tg.arn,
        name: tg.name,
        type: tg.type,
        createdAt: tg.createdAt,
        lastUpdatedAt: tg.lastUpdatedAt,
        status: tg.status,
        serviceArns: [...(usage.get(tg.id) ?? [])].sort(),
      };
      if (c.port !== undefined) summary.port = c.port;
      if (c.protocol) summary.protocol = c.protocol;
      if (c.ipAddressType) summary.ipAddressType = c.ipAddressType;
      if (c.vpcIdentifier) summary.vpcIdentifier = c.vpcIdentifier;
      if (c.lambdaEventStructureVersion)
        summary.lambdaEventStructureVersion = c.lambdaEventStructureVersion;
      return summary;
    },
  );
}

/** UpdateTargetGroup: only `healthCheck` is mutable (spec §1.5); not for LAMBDA/ALB (spec §5). */
export async function updateTargetGroup(
  scope: WriteScope,
  identifier: string,
  input: { healthCheck?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  if (input.healthCheck === undefined) fields.push({ name: 'healthCheck', message: 'is required' });
  else checkHealthCheck(fields, 'healthCheck', input.healthCheck);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findOwned<TargetGroup>(scope, 'target-group', identifier);
  const tg = found.data;
  if (tg.type === 'LAMBDA' || tg.type === 'ALB') {
    throw ValidationException.fromFields([
      {
        name: 'healthCheck',
        message: `health checks are not supported for ${tg.type} target groups`,
      },
    ]);
  }
  const config = { ...(tg.config ?? {}) };
  const given = input.healthCheck as HealthCheckConfig;
  const merged: HealthCheckConfig = { ...(config.healthCheck ?? {}), ...given };
  if (isPlainObject(given.matcher))
    merged.matcher = { ...config.healthCheck?.matcher, ...given.matcher };
  config.healthCheck = resolvedHealthCheckConfig(config, merged);
  const updated: TargetGroup = { ...tg, config, lastUpdatedAt: scope.ctx.now() };
  await scope.tx.update({
    kind: 'target-group',
    id: tg.id,
    accountId: found.accountId,
    data: updated,
  });
  return { id: tg.id, arn: tg.arn, name: tg.name, type: tg.type, config, status: tg.status };
}

/**
 * DeleteTargetGroup: 409 while a listener default action or rule forwards to it (spec §1.5);
 * removes its targets and their health records; answers 200 with DELETE_IN_PROGRESS.
 */
export async function deleteTargetGroup(
  scope: WriteScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findOwned<TargetGroup>(scope, 'target-group', identifier);
  const usage = await targetGroupUsage(scope, found.accountId, found.id);
  const services = usage.get(found.id);
  if (services?.size) {
    throw new ConflictException(
      `Target group ${found.id} is in use by ${[...services].join(', ')}. Remove it from the listeners and rules that forward to it first.`,
      found.id,
      'TARGET_GROUP',
    );
  }
  const targets = await scope.tx.list({ kind: 'target', parentId: found.id });
  for (const t of targets.items) await scope.tx.delete('target', t.id);
  await scope.tx.delete('target-group', found.id);
  scope.ctx.targetHealth?.forget(found.id);
  return { id: found.id, arn: found.data.arn, status: 'DELETE_IN_PROGRESS' };
}
