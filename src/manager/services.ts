import { ConflictException, ValidationException } from '../errors/aws-errors.js';
import {
  ID_PREFIX,
  newResourceId,
  serviceArn,
  serviceDnsName,
  serviceHostedZoneId,
} from '../model/ids.js';
import type { AuthType, Listener, Service, Tags } from '../model/lattice-types.js';
import {
  checkEnum,
  checkInteger,
  checkResourceName,
  checkString,
  checkTags,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import { StoreConflictError } from '../store/store-errors.js';
import type { StoredResource } from '../store/store.js';
import { certificateProblem } from './certificates.js';
import { checkQuota, findOwned } from './lookups.js';
import { arnScope, type OperationScope, type WriteScope } from './manager-context.js';
import { findReadable, listOwnedAndShared } from './resource-sharing.js';
import { deleteAttachedPolicies } from './service-networks.js';

const AUTH_TYPES: readonly AuthType[] = ['NONE', 'AWS_IAM'];

/** spec §1.5: idle timeout 60–600 s, default 60. */
export const IDLE_TIMEOUT = Object.freeze({ min: 60, max: 600, default: 60 });

/**
 * ACM certificate ARN (spec §1.5: `…:certificate/[0-9a-z-]+`). The model's pattern also admits
 * the empty string, which UpdateService uses to remove the certificate.
 */
const CERTIFICATE_ARN = /^(arn:[a-z0-9-]+:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-z-]+)?$/;

