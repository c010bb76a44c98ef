/**
 * Cross-account use of service networks and services (spec §1.5 SNSA/ResourcePolicy; issue 8 §4).
 * A resource of account A can be named by account B — always by ARN — only when A shares it,
 * either way:
 *   - a resource policy (PutResourcePolicy) on it whose Allow statements grant B's principal the
 *     action, or
 *   - an AWS RAM resource share (resource-shares.ts) holding the resource with B (or B's
 *     organization) as an associated principal: it grants what RAM's default managed permission
 *     for the type grants (`RAM_GRANTS` below).
 * Without a grant the caller gets AccessDeniedException; a resource of another account named by
 * bare id stays invisible (ResourceNotFound), as before. A share removed later stops future
 * associations only: associations made under it stay, as in Lattice.
 *
 * Actions (the names of the Lattice operations they permit, as AWS RAM's managed permissions
 * for VPC Lattice list them):
 *   - on a service: `vpc-lattice:CreateServiceNetworkServiceAssociation`
 *   - on a service network: `vpc-lattice:CreateServiceNetworkServiceAssociation` (B's service
 *     joins A's network) and `vpc-lattice:CreateServiceNetworkVpcAssociation` (B's VPC joins it)
 * Wildcards (`vpc-lattice:*`, `vpc-lattice:Create*`, `*`) match as in any IAM policy.
 */
import { AccessDeniedException } from '../errors/aws-errors.js';
import { idFromIdentifier } from '../model/ids.js';
import type { ResourcePolicy } from '../model/lattice-types.js';
import type { ResourceKind } from '../model/resource-kinds.js';
import {
  compilePolicy,
  emptyKeys,
  evaluatePolicy,
  parsePolicy,
  type AuthorizationPrincipal,
} from '../iam/policy/index.js';
import type { ListQuery, StoredResource } from '../store/store.js';
import { RAM_SHAREABLE_TYPES } from '../model/ram-types.js';
import { ValidationException } from '../errors/aws-errors.js';
import { notFound } from './lookups.js';
import { parsePageParams, listPage } from './pagination.js';
import { arnsSharedWith, isSharedByRam } from './resource-shares.js';
import type { Caller, OperationScope } from './manager-context.js';

/** The actions a share may grant. */
export type SharedAction =
  | 'vpc-lattice:CreateServiceNetworkServiceAssociation'
  | 'vpc-lattice:CreateServiceNetworkVpcAssociation'
  | 'vpc-lattice:GetService'
  | 'vpc-lattice:GetServiceNetwork';

/**
 * What a RAM share grants on each shareable kind: the actions of RAM's default managed
 * permissions for VPC Lattice (AWSRAMPermissionVpcLatticeService / …ServiceNetwork).
 */
const RAM_GRANTS: Record<'service' | 'service-network', readonly SharedAction[]> = {
  service: ['vpc-lattice:CreateServiceNetworkServiceAssociation', 'vpc-lattice:GetService'],
  'service-network': [
    'vpc-lattice:CreateServiceNetworkServiceAssociation',
    'vpc-lattice:CreateServiceNetworkVpcAssociation',
    'vpc-lattice:GetServiceNetwork',
  ],
};

/** The caller as a policy principal (account root, user, or assumed-role session). */
export function callerPrincipal(caller: Caller): AuthorizationPrincipal {
  const arn = caller.principalArn;
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/(.+)\/([^/]+)$/.exec(arn);
  if (session)
    return {
      arn,
      accountId: caller.accountId,
      type: 'AssumedRole',
      roleArn: `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`,
      sessionName: session[4]!,
    };
  if (arn.endsWith(':root')) return { arn, accountId: caller.accountId, type: 'Account' };
  return { arn, accountId: caller.accountId, type: 'User' };
}

/**
 * True when `resource` (another account's) is shared with the caller for `action`: by its
 * resource policy or by a RAM share.
 */
export async function isSharedWith(
  scope: OperationScope,
  resource: StoredResource<{ arn: string }>,
  action: SharedAction,
): Promise<boolean> {
  if (await isSharedByPolicy(scope, resource.data.arn, action)) return true;
  const kind = resource.kind as 'service' | 'service-network';
  if (!RAM_GRANTS[kind]?.includes(action)) return false;
  return isSharedByRam(scope.reader, resource.accountId, resource.data.arn, scope.caller.accountId);
}

/** True when the resource policy on `resourceArn` allows the caller `action`. */
async function isSharedByPolicy(
  scope: OperationScope,
  resourceArn: string,
  action: SharedAction,
): Promise<boolean> {
  const found = await scope.reader.get<ResourcePolicy>('resource-policy', resourceArn);
  if (!found) return false;
  let policy;
  try {
    policy = compilePolicy(parsePolicy(found.data.policy, { kind: 'resource' }), {
      level: 'Resource',
      resourceArn,
    });
  } catch {
    return false; // an unreadable policy shares nothing
  }
  const verdict = evaluatePolicy(policy, {
    action,
    resource: resourceArn,
    principal: callerPrincipal(scope.caller),
    keys: emptyKeys(),
  });
  return verdict.effect === 'Allow';
}

