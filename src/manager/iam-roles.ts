/**
 * IAM roles (issue auth §1): a trust policy saying who may assume the role, inline identity
 * policies saying what its sessions may do, tags (which become `aws:PrincipalTag/*` of sessions,
 * spec §2.4), and a maximum session duration STS honours.
 */
import { IamError, noSuchEntity } from '../errors/iam-errors.js';
import type { IamRole } from '../model/iam-types.js';
import type { StoredResource } from '../store/store.js';
import {
  checkName,
  checkPath,
  checkPolicyDocument,
  checkTags,
  IAM_LIMITS,
  iamArn,
  listIamPage,
  mergeTags,
  newIamId,
  removeTags,
  withInlinePolicy,
  inlinePolicyOf,
  withoutInlinePolicy,
  type InlinePolicyHolder,
} from './iam-common.js';
import type { OperationScope, WriteScope } from './manager-context.js';

/** Finds a role of the caller's account by name; NoSuchEntity if absent. */
export async function requireRole(
  scope: OperationScope,
  roleName: string,
): Promise<StoredResource<IamRole>> {
  const found = await scope.reader.getByName<IamRole>(
    'iam-role',
    scope.caller.accountId,
    roleName.toLowerCase(),
  );
  if (!found) throw noSuchEntity('role', roleName);
  return found;
}

/** Finds a role by ARN in any account (AssumeRole may cross accounts). */
export async function findRoleByArn(
  scope: OperationScope,
  roleArn: string,
): Promise<IamRole | undefined> {
  const found = await scope.reader.getByArn<IamRole>(roleArn);
  return found?.kind === 'iam-role' ? found.data : undefined;
}

function checkMaxSession(value: number | undefined): number {
  if (value === undefined) return IAM_LIMITS.defaultMaxSessionSeconds;
  if (value < 3600 || value > IAM_LIMITS.maxSessionSecondsLimit) {
    throw new IamError(
      'ValidationError',
      `1 validation error detected: Value '${value}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and ${IAM_LIMITS.maxSessionSecondsLimit}`,
    );
  }
  return value;
}

function checkDescription(value: string | undefined): string | undefined {
  if (value !== undefined && value.length > 1000) {
    throw new IamError(
      'ValidationError',
      `1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000`,
    );
  }
  return value;
}

/** CreateRole: `AROA…` id, `arn:…:role{path}{name}`; the trust policy must parse as a trust policy. */
export async function createRole(
  scope: WriteScope,
  input: {
    roleName: string;
    path?: string;
    assumeRolePolicyDocument: string;
    description?: string;
    maxSessionDuration?: number;
    tags?: readonly { Key: string; Value: string }[];
  },
): Promise<IamRole> {
  const roleName = checkName(input.roleName, 'roleName', 64);
  const path = checkPath(input.path);
  const trust = checkPolicyDocument(
    input.assumeRolePolicyDocument,
    'trust',
    IAM_LIMITS.trustPolicyChars,
  );
  const maxSessionDuration = checkMaxSession(input.maxSessionDuration);
  const description = checkDescription(input.description);
  const tags = checkTags(input.tags ?? []);
  const accountId = scope.caller.accountId;
  if (await scope.tx.getByName('iam-role', accountId, roleName.toLowerCase())) {
    throw new IamError('EntityAlreadyExists', `Role with name ${roleName} already exists.`);
  }
  if ((await scope.tx.count({ kind: 'iam-role', accountId })) >= IAM_LIMITS.rolesPerAccount) {
    throw new IamError(
      'LimitExceeded',
      `Cannot exceed quota for RolesPerAccount: ${IAM_LIMITS.rolesPerAccount}.`,
    );
  }
  const role: IamRole = {
    roleId: newIamId('AROA'),
    roleName,
    arn: iamArn(scope.ctx.partition, accountId, 'role', path, roleName),
    accountId,
    path,
    assumeRolePolicyDocument: trust,
    maxSessionDuration,
    createdAt: scope.ctx.now(),
  };
  if (description !== undefined) role.description = description;
  if (Object.keys(tags).length) role.tags = tags;
  await scope.tx.insert({
    kind: 'iam-role',
    id: role.roleId,
    accountId,
    arn: role.arn,
    name: roleName.toLowerCase(),
    data: role,
  });
  return role;
}

/** GetRole. */
export async function getRole(scope: OperationScope, roleName: string): Promise<IamRole> {
  return (await requireRole(scope, roleName)).data;
}

