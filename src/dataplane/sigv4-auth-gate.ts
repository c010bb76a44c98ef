/**
 * The zero-trust auth gate (spec §2): authenticates a request by its SigV4/SigV4A signature
 * (`vpc-lattice-svcs`, `UNSIGNED-PAYLOAD`, spec §2.2) — unsigned means anonymous — then decides it
 * with the caller's identity policies and the network's and service's auth policies (spec §2.1),
 * and hands the target the caller's identity headers (spec §3.1).
 *
 * Everything per snapshot (keys → principals, policies) is compiled by `prepare` (compile-auth.ts);
 * a request only parses its signature, verifies it (derived keys cached), and evaluates policies
 * against lazily read condition keys.
 */
import type { AuthDeniedReason } from '../errors/dataplane-outcomes.js';
import { LatticeRequestKeys, type LatticeRequestFacts } from '../iam/lattice-request-keys.js';
import {
  authorizeLatticeRequest,
  createPrincipalKeys,
  latticeRequestAllowed,
  type AuthorizationContext,
  type LatticeAuthLevel,
  type LatticeDecision,
  type PolicyOutcome,
} from '../iam/policy/index.js';
import {
  DATA_PLANE_SERVICE,
  hasSignature,
  parseSignature,
  unrecognizedClient,
  verifySignature,
  type SignatureProblem,
  type SignedRequestView,
  type SigningKeyCacheLike,
  type VerifyOptions,
} from '../iam/sigv4/index.js';
import type { Snapshot } from '../model/snapshot-types.js';
import {
  denyAwsIamGate,
  type AuthDecision,
  type AuthGate,
  type AuthGateInput,
} from './auth-gate.js';
import { compileAuth, CompiledAuth, type AuthIdentity, type AuthResource } from './compile-auth.js';

/** Options of `createSigV4AuthGate`. */
export interface SigV4AuthGateOptions {
  /** Region services are signed for; default the snapshot's. */
  region?: string;
  /** Clock (tests). Default `Date.now`. */
  now?: () => number;
  /** Allowed clock skew either way. Default 5 minutes (spec §2.2 / SigV4). */
  maxSkewMs?: number;
  signingKeyCache?: SigningKeyCacheLike;
}

const ACTION = 'vpc-lattice-svcs:Invoke';
const LOWER_ACTION = ACTION.toLowerCase();
/** spec §2.3: TLS passthrough connections; resource is the service ARN, no path. */
const CONNECT = 'vpc-lattice-svcs:Connect';
const LOWER_CONNECT = CONNECT.toLowerCase();

/** Exception name in the 403/400 body for each verifier failure. */
const PROBLEM_EXCEPTION: Record<SignatureProblem['code'], string> = {
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  IncompleteSignature: 'IncompleteSignatureException',
  InvalidSignature: 'InvalidSignatureException',
  SignatureExpired: 'InvalidSignatureException',
  UnrecognizedClient: 'UnrecognizedClientException',
  InvalidToken: 'UnrecognizedClientException',
  WrongScope: 'InvalidSignatureException',
  PayloadSigningNotSupported: 'InvalidRequestException',
};

/** A request whose signature cannot be accepted: 403 (400 for a signed payload, spec §2.2). */
function authenticationFailure(p: SignatureProblem): AuthDecision {
  return {
    allow: false,
    status: p.code === 'PayloadSigningNotSupported' ? 400 : 403,
    message: `${PROBLEM_EXCEPTION[p.code]}: ${p.message}\n`,
    authDeniedReason: 'Identity',
    // spec §4.1: a caller that signed but could not be authenticated is `Unknown`.
    resolvedUser: 'Unknown',
  };
}

const EXPIRED: AuthDecision = {
  allow: false,
  status: 403,
  message: 'ExpiredTokenException: The security token included in the request is expired\n',
  authDeniedReason: 'Identity',
  resolvedUser: 'Unknown',
};

const NO_TAGS = undefined;

function describeOutcome(o: PolicyOutcome): string {
  const l = o.label;
  let text = `${l.level} policy`;
  if (l.name !== undefined) text += ` "${l.name}"`;
  if (l.resourceArn !== undefined) text += ` on ${l.resourceArn}`;
  const s = o.verdict.statement;
  if (s !== undefined) text += `: Statement[${s.index}]${s.sid ? ` (Sid "${s.sid}")` : ''}`;
  return text;
}

/** `deniedBy` of the access log: the level and, for an explicit deny, the statement. */
export function describeDenial(d: LatticeDecision): string | undefined {
  const v = d.verdicts.find((x) => x.level === d.deniedBy);
  if (v === undefined) return undefined;
  if (d.explicit) {
    const o = v.policies.find((p) => p.verdict.effect === 'Deny');
    return o === undefined ? `${v.level}: explicit deny` : `${describeOutcome(o)} (explicit deny)`;
  }
  return v.policies.length === 0
    ? `${v.level}: no policy attached`
    : `${v.level}: no statement allows`;
}

function level(resource: AuthResource | undefined, authType: LatticeAuthLevel['authType']) {
  const policy = resource?.policy;
  return policy === undefined ? { authType } : { authType, policy };
}

class SigV4AuthGate implements AuthGate {
  private readonly region: string | undefined;
  private readonly now: (() => number) | undefined;
  private readonly verifyOptions: VerifyOptions;

