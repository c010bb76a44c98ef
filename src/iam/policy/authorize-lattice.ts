/**
 * The Lattice three-way decision (spec §2.1) and its denial messages (spec §2.5), as a pure
 * function: the data plane calls it per request, `trellis auth simulate` prints `explainDecision`.
 */
import type { AuthType } from '../../model/lattice-types.js';
import type { AuthorizationContext } from './condition-keys.js';
import {
  evaluateLowerCased,
  type CompiledPolicy,
  type PolicyLabel,
  type PolicyVerdict,
} from './compile-policy.js';

export type LatticeAuthLevelName = 'Service' | 'Network' | 'Identity';

/** A service network's or service's auth settings, with its compiled auth policy if any. */
export interface LatticeAuthLevel {
  readonly authType: AuthType;
  readonly policy?: CompiledPolicy;
}

export interface LatticeAuthorizationInput {
  /** The service network the request arrived through. */
  readonly network?: LatticeAuthLevel;
  readonly service: LatticeAuthLevel;
  /** The caller's identity-based policies; `undefined` for an anonymous (unsigned) caller. */
  readonly identityPolicies?: readonly CompiledPolicy[];
  readonly ctx: AuthorizationContext;
}

/** One policy's verdict within a level. */
export interface PolicyOutcome {
  readonly label: PolicyLabel;
  readonly verdict: PolicyVerdict;
}

/** What one level decided. */
export interface LevelVerdict {
  readonly level: LatticeAuthLevelName;
  /** `undefined` for the identity level. */
  readonly authType?: AuthType;
  /** `NotEvaluated`: auth type NONE, or an anonymous caller at the identity level. */
  readonly effect: 'Allow' | 'Deny' | 'NoMatch' | 'NotEvaluated';
  readonly policies: readonly PolicyOutcome[];
}

export interface LatticeDecision {
  readonly allowed: boolean;
  readonly deniedBy?: LatticeAuthLevelName;
  /** True when an explicit Deny statement decided. */
  readonly explicit: boolean;
  /** Identity, Network, Service — always all three, in that order. */
  readonly verdicts: readonly LevelVerdict[];
  /** The message of spec §2.5 (without the `AccessDeniedException: ` prefix the body adds). */
  readonly message: string;
  readonly action: string;
  readonly resource: string;
  /** The caller as the message names it: an ARN or `anonymous`. */
  readonly user: string;
}

function evaluateLevel(
  level: LatticeAuthLevelName,
  authType: AuthType | undefined,
  policies: readonly CompiledPolicy[] | undefined,
  lowerAction: string,
  ctx: AuthorizationContext,
): LevelVerdict {
  if (authType === 'NONE' || policies === undefined)
    return { level, authType, effect: 'NotEvaluated', policies: [] };
  const outcomes: PolicyOutcome[] = [];
  let effect: LevelVerdict['effect'] = 'NoMatch';
  for (const p of policies) {
    const verdict = evaluateLowerCased(p, lowerAction, ctx);
    outcomes.push({ label: p.label, verdict });
    if (verdict.effect === 'Deny') effect = 'Deny';
    else if (verdict.effect === 'Allow' && effect === 'NoMatch') effect = 'Allow';
  }
  return { level, authType, effect, policies: outcomes };
}

/*
 * Message wording (spec §2.5). The service and identity variants are the observed texts. The
 * real wording for the network level and for unsigned callers is unverified; Trellis chooses:
 *   - network level: "service network-based policy" (parallel to "service-based policy", so a
 *     reader can tell which of the two auth policies refused the request);
 *   - unsigned caller: "User: anonymous" (the access log calls the same caller `Anonymous`).
 */
const POLICY_NOUN: Record<LatticeAuthLevelName, string> = {
  Service: 'a service-based policy',
  Network: 'a service network-based policy',
  Identity: 'an identity-based policy',
};
const NO_POLICY_NOUN: Record<LatticeAuthLevelName, string> = {
  Service: 'no service-based policy',
  Network: 'no service network-based policy',
  Identity: 'no identity-based policy',
};

/** `User: … is not authorized to perform: … on resource: … because/with …`. */
export function formatDenialMessage(
  user: string,
  action: string,
  resource: string,
  level: LatticeAuthLevelName,
  explicit: boolean,
): string {
  const head = `User: ${user} is not authorized to perform: ${action} on resource: ${resource}`;
  return explicit
    ? `${head} with an explicit deny in ${POLICY_NOUN[level]}`
    : `${head} because ${NO_POLICY_NOUN[level]} allows the ${action} action`;
}

/** A level's policies for `evaluateLevel`: none when the level is absent or NONE, else its one policy. */
function levelPolicies(l: LatticeAuthLevel | undefined): readonly CompiledPolicy[] | undefined {
  if (l === undefined || l.authType === 'NONE') return undefined;
  return l.policy !== undefined ? [l.policy] : NO_POLICIES;
}
const NO_POLICIES: readonly CompiledPolicy[] = Object.freeze([]);

/**
 * Decides a data-plane request (spec §2.1): when at least one of network/service is AWS_IAM,
 * a signed caller's identity policies must allow, each AWS_IAM level's auth policy must allow
 * (no policy = deny), and an explicit Deny anywhere wins. When both levels are NONE nothing is
 * evaluated, identity policies included: Lattice authorizes nothing with auth turned off.
 *
 * Builds every level's verdicts and the message; the data plane asks `latticeRequestAllowed`
 * first (same answer, nothing built) and calls this only to explain a denial.
 */
