/**
 * Service network ↔ service (SNSA) and service network ↔ VPC (SNVA) associations (spec §1.5).
 * Trellis applies them at once: status is ACTIVE on create, and a delete answers
 * DELETE_IN_PROGRESS with the association already gone.
 */
import {
  AccessDeniedException,
  ConflictException,
  ValidationException,
} from '../errors/aws-errors.js';
import {
  ID_PREFIX,
  idFromIdentifier,
  newResourceId,
  serviceNetworkServiceAssociationArn,
  serviceNetworkVpcAssociationArn,
} from '../model/ids.js';
import type {
  Service,
  ServiceNetwork,
  ServiceNetworkServiceAssociation,
  ServiceNetworkVpcAssociation,
  Tags,
} from '../model/lattice-types.js';
import { FIXED_LIMITS } from '../model/quotas.js';
import {
  checkBoolean,
  checkEnum,
  checkKnownMembers,
  checkString,
  checkTags,
  isPlainObject,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import {
  SECURITY_GROUP_ID_PATTERN,
  VPC_ID_PATTERN,
} from '../model/validation/inventory-validation.js';
import type { StoredResource } from '../store/store.js';
import { checkQuota, findOwned } from './lookups.js';
import { arnScope, type OperationScope, type WriteScope } from './manager-context.js';
import { listPage } from './pagination.js';
import { findAssociable } from './resource-sharing.js';
import { requireSecurityGroupsOfVpc } from './security-groups.js';
import { findVpc } from './target-groups.js';

const SNSA = 'service-network-service-association' as const;
const SNVA = 'service-network-vpc-association' as const;
const PRIVATE_DNS_PREFERENCES = [
  'VERIFIED_DOMAINS_ONLY',
  'ALL_DOMAINS',
  'VERIFIED_DOMAINS_AND_SPECIFIED_DOMAINS',
  'SPECIFIED_DOMAINS_ONLY',
] as const;

/** Stored SNVA data: the model shape plus the (resource-configuration only) DNS options. */
type StoredVpcAssociation = ServiceNetworkVpcAssociation & { dnsOptions?: Record<string, unknown> };

function requireIdentifier(fields: FieldViolation[], name: string, value: unknown): void {
  checkString(fields, name, value, 3, 2048, true);
}

// ---------------------------------------------------------------------------------------------
// Service network ↔ service

/** CreateServiceNetworkServiceAssociation (spec §1.5 SNSA): HTTP 200, status ACTIVE. */
export async function createServiceNetworkServiceAssociation(
  scope: WriteScope,
  input: { serviceIdentifier?: unknown; serviceNetworkIdentifier?: unknown; tags?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  requireIdentifier(fields, 'serviceIdentifier', input.serviceIdentifier);
  requireIdentifier(fields, 'serviceNetworkIdentifier', input.serviceNetworkIdentifier);
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  // Either side may be another account's, named by ARN and shared with the caller (spec §1.5 SNSA).
  const sn = await findAssociable<ServiceNetwork>(
    scope,
    'service-network',
    input.serviceNetworkIdentifier as string,
    'vpc-lattice:CreateServiceNetworkServiceAssociation',
  );
  const svc = await findAssociable<Service>(
    scope,
    'service',
    input.serviceIdentifier as string,
    'vpc-lattice:CreateServiceNetworkServiceAssociation',
  );
  const accountId = scope.caller.accountId;
  if (sn.accountId !== accountId && svc.accountId !== accountId)
    throw new AccessDeniedException(
      'You must own the service or the service network: two resources shared with you cannot be associated with each other.',
    );
  const existing = await scope.reader.count({
    kind: SNSA,
    where: { serviceNetworkId: sn.id, serviceId: svc.id },
  });
  if (existing > 0) {
    throw new ConflictException(
      `Service ${svc.id} is already associated with service network ${sn.id}.`,
      svc.id,
      'SERVICE_NETWORK_SERVICE_ASSOCIATION',
    );
  }
  const domain = svc.data.customDomainName;
  if (domain) {
    // Two services of one network cannot answer the same host name.
    const clash = await scope.reader.count({
      kind: SNSA,
      where: { serviceNetworkId: sn.id, customDomainName: domain },
    });
    if (clash > 0) {
      throw new ConflictException(
        `Service network ${sn.id} already has a service with the custom domain name ${domain}.`,
        svc.id,
        'SERVICE_NETWORK_SERVICE_ASSOCIATION',
      );
    }
  }
  await checkQuota(
    scope,
    'serviceAssociationsPerServiceNetwork',
    { kind: SNSA, where: { serviceNetworkId: sn.id } },
    1,
    sn.id,
  );
  const id = newResourceId(ID_PREFIX[SNSA]);
  const assoc: ServiceNetworkServiceAssociation = {
    id,
    arn: serviceNetworkServiceAssociationArn(arnScope(scope), id),
    status: 'ACTIVE',
    createdBy: accountId,
    serviceId: svc.id,
    serviceName: svc.data.name,
    serviceArn: svc.data.arn,
    serviceNetworkId: sn.id,
    serviceNetworkName: sn.data.name,
    serviceNetworkArn: sn.data.arn,
    dnsEntry: svc.data.dnsEntry,
    createdAt: scope.ctx.now(),
  };
  if (domain) assoc.customDomainName = domain;
  if (input.tags) assoc.tags = input.tags as Tags;
  await scope.tx.insert({
    kind: SNSA,
    id,
    accountId,
    arn: assoc.arn,
    parentId: sn.id,
    data: assoc,
  });
  const out: Record<string, unknown> = {
    id,
    status: assoc.status,
    arn: assoc.arn,
    createdBy: assoc.createdBy,
    dnsEntry: assoc.dnsEntry,
  };
  if (domain) out.customDomainName = domain;
  return out;
}

function renderSnsa(a: ServiceNetworkServiceAssociation): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: a.id,
    status: a.status,
    arn: a.arn,
    createdBy: a.createdBy,
    createdAt: a.createdAt,
    serviceId: a.serviceId,
    serviceName: a.serviceName,
    serviceArn: a.serviceArn,
    serviceNetworkId: a.serviceNetworkId,
    serviceNetworkName: a.serviceNetworkName,
    serviceNetworkArn: a.serviceNetworkArn,
    dnsEntry: a.dnsEntry,
  };
  if (a.customDomainName) out.customDomainName = a.customDomainName;
  return out;
}

