/**
 * Rules IAM users, roles, keys and STS share (issue auth §1): name/path grammars, ids, tags,
 * policy-document checks and Marker/MaxItems paging, with IAM's error codes and wording.
 */
import { randomBytes } from 'node:crypto';
import { IamError } from '../errors/iam-errors.js';
import { parsePolicy, PolicyValidationError, type PolicyKind } from '../iam/policy/index.js';
import type { ResourceKind } from '../model/resource-kinds.js';
import type { StoreReader, StoredResource } from '../store/store.js';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A unique IAM id: `AIDA` (user) or `AROA` (role) + 17 base32 characters, as IAM shows them. */
export function newIamId(prefix: 'AIDA' | 'AROA'): string {
  let out = prefix;
  for (const b of randomBytes(17)) out += ID_ALPHABET[b & 31];
  return out;
}

/** `arn:{partition}:iam::{account}:{type}{path}{name}` (path begins and ends with `/`). */
export function iamArn(
  partition: string,
  accountId: string,
  type: 'user' | 'role',
  path: string,
  name: string,
): string {
  return `arn:${partition}:iam::${accountId}:${type}${path}${name}`;
}

/** IAM quotas a real account starts with (IAM user guide "IAM and AWS STS quotas"). */
export const IAM_LIMITS = {
  usersPerAccount: 5000,
  rolesPerAccount: 1000,
  accessKeysPerUser: 2,
  tagsPerEntity: 50,
  /** Aggregate inline policy characters (whitespace excluded by IAM; counted here in full). */
  userInlinePolicyChars: 2048,
  roleInlinePolicyChars: 10240,
  trustPolicyChars: 2048,
  sessionTags: 50,
  minSessionSeconds: 900,
  maxSessionSecondsLimit: 43200,
  defaultMaxSessionSeconds: 3600,
  /** Role chaining caps a session assumed with temporary credentials at one hour. */
  chainedSessionSeconds: 3600,
} as const;

function fieldError(value: string | undefined, member: string, constraint: string): IamError {
  const shown = value === undefined ? 'null' : `'${value}'`;
  return new IamError(
    'ValidationError',
    `1 validation error detected: Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

const NAME_CHARS = /^[\w+=,.@-]+$/;

/** User, role and policy names: `[\w+=,.@-]+`, 1..max characters. */
export function checkName(value: string, member: string, max: number): string {
  if (value.length < 1 || value.length > max) {
    throw fieldError(value, member, `Member must have length less than or equal to ${max}`);
  }
  if (!NAME_CHARS.test(value)) {
    throw fieldError(value, member, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
  }
  return value;
}

/** An IAM path: `/` or `/segments/` of printable ASCII, at most 512 characters. */
export function checkPath(value: string | undefined): string {
  if (value === undefined) return '/';
  if (value.length > 512 || !/^(\/|\/[\u0021-\u007E]+\/)$/.test(value)) {
    throw fieldError(
      value,
      'path',
      'Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)',
    );
  }
  return value;
}

/** Tags as IAM accepts them: ≤50, keys 1–128, values 0–256, `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. */
export function checkTags(
  tags: readonly { Key: string; Value: string }[],
  max: number = IAM_LIMITS.tagsPerEntity,
): Record<string, string> {
  if (tags.length > max) {
    throw new IamError('LimitExceeded', `Cannot exceed quota for TagsPerEntity: ${max}.`);
  }
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.Key.length < 1 || t.Key.length > 128 || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u.test(t.Key)) {
      throw fieldError(t.Key, 'tags.member.key', 'Member must satisfy the tag key grammar');
    }
    if (t.Value.length > 256 || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(t.Value)) {
      throw fieldError(t.Value, 'tags.member.value', 'Member must satisfy the tag value grammar');
    }
    const lower = t.Key.toLowerCase();
    if (seen.has(lower)) {
      throw new IamError(
        'InvalidInput',
        `Duplicate tag keys found. Please note that Tag keys are case insensitive.`,
      );
    }
    seen.add(lower);
    out[t.Key] = t.Value;
  }
  return out;
}

/** Merges new tags over existing ones (keys compare case-insensitively, as IAM does). */
export function mergeTags(
  existing: Readonly<Record<string, string>> | undefined,
  added: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const addedLower = new Set(Object.keys(added).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(existing ?? {})) {
    if (!addedLower.has(k.toLowerCase())) out[k] = v;
  }
  Object.assign(out, added);
  if (Object.keys(out).length > IAM_LIMITS.tagsPerEntity) {
    throw new IamError(
      'LimitExceeded',
      `Cannot exceed quota for TagsPerEntity: ${IAM_LIMITS.tagsPerEntity}.`,
    );
  }
  return out;
}

/** Removes tag keys (case-insensitively). */
export function removeTags(
  existing: Readonly<Record<string, string>> | undefined,
  keys: readonly string[],
): Record<string, string> {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(existing ?? {})) if (!drop.has(k.toLowerCase())) out[k] = v;
  return out;
}

