/**
 * Policy → compiled predicates, and evaluation of one policy against a request (spec §2.1).
 * Compiling happens once per policy (when a snapshot is built); evaluation touches no JSON,
 * builds no RegExp and lower-cases only the request action.
 */
import type {
  AuthorizationContext,
  AuthorizationPrincipal,
  ConditionKeyReader,
} from './condition-keys.js';
import { compileConditions, type CompiledCondition } from './compile-condition.js';
import { compilePattern, type PatternMatcher } from './policy-variables.js';
import type { PolicyDocument, PolicyPrincipal, PolicyStatement } from './policy-types.js';
import { compileWildcard, type WildcardMatcher } from './wildcard.js';

/** Which policy a compiled policy is, for explanations and denial messages. */
export interface PolicyLabel {
  readonly level: 'Service' | 'Network' | 'Identity' | 'Trust' | 'Resource';
  /** e.g. the identity policy's name, or the service's name. */
  readonly name?: string;
  /** The resource the policy is attached to (service / service network / role ARN). */
  readonly resourceArn?: string;
}

/** The outcome of one policy: explicit Deny wins over Allow inside the policy. */
export interface PolicyVerdict {
  readonly effect: 'Allow' | 'Deny' | 'NoMatch';
  /** The deciding statement (the Deny, or the first Allow). */
  readonly statement?: { readonly index: number; readonly sid?: string };
}

const NO_MATCH: PolicyVerdict = Object.freeze({ effect: 'NoMatch' });

/** Matches callers against Principal / NotPrincipal. */
class PrincipalMatcher {
  readonly anyone: boolean;
  private readonly accounts = new Set<string>();
  private readonly arns = new Set<string>();
  /** `account:roleName` of role ARNs: a role principal also matches its assumed-role sessions. */
  private readonly roles = new Set<string>();

  constructor(spec: PolicyPrincipal) {
    const aws = spec === '*' ? ['*'] : (spec.AWS ?? []);
    this.anyone = aws.includes('*');
    for (const value of aws) {
      if (/^\d{12}$/.test(value)) {
        this.accounts.add(value);
        continue;
      }
      const root = /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(value);
      if (root) this.accounts.add(root[1] as string);
      const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(value);
      if (role) this.roles.add(`${role[1]}:${role[2]}`);
      this.arns.add(value);
    }
    // Service / Federated / CanonicalUser principals are accepted but never match a caller.
  }

  match(p: AuthorizationPrincipal | undefined): boolean {
    if (this.anyone) return true;
    if (p === undefined) return false;
    // IAM: an account principal stands for every identity of that account.
    if (this.accounts.has(p.accountId)) return true;
    if (this.arns.has(p.arn)) return true;
    if (p.type === 'AssumedRole' && this.roles.size > 0) {
      const key = roleKeyOf(p);
      if (key !== undefined && this.roles.has(key)) return true;
    }
    return false;
  }
}