export async function getServiceNetworkServiceAssociation(
  scope: OperationScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findOwned<ServiceNetworkServiceAssociation>(scope, SNSA, identifier);
  return renderSnsa(found.data);
}

/** ListServiceNetworkServiceAssociations: needs a service network or a service (spec §1.5). */
export async function listServiceNetworkServiceAssociations(
  scope: OperationScope,
  query: {
    serviceNetworkIdentifier?: string;
    serviceIdentifier?: string;
    maxResults?: string;
    nextToken?: string;
  },
): Promise<Record<string, unknown>> {
  const where = associationFilter(
    query.serviceNetworkIdentifier,
    'serviceIdentifier',
    query.serviceIdentifier,
    'serviceId',
  );
  return listPage<ServiceNetworkServiceAssociation, Record<string, unknown>>(
    scope.reader,
    { kind: SNSA, accountId: scope.caller.accountId, where },
    query,
    (r) => renderSnsa(r.data),
  );
}

export async function deleteServiceNetworkServiceAssociation(
  scope: WriteScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findOwned<ServiceNetworkServiceAssociation>(scope, SNSA, identifier);
  await scope.tx.delete(SNSA, found.id);
  return { id: found.id, arn: found.data.arn, status: 'DELETE_IN_PROGRESS' };
}

// ---------------------------------------------------------------------------------------------
// Service network ↔ VPC

function checkSecurityGroups(
  fields: FieldViolation[],
  value: unknown,
  min: number,
  required: boolean,
): void {
  if (value === undefined) {
    if (required) fields.push({ name: 'securityGroupIds', message: 'is required' });
    return;
  }
  const max = FIXED_LIMITS.securityGroupsPerVpcAssociation;
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    const extra =
      min > 0
        ? ' (once an association has security groups, the set cannot be emptied: delete and recreate the association, spec §8.15)'
        : '';
    fields.push({
      name: 'securityGroupIds',
      message: `must be a list of ${min} to ${max} security group ids${extra}`,
    });
    return;
  }
  value.forEach((sg, i) => {
    if (typeof sg !== 'string' || !SECURITY_GROUP_ID_PATTERN.test(sg)) {
      fields.push({
        name: `securityGroupIds[${i}]`,
        message: 'must be a security group id (sg- followed by 8 or 17 characters)',
      });
    }
  });
  if (new Set(value).size !== value.length) {
    fields.push({ name: 'securityGroupIds', message: 'must not repeat a security group id' });
  }
}

