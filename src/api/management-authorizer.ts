/**
 * Authorisation of management calls (issue auth §1): the account root — the bootstrap
 * administrator — may do everything; every other principal needs an identity policy that allows
 * the action (`vpc-lattice:CreateService`, `iam:CreateRole`, `trellis:CreateAccount`, …) on the
 * resource, and no explicit Deny, so a service's own role cannot rewrite the network.
 */
import { AccessDeniedException, AuthenticationError } from '../errors/aws-errors.js';
import {
  chainKeys,
  createPrincipalKeys,
  createStaticKeys,
  createTimeKeys,
  type CompiledPolicy,
  type ConditionKeyReader,
} from '../iam/policy/index.js';
import {
  compileIdentityPolicies,
  evaluateIdentity,
  identityDenialMessage,
  isExpired,
  resolveIdentity,
  type ResolvedIdentity,
} from '../manager/identity-policies.js';
import type { ManagerContext } from '../manager/manager-context.js';
import type { ApiServerOptions, AuthenticatedCaller, ManagementAuthorizer } from './api-server.js';

/** The store as the API edge receives it, plus its revision (which invalidates the cache). */
export type RevisionedStore = ApiServerOptions['store'] & { currentRevision(): Promise<number> };

interface CachedIdentity {
  identity: ResolvedIdentity;
  policies: CompiledPolicy[];
  keys: ConditionKeyReader;
}

/** A management authorizer with its per-principal cache (dropped whenever the store changes). */
export interface IdentityAuthorizer extends ManagementAuthorizer {
  /** How many principals' compiled policies are cached (for tests and metrics). */
  readonly cachedPrincipals: number;
}

/**
 * Creates the authorizer. Compiled policies are cached per access key and dropped when the
 * store revision moves, so a PutRolePolicy takes effect on the very next call.
 */
export function createManagementAuthorizer(options: {
  store: RevisionedStore;
  ctx: ManagerContext;
}): IdentityAuthorizer {
  const { store, ctx } = options;
  const cache = new Map<string, CachedIdentity>();
  let cachedRevision = -1;

  async function load(caller: AuthenticatedCaller): Promise<CachedIdentity> {
    const revision = await store.currentRevision();
    if (revision !== cachedRevision) {
      cache.clear();
      cachedRevision = revision;
    }
    let entry = cache.get(caller.accessKeyId);
    if (entry === undefined) {
      const identity = await resolveIdentity(store.reader, caller, ctx.partition);
      entry = {
        identity,
        policies: identity.kind === 'root' ? [] : compileIdentityPolicies(identity),
        keys: chainKeys(
          createPrincipalKeys(identity.principal),
          createStaticKeys({ 'aws:RequestedRegion': ctx.region }),
        ),
      };
      cache.set(caller.accessKeyId, entry);
    }
    return entry;
  }

  return {
    get cachedPrincipals() {
      return cache.size;
    },
    async authorize(caller, action, resource) {
      const { identity, policies, keys } = await load(caller);
      const now = ctx.now();
      if (isExpired(identity, now)) {
        throw new AuthenticationError(
          'ExpiredTokenException',
          'The security token included in the request is expired',
        );
      }
      if (identity.kind === 'root') return;
      const decision = evaluateIdentity(
        policies,
        action,
        resource,
        identity.principal,
        chainKeys(keys, createTimeKeys(Date.parse(now))),
      );
      if (decision === 'Allow') return;
      throw new AccessDeniedException(
        identityDenialMessage(identity.principal.arn, action, resource, decision),
      );
    },
  };
}
