import { ConflictException, ValidationException } from '../errors/aws-errors.js';
import { ID_PREFIX, newResourceId, serviceNetworkArn } from '../model/ids.js';
import type { AuthType, ServiceNetwork, Tags } from '../model/lattice-types.js';
import {
  checkBoolean,
  checkEnum,
  checkResourceName,
  checkTags,
  isPlainObject,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import { StoreConflictError } from '../store/store-errors.js';
import type { StoredResource } from '../store/store.js';
import { authPolicyId } from './auth-policies.js';
import { checkQuota, findOwned } from './lookups.js';
import { arnScope, type OperationScope, type WriteScope } from './manager-context.js';
import { findReadable, listOwnedAndShared } from './resource-sharing.js';

const AUTH_TYPES: readonly AuthType[] = ['NONE', 'AWS_IAM'];

export interface CreateServiceNetworkInput {
  name?: unknown;
  authType?: unknown;
  tags?: unknown;
  sharingConfig?: unknown;
}

/** CreateServiceNetwork (spec §1.5 ServiceNetwork). */
export async function createServiceNetwork(
  scope: WriteScope,
  input: CreateServiceNetworkInput,
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkResourceName(fields, 'name', input.name, 63);
  checkEnum(fields, 'authType', input.authType, AUTH_TYPES);
  checkTags(fields, 'tags', input.tags);
  if (input.sharingConfig !== undefined) {
    if (!isPlainObject(input.sharingConfig)) {
      fields.push({ name: 'sharingConfig', message: 'must be an object' });
    } else checkBoolean(fields, 'sharingConfig.enabled', input.sharingConfig.enabled);
  }
  if (fields.length) throw ValidationException.fromFields(fields);
  const name = input.name as string;
  const accountId = scope.caller.accountId;
  await checkQuota(scope, 'serviceNetworksPerRegion', { kind: 'service-network', accountId });
  const id = newResourceId(ID_PREFIX['service-network']);
  const now = scope.ctx.now();
  const sn: ServiceNetwork = {
    id,
    arn: serviceNetworkArn(arnScope(scope), id),
    name,
    authType: (input.authType as AuthType | undefined) ?? 'NONE',
    createdAt: now,
    lastUpdatedAt: now,
  };
  if (input.sharingConfig) {
    sn.sharingConfig = { enabled: Boolean((input.sharingConfig as { enabled?: boolean }).enabled) };
  }
  if (input.tags) sn.tags = input.tags as Tags;
  try {
    await scope.tx.insert({ kind: 'service-network', id, accountId, arn: sn.arn, name, data: sn });
  } catch (err) {
    if (err instanceof StoreConflictError && err.field === 'name') {
      throw new ConflictException(
        `A service network named ${name} already exists in this account.`,
        name,
        'SERVICE_NETWORK',
      );
    }
    throw err;
  }
  const out: Record<string, unknown> = { id, name, arn: sn.arn, authType: sn.authType };
  if (sn.sharingConfig) out.sharingConfig = sn.sharingConfig;
  return out;
}

async function associationCounts(
  scope: OperationScope,
  id: string,
): Promise<{ vpcs: number; services: number }> {
  const [vpcs, services] = await Promise.all([
    scope.reader.count({
      kind: 'service-network-vpc-association',
      where: { serviceNetworkId: id },
    }),
    scope.reader.count({
      kind: 'service-network-service-association',
      where: { serviceNetworkId: id },
    }),
  ]);
  return { vpcs, services };
}

export async function getServiceNetwork(
  scope: OperationScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  // A network shared with the caller (RAM share or resource policy) is readable by ARN.
  const found = await findReadable<ServiceNetwork>(scope, 'service-network', identifier);
  const sn = found.data;
  const counts = await associationCounts(scope, sn.id);
  const out: Record<string, unknown> = {
    id: sn.id,
    name: sn.name,
    arn: sn.arn,
    createdAt: sn.createdAt,
    lastUpdatedAt: sn.lastUpdatedAt,
    authType: sn.authType,
    numberOfAssociatedVPCs: counts.vpcs,
    numberOfAssociatedServices: counts.services,
  };
  if (sn.sharingConfig) out.sharingConfig = sn.sharingConfig;
  return out;
}

export async function listServiceNetworks(
  scope: OperationScope,
  page: { maxResults?: string; nextToken?: string },
): Promise<Record<string, unknown>> {
  // Owned networks, then those shared with the caller (model doc: "owned by or shared with").
  return listOwnedAndShared<ServiceNetwork, Record<string, unknown>>(
    scope,
    'service-network',
    page,
    async (r: StoredResource<ServiceNetwork>) => {
      const counts = await associationCounts(scope, r.id);
      return {
        id: r.data.id,
        name: r.data.name,
        arn: r.data.arn,
        createdAt: r.data.createdAt,
        lastUpdatedAt: r.data.lastUpdatedAt,
        numberOfAssociatedVPCs: counts.vpcs,
        numberOfAssociatedServices: counts.services,
        numberOfAssociatedResourceConfigurations: 0,
      };
    },
  );
}

export async function updateServiceNetwork(
  scope: WriteScope,
  identifier: string,
  input: { authType?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkEnum(fields, 'authType', input.authType, AUTH_TYPES, true);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findOwned<ServiceNetwork>(scope, 'service-network', identifier);
  const sn: ServiceNetwork = {
    ...found.data,
    authType: input.authType as AuthType,
    lastUpdatedAt: scope.ctx.now(),
  };
  await scope.tx.update({
    kind: 'service-network',
    id: sn.id,
    accountId: found.accountId,
    data: sn,
  });
  return { id: sn.id, name: sn.name, arn: sn.arn, authType: sn.authType };
}

/**
 * DeleteServiceNetwork: refused (409) while any service or VPC association exists; cascades the
 * network's auth policy, resource policy and access-log subscriptions (spec §1.5).
 */
export async function deleteServiceNetwork(scope: WriteScope, identifier: string): Promise<void> {
  const found = await findOwned<ServiceNetwork>(scope, 'service-network', identifier);
  const counts = await associationCounts(scope, found.id);
  if (counts.vpcs > 0) {
    throw new ConflictException(
      `ServiceNetwork ${found.id} has VPC(s) associated. Delete its VPC associations first.`,
      found.id,
      'SERVICE_NETWORK',
    );
  }
  if (counts.services > 0) {
    throw new ConflictException(
      `ServiceNetwork ${found.id} has service(s) associated. Delete its service associations first.`,
      found.id,
      'SERVICE_NETWORK',
    );
  }
  await deleteAttachedPolicies(scope, found.id, found.data.arn);
  await scope.tx.delete('service-network', found.id);
}

/**
 * Deletes what hangs off a service network or service: its auth policy (id = resource id), its
 * resource policy (id = resource ARN) and its access-log subscriptions.
 */
export async function deleteAttachedPolicies(
  scope: WriteScope,
  resourceId: string,
  resourceArn: string,
): Promise<void> {
  await scope.tx.delete('auth-policy', authPolicyId(resourceId));
  await scope.tx.delete('resource-policy', resourceArn);
  const subs = await scope.tx.list({ kind: 'access-log-subscription', parentId: resourceId });
  for (const s of subs.items) await scope.tx.delete('access-log-subscription', s.id);
}