export function authorizeLatticeRequest(input: LatticeAuthorizationInput): LatticeDecision {
  const ctx = input.ctx;
  const lowerAction = ctx.action.toLowerCase();
  const networkType = input.network?.authType;
  const serviceType = input.service.authType;
  const authOn = networkType === 'AWS_IAM' || serviceType === 'AWS_IAM';
  const verdicts: LevelVerdict[] = [
    evaluateLevel(
      'Identity',
      undefined,
      authOn ? input.identityPolicies : undefined,
      lowerAction,
      ctx,
    ),
    evaluateLevel('Network', networkType, levelPolicies(input.network), lowerAction, ctx),
    evaluateLevel('Service', serviceType, levelPolicies(input.service), lowerAction, ctx),
  ];
  const user = ctx.principal?.arn ?? 'anonymous';
  // Explicit deny anywhere wins (step 5), reported at the first level that holds one.
  let denied: LevelVerdict | undefined;
  for (const v of verdicts) if (v.effect === 'Deny' && denied === undefined) denied = v;
  for (const v of verdicts) if (v.effect === 'NoMatch' && denied === undefined) denied = v;
  if (denied !== undefined) {
    const explicit = denied.effect === 'Deny';
    return {
      verdicts,
      action: ctx.action,
      resource: ctx.resource,
      user,
      allowed: false,
      deniedBy: denied.level,
      explicit,
      message: formatDenialMessage(user, ctx.action, ctx.resource, denied.level, explicit),
    };
  }
  return {
    verdicts,
    action: ctx.action,
    resource: ctx.resource,
    user,
    allowed: true,
    explicit: false,
    message: authOn
      ? `User: ${user} is authorized to perform: ${ctx.action} on resource: ${ctx.resource}`
      : `User: ${user} may perform: ${ctx.action} on resource: ${ctx.resource} (auth type NONE at every level)`,
  };
}

/** Whether every policy of a level taken together allows: some Allow applies and no Deny does. */
function levelAllows(
  policies: readonly CompiledPolicy[],
  lowerAction: string,
  ctx: AuthorizationContext,
): boolean {
  let allowed = false;
  for (let i = 0; i < policies.length; i++) {
    const effect = evaluateLowerCased(policies[i]!, lowerAction, ctx).effect;
    if (effect === 'Deny') return false;
    if (effect === 'Allow') allowed = true;
  }
  return allowed;
}

/**
 * `authorizeLatticeRequest(…).allowed`, for the per-request path: the same rule (spec §2.1) with
 * nothing allocated — no verdict lists, no message — stopping at the first level that does not
 * allow. `lowerAction` is `ctx.action` lower-cased (a constant for the data plane). Policy
 * evaluation has no side effects, so a caller that gets `false` may call
 * `authorizeLatticeRequest` on the same context to learn why.
 */
export function latticeRequestAllowed(
  networkType: AuthType | undefined,
  networkPolicy: CompiledPolicy | undefined,
  serviceType: AuthType,
  servicePolicy: CompiledPolicy | undefined,
  identityPolicies: readonly CompiledPolicy[] | undefined,
  lowerAction: string,
  ctx: AuthorizationContext,
): boolean {
  const authOn = networkType === 'AWS_IAM' || serviceType === 'AWS_IAM';
  if (!authOn) return true; // NONE at both levels: nothing is evaluated
  if (identityPolicies !== undefined && !levelAllows(identityPolicies, lowerAction, ctx))
    return false;
  if (networkType !== undefined && networkType !== 'NONE') {
    // No policy on an AWS_IAM level: nothing allows (NoMatch).
    if (networkPolicy === undefined) return false;
    if (evaluateLowerCased(networkPolicy, lowerAction, ctx).effect !== 'Allow') return false;
  }
  if (serviceType !== 'NONE') {
    if (servicePolicy === undefined) return false;
    if (evaluateLowerCased(servicePolicy, lowerAction, ctx).effect !== 'Allow') return false;
  }
  return true;
}

function describeLabel(label: PolicyLabel): string {
  const parts = [`${label.level} policy`];
  if (label.name !== undefined) parts.push(`"${label.name}"`);
  if (label.resourceArn !== undefined) parts.push(`on ${label.resourceArn}`);
  return parts.join(' ');
}

function describeVerdict(v: PolicyVerdict): string {
  if (v.effect === 'NoMatch') return 'no statement applies';
  const s = v.statement;
  const which =
    s === undefined ? '' : ` by Statement[${s.index}]${s.sid ? ` (Sid "${s.sid}")` : ''}`;
  return `${v.effect === 'Allow' ? 'allowed' : 'explicitly denied'}${which}`;
}

/** Human-readable lines for `trellis auth simulate`: decision, then each level and policy. */
export function explainDecision(d: LatticeDecision): string[] {
  const lines: string[] = [];
  lines.push(
    d.allowed
      ? 'Decision: ALLOW'
      : `Decision: DENY (${d.explicit ? 'explicit deny' : 'no allow'} at the ${d.deniedBy} level)`,
  );
  lines.push(`  ${d.message}`);
  for (const v of d.verdicts) {
    const head = `${v.level}${v.authType ? ` (authType ${v.authType})` : ''}: `;
    if (v.effect === 'NotEvaluated') {
      const why =
        v.level === 'Identity'
          ? d.user === 'anonymous'
            ? 'anonymous caller has no identity-based policies'
            : 'no level uses AWS_IAM'
          : v.authType === undefined
            ? 'no service network'
            : 'auth type NONE';
      lines.push(`${head}not evaluated (${why})`);
      continue;
    }
    if (v.policies.length === 0) {
      lines.push(`${head}${v.effect} (no policy attached — everything is denied)`);
      continue;
    }
    lines.push(`${head}${v.effect}`);
    for (const p of v.policies)
      lines.push(`  - ${describeLabel(p.label)}: ${describeVerdict(p.verdict)}`);
  }
  return lines;
}
