/**
 * IAM users (issue auth §1): create/get/list/delete, tags, inline identity policies. Names are
 * unique per account regardless of case, as in IAM; the store's name column holds the lower-cased
 * name so `getByName` finds `Alice` when asked for `alice`.
 */
import { IamError, noSuchEntity } from '../errors/iam-errors.js';
import type { AccessKey, IamUser } from '../model/iam-types.js';
import type { StoredResource } from '../store/store.js';
import {
  checkName,
  checkPath,
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

/** Finds a user of the caller's account by name; NoSuchEntity if absent. */
export async function requireUser(
  scope: OperationScope,
  userName: string,
): Promise<StoredResource<IamUser>> {
  const found = await scope.reader.getByName<IamUser>(
    'iam-user',
    scope.caller.accountId,
    userName.toLowerCase(),
  );
  if (!found) throw noSuchEntity('user', userName);
  return found;
}

/** CreateUser: `AIDA…` id, `arn:…:user{path}{name}`, optional tags. */
export async function createUser(
  scope: WriteScope,
  input: { userName: string; path?: string; tags?: readonly { Key: string; Value: string }[] },
): Promise<IamUser> {
  const userName = checkName(input.userName, 'userName', 64);
  const path = checkPath(input.path);
  const tags = checkTags(input.tags ?? []);
  const accountId = scope.caller.accountId;
  if (await scope.tx.getByName('iam-user', accountId, userName.toLowerCase())) {
    throw new IamError('EntityAlreadyExists', `User with name ${userName} already exists.`);
  }
  if ((await scope.tx.count({ kind: 'iam-user', accountId })) >= IAM_LIMITS.usersPerAccount) {
    throw new IamError(
      'LimitExceeded',
      `Cannot exceed quota for UsersPerAccount: ${IAM_LIMITS.usersPerAccount}.`,
    );
  }
  const user: IamUser = {
    userId: newIamId('AIDA'),
    userName,
    arn: iamArn(scope.ctx.partition, accountId, 'user', path, userName),
    accountId,
    path,
    createdAt: scope.ctx.now(),
  };
  if (Object.keys(tags).length) user.tags = tags;
  await scope.tx.insert({
    kind: 'iam-user',
    id: user.userId,
    accountId,
    arn: user.arn,
    name: userName.toLowerCase(),
    data: user,
  });
  return user;
}

/** GetUser: the named user, or the calling user when no name is given. */
export async function getUser(
  scope: OperationScope,
  userName: string | undefined,
): Promise<IamUser> {
  if (userName !== undefined) return (await requireUser(scope, userName)).data;
  const self = await scope.reader.getByArn<IamUser>(scope.caller.principalArn);
  if (self?.kind === 'iam-user') return self.data;
  throw new IamError(
    'ValidationError',
    'Must specify userName when calling with non-User credentials',
  );
}

/** ListUsers with an optional path prefix. */
export async function listUsers(
  scope: OperationScope,
  input: { pathPrefix?: string; marker?: string; maxItems?: number },
): Promise<{ items: IamUser[]; isTruncated: boolean; marker?: string }> {
  const prefix = input.pathPrefix ?? '/';
  return listIamPage<IamUser>(
    scope.reader,
    { kind: 'iam-user', accountId: scope.caller.accountId },
    input.marker,
    input.maxItems,
    (r) => r.data.path.startsWith(prefix),
  );
}

/** DeleteUser: refused (DeleteConflict) while the user has access keys or inline policies. */
export async function deleteUser(scope: WriteScope, userName: string): Promise<void> {
  const user = await requireUser(scope, userName);
  if (Object.keys(user.data.inlinePolicies ?? {}).length) {
    throw new IamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
  }
  const keys = await scope.tx.count({ kind: 'access-key', parentId: user.id });
  if (keys > 0) {
    throw new IamError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
  }
  await scope.tx.delete('iam-user', user.id);
}

async function saveUser(
  scope: WriteScope,
  stored: StoredResource<IamUser>,
  user: IamUser,
): Promise<void> {
  await scope.tx.update({
    kind: 'iam-user',
    id: stored.id,
    accountId: stored.accountId,
    arn: stored.arn,
    name: stored.name,
    data: user,
  });
}

/** TagUser: adds or overwrites tags. */
export async function tagUser(
  scope: WriteScope,
  userName: string,
  tags: readonly { Key: string; Value: string }[],
): Promise<void> {
  const stored = await requireUser(scope, userName);
  const merged = mergeTags(stored.data.tags, checkTags(tags));
  await saveUser(scope, stored, { ...stored.data, tags: merged });
}

/** UntagUser: removes the named tag keys. */
export async function untagUser(
  scope: WriteScope,
  userName: string,
  keys: readonly string[],
): Promise<void> {
  const stored = await requireUser(scope, userName);
  await saveUser(scope, stored, { ...stored.data, tags: removeTags(stored.data.tags, keys) });
}

/** PutUserPolicy: creates or replaces an inline identity policy (MalformedPolicyDocument if bad). */
export async function putUserPolicy(
  scope: WriteScope,
  input: { userName: string; policyName: string; policyDocument: string },
): Promise<void> {
  const stored = await requireUser(scope, input.userName);
  const inlinePolicies = withInlinePolicy(
    holderOf(stored.data),
    input.policyName,
    input.policyDocument,
    IAM_LIMITS.userInlinePolicyChars,
  );
  await saveUser(scope, stored, { ...stored.data, inlinePolicies });
}

/** GetUserPolicy: the inline policy's document text. */
export async function getUserPolicy(
  scope: OperationScope,
  userName: string,
  policyName: string,
): Promise<{ userName: string; policyName: string; policyDocument: string }> {
  const stored = await requireUser(scope, userName);
  const policyDocument = inlinePolicyOf(holderOf(stored.data), policyName);
  return { userName: stored.data.userName, policyName, policyDocument };
}

/** DeleteUserPolicy. */
export async function deleteUserPolicy(
  scope: WriteScope,
  userName: string,
  policyName: string,
): Promise<void> {
  const stored = await requireUser(scope, userName);
  const inlinePolicies = withoutInlinePolicy(holderOf(stored.data), policyName);
  await saveUser(scope, stored, { ...stored.data, inlinePolicies });
}

function holderOf(data: {
  userName: string;
  inlinePolicies?: Record<string, string>;
}): InlinePolicyHolder {
  return { kind: 'user', name: data.userName, policies: data.inlinePolicies };
}

/** ListUserPolicies: inline policy names, sorted. */
export async function listUserPolicies(scope: OperationScope, userName: string): Promise<string[]> {
  const stored = await requireUser(scope, userName);
  return Object.keys(stored.data.inlinePolicies ?? {}).sort();
}

/** The user a long-term access key belongs to (for GetAccessKeyLastUsed-style lookups). */
export function userNameOfKey(key: AccessKey): string | undefined {
  const m = /:user\/(?:.*\/)?([^/]+)$/.exec(key.principalArn);
  return m?.[1];
}
