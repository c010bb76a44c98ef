/**
 * Resource policies (spec §1.5 ResourcePolicy): RAM-style sharing documents on a service network
 * or service, control-plane only (they never authorize data-plane traffic). Stored as kind
 * `resource-policy`, id = the resource's ARN, parentId = its id. As for auth policies, newlines
 * are accepted (see auth-policies.ts).
 */
import { ResourceNotFoundException, ValidationException } from '../errors/aws-errors.js';
import type { ResourcePolicy } from '../model/lattice-types.js';
import { checkPolicyText, findServiceOrNetwork } from './auth-policies.js';
import { RESOURCE_TYPE } from './lookups.js';
import type { OperationScope, WriteScope } from './manager-context.js';

/** Model limit of a resource policy: 1–10,000 characters. */
const RESOURCE_POLICY_MAX = 10_000;

function requireArn(resourceArn: string): void {
  if (!resourceArn.startsWith('arn:')) {
    throw ValidationException.fromFields([
      { name: 'resourceArn', message: 'must be the ARN of a service network or service' },
    ]);
  }
}

/** PutResourcePolicy: creates or replaces; empty 200. */
export async function putResourcePolicy(
  scope: WriteScope,
  resourceArn: string,
  input: { policy?: unknown },
): Promise<undefined> {
  requireArn(resourceArn);
  if (typeof input.policy === 'string' && input.policy.length > RESOURCE_POLICY_MAX) {
    throw ValidationException.fromFields([
      { name: 'policy', message: `must be at most ${RESOURCE_POLICY_MAX} characters` },
    ]);
  }
  const policy = checkPolicyText(input.policy, RESOURCE_POLICY_MAX * 4);
  const resource = await findServiceOrNetwork(scope, resourceArn);
  const id = resource.data.arn;
  const data: ResourcePolicy = { resourceArn: id, policy };
  const record = {
    kind: 'resource-policy' as const,
    id,
    accountId: resource.accountId,
    parentId: resource.id,
    data,
  };
  if (await scope.tx.get('resource-policy', id)) await scope.tx.update(record);
  else await scope.tx.insert(record);
  return undefined;
}

/** GetResourcePolicy: `{policy}`; 404 when there is none. */
export async function getResourcePolicy(
  scope: OperationScope,
  resourceArn: string,
): Promise<Record<string, unknown>> {
  requireArn(resourceArn);
  const resource = await findServiceOrNetwork(scope, resourceArn);
  const found = await scope.reader.get<ResourcePolicy>('resource-policy', resource.data.arn);
  if (!found) {
    throw new ResourceNotFoundException(
      `${resourceArn} has no resource policy.`,
      resourceArn,
      RESOURCE_TYPE['resource-policy'],
    );
  }
  return { policy: found.data.policy };
}

/** DeleteResourcePolicy: 204 whether or not a policy existed. */
export async function deleteResourcePolicy(scope: WriteScope, resourceArn: string): Promise<void> {
  requireArn(resourceArn);
  const resource = await findServiceOrNetwork(scope, resourceArn);
  await scope.tx.delete('resource-policy', resource.data.arn);
}
