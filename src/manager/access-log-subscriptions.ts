/**
 * Access-log subscriptions of service networks and services (spec §1.5 AccessLogSubscription,
 * §4.1). Stored as kind `access-log-subscription`, parentId = the resource's id. A resource has
 * at most one subscription per destination type (CloudWatch Logs, S3, Firehose) and, for service
 * networks, per log type (SERVICE / RESOURCE).
 */
import { ConflictException, ValidationException } from '../errors/aws-errors.js';
import {
  accessLogSubscriptionArn,
  ID_PREFIX,
  idFromIdentifier,
  newResourceId,
} from '../model/ids.js';
import type { AccessLogSubscription, Tags } from '../model/lattice-types.js';
import {
  checkEnum,
  checkString,
  checkTags,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import { findServiceOrNetwork } from './auth-policies.js';
import { findOwned } from './lookups.js';
import { arnScope, type OperationScope, type WriteScope } from './manager-context.js';
import { listPage } from './pagination.js';

const ALS = 'access-log-subscription' as const;
const LOG_TYPES = ['SERVICE', 'RESOURCE'] as const;

/** Where access logs may go (spec §1.5): the three destination ARN shapes. */
const DESTINATIONS: { type: DestinationType; pattern: RegExp }[] = [
  {
    type: 'logs',
    pattern: /^arn:[a-z0-9-]+:logs:[a-z0-9-]+:\d{12}:log-group:[\w#./-]{1,512}(?::\*)?$/,
  },
  {
    type: 's3',
    pattern: /^arn:[a-z0-9-]+:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/[^\s]*)?$/,
  },
  {
    type: 'firehose',
    pattern: /^arn:[a-z0-9-]+:firehose:[a-z0-9-]+:\d{12}:deliverystream\/[a-zA-Z0-9_.-]{1,64}$/,
  },
];

/** The kind of destination an ARN names: CloudWatch Logs, S3 or Firehose. */
export type DestinationType = 'logs' | 's3' | 'firehose';

/** The destination type of an ARN, or undefined when it is none of the three shapes. */
export function destinationType(arn: string): DestinationType | undefined {
  return DESTINATIONS.find((d) => d.pattern.test(arn))?.type;
}

const DESTINATION_MESSAGE =
  'must be the ARN of a CloudWatch Logs log group (arn:aws:logs:region:account:log-group:name), an S3 bucket (arn:aws:s3:::bucket) or a Firehose delivery stream (arn:aws:firehose:region:account:deliverystream/name)';

function checkDestination(fields: FieldViolation[], value: unknown): void {
  checkString(fields, 'destinationArn', value, 20, 2048, true);
  if (typeof value === 'string' && !fields.length && !destinationType(value)) {
    fields.push({ name: 'destinationArn', message: DESTINATION_MESSAGE });
  }
}

async function checkOnePerDestinationType(
  scope: OperationScope,
  resourceId: string,
  destinationArn: string,
  logType: string | undefined,
  exceptId?: string,
): Promise<void> {
  const type = destinationType(destinationArn);
  const subs = await scope.reader.list<AccessLogSubscription>({ kind: ALS, parentId: resourceId });
  const clash = subs.items.find(
    (s) =>
      s.id !== exceptId &&
      destinationType(s.data.destinationArn) === type &&
      s.data.serviceNetworkLogType === logType,
  );
  if (clash) {
    throw new ConflictException(
      `${resourceId} already has access-log subscription ${clash.id} to a destination of this type (${clash.data.destinationArn}); a resource has one subscription per destination type.`,
      clash.id,
      'ACCESS_LOG_SUBSCRIPTION',
    );
  }
}

/** CreateAccessLogSubscription: 201 `{id, arn, resourceId, resourceArn, serviceNetworkLogType, destinationArn}`. */
export async function createAccessLogSubscription(
  scope: WriteScope,
  input: {
    resourceIdentifier?: unknown;
    destinationArn?: unknown;
    serviceNetworkLogType?: unknown;
    tags?: unknown;
  },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkString(fields, 'resourceIdentifier', input.resourceIdentifier, 3, 2048, true);
  checkDestination(fields, input.destinationArn);
  checkEnum(fields, 'serviceNetworkLogType', input.serviceNetworkLogType, LOG_TYPES);
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const resource = await findServiceOrNetwork(scope, input.resourceIdentifier as string);
  if (resource.kind === 'service' && input.serviceNetworkLogType !== undefined) {
    throw ValidationException.fromFields([
      { name: 'serviceNetworkLogType', message: 'applies only to service networks' },
    ]);
  }
  const logType =
    resource.kind === 'service-network'
      ? ((input.serviceNetworkLogType as 'SERVICE' | 'RESOURCE' | undefined) ?? 'SERVICE')
      : undefined;
  const destinationArn = input.destinationArn as string;
  await checkOnePerDestinationType(scope, resource.id, destinationArn, logType);
  const id = newResourceId(ID_PREFIX[ALS]);
  const now = scope.ctx.now();
  const sub: AccessLogSubscription = {
    id,
    arn: accessLogSubscriptionArn(arnScope(scope), id),
    resourceId: resource.id,
    resourceArn: resource.data.arn,
    destinationArn,
    createdAt: now,
    lastUpdatedAt: now,
  };
  if (logType) sub.serviceNetworkLogType = logType;
  if (input.tags) sub.tags = input.tags as Tags;
  await scope.tx.insert({
    kind: ALS,
    id,
    accountId: scope.caller.accountId,
    arn: sub.arn,
    parentId: resource.id,
    data: sub,
  });
  const out: Record<string, unknown> = {
    id,
    arn: sub.arn,
    resourceId: sub.resourceId,
    resourceArn: sub.resourceArn,
    destinationArn,
  };
  if (logType) out.serviceNetworkLogType = logType;
  return out;
}

function render(s: AccessLogSubscription): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    arn: s.arn,
    resourceId: s.resourceId,
    resourceArn: s.resourceArn,
    destinationArn: s.destinationArn,
    createdAt: s.createdAt,
    lastUpdatedAt: s.lastUpdatedAt,
  };
  if (s.serviceNetworkLogType) out.serviceNetworkLogType = s.serviceNetworkLogType;
  return out;
}

