/**
 * Long-term access keys (`AKIA…`) of IAM users and of the account root (issue auth §1). A user's
 * keys are stored with the user's id as parent, so DeleteUser can refuse while keys remain; the
 * secret is returned once, by CreateAccessKey, as IAM does.
 */
import { IamError } from '../errors/iam-errors.js';
import type { AccessKey, IamUser } from '../model/iam-types.js';
import { accountRootArn, newAccessKeyId, newSecretAccessKey } from './accounts.js';
import { IAM_LIMITS } from './iam-common.js';
import { requireUser } from './iam-users.js';
import type { OperationScope, WriteScope } from './manager-context.js';

/** Whose keys a call manages: the named user, else the caller (a user, or the account root). */
interface KeyOwner {
  userName: string;
  principalArn: string;
  parentId: string | null;
}

async function keyOwner(scope: OperationScope, userName: string | undefined): Promise<KeyOwner> {
  if (userName !== undefined) {
    const user = await requireUser(scope, userName);
    return { userName: user.data.userName, principalArn: user.data.arn, parentId: user.id };
  }
  const rootArn = accountRootArn(scope.ctx.partition, scope.caller.accountId);
  if (scope.caller.principalArn === rootArn) {
    // IAM names the root's keys with the account id as the user name.
    return { userName: scope.caller.accountId, principalArn: rootArn, parentId: null };
  }
  const self = await scope.reader.getByArn<IamUser>(scope.caller.principalArn);
  if (self?.kind === 'iam-user') {
    return { userName: self.data.userName, principalArn: self.data.arn, parentId: self.id };
  }
  throw new IamError(
    'ValidationError',
    'Must specify userName when calling with non-User credentials',
  );
}

/** An access key as IAM lists it (no secret). */
export interface AccessKeyMetadata {
  userName: string;
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  createDate: string;
}

async function ownerKeys(scope: OperationScope, owner: KeyOwner): Promise<AccessKey[]> {
  const page = await scope.reader.list<AccessKey>({
    kind: 'access-key',
    accountId: scope.caller.accountId,
    where: { principalArn: owner.principalArn },
  });
  // Temporary credentials are never listed; only long-term keys are the owner's.
  return page.items.map((r) => r.data).filter((k) => k.sessionToken === undefined);
}

/** CreateAccessKey: at most two per user (LimitExceeded), secret returned once. */
export async function createAccessKey(
  scope: WriteScope,
  userName: string | undefined,
): Promise<AccessKeyMetadata & { secretAccessKey: string }> {
  const owner = await keyOwner(scope, userName);
  const existing = await ownerKeys(scope, owner);
  if (existing.length >= IAM_LIMITS.accessKeysPerUser) {
    throw new IamError(
      'LimitExceeded',
      `Cannot exceed quota for AccessKeysPerUser: ${IAM_LIMITS.accessKeysPerUser}`,
    );
  }
  const key: AccessKey = {
    accessKeyId: newAccessKeyId('AKIA'),
    secretAccessKey: newSecretAccessKey(),
    status: 'Active',
    accountId: scope.caller.accountId,
    principalArn: owner.principalArn,
    createdAt: scope.ctx.now(),
  };
  await scope.tx.insert({
    kind: 'access-key',
    id: key.accessKeyId,
    accountId: key.accountId,
    parentId: owner.parentId,
    data: key,
  });
  return {
    userName: owner.userName,
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    status: key.status,
    createDate: key.createdAt,
  };
}

async function requireOwnedKey(
  scope: OperationScope,
  owner: KeyOwner,
  accessKeyId: string,
): Promise<AccessKey> {
  const found = await scope.reader.get<AccessKey>('access-key', accessKeyId);
  if (
    !found ||
    found.accountId !== scope.caller.accountId ||
    found.data.principalArn !== owner.principalArn ||
    found.data.sessionToken !== undefined
  ) {
    throw new IamError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
  }
  return found.data;
}

/** DeleteAccessKey. */
export async function deleteAccessKey(
  scope: WriteScope,
  accessKeyId: string,
  userName: string | undefined,
): Promise<void> {
  const owner = await keyOwner(scope, userName);
  await requireOwnedKey(scope, owner, accessKeyId);
  await scope.tx.delete('access-key', accessKeyId);
}

/** UpdateAccessKey: `Active` / `Inactive` (an inactive key fails authentication). */
export async function updateAccessKey(
  scope: WriteScope,
  input: { accessKeyId: string; status: string; userName?: string },
): Promise<void> {
  if (input.status !== 'Active' && input.status !== 'Inactive') {
    throw new IamError(
      'ValidationError',
      `1 validation error detected: Value '${input.status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
    );
  }
  const owner = await keyOwner(scope, input.userName);
  const key = await requireOwnedKey(scope, owner, input.accessKeyId);
  const found = await scope.tx.get<AccessKey>('access-key', input.accessKeyId);
  await scope.tx.update({
    kind: 'access-key',
    id: key.accessKeyId,
    accountId: key.accountId,
    parentId: found?.parentId ?? null,
    data: { ...key, status: input.status },
  });
}

/** ListAccessKeys: the owner's long-term keys, without secrets. */
export async function listAccessKeys(
  scope: OperationScope,
  userName: string | undefined,
): Promise<AccessKeyMetadata[]> {
  const owner = await keyOwner(scope, userName);
  const keys = await ownerKeys(scope, owner);
  return keys.map((k) => ({
    userName: owner.userName,
    accessKeyId: k.accessKeyId,
    status: k.status,
    createDate: k.createdAt,
  }));
}
