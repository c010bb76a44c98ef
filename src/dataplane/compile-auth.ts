/**
 * The auth index of one snapshot (spec §2): every access key resolved to its principal, identity
 * policies and identity headers; every auth policy compiled; service tags and VPC owners at hand.
 * Built once per snapshot so the per-request gate only looks things up (DESIGN.md hot path rules).
 */
import {
  compileIdentityPolicies,
  formatIdentityHeader,
  formatIdentityTagsHeader,
  rootIdentityPolicies,
  rootPrincipal,
  sessionOfKey,
  sessionPrincipal,
  userPrincipal,
} from '../iam/lattice-identity.js';
import { lowerCaseTags } from '../iam/lattice-request-keys.js';
import {
  compilePolicy,
  createPrincipalKeys,
  parsePolicy,
  type AuthorizationPrincipal,
  type CompiledPolicy,
  type ConditionKeyReader,
} from '../iam/policy/index.js';
import type { SigningCredential } from '../iam/sigv4/index.js';
import type { Account, IamRole, IamUser } from '../model/iam-types.js';
import type { AuthType } from '../model/lattice-types.js';
import type { Snapshot } from '../model/snapshot-types.js';
import type { AuthDecision, AuthDetail } from './auth-gate.js';

/** An access key with everything a request signed by it needs. */
export class AuthIdentity {
  /** The principal's condition keys (`aws:PrincipalTag/…`, `aws:userid`, …), read by policies. */
  readonly principalKeys: ConditionKeyReader;
  /** The access log's caller fields (spec §4.1). */
  readonly detail: AuthDetail;
  /** The gate's answer when the policies allow this caller: identity headers (spec §3.1). */
  readonly allowed: AuthDecision;

  constructor(
    readonly credential: SigningCredential,
    readonly active: boolean,
    /** Temporary credentials: epoch ms after which the key is refused; else Infinity. */
    readonly expiresAtMs: number,
    readonly principal: AuthorizationPrincipal,
    readonly policies: readonly CompiledPolicy[],
    /** `x-amzn-lattice-identity` / `-tags` values (spec §3.1), formatted once. */
    readonly identityHeader: string,
    readonly identityTagsHeader: string,
    /** `callerPrincipalTags` of the access log: JSON of the principal's tags. */
    readonly tagsJson: string,
  ) {
    this.principalKeys = createPrincipalKeys(principal);
    this.detail = Object.freeze({
      callerPrincipal: principal.arn,
      ...(principal.orgId !== undefined ? { callerPrincipalOrgID: principal.orgId } : {}),
      callerPrincipalTags: tagsJson,
    });
    this.allowed = Object.freeze({
      allow: true,
      resolvedUser: principal.arn,
      identityHeaders: Object.freeze([
        'x-amzn-lattice-identity',
        identityHeader,
        'x-amzn-lattice-identity-tags',
        identityTagsHeader,
      ]),
      detail: this.detail,
    });
  }
}

/** A service network's or service's auth settings and compiled auth policy. */
export interface AuthResource {
  readonly authType: AuthType;
  /** Undefined: no policy attached (or one that no longer parses) — everything denied. */
  readonly policy: CompiledPolicy | undefined;
  /** Tags (`aws:ResourceTag/*`), keys lower-cased. */
  readonly tags: ReadonlyMap<string, string> | undefined;
}

/** The per-snapshot auth index the gate reads. */
export class CompiledAuth {
  constructor(
    readonly revision: number,
    readonly region: string,
    readonly partition: string,
    readonly identities: ReadonlyMap<string, AuthIdentity>,
    /** Service network id or service id → auth settings. */
    readonly resources: ReadonlyMap<string, AuthResource>,
    /** VPC id → owner account (`SourceVpcOwnerAccount`). */
    readonly vpcOwners: ReadonlyMap<string, string>,
  ) {}
}

