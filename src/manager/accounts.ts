import { randomBytes } from 'node:crypto';
import { ConflictException, ValidationException } from '../errors/aws-errors.js';
import type { Account, AccessKey } from '../model/iam-types.js';
import type { Store, StoreReader, StoreTransaction } from '../store/store.js';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new access key id: `AKIA` (long-term) or `ASIA` (temporary) + 16 base32 characters. */
export function newAccessKeyId(prefix: 'AKIA' | 'ASIA' = 'AKIA'): string {
  const bytes = randomBytes(16);
  let out = prefix;
  for (const b of bytes) out += KEY_ALPHABET[b & 31];
  return out;
}

/** A new 40-character secret access key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');
}

/** The ARN of an account's root principal. */
export function accountRootArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** Finds an access key by id (any account). */
export async function findAccessKey(
  reader: StoreReader,
  accessKeyId: string,
): Promise<AccessKey | undefined> {
  const found = await reader.get<AccessKey>('access-key', accessKeyId);
  return found?.data;
}

async function insertAccount(
  tx: StoreTransaction,
  partition: string,
  accountId: string,
  now: string,
  organizationId?: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const account: Account = { accountId, createdAt: now };
  if (organizationId) account.organizationId = organizationId;
  await tx.insert({ kind: 'account', id: `account-${accountId}`, accountId, data: account });
  const key: AccessKey = {
    accessKeyId: newAccessKeyId('AKIA'),
    secretAccessKey: newSecretAccessKey(),
    status: 'Active',
    accountId,
    principalArn: accountRootArn(partition, accountId),
    createdAt: now,
  };
  await tx.insert({ kind: 'access-key', id: key.accessKeyId, accountId, data: key });
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

/**
 * Creates the default account and its administrator (root) access key on first start. Returns
 * the key when it was created now, or the existing root key otherwise.
 */
export async function ensureDefaultAccount(
  store: Store,
  partition: string,
  accountId: string,
): Promise<{ accessKeyId: string; secretAccessKey: string; created: boolean }> {
  return store.transact(async (tx) => {
    const existing = await tx.get<Account>('account', `account-${accountId}`);
    if (existing) {
      const keys = await tx.list<AccessKey>({ kind: 'access-key', accountId });
      const root = keys.items.find(
        (k) =>
          k.data.principalArn === accountRootArn(partition, accountId) &&
          k.data.status === 'Active',
      );
      if (root) {
        return {
          accessKeyId: root.data.accessKeyId,
          secretAccessKey: root.data.secretAccessKey,
          created: false,
        };
      }
      const key: AccessKey = {
        accessKeyId: newAccessKeyId('AKIA'),
        secretAccessKey: newSecretAccessKey(),
        status: 'Active',
        accountId,
        principalArn: accountRootArn(partition, accountId),
        createdAt: new Date().toISOString(),
      };
      await tx.insert({ kind: 'access-key', id: key.accessKeyId, accountId, data: key });
      return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, created: true };
    }
    const key = await insertAccount(tx, partition, accountId, new Date().toISOString());
    return { ...key, created: true };
  });
}

/**
 * Creates another account with its root access key (Trellis operation `CreateAccount`; only the
 * operator's default account may call it).
 */
export async function createAccount(
  tx: StoreTransaction,
  partition: string,
  input: { accountId?: unknown; organizationId?: unknown },
  now: string,
): Promise<Record<string, unknown>> {
  let accountId = input.accountId;
  if (accountId === undefined) {
    accountId = String(100000000000 + (randomBytes(5).readUIntBE(0, 5) % 900000000000));
  }
  const fields: { name: string; message: string }[] = [];
  if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
    fields.push({ name: 'accountId', message: 'must be 12 digits' });
  }
  if (
    input.organizationId !== undefined &&
    (typeof input.organizationId !== 'string' || !/^o-[a-z0-9]{10,32}$/.test(input.organizationId))
  ) {
    fields.push({ name: 'organizationId', message: 'must look like o-abcdefghij' });
  }
  if (fields.length) throw ValidationException.fromFields(fields);
  const id = accountId as string;
  if (await tx.get('account', `account-${id}`)) {
    throw new ConflictException(`Account ${id} already exists.`, id, 'ACCOUNT');
  }
  const key = await insertAccount(
    tx,
    partition,
    id,
    now,
    input.organizationId as string | undefined,
  );
  const out: Record<string, unknown> = { accountId: id, ...key };
  if (input.organizationId) out.organizationId = input.organizationId;
  return out;
}