/** `account:roleName` of a role session, from its role ARN or its session ARN. */
function roleKeyOf(p: AuthorizationPrincipal): string | undefined {
  if (p.roleArn !== undefined) {
    return `${p.accountId}:${p.roleArn.slice(p.roleArn.lastIndexOf('/') + 1)}`;
  }
  const m = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(p.arn);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

/** Actions match case-insensitively: patterns are lower-cased here, the request action once. */
class ActionMatcher {
  private readonly exact = new Set<string>();
  private readonly patterns: WildcardMatcher[] = [];
  constructor(actions: readonly string[]) {
    for (const a of actions) {
      const lower = a.toLowerCase();
      if (lower.includes('*') || lower.includes('?')) this.patterns.push(compileWildcard(lower));
      else this.exact.add(lower);
    }
  }
  match(lowerAction: string): boolean {
    if (this.exact.has(lowerAction)) return true;
    for (const p of this.patterns) if (p.match(lowerAction)) return true;
    return false;
  }
}

/** Resources match case-sensitively (IAM), with wildcards and policy variables. */
class ResourceMatcher {
  private readonly exact = new Set<string>();
  private readonly patterns: PatternMatcher[] = [];
  constructor(resources: readonly string[], variables: boolean) {
    for (const r of resources) {
      if (!/[*?]/.test(r) && !(variables && r.includes('${'))) this.exact.add(r);
      else this.patterns.push(compilePattern(r, variables));
    }
  }
  match(resource: string, keys: ConditionKeyReader): boolean {
    if (this.exact.has(resource)) return true;
    for (const p of this.patterns) if (p.match(resource, keys)) return true;
    return false;
  }
}

/** One statement, compiled. Fields are all set in the constructor (stable shape). */
class CompiledStatement {
  readonly verdict: PolicyVerdict;
  readonly isDeny: boolean;
  private readonly principal: PrincipalMatcher | undefined;
  private readonly principalNegated: boolean;
  private readonly action: ActionMatcher;
  private readonly actionNegated: boolean;
  private readonly resource: ResourceMatcher | undefined;
  private readonly resourceNegated: boolean;
  readonly conditions: readonly CompiledCondition[];

  constructor(s: PolicyStatement, index: number, variables: boolean) {
    this.isDeny = s.Effect === 'Deny';
    this.verdict = Object.freeze({
      effect: s.Effect,
      statement: Object.freeze(s.Sid !== undefined ? { index, sid: s.Sid } : { index }),
    });
    const principal = s.Principal ?? s.NotPrincipal;
    this.principal = principal === undefined ? undefined : new PrincipalMatcher(principal);
    this.principalNegated = s.NotPrincipal !== undefined;
    this.action = new ActionMatcher(s.Action ?? s.NotAction ?? []);
    this.actionNegated = s.NotAction !== undefined;
    const resources = s.Resource ?? s.NotResource;
    // A trust policy names no resource: the statement applies to the role it is attached to.
    this.resource = resources === undefined ? undefined : new ResourceMatcher(resources, variables);
    this.resourceNegated = s.NotResource !== undefined;
    this.conditions = s.Condition ? compileConditions(s.Condition, variables) : [];
  }

  applies(lowerAction: string, ctx: AuthorizationContext): boolean {
    if (this.action.match(lowerAction) === this.actionNegated) return false;
    if (
      this.resource !== undefined &&
      this.resource.match(ctx.resource, ctx.keys) === this.resourceNegated
    )
      return false;
    if (
      this.principal !== undefined &&
      this.principal.match(ctx.principal) === this.principalNegated
    )
      return false;
    for (const c of this.conditions) if (!c.evaluate(ctx.keys)) return false;
    return true;
  }
}

/** A policy ready for evaluation on the hot path. */
export class CompiledPolicy {
  /** @internal */
  readonly statements: readonly CompiledStatement[];
  constructor(
    readonly document: PolicyDocument,
    readonly label: PolicyLabel,
  ) {
    // Policy variables exist only in the 2012-10-17 grammar; older policies read `${…}` literally.
    const variables = document.Version === '2012-10-17';
    this.statements = document.Statement.map((s, i) => new CompiledStatement(s, i, variables));
  }
}

/** Compiles a parsed policy once; `label` names it in explanations. */
export function compilePolicy(doc: PolicyDocument, label: PolicyLabel): CompiledPolicy {
  return new CompiledPolicy(doc, label);
}

/** Evaluates with an already lower-cased action (lets a caller share it across policies). */
export function evaluateLowerCased(
  policy: CompiledPolicy,
  lowerAction: string,
  ctx: AuthorizationContext,
): PolicyVerdict {
  let allow: PolicyVerdict | undefined;
  for (const s of policy.statements) {
    if (allow !== undefined && !s.isDeny) continue; // only a Deny can change the answer now
    if (!s.applies(lowerAction, ctx)) continue;
    if (s.isDeny) return s.verdict;
    allow = s.verdict;
  }
  return allow ?? NO_MATCH;
}

/** Evaluates one policy: Deny if a Deny statement applies, else Allow if an Allow does, else NoMatch. */
export function evaluatePolicy(policy: CompiledPolicy, ctx: AuthorizationContext): PolicyVerdict {
  return evaluateLowerCased(policy, ctx.action.toLowerCase(), ctx);
}
