/**
 * The request context keys a policy reads (spec §2.4). The data plane supplies request keys
 * lazily through a `ConditionKeyReader`; `createPrincipalKeys` answers the `aws:Principal*` keys
 * from the authenticated principal so callers never build them by hand.
 */

/** Reads a context key by its lower-cased name; `undefined` when the request has no such key. */
export interface ConditionKeyReader {
  get(lowerCaseKey: string): string | readonly string[] | undefined;
}

/** The authenticated caller; `undefined` in a context means anonymous (unsigned). */
export interface AuthorizationPrincipal {
  /** User ARN, assumed-role session ARN, account root ARN or federated-user ARN. */
  readonly arn: string;
  readonly accountId: string;
  readonly type: 'AssumedRole' | 'User' | 'Account' | 'FederatedUser';
  /** For AssumedRole: the role's ARN (`arn:aws:iam::acct:role/path/Name`). */
  readonly roleArn?: string;
  readonly sessionName?: string;
  /** `aws:userid`: AIDA… for users, `AROA…:session` for role sessions. */
  readonly userId?: string;
  /** User, role or session tags (`aws:PrincipalTag/<key>`). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly orgId?: string;
  readonly orgPaths?: readonly string[];
}

/** What a policy is evaluated against. */
export interface AuthorizationContext {
  /** e.g. `vpc-lattice-svcs:Invoke`, `vpc-lattice:CreateService`, `sts:AssumeRole`. */
  readonly action: string;
  /** e.g. `<serviceArn>/<path>` (spec §2.3), `*`, or a resource ARN. */
  readonly resource: string;
  readonly principal?: AuthorizationPrincipal;
  readonly keys: ConditionKeyReader;
}

const NO_KEYS: ConditionKeyReader = { get: () => undefined };

/** A reader with no keys. */
export function emptyKeys(): ConditionKeyReader {
  return NO_KEYS;
}

class RecordKeys implements ConditionKeyReader {
  private readonly map: Map<string, string | readonly string[]>;
  constructor(record: Readonly<Record<string, string | readonly string[] | undefined>>) {
    this.map = new Map();
    for (const [k, v] of Object.entries(record))
      if (v !== undefined) this.map.set(k.toLowerCase(), v);
  }
  get(key: string) {
    return this.map.get(key);
  }
}

/** A reader over a plain record (keys are lower-cased here, once). */
export function createStaticKeys(
  record: Readonly<Record<string, string | readonly string[] | undefined>>,
): ConditionKeyReader {
  return new RecordKeys(record);
}

class ChainedKeys implements ConditionKeyReader {
  constructor(private readonly readers: readonly ConditionKeyReader[]) {}
  get(key: string) {
    for (const r of this.readers) {
      const v = r.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

/** Asks each reader in turn; the first answer wins. */
export function chainKeys(...readers: ConditionKeyReader[]): ConditionKeyReader {
  return new ChainedKeys(readers);
}

const PRINCIPAL_TAG = 'aws:principaltag/';

class PrincipalKeys implements ConditionKeyReader {
  private tags: Map<string, string> | undefined;
  constructor(private readonly p: AuthorizationPrincipal | undefined) {}
  get(key: string): string | readonly string[] | undefined {
    const p = this.p;
    if (!key.startsWith('aws:')) return undefined;
    if (p === undefined) return key === 'aws:principaltype' ? 'Anonymous' : undefined;
    switch (key) {
      case 'aws:principalarn':
        // IAM: for a role session the principal ARN is the role's, not the session's.
        return p.type === 'AssumedRole' ? (p.roleArn ?? p.arn) : p.arn;
      case 'aws:principalaccount':
        return p.accountId;
      case 'aws:principaltype':
        return p.type;
      case 'aws:principalorgid':
        return p.orgId;
      case 'aws:principalorgpaths':
        return p.orgPaths;
      case 'aws:userid':
        return p.userId;
      case 'aws:username':
        // Only IAM users have a user name (the last segment of `user/path/name`).
        return p.type === 'User' ? p.arn.slice(p.arn.lastIndexOf('/') + 1) : undefined;
      case 'aws:principalisawsservice':
        return 'false';
    }
    if (key.startsWith(PRINCIPAL_TAG) && p.tags !== undefined) {
      if (this.tags === undefined) {
        this.tags = new Map();
        for (const [k, v] of Object.entries(p.tags)) this.tags.set(k.toLowerCase(), v);
      }
      return this.tags.get(key.slice(PRINCIPAL_TAG.length));
    }
    return undefined;
  }
}

/** Answers `aws:PrincipalArn`, `PrincipalAccount`, `PrincipalType` (`Anonymous` when unsigned),
 * `PrincipalTag/*`, `PrincipalOrgID`, `PrincipalOrgPaths`, `userid` and `username`. */
export function createPrincipalKeys(
  principal: AuthorizationPrincipal | undefined,
): ConditionKeyReader {
  return new PrincipalKeys(principal);
}

/** `aws:CurrentTime` (ISO 8601) and `aws:EpochTime` (seconds) for a fixed instant. */
export function createTimeKeys(nowMs: number): ConditionKeyReader {
  const iso = new Date(nowMs).toISOString();
  const epoch = String(Math.floor(nowMs / 1000));
  return {
    get: (k) => (k === 'aws:currenttime' ? iso : k === 'aws:epochtime' ? epoch : undefined),
  };
}