/**
 * Finds a service network or service the caller may associate: its own (by id or ARN), or
 * another account's named by ARN and shared with the caller for `action`.
 */
export async function findAssociable<T>(
  scope: OperationScope,
  kind: Extract<ResourceKind, 'service' | 'service-network'>,
  identifier: string,
  action: SharedAction,
): Promise<StoredResource<T & { arn: string }>> {
  const byArn = identifier.startsWith('arn:');
  const found = byArn
    ? await scope.reader.getByArn<T & { arn: string }>(identifier)
    : await scope.reader.get<T & { arn: string }>(kind, idFromIdentifier(identifier));
  if (!found || found.kind !== kind) throw notFound(kind, identifier);
  if (found.accountId === scope.caller.accountId) return found;
  // spec §1.5 SNSA: another account's resource must be named by ARN.
  if (!byArn) throw notFound(kind, identifier);
  if (await isSharedWith(scope, found, action)) return found;
  throw new AccessDeniedException(
    `Account ${scope.caller.accountId} is not allowed to use ${found.data.arn}: its owner (${found.accountId}) has not shared it. The owner shares it with an AWS RAM resource share (CreateResourceShare) or grants ${action} to this account with PutResourcePolicy on the ARN.`,
  );
}

/**
 * Finds a service network or service the caller may read (GetService, GetServiceNetwork): its
 * own by id or ARN, or another account's named by ARN and shared with the caller. Not shared →
 * not found, so a Get reveals nothing of another account.
 */
export async function findReadable<T>(
  scope: OperationScope,
  kind: Extract<ResourceKind, 'service' | 'service-network'>,
  identifier: string,
): Promise<StoredResource<T & { arn: string }>> {
  const byArn = identifier.startsWith('arn:');
  const found = byArn
    ? await scope.reader.getByArn<T & { arn: string }>(identifier)
    : await scope.reader.get<T & { arn: string }>(kind, idFromIdentifier(identifier));
  if (!found || found.kind !== kind) throw notFound(kind, identifier);
  if (found.accountId === scope.caller.accountId) return found;
  const action = kind === 'service' ? 'vpc-lattice:GetService' : 'vpc-lattice:GetServiceNetwork';
  if (byArn && (await isSharedWith(scope, found, action))) return found;
  throw notFound(kind, identifier);
}

const SHARED_TOKEN = 's1:';

/**
 * One page of `ListServices` / `ListServiceNetworks`: the caller's own resources, then those
 * RAM shares grant it ("owned by or shared with the caller", spec §1.2 model docs). Owned pages
 * use the usual keyset token; the shared tail uses an offset token of its own.
 */
export async function listOwnedAndShared<T, R>(
  scope: OperationScope,
  kind: Extract<ResourceKind, 'service' | 'service-network'>,
  page: { maxResults?: string; nextToken?: string },
  render: (r: StoredResource<T>) => R | Promise<R>,
): Promise<{ items: R[]; nextToken?: string }> {
  const sharedOffset = decodeSharedToken(page.nextToken);
  const query: Omit<ListQuery, 'afterId' | 'limit'> = { kind, accountId: scope.caller.accountId };
  let items: R[] = [];
  let limit: number;
  if (sharedOffset === undefined) {
    const owned = await listPage<T, R>(scope.reader, query, page, render);
    if (owned.nextToken) return owned;
    items = owned.items;
    limit = parsePageParams(page.maxResults, undefined).limit;
  } else {
    limit = parsePageParams(page.maxResults, undefined).limit;
  }
  const start = sharedOffset ?? 0;
  const room = limit - items.length;
  if (room <= 0 && sharedOffset === undefined) {
    // The owned page is full: continue with the shared tail only if there is one.
    const any = await sharedOf<T>(scope, kind);
    return any.length ? { items, nextToken: encodeSharedToken(0) } : { items };
  }
  const shared = await sharedOf<T>(scope, kind);
  for (const r of shared.slice(start, start + room)) items.push(await render(r));
  const next = start + room;
  return next < shared.length ? { items, nextToken: encodeSharedToken(next) } : { items };
}

async function sharedOf<T>(
  scope: OperationScope,
  kind: 'service' | 'service-network',
): Promise<StoredResource<T>[]> {
  const type =
    kind === 'service' ? RAM_SHAREABLE_TYPES.service : RAM_SHAREABLE_TYPES.servicenetwork;
  const out: StoredResource<T>[] = [];
  for (const arn of await arnsSharedWith(scope.reader, scope.caller.accountId, type)) {
    const r = await scope.reader.getByArn<T>(arn);
    if (r && r.kind === kind && r.accountId !== scope.caller.accountId) out.push(r);
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function encodeSharedToken(offset: number): string {
  return Buffer.from(`${SHARED_TOKEN}${offset}`, 'utf8').toString('base64url');
}

function decodeSharedToken(token: string | undefined): number | undefined {
  if (!token || token.length > 64) return undefined;
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  if (!decoded.startsWith(SHARED_TOKEN)) return undefined;
  const n = Number(decoded.slice(SHARED_TOKEN.length));
  if (!Number.isInteger(n) || n < 0)
    throw ValidationException.fromFields([
      { name: 'nextToken', message: 'is not a token returned by a previous call' },
    ]);
  return n;
}
