/**
 * The STS Query actions Trellis answers (issue auth §1): AssumeRole and GetCallerIdentity. Neither
 * goes through the management authorizer: AssumeRole runs its own trust + identity check, and
 * GetCallerIdentity needs no permission (as in STS).
 */
import { assumeRole, getCallerIdentity, type AssumeRoleInput } from '../../manager/sts.js';
import type { WriteScope } from '../../manager/manager-context.js';
import type { QueryOperation } from '../query-protocol.js';

/** Every STS Query action Trellis answers. */
export const stsQueryOperations: readonly QueryOperation[] = [
  {
    name: 'AssumeRole',
    write: true,
    handler: async (scope, p) => {
      if (!scope.tx) throw new Error('AssumeRole called outside a transaction');
      const input: AssumeRoleInput = {
        roleArn: p.required('RoleArn'),
        roleSessionName: p.required('RoleSessionName'),
        tags: p.tagList('Tags'),
      };
      const duration = p.integer('DurationSeconds', 0, Number.MAX_SAFE_INTEGER);
      if (duration !== undefined) input.durationSeconds = duration;
      const externalId = p.optional('ExternalId');
      if (externalId !== undefined) input.externalId = externalId;
      const sourceIdentity = p.optional('SourceIdentity');
      if (sourceIdentity !== undefined) input.sourceIdentity = sourceIdentity;
      const policy = p.optional('Policy');
      if (policy !== undefined) input.policy = policy;
      // PolicyArns is a list of structures (`PolicyArns.member.N.arn`); only its presence matters.
      if (p.hasPrefix('PolicyArns.')) input.policyArns = ['(given)'];
      const r = await assumeRole(scope as WriteScope, input);
      return {
        Credentials: {
          AccessKeyId: r.credentials.accessKeyId,
          SecretAccessKey: r.credentials.secretAccessKey,
          SessionToken: r.credentials.sessionToken,
          Expiration: r.credentials.expiration,
        },
        AssumedRoleUser: {
          AssumedRoleId: r.assumedRoleUser.assumedRoleId,
          Arn: r.assumedRoleUser.arn,
        },
        PackedPolicySize: r.packedPolicySize,
        SourceIdentity: sourceIdentity,
      };
    },
  },
  {
    name: 'GetCallerIdentity',
    write: false,
    handler: async (scope) => {
      const r = await getCallerIdentity(scope);
      return { UserId: r.userId, Account: r.account, Arn: r.arn };
    },
  },
];