export async function getAccessLogSubscription(
  scope: OperationScope,
  identifier: string,
): Promise<Record<string, unknown>> {
  const found = await findOwned<AccessLogSubscription>(scope, ALS, identifier);
  return render(found.data);
}

/** ListAccessLogSubscriptions: `resourceIdentifier` is required (spec §1.2). */
export async function listAccessLogSubscriptions(
  scope: OperationScope,
  query: { resourceIdentifier?: string; maxResults?: string; nextToken?: string },
): Promise<Record<string, unknown>> {
  if (!query.resourceIdentifier) {
    throw ValidationException.fromFields([{ name: 'resourceIdentifier', message: 'is required' }]);
  }
  return listPage<AccessLogSubscription, Record<string, unknown>>(
    scope.reader,
    {
      kind: ALS,
      accountId: scope.caller.accountId,
      parentId: idFromIdentifier(query.resourceIdentifier),
    },
    query,
    (r) => render(r.data),
  );
}

/** UpdateAccessLogSubscription: only `destinationArn` changes. */
export async function updateAccessLogSubscription(
  scope: WriteScope,
  identifier: string,
  input: { destinationArn?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkDestination(fields, input.destinationArn);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findOwned<AccessLogSubscription>(scope, ALS, identifier);
  const destinationArn = input.destinationArn as string;
  await checkOnePerDestinationType(
    scope,
    found.data.resourceId,
    destinationArn,
    found.data.serviceNetworkLogType,
    found.id,
  );
  const data: AccessLogSubscription = {
    ...found.data,
    destinationArn,
    lastUpdatedAt: scope.ctx.now(),
  };
  await scope.tx.update({
    kind: ALS,
    id: found.id,
    accountId: found.accountId,
    parentId: found.parentId,
    data,
  });
  return {
    id: data.id,
    arn: data.arn,
    resourceId: data.resourceId,
    resourceArn: data.resourceArn,
    destinationArn,
  };
}

export async function deleteAccessLogSubscription(
  scope: WriteScope,
  identifier: string,
): Promise<void> {
  const found = await findOwned<AccessLogSubscription>(scope, ALS, identifier);
  await scope.tx.delete(ALS, found.id);
}