/** A DNS name of labels `[a-zA-Z0-9-]` (no leading/trailing hyphen) separated by dots. */
const DOMAIN_NAME =
  /^(?=.{3,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export interface CreateServiceInput {
  name?: unknown;
  customDomainName?: unknown;
  certificateArn?: unknown;
  authType?: unknown;
  idleTimeoutSeconds?: unknown;
  tags?: unknown;
}

/**
 * CreateService (spec §1.5 Service). Trellis has no asynchronous provisioning, so a service is
 * `ACTIVE` as soon as it is created (the real service answers `CREATE_IN_PROGRESS` first, then
 * `ACTIVE`; clients that wait for `ACTIVE` see it at once).
 */
export async function createService(
  scope: WriteScope,
  input: CreateServiceInput,
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkResourceName(fields, 'name', input.name, 40, 'svc-');
  checkString(fields, 'customDomainName', input.customDomainName, 3, 255, false, DOMAIN_NAME);
  checkString(fields, 'certificateArn', input.certificateArn, 0, 2048, false, CERTIFICATE_ARN);
  checkEnum(fields, 'authType', input.authType, AUTH_TYPES);
  checkInteger(
    fields,
    'idleTimeoutSeconds',
    input.idleTimeoutSeconds,
    IDLE_TIMEOUT.min,
    IDLE_TIMEOUT.max,
  );
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  await checkCertificate(scope, input.certificateArn);
  const name = input.name as string;
  const accountId = scope.caller.accountId;
  await checkQuota(scope, 'servicesPerRegion', { kind: 'service', accountId });
  const id = newResourceId(ID_PREFIX.service);
  const now = scope.ctx.now();
  const svc: Service = {
    id,
    arn: serviceArn(arnScope(scope), id),
    name,
    authType: (input.authType as AuthType | undefined) ?? 'NONE',
    idleTimeoutSeconds: (input.idleTimeoutSeconds as number | undefined) ?? IDLE_TIMEOUT.default,
    dnsEntry: {
      domainName: serviceDnsName(name, id, scope.ctx.region),
      hostedZoneId: serviceHostedZoneId(scope.ctx.region),
    },
    status: 'ACTIVE',
    createdAt: now,
    lastUpdatedAt: now,
  };
  if (typeof input.customDomainName === 'string') svc.customDomainName = input.customDomainName;
  if (typeof input.certificateArn === 'string' && input.certificateArn) {
    svc.certificateArn = input.certificateArn;
  }
  if (input.tags) svc.tags = input.tags as Tags;
  try {
    await scope.tx.insert({ kind: 'service', id, accountId, arn: svc.arn, name, data: svc });
  } catch (err) {
    if (err instanceof StoreConflictError && err.field === 'name') {
      throw new ConflictException(
        `A service named ${name} already exists in this account.`,
        name,
        'SERVICE',
      );
    }
    throw err;
  }
  return {
    id,
    arn: svc.arn,
    name,
    ...domainAndCertificate(svc),
    status: svc.status,
    authType: svc.authType,
    idleTimeoutSeconds: svc.idleTimeoutSeconds,
    dnsEntry: svc.dnsEntry,
  };
}

/** spec §1.5/§7.4: a `certificateArn` must name a certificate of the caller's account. */
async function checkCertificate(scope: OperationScope, arn: unknown): Promise<void> {
  if (typeof arn !== 'string' || arn === '') return;
  const problem = await certificateProblem(scope, arn);
  if (problem !== undefined)
    throw ValidationException.fromFields([{ name: 'certificateArn', message: problem }]);
}

function domainAndCertificate(svc: Service): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (svc.customDomainName) out.customDomainName = svc.customDomainName;
  if (svc.certificateArn) out.certificateArn = svc.certificateArn;
  return out;
}

/** Finds a service of the caller's account by ID or ARN (404 otherwise). */
export function findService(
  scope: OperationScope,
  identifier: string,
): Promise<StoredResource<Service>> {
  return findOwned<Service>(scope, 'service', identifier);
}

export async function getService(
  scope: OperationScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  // A service shared with the caller (RAM share or resource policy) is readable by ARN.
  const svc = (await findReadable<Service>(scope, 'service', identifier)).data;
  return {
    id: svc.id,
    name: svc.name,
    arn: svc.arn,
    createdAt: svc.createdAt,
    lastUpdatedAt: svc.lastUpdatedAt,
    dnsEntry: svc.dnsEntry,
    ...domainAndCertificate(svc),
    status: svc.status,
    authType: svc.authType,
    idleTimeoutSeconds: svc.idleTimeoutSeconds,
  };
}

export async function listServices(
  scope: OperationScope,
  page: { maxResults?: string; nextToken?: string },
): Promise<Record<string, unknown>> {
  // Owned services, then those shared with the caller (model doc: "owned by or shared with").
  return listOwnedAndShared<Service, Record<string, unknown>>(scope, 'service', page, (r) => {
    const out: Record<string, unknown> = {
      id: r.data.id,
      name: r.data.name,
      arn: r.data.arn,
      createdAt: r.data.createdAt,
      lastUpdatedAt: r.data.lastUpdatedAt,
      dnsEntry: r.data.dnsEntry,
      status: r.data.status,
    };
    if (r.data.customDomainName) out.customDomainName = r.data.customDomainName;
    return out;
  });
}

export interface UpdateServiceInput {
  certificateArn?: unknown;
  authType?: unknown;
  idleTimeoutSeconds?: unknown;
}

/**
 * UpdateService: only `certificateArn` (empty string removes it), `authType` and
 * `idleTimeoutSeconds` change; name and custom domain are immutable (spec §1.5).
 */
export async function updateService(
  scope: WriteScope,
  identifier: string,
  input: UpdateServiceInput,
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkString(fields, 'certificateArn', input.certificateArn, 0, 2048, false, CERTIFICATE_ARN);
  checkEnum(fields, 'authType', input.authType, AUTH_TYPES);
  checkInteger(
    fields,
    'idleTimeoutSeconds',
    input.idleTimeoutSeconds,
    IDLE_TIMEOUT.min,
    IDLE_TIMEOUT.max,
  );
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findService(scope, identifier);
  await checkCertificate(scope, input.certificateArn);
  const svc: Service = { ...found.data, lastUpdatedAt: scope.ctx.now() };
  if (input.authType !== undefined) svc.authType = input.authType as AuthType;
  if (input.idleTimeoutSeconds !== undefined) {
    svc.idleTimeoutSeconds = input.idleTimeoutSeconds as number;
  }
  if (input.certificateArn === '') delete svc.certificateArn;
  else if (typeof input.certificateArn === 'string') svc.certificateArn = input.certificateArn;
  await scope.tx.update({ kind: 'service', id: svc.id, accountId: found.accountId, data: svc });
  return {
    id: svc.id,
    arn: svc.arn,
    name: svc.name,
    ...domainAndCertificate(svc),
    authType: svc.authType,
    idleTimeoutSeconds: svc.idleTimeoutSeconds,
  };
}

/**
 * DeleteService: refused (409) while the service is associated with any service network;
 * cascades its listeners, their rules, and its auth policy, resource policy and access-log
 * subscriptions (spec §1.5). Answers `DELETE_IN_PROGRESS`, as the real service does, although the
 * service is already gone when the call returns.
 */
export async function deleteService(
  scope: WriteScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findService(scope, identifier);
  const svc = found.data;
  const associations = await scope.tx.count({
    kind: 'service-network-service-association',
    where: { serviceId: svc.id },
  });
  if (associations > 0) {
    throw new ConflictException(
      `Service ${svc.id} is associated with ${associations} service network(s). Delete its service network service associations first.`,
      svc.id,
      'SERVICE',
    );
  }
  const listeners = await scope.tx.list<Listener>({ kind: 'listener', parentId: svc.id });
  for (const l of listeners.items) await deleteListenerCascade(scope, l.id);
  await deleteAttachedPolicies(scope, svc.id, svc.arn);
  await scope.tx.delete('service', svc.id);
  return { id: svc.id, arn: svc.arn, name: svc.name, status: 'DELETE_IN_PROGRESS' };
}

/** Deletes a listener and every rule under it (spec §1.5: rules go with their listener). */
export async function deleteListenerCascade(scope: WriteScope, listenerId: string): Promise<void> {
  const rules = await scope.tx.list({ kind: 'rule', parentId: listenerId });
  for (const r of rules.items) await scope.tx.delete('rule', r.id);
  await scope.tx.delete('listener', listenerId);
}
