/**
 * Trellis's security-group registry (issue 8 §3): kind `security-group`, id = `sg-` + 17 hex,
 * owned by the VPC's owner. Service-network–VPC associations name them in `securityGroupIds`
 * (spec §1.5 SNVA: "must be in that VPC"), and the data plane applies their inbound rules to
 * clients at that VPC's ingress (spec §7.5 security layer 2).
 */
import {
  ConflictException,
  ResourceNotFoundException,
  ValidationException,
} from '../errors/aws-errors.js';
import { randomHex17 } from '../model/ids.js';
import type { SecurityGroup, SecurityGroupRule } from '../model/security-group-types.js';
import type { Tags } from '../model/lattice-types.js';
import {
  checkKnownMembers,
  checkString,
  checkTags,
  isPlainObject,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import {
  SECURITY_GROUP_ID_PATTERN,
  VPC_ID_PATTERN,
  checkIpList,
  isCidr,
  isIpv4,
} from '../model/validation/inventory-validation.js';
import type { StoredResource } from '../store/store.js';
import type { OperationScope, WriteScope } from './manager-context.js';
import { listPage } from './pagination.js';
import { findVpc } from './target-groups.js';

const KIND = 'security-group' as const;
const RESOURCE_TYPE = 'SECURITY_GROUP';
/** Inbound rules per group (the EC2 default quota). */
export const MAX_RULES_PER_GROUP = 60;
const RULE_MEMBERS = [
  'protocol',
  'fromPort',
  'toPort',
  'cidrIpv4',
  'cidrIpv6',
  'sourceSecurityGroupId',
  'description',
];

function groupNotFound(groupId: string): ResourceNotFoundException {
  return new ResourceNotFoundException(
    `Security group ${groupId} not found`,
    groupId,
    RESOURCE_TYPE,
  );
}

/** Finds a security group of the caller's account. */
export async function findSecurityGroup(
  scope: OperationScope,
  groupId: string,
): Promise<StoredResource<SecurityGroup>> {
  const found = await scope.reader.get<SecurityGroup>(KIND, groupId);
  if (!found || found.accountId !== scope.caller.accountId) throw groupNotFound(groupId);
  return found;
}

/**
 * Checks that every id names a security group of `vpcId` (spec §1.5 SNVA); ResourceNotFound for
 * the first that does not. Used by the SN–VPC association operations.
 */
export async function requireSecurityGroupsOfVpc(
  scope: OperationScope,
  vpcId: string,
  groupIds: readonly string[],
): Promise<void> {
  for (const id of groupIds) {
    const found = await scope.reader.get<SecurityGroup>(KIND, id);
    if (!found || found.data.vpcId !== vpcId) {
      throw new ResourceNotFoundException(
        `Security group ${id} not found in ${vpcId}. Create it with POST /_trellis/securitygroups first.`,
        id,
        RESOURCE_TYPE,
      );
    }
  }
}

/** Validates a list of rules; returns them normalised (ports of `-1` rules are 0–65535). */
function checkRules(fields: FieldViolation[], name: string, value: unknown): SecurityGroupRule[] {
  if (!Array.isArray(value) || value.length > MAX_RULES_PER_GROUP) {
    fields.push({ name, message: `must be a list of at most ${MAX_RULES_PER_GROUP} rules` });
    return [];
  }
  const out: SecurityGroupRule[] = [];
  value.forEach((r: unknown, i) => {
    const at = `${name}[${i}]`;
    if (!isPlainObject(r)) {
      fields.push({ name: at, message: 'must be an object' });
      return;
    }
    const before = fields.length;
    checkKnownMembers(fields, at, r, RULE_MEMBERS);
    if (r.protocol !== 'tcp' && r.protocol !== '-1')
      fields.push({ name: `${at}.protocol`, message: "must be 'tcp' or '-1' (all traffic)" });
    const port = (v: unknown): boolean =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
    if (r.protocol === 'tcp') {
      if (!port(r.fromPort) || !port(r.toPort) || (r.fromPort as number) > (r.toPort as number))
        fields.push({
          name: `${at}.fromPort`,
          message: 'fromPort and toPort must be ports 0–65535 with fromPort <= toPort',
        });
    }
    const sources = ['cidrIpv4', 'cidrIpv6', 'sourceSecurityGroupId'].filter(
      (k) => r[k] !== undefined,
    );
    if (sources.length !== 1)
      fields.push({
        name: at,
        message: 'must have exactly one of cidrIpv4, cidrIpv6, sourceSecurityGroupId',
      });
    if (
      r.cidrIpv4 !== undefined &&
      (typeof r.cidrIpv4 !== 'string' || !isCidr(r.cidrIpv4) || !isIpv4(r.cidrIpv4.split('/')[0]!))
    )
      fields.push({ name: `${at}.cidrIpv4`, message: 'must be an IPv4 CIDR such as 10.0.0.0/16' });
    if (
      r.cidrIpv6 !== undefined &&
      (typeof r.cidrIpv6 !== 'string' || !isCidr(r.cidrIpv6) || !r.cidrIpv6.includes(':'))
    )
      fields.push({ name: `${at}.cidrIpv6`, message: 'must be an IPv6 CIDR such as fd00::/8' });
    checkString(
      fields,
      `${at}.sourceSecurityGroupId`,
      r.sourceSecurityGroupId,
      11,
      20,
      false,
      SECURITY_GROUP_ID_PATTERN,
    );
    checkString(fields, `${at}.description`, r.description, 0, 255);
    if (fields.length !== before) return;
    const rule: SecurityGroupRule = {
      protocol: r.protocol as 'tcp' | '-1',
      fromPort: r.protocol === 'tcp' ? (r.fromPort as number) : 0,
      toPort: r.protocol === 'tcp' ? (r.toPort as number) : 65535,
    };
    if (r.cidrIpv4 !== undefined) rule.cidrIpv4 = r.cidrIpv4 as string;
    if (r.cidrIpv6 !== undefined) rule.cidrIpv6 = r.cidrIpv6 as string;
    if (r.sourceSecurityGroupId !== undefined)
      rule.sourceSecurityGroupId = r.sourceSecurityGroupId as string;
    if (r.description !== undefined) rule.description = r.description as string;
    out.push(rule);
  });
  return out;
}

function ruleKey(r: SecurityGroupRule): string {
  return [
    r.protocol,
    r.fromPort,
    r.toPort,
    r.cidrIpv4 ?? '',
    r.cidrIpv6 ?? '',
    r.sourceSecurityGroupId ?? '',
  ].join('|');
}

/** Source groups must be groups of the same VPC (or the group itself). */
async function checkSourceGroups(
  scope: OperationScope,
  vpcId: string,
  selfId: string,
  rules: SecurityGroupRule[],
): Promise<void> {
  const ids = new Set(rules.map((r) => r.sourceSecurityGroupId).filter((s) => s && s !== selfId));
  await requireSecurityGroupsOfVpc(scope, vpcId, [...ids] as string[]);
}

/** CreateSecurityGroup: 201 → SecurityGroup. */
export async function createSecurityGroup(
  scope: WriteScope,
  input: {
    groupName?: unknown;
    description?: unknown;
    vpcId?: unknown;
    inboundRules?: unknown;
    memberAddresses?: unknown;
    tags?: unknown;
  },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkString(fields, 'groupName', input.groupName, 1, 255, true);
  checkString(fields, 'description', input.description, 0, 255);
  checkString(fields, 'vpcId', input.vpcId, 12, 21, true, VPC_ID_PATTERN);
  const rules =
    input.inboundRules === undefined ? [] : checkRules(fields, 'inboundRules', input.inboundRules);
  if (input.memberAddresses !== undefined)
    checkIpList(fields, 'memberAddresses', input.memberAddresses, 0, 1000);
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const vpc = await findVpc(scope, input.vpcId as string);
  const groupId = `sg-${randomHex17()}`;
  await checkSourceGroups(scope, vpc.id, groupId, rules);
  const sameName = await scope.reader.count({
    kind: KIND,
    where: { vpcId: vpc.id, groupName: input.groupName as string },
  });
  if (sameName > 0)
    throw new ConflictException(
      `A security group named ${String(input.groupName)} already exists in ${vpc.id}.`,
      String(input.groupName),
      RESOURCE_TYPE,
    );
  const group: SecurityGroup = {
    groupId,
    groupName: input.groupName as string,
    description: (input.description as string | undefined) ?? '',
    vpcId: vpc.id,
    ownerAccountId: scope.caller.accountId,
    inboundRules: dedupe(rules),
    memberAddresses: (input.memberAddresses as string[] | undefined) ?? [],
    createdAt: scope.ctx.now(),
  };
  if (input.tags) group.tags = input.tags as Tags;
  await scope.tx.insert({
    kind: KIND,
    id: groupId,
    accountId: scope.caller.accountId,
    parentId: vpc.id,
    data: group,
  });
  return { ...group };
}

function dedupe(rules: SecurityGroupRule[]): SecurityGroupRule[] {
  const seen = new Set<string>();
  return rules.filter((r) => !seen.has(ruleKey(r)) && seen.add(ruleKey(r)));
}

export async function getSecurityGroup(
  scope: OperationScope,
  groupId: string,
): Promise<Record<string, unknown>> {
  return { ...(await findSecurityGroup(scope, groupId)).data };
}

export async function listSecurityGroups(
  scope: OperationScope,
  page: { maxResults?: string; nextToken?: string; vpcId?: string },
): Promise<Record<string, unknown>> {
  return listPage<SecurityGroup, SecurityGroup>(
    scope.reader,
    {
      kind: KIND,
      accountId: scope.caller.accountId,
      ...(page.vpcId ? { where: { vpcId: page.vpcId } } : {}),
    },
    page,
    (r) => r.data,
  );
}

async function save(
  scope: WriteScope,
  found: StoredResource<SecurityGroup>,
  data: SecurityGroup,
): Promise<Record<string, unknown>> {
  await scope.tx.update({
    kind: KIND,
    id: found.id,
    accountId: found.accountId,
    parentId: found.parentId,
    data,
  });
  return { ...data };
}

/** AuthorizeSecurityGroupIngress: adds rules (an identical rule already there → 409). */
export async function authorizeSecurityGroupIngress(
  scope: WriteScope,
  groupId: string,
  input: { inboundRules?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  const rules = checkRules(fields, 'inboundRules', input.inboundRules);
  if (!fields.length && rules.length === 0)
    fields.push({ name: 'inboundRules', message: 'must name at least one rule' });
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findSecurityGroup(scope, groupId);
  await checkSourceGroups(scope, found.data.vpcId, found.id, rules);
  const have = new Set(found.data.inboundRules.map(ruleKey));
  const dup = rules.find((r) => have.has(ruleKey(r)));
  if (dup)
    throw new ConflictException(
      `Security group ${groupId} already has the rule ${ruleKey(dup)}.`,
      groupId,
      RESOURCE_TYPE,
    );
  const inboundRules = dedupe([...found.data.inboundRules, ...rules]);
  if (inboundRules.length > MAX_RULES_PER_GROUP)
    throw ValidationException.fromFields([
      { name: 'inboundRules', message: `a group has at most ${MAX_RULES_PER_GROUP} rules` },
    ]);
  return save(scope, found, { ...found.data, inboundRules });
}

/** RevokeSecurityGroupIngress: removes rules; a rule the group does not have → 404. */
export async function revokeSecurityGroupIngress(
  scope: WriteScope,
  groupId: string,
  input: { inboundRules?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  const rules = checkRules(fields, 'inboundRules', input.inboundRules);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findSecurityGroup(scope, groupId);
  const drop = new Set(rules.map(ruleKey));
  const have = new Set(found.data.inboundRules.map(ruleKey));
  const missing = [...drop].find((k) => !have.has(k));
  if (missing !== undefined)
    throw new ResourceNotFoundException(
      `Security group ${groupId} has no rule ${missing}.`,
      groupId,
      RESOURCE_TYPE,
    );
  const inboundRules = found.data.inboundRules.filter((r) => !drop.has(ruleKey(r)));
  return save(scope, found, { ...found.data, inboundRules });
}

/** UpdateSecurityGroupMembers: replaces the client addresses that carry the group. */
export async function updateSecurityGroupMembers(
  scope: WriteScope,
  groupId: string,
  input: { memberAddresses?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkIpList(fields, 'memberAddresses', input.memberAddresses, 0, 1000);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findSecurityGroup(scope, groupId);
  return save(scope, found, {
    ...found.data,
    memberAddresses: input.memberAddresses as string[],
  });
}

/** DeleteSecurityGroup: 409 while an association or another group's rule uses it. */
export async function deleteSecurityGroup(scope: WriteScope, groupId: string): Promise<void> {
  const found = await findSecurityGroup(scope, groupId);
  const associations = await scope.reader.list<{ securityGroupIds?: string[]; id: string }>({
    kind: 'service-network-vpc-association',
    where: { vpcId: found.data.vpcId },
  });
  const user = associations.items.find((a) => a.data.securityGroupIds?.includes(groupId));
  if (user)
    throw new ConflictException(
      `Security group ${groupId} is used by service network VPC association ${user.id}.`,
      groupId,
      RESOURCE_TYPE,
    );
  const groups = await scope.reader.list<SecurityGroup>({
    kind: KIND,
    where: { vpcId: found.data.vpcId },
  });
  const referrer = groups.items.find(
    (g) => g.id !== groupId && g.data.inboundRules.some((r) => r.sourceSecurityGroupId === groupId),
  );
  if (referrer)
    throw new ConflictException(
      `Security group ${groupId} is referenced by a rule of ${referrer.id}.`,
      groupId,
      RESOURCE_TYPE,
    );
  await scope.tx.delete(KIND, found.id);
}
