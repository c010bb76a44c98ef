/**
 * Data-plane callers (spec §2.1, §2.4, §3.1): the principal an access key stands for, its
 * identity-based policies, and the identity headers a target receives. Pure functions over the
 * IAM records of `model/iam-types.ts`, shared by the data plane's auth gate (per snapshot) and the
 * control plane's `SimulateAuth` (per call), so both decide with exactly the same inputs.
 */
import type { Account, AccessKey, IamRole, IamUser } from '../model/iam-types.js';
import {
  compilePolicy,
  parsePolicy,
  type AuthorizationPrincipal,
  type CompiledPolicy,
} from './policy/index.js';

/** The org fields of a principal, from its account's record. */
function orgOf(account: Account | undefined): { orgId?: string; orgPaths?: string[] } {
  const out: { orgId?: string; orgPaths?: string[] } = {};
  if (account?.organizationId) out.orgId = account.organizationId;
  if (account?.organizationPath) out.orgPaths = [account.organizationPath];
  return out;
}

/** `arn:{partition}:iam::{account}:root`. */
export function rootArnOf(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** The account root: IAM allows it everything, so its identity level always allows. */
export function rootPrincipal(
  partition: string,
  accountId: string,
  account?: Account,
): AuthorizationPrincipal {
  return {
    arn: rootArnOf(partition, accountId),
    accountId,
    type: 'Account',
    userId: accountId,
    ...orgOf(account),
  };
}

/** An IAM user: its tags are `aws:PrincipalTag/*`. */
export function userPrincipal(user: IamUser, account?: Account): AuthorizationPrincipal {
  return {
    arn: user.arn,
    accountId: user.accountId,
    type: 'User',
    userId: user.userId,
    ...(user.tags && Object.keys(user.tags).length ? { tags: user.tags } : {}),
    ...orgOf(account),
  };
}

/** What a role session is made of (a temporary access key, or a simulated session). */
export interface RoleSession {
  readonly arn: string;
  readonly accountId: string;
  readonly roleArn: string;
  readonly sessionName?: string;
  readonly sessionTags?: Readonly<Record<string, string>>;
}

/** An assumed-role session: session tags override role tags of the same key (spec §2.4). */
export function sessionPrincipal(
  session: RoleSession,
  role: IamRole | undefined,
  account?: Account,
): AuthorizationPrincipal {
  const tags = { ...(role?.tags ?? {}), ...(session.sessionTags ?? {}) };
  return {
    arn: session.arn,
    accountId: session.accountId,
    type: 'AssumedRole',
    roleArn: session.roleArn,
    ...(session.sessionName !== undefined ? { sessionName: session.sessionName } : {}),
    ...(role ? { userId: `${role.roleId}:${session.sessionName ?? ''}` } : {}),
    ...(Object.keys(tags).length ? { tags } : {}),
    ...orgOf(account),
  };
}

/** The session an `ASIA…` key stands for, or undefined for a long-term key. */
export function sessionOfKey(key: AccessKey): RoleSession | undefined {
  if (key.roleArn === undefined) return undefined;
  return {
    arn: key.principalArn,
    accountId: key.accountId,
    roleArn: key.roleArn,
    ...(key.sessionName !== undefined ? { sessionName: key.sessionName } : {}),
    ...(key.sessionTags !== undefined ? { sessionTags: key.sessionTags } : {}),
  };
}

const ROOT_POLICY = compilePolicy(
  parsePolicy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    {
      kind: 'identity',
    },
  ),
  { level: 'Identity', name: '(account root: allowed everything)' },
);

/** The root's implicit identity policy: IAM grants the account root every action. */
export function rootIdentityPolicies(): readonly CompiledPolicy[] {
  return [ROOT_POLICY];
}

/**
 * Compiles a user's or role's inline policies (name → JSON text), labelled with their names. A
 * document that no longer parses grants nothing (it was validated when it was put).
 */
export function compileIdentityPolicies(
  inline: Readonly<Record<string, string>> | undefined,
  ownerArn: string,
): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  for (const [name, text] of Object.entries(inline ?? {})) {
    try {
      const doc = parsePolicy(text, { kind: 'identity', maxBytes: 1 << 20 });
      out.push(compilePolicy(doc, { level: 'Identity', name, resourceArn: ownerArn }));
    } catch {
      // skipped: grants nothing
    }
  }
  return out;
}

/**
 * Backslash-escapes `;` inside a header map value (spec §3.1). Only `;` is escaped, as documented
 * (IAM tag values, ARNs and session names cannot hold a backslash, so `\;` is unambiguous).
 */
function escapeMapValue(v: string): string {
  return v.indexOf(';') < 0 ? v : v.replace(/;/g, '\\;');
}

/**
 * `x-amzn-lattice-identity` (spec §3.1, §8.11): `Principal=…; PrincipalOrgID=…;
 * PrincipalOrgPath=…; SessionName=…; Type=AWS_IAM`, with the `"; "` separators real traffic shows.
 * Absent keys are left out.
 */
export function formatIdentityHeader(p: AuthorizationPrincipal): string {
  const parts = [`Principal=${escapeMapValue(p.arn)}`];
  if (p.orgId !== undefined) parts.push(`PrincipalOrgID=${escapeMapValue(p.orgId)}`);
  const path = p.orgPaths?.[0];
  if (path !== undefined) parts.push(`PrincipalOrgPath=${escapeMapValue(path)}`);
  if (p.sessionName !== undefined) parts.push(`SessionName=${escapeMapValue(p.sessionName)}`);
  parts.push('Type=AWS_IAM');
  return parts.join('; ');
}

/**
 * `x-amzn-lattice-identity-tags` (spec §3.1): `principal=<arn>;principalorgid=…;
 * principalorgpath=…;<tag>=<v>;…`, `;` inside values escaped as `\;`. The documented format has no
 * space after `;` (only the identity and target headers were observed with `"; "`).
 */
export function formatIdentityTagsHeader(p: AuthorizationPrincipal): string {
  const parts = [`principal=${escapeMapValue(p.arn)}`];
  if (p.orgId !== undefined) parts.push(`principalorgid=${escapeMapValue(p.orgId)}`);
  const path = p.orgPaths?.[0];
  if (path !== undefined) parts.push(`principalorgpath=${escapeMapValue(path)}`);
  for (const [k, v] of Object.entries(p.tags ?? {}))
    parts.push(`${escapeMapValue(k)}=${escapeMapValue(v)}`);
  return parts.join(';');
}

/** Where an ARN given to `SimulateAuth` points. */
export type PrincipalArnKind =
  | { kind: 'root'; accountId: string }
  | { kind: 'user'; accountId: string; arn: string }
  | { kind: 'role'; accountId: string; roleName: string }
  | { kind: 'session'; accountId: string; roleName: string; sessionName: string };

/** Classifies a principal ARN (root, user, role, assumed-role session); undefined otherwise. */
export function classifyPrincipalArn(arn: string): PrincipalArnKind | undefined {
  const root = /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(arn);
  if (root) return { kind: 'root', accountId: root[1]! };
  const user = /^arn:aws[a-z-]*:iam::(\d{12}):user\/.+$/.exec(arn);
  if (user) return { kind: 'user', accountId: user[1]!, arn };
  const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (role) return { kind: 'role', accountId: role[1]!, roleName: role[2]! };
  const session = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (session)
    return {
      kind: 'session',
      accountId: session[1]!,
      roleName: session[2]!,
      sessionName: session[3]!,
    };
  if (/^\d{12}$/.test(arn)) return { kind: 'root', accountId: arn };
  return undefined;
}
