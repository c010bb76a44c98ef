/**
 * AWS RAM resource shares of Lattice service networks and services (issue 8 §4). A share names
 * resources its owner owns and principals (account ids, or the owner's organization ARN). Inside
 * one organization (accounts with the same organization id) a principal is associated at once;
 * an account outside it gets an invitation and is associated when it accepts. Only ACTIVE shares
 * whose resource and principal entries are ASSOCIATED grant anything (see `isSharedByRam`).
 *
 * Everything is applied at once (statuses never stay in ASSOCIATING/DISASSOCIATING except a
 * principal waiting for its invitation). Deleted shares stay listed with status DELETED, as RAM
 * keeps them for a while.
 */
import { randomUUID } from 'node:crypto';
import { RamError } from '../errors/ram-errors.js';
import type { Account } from '../model/iam-types.js';
import {
  ACCOUNT_ID_PATTERN,
  ARN_PATTERN,
  ORGANIZATION_ARN_PATTERN,
  RAM_SHAREABLE_TYPES,
  resourceShareArn,
  resourceShareInvitationArn,
  type RamTag,
  type ResourceShare,
  type ResourceShareInvitation,
  type SharePrincipalEntry,
  type SharedResourceEntry,
} from '../model/ram-types.js';
import { StoreConflictError } from '../store/store-errors.js';
import type { StoreReader, StoredResource } from '../store/store.js';
import type { OperationScope, WriteScope } from './manager-context.js';

const SHARE = 'resource-share' as const;
const INVITATION = 'resource-share-invitation' as const;
const MAX_TAGS = 50;
const MAX_PAGE = 500;

type Body = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Input checks (RAM answers MissingRequiredParameter / InvalidParameter / MalformedArn)

function requireString(body: Body, name: string, max = 2048): string {
  const v = body[name];
  if (v === undefined || v === null || v === '')
    throw new RamError('MissingRequiredParameterException', `The parameter ${name} is required.`);
  if (typeof v !== 'string' || v.length > max)
    throw new RamError(
      'InvalidParameterException',
      `${name} must be a string of 1 to ${max} characters.`,
    );
  return v;
}

function optionalString(body: Body, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw new RamError('InvalidParameterException', `${name} must be a string.`);
  return v;
}

function optionalStringList(body: Body, name: string): string[] | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new RamError('InvalidParameterException', `${name} must be a list of strings.`);
  return [...new Set(v as string[])];
}

function optionalBoolean(body: Body, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean')
    throw new RamError('InvalidParameterException', `${name} must be a boolean.`);
  return v;
}

function checkEnum<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new RamError(
      'InvalidParameterException',
      `${name} must be one of ${allowed.join(', ')}.`,
    );
  return value as T;
}

function checkTags(body: Body): RamTag[] | undefined {
  const v = body.tags;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v))
    throw new RamError('InvalidParameterException', 'tags must be a list of {key, value}.');
  if (v.length > MAX_TAGS)
    throw new RamError(
      'TagLimitExceededException',
      `A resource share can have at most ${MAX_TAGS} tags.`,
    );
  const keys = new Set<string>();
  return v.map((t: unknown) => {
    const tag = t as Record<string, unknown>;
    if (
      typeof tag !== 'object' ||
      tag === null ||
      typeof tag.key !== 'string' ||
      tag.key.length < 1 ||
      tag.key.length > 128 ||
      (tag.value !== undefined && (typeof tag.value !== 'string' || tag.value.length > 256))
    )
      throw new RamError(
        'InvalidParameterException',
        'Each tag needs a key of 1 to 128 characters and an optional value of at most 256.',
      );
    if (keys.has(tag.key))
      throw new RamError('InvalidParameterException', `Tag key ${tag.key} is repeated.`);
    keys.add(tag.key);
    return tag.value === undefined
      ? { key: tag.key }
      : { key: tag.key, value: tag.value as string };
  });
}

function parseMaxResults(body: Body): number {
  const v = body.maxResults;
  if (v === undefined || v === null) return MAX_PAGE;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_PAGE)
    throw new RamError(
      'InvalidMaxResultsException',
      `maxResults must be an integer from 1 to ${MAX_PAGE}.`,
    );
  return v;
}

