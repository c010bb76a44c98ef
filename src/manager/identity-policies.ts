/**
 * Who a caller is and which identity policies speak for it (issue auth §1, spec §2.1 step 2):
 * the account root (the bootstrap administrator, allowed everything), an IAM user (its inline
 * policies), or an assumed-role session (its role's inline policies, its session tags over the
 * role's tags as `aws:PrincipalTag/*`).
 */
import {
  compilePolicy,
  evaluatePolicy,
  parsePolicy,
  type AuthorizationPrincipal,
  type CompiledPolicy,
  type ConditionKeyReader,
} from '../iam/policy/index.js';
import type { Account, AccessKey, IamRole, IamUser } from '../model/iam-types.js';
import type { StoreReader } from '../store/store.js';
import { accountRootArn, findAccessKey } from './accounts.js';
import type { Caller } from './manager-context.js';

/** A caller resolved to its principal and its identity policies (JSON text, by name). */
export interface ResolvedIdentity {
  readonly kind: 'root' | 'user' | 'session';
  readonly principal: AuthorizationPrincipal;
  /** The user or role the policies belong to (undefined for the root). */
  readonly ownerArn?: string;
  readonly policies: readonly { readonly name: string; readonly document: string }[];
  /** For sessions: when the temporary credentials expire (ISO 8601). */
  readonly expiration?: string;
}

/** `arn:…:sts::{acct}:assumed-role/{RoleName}/{RoleSessionName}`. */
export function assumedRoleArn(
  partition: string,
  accountId: string,
  roleName: string,
  sessionName: string,
): string {
  return `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

async function orgOf(
  reader: StoreReader,
  accountId: string,
): Promise<{ orgId?: string; orgPaths?: string[] }> {
  const account = await reader.get<Account>('account', `account-${accountId}`);
  const out: { orgId?: string; orgPaths?: string[] } = {};
  if (account?.data.organizationId) out.orgId = account.data.organizationId;
  if (account?.data.organizationPath) out.orgPaths = [account.data.organizationPath];
  return out;
}

/** Resolves an authenticated caller. Unknown principals resolve to a user with no policies. */
export async function resolveIdentity(
  reader: StoreReader,
  caller: Caller,
  partition: string,
): Promise<ResolvedIdentity> {
  const org = await orgOf(reader, caller.accountId);
  if (caller.principalArn === accountRootArn(partition, caller.accountId)) {
    return {
      kind: 'root',
      principal: {
        arn: caller.principalArn,
        accountId: caller.accountId,
        type: 'Account',
        userId: caller.accountId,
        ...org,
      },
      policies: [],
    };
  }
  const key = await findAccessKey(reader, caller.accessKeyId);
  if (key?.roleArn !== undefined) return resolveSession(reader, key, org);
  const user = await reader.getByArn<IamUser>(caller.principalArn);
  const data = user?.kind === 'iam-user' ? user.data : undefined;
  const principal: AuthorizationPrincipal = {
    arn: caller.principalArn,
    accountId: caller.accountId,
    type: 'User',
    ...(data ? { userId: data.userId } : {}),
    ...(data?.tags ? { tags: data.tags } : {}),
    ...org,
  };
  return {
    kind: 'user',
    principal,
    ownerArn: caller.principalArn,
    policies: Object.entries(data?.inlinePolicies ?? {}).map(([name, document]) => ({
      name,
      document,
    })),
  };
}

async function resolveSession(
  reader: StoreReader,
  key: AccessKey,
  org: { orgId?: string; orgPaths?: string[] },
): Promise<ResolvedIdentity> {
  const roleArn = key.roleArn as string;
  const stored = await reader.getByArn<IamRole>(roleArn);
  const role = stored?.kind === 'iam-role' ? stored.data : undefined;
  // spec §2.4: session tags override role tags of the same key.
  const tags = { ...(role?.tags ?? {}), ...(key.sessionTags ?? {}) };
  const principal: AuthorizationPrincipal = {
    arn: key.principalArn,
    accountId: key.accountId,
    type: 'AssumedRole',
    roleArn,
    ...(key.sessionName !== undefined ? { sessionName: key.sessionName } : {}),
    ...(role ? { userId: `${role.roleId}:${key.sessionName ?? ''}` } : {}),
    ...(Object.keys(tags).length ? { tags } : {}),
    ...org,
  };
  return {
    kind: 'session',
    principal,
    ownerArn: roleArn,
    policies: Object.entries(role?.inlinePolicies ?? {}).map(([name, document]) => ({
      name,
      document,
    })),
    ...(key.expiration !== undefined ? { expiration: key.expiration } : {}),
  };
}

/** Compiles an identity's policies once (documents were validated when they were put). */
export function compileIdentityPolicies(identity: ResolvedIdentity): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  for (const p of identity.policies) {
    try {
      const doc = parsePolicy(p.document, { kind: 'identity', maxBytes: 1 << 20 });
      out.push(
        compilePolicy(doc, {
          level: 'Identity',
          name: p.name,
          ...(identity.ownerArn ? { resourceArn: identity.ownerArn } : {}),
        }),
      );
    } catch {
      // A policy stored before a grammar change that no longer parses grants nothing.
    }
  }
  return out;
}

/** The identity-based decision: explicit Deny wins, else Allow if any policy allows. */
export function evaluateIdentity(
  policies: readonly CompiledPolicy[],
  action: string,
  resource: string,
  principal: AuthorizationPrincipal,
  keys: ConditionKeyReader,
): 'Allow' | 'Deny' | 'NoMatch' {
  let allowed = false;
  for (const p of policies) {
    const v = evaluatePolicy(p, { action, resource, principal, keys });
    if (v.effect === 'Deny') return 'Deny';
    if (v.effect === 'Allow') allowed = true;
  }
  return allowed ? 'Allow' : 'NoMatch';
}

/** AWS's denial text for management calls, naming why (no Allow, or an explicit Deny). */
export function identityDenialMessage(
  principalArn: string,
  action: string,
  resource: string,
  decision: 'Deny' | 'NoMatch',
): string {
  const why =
    decision === 'Deny'
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${action} action`;
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}

/** Temporary credentials past their expiration fail, with STS's wording (ExpiredToken). */
export function isExpired(identity: ResolvedIdentity, nowIso: string): boolean {
  return identity.expiration !== undefined && Date.parse(identity.expiration) <= Date.parse(nowIso);
}