/** ListRoles with an optional path prefix. */
export async function listRoles(
  scope: OperationScope,
  input: { pathPrefix?: string; marker?: string; maxItems?: number },
): Promise<{ items: IamRole[]; isTruncated: boolean; marker?: string }> {
  const prefix = input.pathPrefix ?? '/';
  return listIamPage<IamRole>(
    scope.reader,
    { kind: 'iam-role', accountId: scope.caller.accountId },
    input.marker,
    input.maxItems,
    (r) => r.data.path.startsWith(prefix),
  );
}

/**
 * DeleteRole: refused (DeleteConflict) while inline policies remain, as IAM does. Sessions
 * already issued stay valid until they expire but lose every permission (their policies are gone).
 */
export async function deleteRole(scope: WriteScope, roleName: string): Promise<void> {
  const role = await requireRole(scope, roleName);
  if (Object.keys(role.data.inlinePolicies ?? {}).length) {
    throw new IamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
  }
  await scope.tx.delete('iam-role', role.id);
}

async function saveRole(
  scope: WriteScope,
  stored: StoredResource<IamRole>,
  role: IamRole,
): Promise<void> {
  await scope.tx.update({
    kind: 'iam-role',
    id: stored.id,
    accountId: stored.accountId,
    arn: stored.arn,
    name: stored.name,
    data: role,
  });
}

/** UpdateRole: description and maximum session duration. */
export async function updateRole(
  scope: WriteScope,
  input: { roleName: string; description?: string; maxSessionDuration?: number },
): Promise<void> {
  const stored = await requireRole(scope, input.roleName);
  const role = { ...stored.data };
  const description = checkDescription(input.description);
  if (description !== undefined) role.description = description;
  if (input.maxSessionDuration !== undefined) {
    role.maxSessionDuration = checkMaxSession(input.maxSessionDuration);
  }
  await saveRole(scope, stored, role);
}

/** UpdateAssumeRolePolicy: replaces the trust policy. */
export async function updateAssumeRolePolicy(
  scope: WriteScope,
  roleName: string,
  policyDocument: string,
): Promise<void> {
  const stored = await requireRole(scope, roleName);
  const trust = checkPolicyDocument(policyDocument, 'trust', IAM_LIMITS.trustPolicyChars);
  await saveRole(scope, stored, { ...stored.data, assumeRolePolicyDocument: trust });
}

/** TagRole: adds or overwrites tags. */
export async function tagRole(
  scope: WriteScope,
  roleName: string,
  tags: readonly { Key: string; Value: string }[],
): Promise<void> {
  const stored = await requireRole(scope, roleName);
  const merged = mergeTags(stored.data.tags, checkTags(tags));
  await saveRole(scope, stored, { ...stored.data, tags: merged });
}

/** UntagRole: removes the named tag keys. */
export async function untagRole(
  scope: WriteScope,
  roleName: string,
  keys: readonly string[],
): Promise<void> {
  const stored = await requireRole(scope, roleName);
  await saveRole(scope, stored, { ...stored.data, tags: removeTags(stored.data.tags, keys) });
}

/** PutRolePolicy: creates or replaces an inline identity policy (MalformedPolicyDocument if bad). */
export async function putRolePolicy(
  scope: WriteScope,
  input: { roleName: string; policyName: string; policyDocument: string },
): Promise<void> {
  const stored = await requireRole(scope, input.roleName);
  const inlinePolicies = withInlinePolicy(
    holderOf(stored.data),
    input.policyName,
    input.policyDocument,
    IAM_LIMITS.roleInlinePolicyChars,
  );
  await saveRole(scope, stored, { ...stored.data, inlinePolicies });
}

/** GetRolePolicy: the inline policy's document text. */
export async function getRolePolicy(
  scope: OperationScope,
  roleName: string,
  policyName: string,
): Promise<{ roleName: string; policyName: string; policyDocument: string }> {
  const stored = await requireRole(scope, roleName);
  const policyDocument = inlinePolicyOf(holderOf(stored.data), policyName);
  return { roleName: stored.data.roleName, policyName, policyDocument };
}

/** DeleteRolePolicy. */
export async function deleteRolePolicy(
  scope: WriteScope,
  roleName: string,
  policyName: string,
): Promise<void> {
  const stored = await requireRole(scope, roleName);
  const inlinePolicies = withoutInlinePolicy(holderOf(stored.data), policyName);
  await saveRole(scope, stored, { ...stored.data, inlinePolicies });
}

function holderOf(data: {
  roleName: string;
  inlinePolicies?: Record<string, string>;
}): InlinePolicyHolder {
  return { kind: 'role', name: data.roleName, policies: data.inlinePolicies };
}

/** ListRolePolicies: inline policy names, sorted. */
export async function listRolePolicies(scope: OperationScope, roleName: string): Promise<string[]> {
  const stored = await requireRole(scope, roleName);
  return Object.keys(stored.data.inlinePolicies ?? {}).sort();
}