  constructor(options: SigV4AuthGateOptions) {
    this.region = options.region;
    this.now = options.now;
    this.verifyOptions = {
      service: DATA_PLANE_SERVICE,
      region: options.region ?? '',
      requireUnsignedPayload: true,
      uriEscapePath: false, // spec §2.2: the path is encoded once, as sent
      ...(options.maxSkewMs !== undefined ? { maxSkewMs: options.maxSkewMs } : {}),
      ...(options.signingKeyCache !== undefined
        ? { signingKeyCache: options.signingKeyCache }
        : {}),
    };
  }

  prepare(snapshot: Snapshot): CompiledAuth {
    return compileAuth(snapshot, this.region);
  }

  check(input: AuthGateInput): AuthDecision {
    const auth = input.prepared;
    // Without an index (a data plane that never called prepare) nothing behind AWS_IAM opens.
    if (!(auth instanceof CompiledAuth)) return denyAwsIamGate.check(input);
    const { binding, request } = input;
    const url = request.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = request.method ?? 'GET';
    const nowMs = this.now === undefined ? Date.now() : this.now();

    // Authenticate (spec §2.2): a request that tries to sign must verify, even where anonymous
    // access would be allowed; one that does not is the anonymous principal.
    let identity: AuthIdentity | undefined;
    const view: SignedRequestView = { method, rawPath, rawQuery, headers: request.headers };
    const connect = input.connect === true; // passthrough: nothing to authenticate
    if (!connect && hasSignature(view)) {
      const parsed = parseSignature(view);
      if (!parsed.ok) return authenticationFailure(parsed);
      identity = auth.identities.get(parsed.accessKeyId);
      if (identity === undefined || !identity.active)
        return authenticationFailure(unrecognizedClient());
      if (identity.expiresAtMs <= nowMs) return EXPIRED;
      let options = this.verifyOptions;
      if (options.region === '' || this.now !== undefined)
        options = { ...options, region: options.region || auth.region, nowMs };
      const verified = verifySignature(view, parsed, identity.credential, options);
      if (!verified.ok) return authenticationFailure(verified);
    }

    // Authorize (spec §2.1, §2.3): Invoke on `<serviceArn><path>`.
    const path = input.path ?? rawPath;
    const service = auth.resources.get(binding.serviceId);
    const facts: LatticeRequestFacts = {
      port: input.port ?? request.socket.localPort ?? 0,
      method,
      path,
      headers: request.headers,
      rawQuery,
      serviceArn: binding.serviceArn,
      serviceNetworkArn: binding.serviceNetworkArn,
      sourceVpc: input.sourceVpcId,
      sourceVpcOwnerAccount: auth.vpcOwners.get(input.sourceVpcId),
      sourceIp: request.socket.remoteAddress,
      resourceTags: service?.tags ?? NO_TAGS,
      nowMs,
      region: auth.region,
    };
    const principal = identity?.principal;
    const network = auth.resources.get(binding.serviceNetworkId);
    const ctx: AuthorizationContext = {
      action: connect ? CONNECT : ACTION,
      resource: connect ? binding.serviceArn : binding.serviceArn + path,
      principal,
      // Principal keys (aws:PrincipalTag/…, aws:userid…) are built once per key and snapshot.
      keys: new LatticeRequestKeys(facts, principal, identity?.principalKeys ?? ANONYMOUS_KEYS),
    };
    // The common case asks only yes/no (nothing allocated); a denial is decided again in full
    // (evaluation has no side effects, the clock is fixed in `facts`) to explain it.
    if (
      latticeRequestAllowed(
        binding.serviceNetworkAuthType,
        network?.policy,
        binding.serviceAuthType,
        service?.policy,
        identity?.policies,
        connect ? LOWER_CONNECT : LOWER_ACTION,
        ctx,
      )
    )
      // anonymous: no identity headers; a signed caller's answer is built once per snapshot.
      return identity === undefined ? ANONYMOUS_ALLOWED : identity.allowed;
    return denial(
      authorizeLatticeRequest({
        network: level(network, binding.serviceNetworkAuthType),
        service: level(service, binding.serviceAuthType),
        ...(identity !== undefined ? { identityPolicies: identity.policies } : {}),
        ctx,
      }),
      identity,
    );
  }
}

const ANONYMOUS_KEYS = createPrincipalKeys(undefined);
const ANONYMOUS_ALLOWED: AuthDecision = Object.freeze({ allow: true, resolvedUser: 'Anonymous' });

/** The 403 of a request the policies refuse (spec §2.5), with the access log's `deniedBy`. */
function denial(decision: LatticeDecision, identity: AuthIdentity | undefined): AuthDecision {
  const deniedBy = describeDenial(decision);
  return {
    allow: false,
    status: 403,
    message: `AccessDeniedException: ${decision.message}\n`,
    authDeniedReason: decision.deniedBy as AuthDeniedReason,
    resolvedUser: identity === undefined ? 'Anonymous' : identity.principal.arn,
    detail: { ...identity?.detail, ...(deniedBy !== undefined ? { deniedBy } : {}) },
  };
}

/** Creates the SigV4 + auth-policy gate the data plane calls for `AWS_IAM` services/networks. */
export function createSigV4AuthGate(options: SigV4AuthGateOptions = {}): AuthGate {
  return new SigV4AuthGate(options);
}