/** One page of an in-memory list; `nextToken` is the base64url offset. */
function paginate<T>(items: T[], body: Body): { page: T[]; nextToken?: string } {
  const limit = parseMaxResults(body);
  let offset = 0;
  const token = body.nextToken;
  if (token !== undefined && token !== null) {
    const decoded =
      typeof token === 'string' ? Buffer.from(token, 'base64url').toString('utf8') : '';
    const m = /^o:(\d+)$/.exec(decoded);
    if (!m)
      throw new RamError(
        'InvalidNextTokenException',
        'The nextToken is not one this API returned.',
      );
    offset = Number(m[1]);
  }
  const page = items.slice(offset, offset + limit);
  const out: { page: T[]; nextToken?: string } = { page };
  if (offset + limit < items.length)
    out.nextToken = Buffer.from(`o:${offset + limit}`, 'utf8').toString('base64url');
  return out;
}

function checkShareArn(arn: string, name = 'resourceShareArn'): void {
  if (!/^arn:[a-z-]+:ram:[a-z0-9-]*:\d{12}:resource-share\/[0-9a-f-]{36}$/.test(arn))
    throw new RamError('MalformedArnException', `The ${name} ${arn} is not a resource share ARN.`);
}

// ---------------------------------------------------------------------------------------------
// Lookups

async function accountOf(reader: StoreReader, accountId: string): Promise<Account | undefined> {
  return (await reader.get<Account>('account', `account-${accountId}`))?.data;
}

async function allShares(
  reader: StoreReader,
  accountId?: string,
): Promise<StoredResource<ResourceShare>[]> {
  const out: StoredResource<ResourceShare>[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await reader.list<ResourceShare>({
      kind: SHARE,
      ...(accountId ? { accountId } : {}),
      limit: 500,
      ...(afterId ? { afterId } : {}),
    });
    out.push(...page.items);
    if (!page.lastId) return out;
    afterId = page.lastId;
  }
}

async function allInvitations(
  reader: StoreReader,
  where: Record<string, string>,
): Promise<StoredResource<ResourceShareInvitation>[]> {
  const out: StoredResource<ResourceShareInvitation>[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await reader.list<ResourceShareInvitation>({
      kind: INVITATION,
      where,
      limit: 500,
      ...(afterId ? { afterId } : {}),
    });
    out.push(...page.items);
    if (!page.lastId) return out;
    afterId = page.lastId;
  }
}

/** The caller's own share by ARN (another account's share is unknown to it). */
async function findOwnShare(
  scope: OperationScope,
  arn: string,
): Promise<StoredResource<ResourceShare>> {
  checkShareArn(arn);
  const found = await scope.reader.getByArn<ResourceShare>(arn);
  if (!found || found.kind !== SHARE || found.accountId !== scope.caller.accountId)
    throw new RamError(
      'UnknownResourceException',
      `The resource share ${arn} does not exist in account ${scope.caller.accountId}.`,
    );
  return found;
}

/** True when `principal` (an entry of a share) is the account `accountId` of organization `orgId`. */
function principalCovers(
  p: SharePrincipalEntry,
  accountId: string,
  orgId: string | undefined,
): boolean {
  if (p.status !== 'ASSOCIATED') return false;
  if (p.id === accountId) return true;
  const org = ORGANIZATION_ARN_PATTERN.exec(p.id);
  return org !== null && orgId !== undefined && org[1] === orgId;
}

/**
 * True when an ACTIVE share of `ownerAccountId` holds `resourceArn` and the account
 * `callerAccountId` (directly or through its organization) as ASSOCIATED entries. This is the
 * RAM half of the cross-account check in resource-sharing.ts.
 */
