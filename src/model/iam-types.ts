/** Accounts and IAM identities Trellis keeps (a minimal IAM + STS; issue: auth §1). */

export interface Account {
  accountId: string;
  /** Optional AWS Organizations id (`o-…`) and path, for `aws:PrincipalOrgID`/`PrincipalOrgPaths`. */
  organizationId?: string;
  organizationPath?: string;
  createdAt: string;
}

export interface IamUser {
  userId: string;
  userName: string;
  arn: string;
  accountId: string;
  path: string;
  createdAt: string;
  tags?: Record<string, string>;
  /** Inline policies by name: the policy document as JSON text. */
  inlinePolicies?: Record<string, string>;
}

export interface IamRole {
  roleId: string;
  roleName: string;
  arn: string;
  accountId: string;
  path: string;
  assumeRolePolicyDocument: string;
  maxSessionDuration: number;
  description?: string;
  createdAt: string;
  tags?: Record<string, string>;
  inlinePolicies?: Record<string, string>;
}

/** Long-term (AKIA…) or temporary (ASIA…, with a session token) credentials. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  status: 'Active' | 'Inactive';
  accountId: string;
  /** ARN of the principal the key belongs to: a user, the account root, or an assumed-role session. */
  principalArn: string;
  /** For temporary credentials: the session token, expiry, and the role session. */
  sessionToken?: string;
  expiration?: string;
  roleArn?: string;
  sessionName?: string;
  sessionTags?: Record<string, string>;
  createdAt: string;
}
