/**
 * STS (issue auth §1): AssumeRole issues temporary credentials (`ASIA…` key, secret, session
 * token, expiration) for a role session whose ARN and tags the data plane sees (spec §2.4);
 * GetCallerIdentity says who a set of credentials is.
 */
import { randomBytes } from 'node:crypto';
import { AccessDeniedException, AuthenticationError } from '../errors/aws-errors.js';
import { IamError } from '../errors/iam-errors.js';
import {
  chainKeys,
  compilePolicy,
  createPrincipalKeys,
  createStaticKeys,
  createTimeKeys,
  evaluatePolicy,
  parsePolicy,
  type AuthorizationPrincipal,
  type ConditionKeyReader,
} from '../iam/policy/index.js';
import type { AccessKey, IamRole } from '../model/iam-types.js';
import { newAccessKeyId, newSecretAccessKey } from './accounts.js';
import { checkTags, IAM_LIMITS } from './iam-common.js';
import {
  assumedRoleArn,
  compileIdentityPolicies,
  evaluateIdentity,
  isExpired,
  resolveIdentity,
  type ResolvedIdentity,
} from './identity-policies.js';
import type { OperationScope, WriteScope } from './manager-context.js';

/** What AssumeRole answers. */
export interface AssumeRoleResult {
  credentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    expiration: string;
  };
  assumedRoleUser: { assumedRoleId: string; arn: string };
  packedPolicySize?: number;
}

export interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  tags?: readonly { Key: string; Value: string }[];
  externalId?: string;
  sourceIdentity?: string;
  /** Session policies are not supported yet; a request with one is refused, never ignored. */
  policy?: string;
  policyArns?: readonly string[];
}