export async function isSharedByRam(
  reader: StoreReader,
  ownerAccountId: string,
  resourceArn: string,
  callerAccountId: string,
): Promise<boolean> {
  const shares = await allShares(reader, ownerAccountId);
  let orgId: string | undefined | null = null;
  for (const s of shares) {
    if (s.data.status !== 'ACTIVE') continue;
    if (!s.data.resources.some((r) => r.arn === resourceArn && r.status === 'ASSOCIATED')) continue;
    if (orgId === null) orgId = (await accountOf(reader, callerAccountId))?.organizationId;
    if (s.data.principals.some((p) => principalCovers(p, callerAccountId, orgId ?? undefined)))
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Resolving the members of a share

/** Checks a resource ARN: a Lattice service network or service the caller owns. */
async function resolveResource(scope: OperationScope, arn: string): Promise<string> {
  if (!ARN_PATTERN.test(arn))
    throw new RamError('MalformedArnException', `${arn} is not a well-formed ARN.`);
  const m =
    /^arn:[^:]+:vpc-lattice:[^:]*:\d{12}:(servicenetwork|service)\/(sn|svc)-[0-9a-z]{17}$/.exec(
      arn,
    );
  if (!m)
    throw new RamError(
      'InvalidParameterException',
      `Trellis shares only VPC Lattice service networks and services; ${arn} is neither.`,
    );
  const found = await scope.reader.getByArn(arn);
  const kind = m[1] === 'servicenetwork' ? 'service-network' : 'service';
  if (!found || found.kind !== kind || found.accountId !== scope.caller.accountId)
    throw new RamError(
      'UnknownResourceException',
      `The resource ${arn} does not exist in account ${scope.caller.accountId}: a share can hold only resources its owner owns.`,
    );
  return RAM_SHAREABLE_TYPES[m[1] as keyof typeof RAM_SHAREABLE_TYPES];
}

interface ResolvedPrincipal {
  id: string;
  /** Set for an account principal (absent for an organization). */
  accountId?: string;
  external: boolean;
}

/** Checks a principal: an existing account (not the owner) or the owner's organization ARN. */
async function resolvePrincipal(
  scope: OperationScope,
  owner: Account | undefined,
  principal: string,
  allowExternal: boolean,
): Promise<ResolvedPrincipal> {
  if (ACCOUNT_ID_PATTERN.test(principal)) {
    if (principal === scope.caller.accountId)
      throw new RamError(
        'InvalidParameterException',
        'The owner of a resource share cannot be one of its principals.',
      );
    const account = await accountOf(scope.reader, principal);
    if (!account)
      throw new RamError(
        'UnknownResourceException',
        `Account ${principal} does not exist in this Trellis installation; create it first (trellis account create).`,
      );
    const sameOrg =
      owner?.organizationId !== undefined && account.organizationId === owner.organizationId;
    if (!sameOrg && !allowExternal)
      throw new RamError(
        'OperationNotPermittedException',
        `Account ${principal} is outside your organization and this resource share does not allow external principals.`,
      );
    return { id: principal, accountId: principal, external: !sameOrg };
  }
  const org = ORGANIZATION_ARN_PATTERN.exec(principal);
  if (org) {
    if (owner?.organizationId !== org[1])
      throw new RamError(
        'OperationNotPermittedException',
        `Account ${scope.caller.accountId} is not in organization ${org[1]}: you can share only with your own organization.`,
      );
    return { id: principal, external: false };
  }
  if (principal.startsWith('arn:')) {
    if (!ARN_PATTERN.test(principal))
      throw new RamError('MalformedArnException', `${principal} is not a well-formed ARN.`);
    throw new RamError(
      'InvalidParameterException',
      `Trellis shares with account ids and organization ARNs only; ${principal} is neither.`,
    );
  }
  throw new RamError(
    'InvalidParameterException',
    `${principal} is not a principal: use a 12-digit account id or an organization ARN.`,
  );
}

/** Adds (or re-associates) resources and principals of a share; returns the touched entries. */
async function addMembers(
  scope: WriteScope,
  share: ResourceShare,
  resourceArns: string[],
  principals: string[],
): Promise<{ resources: SharedResourceEntry[]; principals: SharePrincipalEntry[] }> {
  const now = scope.ctx.now();
  // Check everything before changing anything: a failure leaves the share as it was.
  const types = new Map<string, string>();
  for (const arn of resourceArns) types.set(arn, await resolveResource(scope, arn));
  const owner = await accountOf(scope.reader, scope.caller.accountId);
  const resolved: ResolvedPrincipal[] = [];
  for (const p of principals)
    resolved.push(await resolvePrincipal(scope, owner, p, share.allowExternalPrincipals));

  const touchedResources: SharedResourceEntry[] = [];
  for (const [arn, type] of types) {
    let entry = share.resources.find((r) => r.arn === arn);
    if (!entry) {
      entry = { arn, type, status: 'ASSOCIATED', creationTime: now, lastUpdatedTime: now };
      share.resources.push(entry);
    } else if (entry.status !== 'ASSOCIATED') {
      entry.status = 'ASSOCIATED';
      delete entry.statusMessage;
      entry.lastUpdatedTime = now;
    }
    touchedResources.push(entry);
  }
  const touchedPrincipals: SharePrincipalEntry[] = [];
  for (const p of resolved) {
    let entry = share.principals.find((e) => e.id === p.id);
    const wasActive = entry && (entry.status === 'ASSOCIATED' || entry.status === 'ASSOCIATING');
    if (!entry) {
      entry = {
        id: p.id,
        status: 'ASSOCIATED',
        external: p.external,
        creationTime: now,
        lastUpdatedTime: now,
      };
      share.principals.push(entry);
    }
    if (!wasActive) {
      entry.external = p.external;
      entry.lastUpdatedTime = now;
      delete entry.statusMessage;
      if (p.external && p.accountId) {
        // Outside the owner's organization the invitee must accept (RAM invitation flow).
        entry.status = 'ASSOCIATING';
        const id = randomUUID();
        const invitation: ResourceShareInvitation = {
          resourceShareInvitationArn: resourceShareInvitationArn(
            scope.ctx.partition,
            scope.ctx.region,
            scope.caller.accountId,
            id,
          ),
          resourceShareName: share.name,
          resourceShareArn: share.resourceShareArn,
          senderAccountId: scope.caller.accountId,
          receiverAccountId: p.accountId,
          invitationTimestamp: now,
          status: 'PENDING',
        };
        await scope.tx.insert({
          kind: INVITATION,
          id,
          accountId: scope.caller.accountId,
          arn: invitation.resourceShareInvitationArn,
          data: invitation,
        });
      } else {
        entry.status = 'ASSOCIATED';
      }
    }
    touchedPrincipals.push(entry);
  }
  return { resources: touchedResources, principals: touchedPrincipals };
}

/** Expires the pending invitations of a share (for all receivers, or one). */
async function expireInvitations(
  scope: WriteScope,
  shareArn: string,
  receiver?: string,
): Promise<void> {
  const pending = await allInvitations(scope.reader, {
    resourceShareArn: shareArn,
    status: 'PENDING',
    ...(receiver ? { receiverAccountId: receiver } : {}),
  });
  for (const inv of pending) {
    await scope.tx.update({
      kind: INVITATION,
      id: inv.id,
      accountId: inv.accountId,
      arn: inv.arn,
      data: { ...inv.data, status: 'EXPIRED' },
    });
  }
}

async function saveShare(
  scope: WriteScope,
  stored: StoredResource<ResourceShare>,
  share: ResourceShare,
): Promise<void> {
  share.lastUpdatedTime = scope.ctx.now();
  try {
    await scope.tx.update(
      { kind: SHARE, id: stored.id, accountId: stored.accountId, arn: stored.arn, data: share },
      stored.revision,
    );
  } catch (err) {
    // Another node changed the share since it was read (PostgreSQL, several API processes).
    if (err instanceof StoreConflictError)
      throw new RamError(
        'InvalidStateTransitionException',
        `The resource share ${share.resourceShareArn} changed while this request ran; retry it.`,
      );
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

function renderShare(s: ResourceShare): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resourceShareArn: s.resourceShareArn,
    name: s.name,
    owningAccountId: s.owningAccountId,
    allowExternalPrincipals: s.allowExternalPrincipals,
    status: s.status,
    creationTime: toEpoch(s.creationTime),
    lastUpdatedTime: toEpoch(s.lastUpdatedTime),
    featureSet: s.featureSet,
    tags: s.tags ?? [],
  };
  if (s.statusMessage) out.statusMessage = s.statusMessage;
  return out;
}

/** RAM's JSON timestamps are epoch seconds. */
function toEpoch(iso: string): number {
  return Date.parse(iso) / 1000;
}

function renderAssociation(
  s: ResourceShare,
  type: 'RESOURCE' | 'PRINCIPAL',
  e: SharedResourceEntry | SharePrincipalEntry,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resourceShareArn: s.resourceShareArn,
    resourceShareName: s.name,
    associatedEntity: 'arn' in e ? e.arn : e.id,
    associationType: type,
    status: e.status,
    creationTime: toEpoch(e.creationTime),
    lastUpdatedTime: toEpoch(e.lastUpdatedTime),
    external: 'external' in e ? e.external : false,
  };
  if (e.statusMessage) out.statusMessage = e.statusMessage;
  return out;
}

function renderInvitation(i: ResourceShareInvitation): Record<string, unknown> {
  return {
    resourceShareInvitationArn: i.resourceShareInvitationArn,
    resourceShareName: i.resourceShareName,
    resourceShareArn: i.resourceShareArn,
    senderAccountId: i.senderAccountId,
    receiverAccountId: i.receiverAccountId,
    invitationTimestamp: toEpoch(i.invitationTimestamp),
    status: i.status,
  };
}

// ---------------------------------------------------------------------------------------------
// Operations

/** CreateResourceShare: name, resourceArns, principals, allowExternalPrincipals (default true), tags. */
export async function createResourceShare(scope: WriteScope, body: Body): Promise<Body> {
  const name = requireString(body, 'name', 255);
  const resourceArns = optionalStringList(body, 'resourceArns') ?? [];
  const principals = optionalStringList(body, 'principals') ?? [];
  const allowExternalPrincipals = optionalBoolean(body, 'allowExternalPrincipals') ?? true;
  const tags = checkTags(body);
  for (const unsupported of ['permissionArns', 'sources', 'resourceShareConfiguration'])
    if (body[unsupported] !== undefined)
      throw new RamError(
        'InvalidParameterException',
        `Trellis does not support ${unsupported} (the default managed permission applies).`,
      );
  const now = scope.ctx.now();
  const id = randomUUID();
  const arn = resourceShareArn(scope.ctx.partition, scope.ctx.region, scope.caller.accountId, id);
  const share: ResourceShare = {
    resourceShareArn: arn,
    name,
    owningAccountId: scope.caller.accountId,
    allowExternalPrincipals,
    status: 'ACTIVE',
    creationTime: now,
    lastUpdatedTime: now,
    featureSet: 'STANDARD',
    resources: [],
    principals: [],
  };
  if (tags?.length) share.tags = tags;
  // The share row first (invitations name it), then its members; the transaction keeps it all
  // or nothing.
  const stored = await scope.tx.insert({
    kind: SHARE,
    id,
    accountId: scope.caller.accountId,
    arn,
    data: share,
  });
  await addMembers(scope, share, resourceArns, principals);
  await scope.tx.update(
    { kind: SHARE, id, accountId: stored.accountId, arn, data: share },
    stored.revision,
  );
  return { resourceShare: renderShare(share) };
}

/** GetResourceShares: resourceOwner SELF | OTHER-ACCOUNTS, with RAM's filters. */
export async function getResourceShares(scope: OperationScope, body: Body): Promise<Body> {
  const owner = checkEnum(requireString(body, 'resourceOwner'), 'resourceOwner', [
    'SELF',
    'OTHER-ACCOUNTS',
  ] as const)!;
  const arns = optionalStringList(body, 'resourceShareArns');
  arns?.forEach((a) => checkShareArn(a, 'resourceShareArns'));
  const status = checkEnum(optionalString(body, 'resourceShareStatus'), 'resourceShareStatus', [
    'PENDING',
    'ACTIVE',
    'FAILED',
    'DELETING',
    'DELETED',
  ] as const);
  const name = optionalString(body, 'name');
  const tagFilters = body.tagFilters as { tagKey?: string; tagValues?: string[] }[] | undefined;
  if (tagFilters !== undefined && !Array.isArray(tagFilters))
    throw new RamError('InvalidParameterException', 'tagFilters must be a list.');
  for (const unsupported of ['permissionArn', 'permissionVersion'])
    if (body[unsupported] !== undefined)
      throw new RamError(
        'InvalidParameterException',
        `Trellis does not support the ${unsupported} filter.`,
      );
  const shares = await visibleShares(scope, owner);
  const items = shares.filter(
    (s) =>
      (!arns || arns.includes(s.resourceShareArn)) &&
      (!status || s.status === status) &&
      (name === undefined || s.name === name) &&
      (tagFilters ?? []).every((f) =>
        (s.tags ?? []).some(
          (t) =>
            t.key === f.tagKey && (!f.tagValues?.length || f.tagValues.includes(t.value ?? '')),
        ),
      ),
  );
  const { page, nextToken } = paginate(items, body);
  return { resourceShares: page.map(renderShare), ...(nextToken ? { nextToken } : {}) };
}

/** Shares the caller owns (SELF), or shares of others it is an associated principal of. */
async function visibleShares(
  scope: OperationScope,
  owner: 'SELF' | 'OTHER-ACCOUNTS',
): Promise<ResourceShare[]> {
  const me = scope.caller.accountId;
  if (owner === 'SELF') return (await allShares(scope.reader, me)).map((s) => s.data);
  const orgId = (await accountOf(scope.reader, me))?.organizationId;
  return (await allShares(scope.reader))
    .map((s) => s.data)
    .filter(
      (s) =>
        s.owningAccountId !== me &&
        s.status === 'ACTIVE' &&
        s.principals.some((p) => principalCovers(p, me, orgId)),
    );
}

/** AssociateResourceShare: adds resources and/or principals to the caller's ACTIVE share. */
export async function associateResourceShare(scope: WriteScope, body: Body): Promise<Body> {
  const { stored, share, resourceArns, principals } = await shareChange(scope, body);
  const touched = await addMembers(scope, share, resourceArns, principals);
  await saveShare(scope, stored, share);
  return {
    resourceShareAssociations: [
      ...touched.resources.map((e) => renderAssociation(share, 'RESOURCE', e)),
      ...touched.principals.map((e) => renderAssociation(share, 'PRINCIPAL', e)),
    ],
  };
}

async function shareChange(scope: WriteScope, body: Body) {
  const stored = await findOwnShare(scope, requireString(body, 'resourceShareArn'));
  const resourceArns = optionalStringList(body, 'resourceArns') ?? [];
  const principals = optionalStringList(body, 'principals') ?? [];
  if (body.sources !== undefined)
    throw new RamError('InvalidParameterException', 'Trellis does not support sources.');
  if (!resourceArns.length && !principals.length)
    throw new RamError(
      'MissingRequiredParameterException',
      'Name at least one of resourceArns and principals.',
    );
  const share = structuredClone(stored.data);
  if (share.status !== 'ACTIVE')
    throw new RamError(
      'InvalidStateTransitionException',
      `The resource share ${share.resourceShareArn} is ${share.status}.`,
    );
  return { stored, share, resourceArns, principals };
}

/**
 * DisassociateResourceShare: removes resources and/or principals. Existing Lattice associations
 * made under the share stay (only future associations are refused), as in Lattice.
 */
export async function disassociateResourceShare(scope: WriteScope, body: Body): Promise<Body> {
  const { stored, share, resourceArns, principals } = await shareChange(scope, body);
  const now = scope.ctx.now();
  const out: Body[] = [];
  for (const arn of resourceArns) {
    const e = share.resources.find((r) => r.arn === arn && r.status !== 'DISASSOCIATED');
    if (!e)
      throw new RamError(
        'UnknownResourceException',
        `${arn} is not associated with ${share.resourceShareArn}.`,
      );
    e.status = 'DISASSOCIATED';
    e.lastUpdatedTime = now;
    out.push(renderAssociation(share, 'RESOURCE', e));
  }
  for (const id of principals) {
    const e = share.principals.find((p) => p.id === id && p.status !== 'DISASSOCIATED');
    if (!e)
      throw new RamError(
        'UnknownResourceException',
        `${id} is not a principal of ${share.resourceShareArn}.`,
      );
    e.status = 'DISASSOCIATED';
    e.lastUpdatedTime = now;
    if (ACCOUNT_ID_PATTERN.test(id)) await expireInvitations(scope, share.resourceShareArn, id);
    out.push(renderAssociation(share, 'PRINCIPAL', e));
  }
  await saveShare(scope, stored, share);
  return { resourceShareAssociations: out };
}

/** GetResourceShareAssociations: the resource or principal entries of the caller's shares. */
export async function getResourceShareAssociations(
  scope: OperationScope,
  body: Body,
): Promise<Body> {
  const type = checkEnum(requireString(body, 'associationType'), 'associationType', [
    'PRINCIPAL',
    'RESOURCE',
  ] as const)!;
  const arns = optionalStringList(body, 'resourceShareArns');
  arns?.forEach((a) => checkShareArn(a, 'resourceShareArns'));
  const resourceArn = optionalString(body, 'resourceArn');
  const principal = optionalString(body, 'principal');
  if (type === 'PRINCIPAL' && resourceArn !== undefined)
    throw new RamError(
      'InvalidParameterException',
      'resourceArn filters RESOURCE associations only.',
    );
  if (type === 'RESOURCE' && principal !== undefined)
    throw new RamError(
      'InvalidParameterException',
      'principal filters PRINCIPAL associations only.',
    );
  const status = checkEnum(optionalString(body, 'associationStatus'), 'associationStatus', [
    'ASSOCIATING',
    'ASSOCIATED',
    'FAILED',
    'DISASSOCIATING',
    'DISASSOCIATED',
  ] as const);
  const items: Body[] = [];
  for (const { data: s } of await allShares(scope.reader, scope.caller.accountId)) {
    if (arns && !arns.includes(s.resourceShareArn)) continue;
    const entries = type === 'RESOURCE' ? s.resources : s.principals;
    for (const e of entries) {
      const entity = 'arn' in e ? e.arn : e.id;
      if (resourceArn !== undefined && entity !== resourceArn) continue;
      if (principal !== undefined && entity !== principal) continue;
      if (status && e.status !== status) continue;
      items.push(renderAssociation(s, type, e));
    }
  }
  const { page, nextToken } = paginate(items, body);
  return { resourceShareAssociations: page, ...(nextToken ? { nextToken } : {}) };
}

/** DeleteResourceShare: status DELETED, every entry disassociated, pending invitations expired. */
export async function deleteResourceShare(
  scope: WriteScope,
  arn: string | undefined,
): Promise<Body> {
  const stored = await findOwnShare(
    scope,
    requireString({ resourceShareArn: arn }, 'resourceShareArn'),
  );
  const share = structuredClone(stored.data);
  if (share.status === 'DELETED')
    throw new RamError(
      'InvalidStateTransitionException',
      `The resource share ${share.resourceShareArn} is already deleted.`,
    );
  const now = scope.ctx.now();
  share.status = 'DELETED';
  for (const e of [...share.resources, ...share.principals]) {
    if (e.status === 'DISASSOCIATED') continue;
    e.status = 'DISASSOCIATED';
    e.lastUpdatedTime = now;
  }
  await expireInvitations(scope, share.resourceShareArn);
  await saveShare(scope, stored, share);
  return { returnValue: true };
}

/** GetResourceShareInvitations: invitations the caller received (and ones it sent). */
export async function getResourceShareInvitations(
  scope: OperationScope,
  body: Body,
): Promise<Body> {
  const invitationArns = optionalStringList(body, 'resourceShareInvitationArns');
  const shareArns = optionalStringList(body, 'resourceShareArns');
  shareArns?.forEach((a) => checkShareArn(a, 'resourceShareArns'));
  if (invitationArns && shareArns)
    throw new RamError(
      'InvalidParameterException',
      'Use resourceShareInvitationArns or resourceShareArns, not both.',
    );
  invitationArns?.forEach((a) => {
    if (!/^arn:[a-z-]+:ram:[a-z0-9-]*:\d{12}:resource-share-invitation\/[0-9a-f-]{36}$/.test(a))
      throw new RamError('MalformedArnException', `${a} is not a resource share invitation ARN.`);
  });
  const me = scope.caller.accountId;
  const received = await allInvitations(scope.reader, { receiverAccountId: me });
  const items = received
    .map((i) => i.data)
    .filter(
      (i) =>
        (!invitationArns || invitationArns.includes(i.resourceShareInvitationArn)) &&
        (!shareArns || shareArns.includes(i.resourceShareArn)),
    );
  const { page, nextToken } = paginate(items, body);
  return {
    resourceShareInvitations: page.map(renderInvitation),
    ...(nextToken ? { nextToken } : {}),
  };
}

async function findReceivedInvitation(scope: OperationScope, arn: string) {
  if (!/^arn:[a-z-]+:ram:[a-z0-9-]*:\d{12}:resource-share-invitation\/[0-9a-f-]{36}$/.test(arn))
    throw new RamError('MalformedArnException', `${arn} is not a resource share invitation ARN.`);
  const found = await scope.reader.getByArn<ResourceShareInvitation>(arn);
  if (
    !found ||
    found.kind !== INVITATION ||
    found.data.receiverAccountId !== scope.caller.accountId
  )
    throw new RamError(
      'ResourceShareInvitationArnNotFoundException',
      `The invitation ${arn} was not sent to account ${scope.caller.accountId}.`,
    );
  const { status } = found.data;
  if (status === 'ACCEPTED')
    throw new RamError(
      'ResourceShareInvitationAlreadyAcceptedException',
      `The invitation ${arn} was already accepted.`,
    );
  if (status === 'REJECTED')
    throw new RamError(
      'ResourceShareInvitationAlreadyRejectedException',
      `The invitation ${arn} was already rejected.`,
    );
  if (status === 'EXPIRED')
    throw new RamError(
      'ResourceShareInvitationExpiredException',
      `The invitation ${arn} has expired: the owner removed you from the share or deleted it.`,
    );
  return found;
}

async function answerInvitation(scope: WriteScope, body: Body, accept: boolean): Promise<Body> {
  const found = await findReceivedInvitation(
    scope,
    requireString(body, 'resourceShareInvitationArn'),
  );
  const invitation: ResourceShareInvitation = {
    ...found.data,
    status: accept ? 'ACCEPTED' : 'REJECTED',
  };
  await scope.tx.update({
    kind: INVITATION,
    id: found.id,
    accountId: found.accountId,
    arn: found.arn,
    data: invitation,
  });
  const shareRow = await scope.reader.getByArn<ResourceShare>(invitation.resourceShareArn);
  if (shareRow && shareRow.kind === SHARE) {
    const share = structuredClone(shareRow.data);
    const entry = share.principals.find(
      (p) => p.id === scope.caller.accountId && p.status === 'ASSOCIATING',
    );
    if (entry) {
      entry.status = accept ? 'ASSOCIATED' : 'FAILED';
      if (!accept) entry.statusMessage = 'The invitation was rejected.';
      entry.lastUpdatedTime = scope.ctx.now();
      await saveShare(scope, shareRow, share);
    }
  }
  return { resourceShareInvitation: renderInvitation(invitation) };
}

export function acceptResourceShareInvitation(scope: WriteScope, body: Body): Promise<Body> {
  return answerInvitation(scope, body, true);
}

export function rejectResourceShareInvitation(scope: WriteScope, body: Body): Promise<Body> {
  return answerInvitation(scope, body, false);
}

/** ListResources: resources the caller shares (SELF) or that are shared with it (OTHER-ACCOUNTS). */
export async function listResources(scope: OperationScope, body: Body): Promise<Body> {
  const owner = checkEnum(requireString(body, 'resourceOwner'), 'resourceOwner', [
    'SELF',
    'OTHER-ACCOUNTS',
  ] as const)!;
  const principal = optionalString(body, 'principal');
  const resourceType = optionalString(body, 'resourceType');
  const types = Object.values(RAM_SHAREABLE_TYPES) as string[];
  const wantedType = types.find((t) => t.toLowerCase() === resourceType?.toLowerCase());
  if (resourceType !== undefined && !wantedType)
    throw new RamError(
      'InvalidResourceTypeException',
      `Trellis shares ${Object.values(RAM_SHAREABLE_TYPES).join(' and ')} only.`,
    );
  const resourceArns = optionalStringList(body, 'resourceArns');
  const shareArns = optionalStringList(body, 'resourceShareArns');
  shareArns?.forEach((a) => checkShareArn(a, 'resourceShareArns'));
  const shares = await visibleShares(scope, owner);
  const items: Body[] = [];
  for (const s of shares) {
    if (s.status !== 'ACTIVE') continue;
    if (shareArns && !shareArns.includes(s.resourceShareArn)) continue;
    if (
      principal !== undefined &&
      !s.principals.some((p) => p.id === principal && p.status === 'ASSOCIATED')
    )
      continue;
    for (const r of s.resources) {
      if (r.status !== 'ASSOCIATED') continue;
      if (wantedType !== undefined && r.type !== wantedType) continue;
      if (resourceArns && !resourceArns.includes(r.arn)) continue;
      items.push({
        arn: r.arn,
        type: r.type,
        resourceShareArn: s.resourceShareArn,
        status: 'AVAILABLE',
        creationTime: toEpoch(r.creationTime),
        lastUpdatedTime: toEpoch(r.lastUpdatedTime),
        resourceRegionScope: 'REGIONAL',
      });
    }
  }
  const { page, nextToken } = paginate(items, body);
  return { resources: page, ...(nextToken ? { nextToken } : {}) };
}

/**
 * ARNs of the resources of RAM type `type` that ACTIVE shares of other accounts grant the
 * account `accountId` (directly or through its organization), for List* of shared resources.
 */
export async function arnsSharedWith(
  reader: StoreReader,
  accountId: string,
  type: (typeof RAM_SHAREABLE_TYPES)[keyof typeof RAM_SHAREABLE_TYPES],
): Promise<string[]> {
  const orgId = (await accountOf(reader, accountId))?.organizationId;
  const out = new Set<string>();
  for (const { data: s } of await allShares(reader)) {
    if (s.owningAccountId === accountId || s.status !== 'ACTIVE') continue;
    if (!s.principals.some((p) => principalCovers(p, accountId, orgId))) continue;
    for (const r of s.resources) if (r.status === 'ASSOCIATED' && r.type === type) out.add(r.arn);
  }
  return [...out];
}
