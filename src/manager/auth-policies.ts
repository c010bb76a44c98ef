/**
 * Auth policies of service networks and services (spec §1.5 AuthPolicy, §2.1). Stored as kind
 * `auth-policy`, parentId = the resource's id, id = `authPolicyId(resourceId)` (store ids are
 * unique across kinds, so the resource's own id cannot be reused); the data plane reads them from
 * the snapshot by `data.resourceId`.
 *
 * Decisions:
 * - Newlines: the documentation asks for a policy "without newlines", but the JSON grammar does
 *   not need it and SDK users commonly send pretty-printed documents; Trellis accepts any
 *   whitespace and stores the text exactly as sent (README compatibility table).
 * - DeleteAuthPolicy while the resource's authType is AWS_IAM follows the API reference (spec
 *   §1.5, §8.8): it succeeds, and every request is then denied until a policy is put again or
 *   authType becomes NONE. The model declares no ConflictException for it, so refusing would need
 *   an error type the SDKs do not expect.
 */
import { ValidationException } from '../errors/aws-errors.js';
import { parsePolicy, PolicyValidationError } from '../iam/policy/index.js';
import { idFromIdentifier } from '../model/ids.js';
import type {
  AuthPolicy,
  AuthPolicyState,
  Service,
  ServiceNetwork,
} from '../model/lattice-types.js';
import { FIXED_LIMITS } from '../model/quotas.js';
import type { StoredResource } from '../store/store.js';
import { RESOURCE_TYPE } from './lookups.js';
import { ResourceNotFoundException } from '../errors/aws-errors.js';
import type { OperationScope, WriteScope } from './manager-context.js';

/** The store id of a resource's auth policy: `{resourceId}/authpolicy`. */
export function authPolicyId(resourceId: string): string {
  return `${resourceId}/authpolicy`;
}

/** A service network or a service: the resources that carry auth policies and access logs. */
export type PolicyTarget = StoredResource<ServiceNetwork | Service> & {
  kind: 'service-network' | 'service';
};

/**
 * Resolves a service network or service identifier (bare id or ARN) of the caller; any other
 * kind, or a resource of another account, answers ResourceNotFoundException.
 */
export async function findServiceOrNetwork(
  scope: OperationScope,
  identifier: string,
): Promise<PolicyTarget> {
  let found: StoredResource<ServiceNetwork | Service> | undefined;
  if (identifier.startsWith('arn:')) found = await scope.reader.getByArn(identifier);
  else {
    const id = idFromIdentifier(identifier);
    if (id.startsWith('sn-')) found = await scope.reader.get('service-network', id);
    else if (id.startsWith('svc-')) found = await scope.reader.get('service', id);
  }
  if (
    !found ||
    (found.kind !== 'service-network' && found.kind !== 'service') ||
    found.accountId !== scope.caller.accountId
  ) {
    const type = identifier.includes('svc-')
      ? RESOURCE_TYPE.service
      : RESOURCE_TYPE['service-network'];
    throw new ResourceNotFoundException(
      `Resource ${identifier} not found: give the id or ARN of a service network or service of this account.`,
      identifier,
      type,
    );
  }
  return found as PolicyTarget;
}

/** Parses a policy text with the IAM grammar (spec §2); ValidationException naming the problem. */
export function checkPolicyText(value: unknown, maxBytes: number): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw ValidationException.fromFields([
      { name: 'policy', message: 'is required and must be a non-blank JSON policy document' },
    ]);
  }
  if (Buffer.byteLength(value, 'utf8') > maxBytes) {
    throw ValidationException.fromFields([
      { name: 'policy', message: `must be at most ${maxBytes} bytes` },
    ]);
  }
  try {
    parsePolicy(value, { kind: 'resource', maxBytes });
  } catch (err) {
    if (err instanceof PolicyValidationError) {
      throw ValidationException.fromFields(
        err.violations.map((v) => ({
          name: 'policy',
          message: v.path ? `${v.path}: ${v.message}` : v.message,
        })),
      );
    }
    throw err;
  }
  return value;
}

function stateOf(resource: PolicyTarget): AuthPolicyState {
  return resource.data.authType === 'AWS_IAM' ? 'Active' : 'Inactive';
}

/** PutAuthPolicy: creates or replaces; `state` is Active iff the resource's authType is AWS_IAM. */
export async function putAuthPolicy(
  scope: WriteScope,
  identifier: string,
  input: { policy?: unknown },
): Promise<Record<string, unknown>> {
  const policy = checkPolicyText(input.policy, FIXED_LIMITS.authPolicyBytes);
  const resource = await findServiceOrNetwork(scope, identifier);
  const existing = await scope.tx.get<AuthPolicy>('auth-policy', authPolicyId(resource.id));
  const now = scope.ctx.now();
  const data: AuthPolicy = {
    resourceId: resource.id,
    resourceArn: resource.data.arn,
    policy,
    createdAt: existing?.data.createdAt ?? now,
    lastUpdatedAt: now,
  };
  const record = {
    kind: 'auth-policy' as const,
    id: authPolicyId(resource.id),
    accountId: resource.accountId,
    parentId: resource.id,
    data,
  };
  if (existing) await scope.tx.update(record);
  else await scope.tx.insert(record);
  return { policy, state: stateOf(resource) };
}

/** GetAuthPolicy: 404 when the resource has no auth policy. */
export async function getAuthPolicy(
  scope: OperationScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const resource = await findServiceOrNetwork(scope, identifier);
  const found = await scope.reader.get<AuthPolicy>('auth-policy', authPolicyId(resource.id));
  if (!found) {
    throw new ResourceNotFoundException(
      `${resource.kind === 'service' ? 'Service' : 'Service network'} ${resource.id} has no auth policy.`,
      resource.id,
      RESOURCE_TYPE['auth-policy'],
    );
  }
  return {
    policy: found.data.policy,
    state: stateOf(resource),
    createdAt: found.data.createdAt,
    lastUpdatedAt: found.data.lastUpdatedAt,
  };
}

/** DeleteAuthPolicy: 204 whether or not a policy existed (idempotent; see the file comment). */
export async function deleteAuthPolicy(scope: WriteScope, identifier: string): Promise<void> {
  const resource = await findServiceOrNetwork(scope, identifier);
  await scope.tx.delete('auth-policy', authPolicyId(resource.id));
}