function validation(member: string, value: string, constraint: string): IamError {
  return new IamError(
    'ValidationError',
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

function currentIdentity(identity: ResolvedIdentity, nowIso: string): ResolvedIdentity {
  if (isExpired(identity, nowIso)) {
    throw new AuthenticationError(
      'ExpiredTokenException',
      'The security token included in the request is expired',
    );
  }
  return identity;
}

function notAuthorized(
  principalArn: string,
  action: string,
  roleArn: string,
): AccessDeniedException {
  return new AccessDeniedException(
    `User: ${principalArn} is not authorized to perform: ${action} on resource: ${roleArn}`,
  );
}

/** Request keys a trust policy may test besides the principal's. */
function trustKeys(
  input: AssumeRoleInput,
  tags: Record<string, string>,
  principal: AuthorizationPrincipal,
  region: string,
  nowMs: number,
): ConditionKeyReader {
  const record: Record<string, string | readonly string[] | undefined> = {
    'sts:RoleSessionName': input.roleSessionName,
    'sts:ExternalId': input.externalId,
    'sts:SourceIdentity': input.sourceIdentity,
    'aws:RequestedRegion': region,
  };
  const keys = Object.keys(tags);
  if (keys.length) record['aws:TagKeys'] = keys;
  for (const [k, v] of Object.entries(tags)) record[`aws:RequestTag/${k}`] = v;
  return chainKeys(createPrincipalKeys(principal), createStaticKeys(record), createTimeKeys(nowMs));
}

/**
 * AssumeRole: allowed when the role's trust policy allows the caller `sts:AssumeRole` (and
 * `sts:TagSession` when session tags are passed, as STS requires) AND the caller's identity
 * policies allow `sts:AssumeRole` on the role — the account root always passes that second check.
 */
export async function assumeRole(
  scope: WriteScope,
  input: AssumeRoleInput,
): Promise<AssumeRoleResult> {
  if (input.roleArn.length < 20 || input.roleArn.length > 2048) {
    throw validation(
      'roleArn',
      input.roleArn,
      'Member must have length greater than or equal to 20',
    );
  }
  if (!/^[\w+=,.@-]{2,64}$/.test(input.roleSessionName)) {
    throw validation(
      'roleSessionName',
      input.roleSessionName,
      'Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64',
    );
  }
  if (input.policy !== undefined || (input.policyArns?.length ?? 0) > 0) {
    throw new IamError(
      'ValidationError',
      'Trellis does not support session policies (Policy, PolicyArns) yet; call AssumeRole without them.',
    );
  }
  const now = scope.ctx.now();
  const nowMs = Date.parse(now);
  const identity = currentIdentity(
    await resolveIdentity(scope.tx, scope.caller, scope.ctx.partition),
    now,
  );
  const callerArn = identity.principal.arn;
  const stored = await scope.tx.getByArn<IamRole>(input.roleArn);
  // STS answers a missing role like a refused one, so callers cannot probe for role names.
  if (!stored || stored.kind !== 'iam-role')
    throw notAuthorized(callerArn, 'sts:AssumeRole', input.roleArn);
  const role = stored.data;
  const tags = checkTags(input.tags ?? [], IAM_LIMITS.sessionTags);

  const trust = compilePolicy(
    parsePolicy(role.assumeRolePolicyDocument, { kind: 'trust', maxBytes: 1 << 20 }),
    { level: 'Trust', resourceArn: role.arn },
  );
  const keys = trustKeys(input, tags, identity.principal, scope.ctx.region, nowMs);
  const actions = Object.keys(tags).length
    ? ['sts:AssumeRole', 'sts:TagSession']
    : ['sts:AssumeRole'];
  for (const action of actions) {
    const verdict = evaluatePolicy(trust, {
      action,
      resource: role.arn,
      principal: identity.principal,
      keys,
    });
    if (verdict.effect !== 'Allow') throw notAuthorized(callerArn, action, role.arn);
  }
  if (identity.kind !== 'root') {
    const decision = evaluateIdentity(
      compileIdentityPolicies(identity),
      'sts:AssumeRole',
      role.arn,
      identity.principal,
      keys,
    );
    if (decision !== 'Allow') throw notAuthorized(callerArn, 'sts:AssumeRole', role.arn);
  }

  const duration = input.durationSeconds ?? IAM_LIMITS.defaultMaxSessionSeconds;
  if (duration < IAM_LIMITS.minSessionSeconds || duration > IAM_LIMITS.maxSessionSecondsLimit) {
    throw validation(
      'durationSeconds',
      String(duration),
      `Member must have value between ${IAM_LIMITS.minSessionSeconds} and ${IAM_LIMITS.maxSessionSecondsLimit}`,
    );
  }
  if (identity.kind === 'session' && duration > IAM_LIMITS.chainedSessionSeconds) {
    throw new IamError(
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (duration > role.maxSessionDuration) {
    throw new IamError(
      'ValidationError',
      `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
    );
  }

  await pruneExpiredSessions(scope, role.roleId, nowMs);
  const arn = assumedRoleArn(
    scope.ctx.partition,
    role.accountId,
    role.roleName,
    input.roleSessionName,
  );
  const key: AccessKey = {
    accessKeyId: newAccessKeyId('ASIA'),
    secretAccessKey: newSecretAccessKey(),
    status: 'Active',
    accountId: role.accountId,
    principalArn: arn,
    sessionToken: randomBytes(192).toString('base64'),
    expiration: new Date(nowMs + duration * 1000).toISOString(),
    roleArn: role.arn,
    sessionName: input.roleSessionName,
    createdAt: now,
  };
  if (Object.keys(tags).length) key.sessionTags = tags;
  await scope.tx.insert({
    kind: 'access-key',
    id: key.accessKeyId,
    accountId: key.accountId,
    parentId: role.roleId,
    data: key,
  });
  const result: AssumeRoleResult = {
    credentials: {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      sessionToken: key.sessionToken as string,
      expiration: key.expiration as string,
    },
    assumedRoleUser: { assumedRoleId: `${role.roleId}:${input.roleSessionName}`, arn },
  };
  if (Object.keys(tags).length) {
    // STS reports how full the packed session data is, as a percentage of its limit.
    result.packedPolicySize = Math.min(100, Math.ceil((JSON.stringify(tags).length / 2048) * 100));
  }
  return result;
}

/** Sessions of a role past their expiration are deleted when the role is next assumed. */
async function pruneExpiredSessions(
  scope: WriteScope,
  roleId: string,
  nowMs: number,
): Promise<void> {
  const sessions = await scope.tx.list<AccessKey>({ kind: 'access-key', parentId: roleId });
  for (const s of sessions.items) {
    if (s.data.expiration !== undefined && Date.parse(s.data.expiration) <= nowMs) {
      await scope.tx.delete('access-key', s.id);
    }
  }
}

/** GetCallerIdentity: needs no permission (as in STS); expired credentials still fail. */
export async function getCallerIdentity(
  scope: OperationScope,
): Promise<{ userId: string; account: string; arn: string }> {
  const identity = currentIdentity(
    await resolveIdentity(scope.reader, scope.caller, scope.ctx.partition),
    scope.ctx.now(),
  );
  return {
    userId: identity.principal.userId ?? scope.caller.accountId,
    account: identity.principal.accountId,
    arn: identity.principal.arn,
  };
}