function compileAuthPolicy(text: string, name: string, arn: string): CompiledPolicy | undefined {
  try {
    const level = arn.includes(':servicenetwork/') ? 'Network' : 'Service';
    return compilePolicy(parsePolicy(text, { kind: 'resource', maxBytes: 1 << 20 }), {
      level,
      name,
      resourceArn: arn,
    });
  } catch {
    return undefined; // validated by PutAuthPolicy; one that no longer parses allows nothing
  }
}

/** Builds the auth index of a snapshot. Never throws for bad stored data: that data allows nothing. */
export function compileAuth(snapshot: Snapshot, region?: string): CompiledAuth {
  const partition = snapshot.partition || 'aws';
  const accounts = new Map<string, Account>(snapshot.accounts.map((a) => [a.accountId, a]));
  const users = new Map<string, IamUser>(snapshot.users.map((u) => [u.arn, u]));
  const roles = new Map<string, IamRole>(snapshot.roles.map((r) => [r.arn, r]));

  // Identity policies are compiled once per user / role, shared by all its keys and sessions.
  const policiesByOwner = new Map<string, readonly CompiledPolicy[]>();
  const policiesOf = (arn: string, inline: Record<string, string> | undefined) => {
    let list = policiesByOwner.get(arn);
    if (list === undefined) policiesByOwner.set(arn, (list = compileIdentityPolicies(inline, arn)));
    return list;
  };

  const identities = new Map<string, AuthIdentity>();
  for (const key of snapshot.accessKeys) {
    const account = accounts.get(key.accountId);
    let principal: AuthorizationPrincipal;
    let policies: readonly CompiledPolicy[];
    const session = sessionOfKey(key);
    if (session !== undefined) {
      const role = roles.get(session.roleArn);
      principal = sessionPrincipal(session, role, account);
      policies = role === undefined ? [] : policiesOf(role.arn, role.inlinePolicies);
    } else if (key.principalArn === `arn:${partition}:iam::${key.accountId}:root`) {
      principal = rootPrincipal(partition, key.accountId, account);
      policies = rootIdentityPolicies();
    } else {
      const user = users.get(key.principalArn);
      // A key whose user is gone stays in the index so the request is refused as unknown below.
      if (user === undefined) continue;
      principal = userPrincipal(user, account);
      policies = policiesOf(user.arn, user.inlinePolicies);
    }
    const credential: SigningCredential = {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      ...(key.sessionToken !== undefined ? { sessionToken: key.sessionToken } : {}),
    };
    const expiresAtMs = key.expiration !== undefined ? Date.parse(key.expiration) : Infinity;
    identities.set(
      key.accessKeyId,
      new AuthIdentity(
        credential,
        key.status === 'Active',
        Number.isNaN(expiresAtMs) ? 0 : expiresAtMs,
        principal,
        policies,
        formatIdentityHeader(principal),
        formatIdentityTagsHeader(principal),
        JSON.stringify(principal.tags ?? {}),
      ),
    );
  }

  const policyText = new Map<string, string>(
    snapshot.authPolicies.map((p) => [p.resourceId, p.policy]),
  );
  const resources = new Map<string, AuthResource>();
  for (const n of snapshot.serviceNetworks) {
    const text = policyText.get(n.id);
    resources.set(n.id, {
      authType: n.authType,
      policy: text === undefined ? undefined : compileAuthPolicy(text, n.name, n.arn),
      tags: lowerCaseTags(n.tags),
    });
  }
  for (const s of snapshot.services) {
    const text = policyText.get(s.id);
    resources.set(s.id, {
      authType: s.authType,
      policy: text === undefined ? undefined : compileAuthPolicy(text, s.name, s.arn),
      tags: lowerCaseTags(s.tags),
    });
  }
  const vpcOwners = new Map(snapshot.vpcs.map((v) => [v.vpcId, v.ownerAccountId]));
  return new CompiledAuth(
    snapshot.revision,
    region ?? snapshot.region,
    partition,
    identities,
    resources,
    vpcOwners,
  );
}