function checkDnsOptions(fields: FieldViolation[], value: unknown): void {
  if (value === undefined) return;
  if (!isPlainObject(value)) {
    fields.push({ name: 'dnsOptions', message: 'must be an object' });
    return;
  }
  checkKnownMembers(fields, 'dnsOptions', value, [
    'privateDnsPreference',
    'privateDnsSpecifiedDomains',
  ]);
  checkEnum(
    fields,
    'dnsOptions.privateDnsPreference',
    value.privateDnsPreference,
    PRIVATE_DNS_PREFERENCES,
  );
  const domains = value.privateDnsSpecifiedDomains;
  if (
    domains !== undefined &&
    (!Array.isArray(domains) ||
      domains.length < 1 ||
      domains.length > 10 ||
      !domains.every((d) => typeof d === 'string' && d.length >= 1 && d.length <= 255))
  ) {
    fields.push({
      name: 'dnsOptions.privateDnsSpecifiedDomains',
      message: 'must be a list of 1 to 10 domain names',
    });
  }
}

/**
 * CreateServiceNetworkVpcAssociation (spec §1.5 SNVA): HTTP 200; the VPC must be in the caller's
 * inventory; a VPC has at most one service-network association (409 otherwise).
 */
export async function createServiceNetworkVpcAssociation(
  scope: WriteScope,
  input: {
    serviceNetworkIdentifier?: unknown;
    vpcIdentifier?: unknown;
    privateDnsEnabled?: unknown;
    securityGroupIds?: unknown;
    tags?: unknown;
    dnsOptions?: unknown;
  },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  requireIdentifier(fields, 'serviceNetworkIdentifier', input.serviceNetworkIdentifier);
  checkString(fields, 'vpcIdentifier', input.vpcIdentifier, 5, 50, true, VPC_ID_PATTERN);
  checkBoolean(fields, 'privateDnsEnabled', input.privateDnsEnabled);
  checkSecurityGroups(fields, input.securityGroupIds, 0, false);
  checkDnsOptions(fields, input.dnsOptions);
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const sn = await findAssociable<ServiceNetwork>(
    scope,
    'service-network',
    input.serviceNetworkIdentifier as string,
    'vpc-lattice:CreateServiceNetworkVpcAssociation',
  );
  const vpc = await findVpc(scope, input.vpcIdentifier as string);
  // spec §1.5 SNVA: the security groups must be groups of that VPC.
  await requireSecurityGroupsOfVpc(scope, vpc.id, (input.securityGroupIds as string[]) ?? []);
  const existing = await scope.reader.list<ServiceNetworkVpcAssociation>({
    kind: SNVA,
    where: { vpcId: vpc.id },
    limit: 1,
  });
  const other = existing.items[0];
  if (other) {
    throw new ConflictException(
      `VPC ${vpc.id} is already associated with service network ${other.data.serviceNetworkId} (${other.id}); a VPC can have only one service network association.`,
      vpc.id,
      'SERVICE_NETWORK_VPC_ASSOCIATION',
    );
  }
  await checkQuota(
    scope,
    'vpcAssociationsPerServiceNetwork',
    { kind: SNVA, where: { serviceNetworkId: sn.id } },
    1,
    sn.id,
  );
  const accountId = scope.caller.accountId;
  const id = newResourceId(ID_PREFIX[SNVA]);
  const now = scope.ctx.now();
  const assoc: StoredVpcAssociation = {
    id,
    arn: serviceNetworkVpcAssociationArn(arnScope(scope), id),
    status: 'ACTIVE',
    createdBy: accountId,
    serviceNetworkId: sn.id,
    serviceNetworkName: sn.data.name,
    serviceNetworkArn: sn.data.arn,
    vpcId: vpc.id,
    createdAt: now,
    lastUpdatedAt: now,
  };
  const sgs = input.securityGroupIds as string[] | undefined;
  if (sgs?.length) assoc.securityGroupIds = sgs;
  if (input.privateDnsEnabled !== undefined) {
    assoc.privateDnsEnabled = input.privateDnsEnabled as boolean;
  }
  if (input.dnsOptions) assoc.dnsOptions = input.dnsOptions as Record<string, unknown>;
  if (input.tags) assoc.tags = input.tags as Tags;
  await scope.tx.insert({
    kind: SNVA,
    id,
    accountId,
    arn: assoc.arn,
    parentId: sn.id,
    data: assoc,
  });
  const out: Record<string, unknown> = {
    id,
    status: assoc.status,
    arn: assoc.arn,
    createdBy: accountId,
    securityGroupIds: assoc.securityGroupIds ?? [],
  };
  if (assoc.privateDnsEnabled !== undefined) out.privateDnsEnabled = assoc.privateDnsEnabled;
  if (assoc.dnsOptions) out.dnsOptions = assoc.dnsOptions;
  return out;
}