/** Tags as IAM lists them: `[{Key, Value}]`. */
export function tagList(
  tags: Readonly<Record<string, string>> | undefined,
): { Key: string; Value: string }[] {
  return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * Checks a policy document with the policy engine (spec §2) and answers MalformedPolicyDocument
 * with the engine's path-named message, as IAM does for a bad document.
 */
export function checkPolicyDocument(text: string, kind: PolicyKind, maxChars: number): string {
  if (text.length > maxChars) {
    throw new IamError(
      'LimitExceeded',
      `Cannot exceed quota for ${kind === 'trust' ? 'ACLSizePerRole' : 'PolicySize'}: ${maxChars}`,
    );
  }
  try {
    parsePolicy(text, { kind, maxBytes: Math.max(maxChars * 4, 10240) });
  } catch (err) {
    if (err instanceof PolicyValidationError) {
      const where = err.path ? `${err.path}: ` : '';
      throw new IamError('MalformedPolicyDocument', `${where}${err.message}`);
    }
    throw err;
  }
  return text;
}

/** IAM returns policy documents URL-encoded (RFC 3986), in every response that carries one. */
export function encodePolicyDocument(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A page of an IAM list: `Marker`/`MaxItems` in, `IsTruncated`/`Marker` out. */
export async function listIamPage<T>(
  reader: StoreReader,
  query: { kind: ResourceKind; accountId: string; parentId?: string },
  marker: string | undefined,
  maxItems: number | undefined,
  filter?: (r: StoredResource<T>) => boolean,
): Promise<{ items: T[]; isTruncated: boolean; marker?: string }> {
  const limit = maxItems ?? 100;
  let afterId: string | undefined;
  if (marker !== undefined) {
    const decoded = Buffer.from(marker, 'base64url').toString('utf8');
    if (!decoded.startsWith('m1:')) {
      throw new IamError(
        'ValidationError',
        'Invalid Marker: it was not returned by a previous call.',
      );
    }
    afterId = decoded.slice(3);
  }
  const items: T[] = [];
  let last: string | undefined;
  // Filtering happens after the store's page, so keep reading until the page is full.
  for (;;) {
    const page = await reader.list<T>({
      ...query,
      limit: limit + 1,
      ...(afterId !== undefined ? { afterId } : {}),
    });
    for (const r of page.items) {
      if (filter && !filter(r)) {
        afterId = r.id;
        continue;
      }
      if (items.length === limit) {
        return {
          items,
          isTruncated: true,
          marker: Buffer.from(`m1:${last}`, 'utf8').toString('base64url'),
        };
      }
      items.push(r.data);
      last = r.id;
      afterId = r.id;
    }
    if (!page.lastId) return { items, isTruncated: false };
    afterId = page.lastId;
  }
}

/** Who holds inline policies, for the messages IAM gives (`user` / `role`). */
export interface InlinePolicyHolder {
  kind: 'user' | 'role';
  name: string;
  policies: Record<string, string> | undefined;
}

/**
 * Put{User,Role}Policy's rule: validates the document and returns the holder's policies with it
 * set, refusing when the holder's inline policies together exceed `maxChars` (LimitExceeded).
 */
export function withInlinePolicy(
  holder: InlinePolicyHolder,
  policyName: string,
  policyDocument: string,
  maxChars: number,
): Record<string, string> {
  const name = checkName(policyName, 'policyName', 128);
  const doc = checkPolicyDocument(policyDocument, 'identity', maxChars);
  const policies = { ...(holder.policies ?? {}), [name]: doc };
  const total = Object.values(policies).reduce((n, p) => n + p.length, 0);
  if (total > maxChars) {
    throw new IamError(
      'LimitExceeded',
      `Maximum policy size of ${maxChars} bytes exceeded for ${holder.kind} ${holder.name}`,
    );
  }
  return policies;
}

/** Get{User,Role}Policy's rule: the document, or NoSuchEntity. */
export function inlinePolicyOf(holder: InlinePolicyHolder, policyName: string): string {
  const doc = holder.policies?.[policyName];
  if (doc === undefined) throw noSuchInlinePolicy(holder, policyName);
  return doc;
}

/** Delete{User,Role}Policy's rule: the holder's policies without it, or NoSuchEntity. */
export function withoutInlinePolicy(
  holder: InlinePolicyHolder,
  policyName: string,
): Record<string, string> {
  const policies = { ...(holder.policies ?? {}) };
  if (!(policyName in policies)) throw noSuchInlinePolicy(holder, policyName);
  delete policies[policyName];
  return policies;
}

function noSuchInlinePolicy(holder: InlinePolicyHolder, policyName: string): IamError {
  return new IamError(
    'NoSuchEntity',
    `The ${holder.kind} policy with name ${policyName} cannot be found.`,
  );
}
