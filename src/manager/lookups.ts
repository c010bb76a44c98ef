import { ResourceNotFoundException, ServiceQuotaExceededException } from '../errors/aws-errors.js';
import { idFromIdentifier } from '../model/ids.js';
import { DEFAULT_QUOTAS, type QuotaKey } from '../model/quotas.js';
import type { ResourceKind } from '../model/resource-kinds.js';
import type { ListQuery, StoredResource } from '../store/store.js';
import type { OperationScope } from './manager-context.js';

/** `resourceType` values for errors, by kind (real values unverified, spec §1.6). */
export const RESOURCE_TYPE: Record<ResourceKind, string> = {
  'service-network': 'SERVICE_NETWORK',
  service: 'SERVICE',
  listener: 'LISTENER',
  rule: 'RULE',
  'target-group': 'TARGET_GROUP',
  target: 'TARGET',
  'service-network-service-association': 'SERVICE_NETWORK_SERVICE_ASSOCIATION',
  'service-network-vpc-association': 'SERVICE_NETWORK_VPC_ASSOCIATION',
  'auth-policy': 'AUTH_POLICY',
  'resource-policy': 'RESOURCE_POLICY',
  'access-log-subscription': 'ACCESS_LOG_SUBSCRIPTION',
  vpc: 'VPC',
  instance: 'INSTANCE',
  'load-balancer': 'LOAD_BALANCER',
  account: 'ACCOUNT',
  'iam-user': 'USER',
  'iam-role': 'ROLE',
  'access-key': 'ACCESS_KEY',
  certificate: 'CERTIFICATE',
  'security-group': 'SECURITY_GROUP',
  function: 'FUNCTION',
  'resource-share': 'RESOURCE_SHARE',
  'resource-share-invitation': 'RESOURCE_SHARE_INVITATION',
};

const LABEL: Partial<Record<ResourceKind, string>> = {
  'service-network': 'Service network',
  service: 'Service',
  listener: 'Listener',
  rule: 'Rule',
  'target-group': 'Target group',
  'service-network-service-association': 'Service network service association',
  'service-network-vpc-association': 'Service network VPC association',
  'access-log-subscription': 'Access log subscription',
  vpc: 'VPC',
};

export function notFound(kind: ResourceKind, identifier: string): ResourceNotFoundException {
  const label = LABEL[kind] ?? kind;
  return new ResourceNotFoundException(
    `${label} ${identifier} not found`,
    identifier,
    RESOURCE_TYPE[kind],
  );
}

/**
 * Finds a resource of the caller's account by ID or ARN (spec §1.1: every `*Identifier` accepts
 * either). Resources of other accounts are invisible: they answer not found.
 */
export async function findOwned<T>(
  scope: OperationScope,
  kind: ResourceKind,
  identifier: string,
): Promise<StoredResource<T>> {
  const found = identifier.startsWith('arn:')
    ? await scope.reader.getByArn<T>(identifier)
    : await scope.reader.get<T>(kind, idFromIdentifier(identifier));
  if (!found || found.kind !== kind || found.accountId !== scope.caller.accountId) {
    throw notFound(kind, identifier);
  }
  return found;
}

/** Throws ServiceQuotaExceededException (HTTP 402) when `count + adding` exceeds the quota. */
export async function checkQuota(
  scope: OperationScope,
  key: QuotaKey,
  query: Omit<ListQuery, 'afterId' | 'limit'>,
  adding = 1,
  resourceId?: string,
): Promise<void> {
  const limit = scope.ctx.quotas[key];
  const count = await scope.reader.count(query);
  if (count + adding > limit) {
    const def = DEFAULT_QUOTAS[key];
    throw new ServiceQuotaExceededException(
      `You have reached the quota of ${limit} for ${key}. Delete unused resources or raise the quota (TRELLIS_QUOTA_${key.toUpperCase()}).`,
      def.resourceType,
      def.quotaCode,
      resourceId,
    );
  }
}