function renderSnva(a: StoredVpcAssociation, full: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: a.id,
    arn: a.arn,
    status: a.status,
    createdBy: a.createdBy,
    createdAt: a.createdAt,
    lastUpdatedAt: a.lastUpdatedAt,
    serviceNetworkId: a.serviceNetworkId,
    serviceNetworkName: a.serviceNetworkName,
    serviceNetworkArn: a.serviceNetworkArn,
    vpcId: a.vpcId,
  };
  if (full) {
    out.securityGroupIds = a.securityGroupIds ?? [];
    if (a.privateDnsEnabled !== undefined) out.privateDnsEnabled = a.privateDnsEnabled;
    if (a.dnsOptions) out.dnsOptions = a.dnsOptions;
  }
  return out;
}

export async function getServiceNetworkVpcAssociation(
  scope: OperationScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findOwned<StoredVpcAssociation>(scope, SNVA, identifier);
  return renderSnva(found.data, true);
}

/** ListServiceNetworkVpcAssociations: needs a service network or a VPC (spec §1.5). */
export async function listServiceNetworkVpcAssociations(
  scope: OperationScope,
  query: {
    serviceNetworkIdentifier?: string;
    vpcIdentifier?: string;
    maxResults?: string;
    nextToken?: string;
  },
): Promise<Record<string, unknown>> {
  const where = associationFilter(
    query.serviceNetworkIdentifier,
    'vpcIdentifier',
    query.vpcIdentifier,
    'vpcId',
  );
  return listPage<StoredVpcAssociation, Record<string, unknown>>(
    scope.reader,
    { kind: SNVA, accountId: scope.caller.accountId, where },
    query,
    (r: StoredResource<StoredVpcAssociation>) => renderSnva(r.data, false),
  );
}

/**
 * UpdateServiceNetworkVpcAssociation: replaces the security groups (1–5). An association that has
 * security groups can never go back to none (spec §8.15), hence the minimum of one.
 */
export async function updateServiceNetworkVpcAssociation(
  scope: WriteScope,
  identifier: string,
  input: { securityGroupIds?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkSecurityGroups(fields, input.securityGroupIds, 1, true);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findOwned<StoredVpcAssociation>(scope, SNVA, identifier);
  await requireSecurityGroupsOfVpc(scope, found.data.vpcId, input.securityGroupIds as string[]);
  const data: StoredVpcAssociation = {
    ...found.data,
    securityGroupIds: input.securityGroupIds as string[],
    lastUpdatedAt: scope.ctx.now(),
  };
  await scope.tx.update({
    kind: SNVA,
    id: found.id,
    accountId: found.accountId,
    parentId: found.parentId,
    data,
  });
  return {
    id: data.id,
    arn: data.arn,
    status: data.status,
    createdBy: data.createdBy,
    securityGroupIds: data.securityGroupIds,
  };
}

export async function deleteServiceNetworkVpcAssociation(
  scope: WriteScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findOwned<StoredVpcAssociation>(scope, SNVA, identifier);
  await scope.tx.delete(SNVA, found.id);
  return { id: found.id, arn: found.data.arn, status: 'DELETE_IN_PROGRESS' };
}

/**
 * The store filter of the List*Associations operations (spec §1.5): a service network, the other
 * side (service or VPC), or both; neither answers ValidationException.
 */
function associationFilter(
  serviceNetworkIdentifier: string | undefined,
  otherMember: 'serviceIdentifier' | 'vpcIdentifier',
  otherIdentifier: string | undefined,
  otherField: 'serviceId' | 'vpcId',
): Record<string, string> {
  if (!serviceNetworkIdentifier && !otherIdentifier) {
    throw ValidationException.fromFields([
      {
        name: 'serviceNetworkIdentifier',
        message: `either serviceNetworkIdentifier or ${otherMember} must be given`,
      },
    ]);
  }
  const where: Record<string, string> = {};
  if (serviceNetworkIdentifier) where.serviceNetworkId = idFromIdentifier(serviceNetworkIdentifier);
  if (otherIdentifier) where[otherField] = idFromIdentifier(otherIdentifier);
  return where;
}
