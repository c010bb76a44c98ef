import {
  ConflictException,
  ServiceQuotaExceededException,
  ValidationException,
} from '../errors/aws-errors.js';
import { ID_PREFIX, idFromIdentifier, listenerArn, newResourceId } from '../model/ids.js';
import type {
  Listener,
  ListenerProtocol,
  Rule,
  RuleAction,
  Service,
  Tags,
  TargetGroup,
} from '../model/lattice-types.js';
import { DEFAULT_QUOTAS } from '../model/quotas.js';
import {
  checkEnum,
  checkInteger,
  checkResourceName,
  checkTags,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import { checkRuleAction } from '../model/validation/rule-action-validation.js';
import { StoreConflictError } from '../store/store-errors.js';
import type { StoreReader, StoredResource } from '../store/store.js';
import { checkQuota, findOwned, notFound } from './lookups.js';
import { arnScope, type OperationScope, type WriteScope } from './manager-context.js';
import { listPage } from './pagination.js';
import { deleteListenerCascade, findService } from './services.js';

const PROTOCOLS: readonly ListenerProtocol[] = ['HTTP', 'HTTPS', 'TLS_PASSTHROUGH'];

/**
 * Default port by protocol (spec §1.5: 80 for HTTP, 443 for HTTPS). The real default for
 * TLS_PASSTHROUGH is unverified; Trellis uses 443, the port TLS clients expect.
 */
export const DEFAULT_LISTENER_PORT: Readonly<Record<ListenerProtocol, number>> = Object.freeze({
  HTTP: 80,
  HTTPS: 443,
  TLS_PASSTHROUGH: 443,
});

/** Where a target group is referenced: a listener's default action or a rule's action. */
interface TargetGroupReference {
  serviceId: string;
  targetGroupId: string;
  /** The listener (default action) or rule holding the reference. */
  holderId: string;
}

/** The target groups an action forwards to, as bare IDs (stored actions hold IDs already). */
export function actionTargetGroupIds(action: RuleAction | undefined): string[] {
  return (action?.forward?.targetGroups ?? []).map((w) =>
    idFromIdentifier(w.targetGroupIdentifier),
  );
}

function referencesOf(
  listeners: StoredResource<Listener>[],
  rules: StoredResource<Rule>[],
): TargetGroupReference[] {
  const out: TargetGroupReference[] = [];
  const add = (serviceId: string, holderId: string, action: RuleAction): void => {
    for (const targetGroupId of actionTargetGroupIds(action)) {
      out.push({ serviceId, holderId, targetGroupId });
    }
  };
  for (const l of listeners) add(l.data.serviceId, l.id, l.data.defaultAction);
  for (const r of rules) add(r.data.serviceId, r.id, r.data.action);
  return out;
}

/**
 * The listeners and rules of an account that forward to a target group, through the store's
 * reference index (`refs` written with each listener and rule), not a scan of the account.
 */
export async function listenersAndRulesUsing(
  reader: StoreReader,
  accountId: string,
  targetGroupId: string,
): Promise<{ listeners: StoredResource<Listener>[]; rules: StoredResource<Rule>[] }> {
  const [listeners, rules] = await Promise.all([
    reader.list<Listener>({ kind: 'listener', accountId, refersTo: targetGroupId }),
    reader.list<Rule>({ kind: 'rule', accountId, refersTo: targetGroupId }),
  ]);
  return { listeners: listeners.items, rules: rules.items };
}

/** References to one target group from an account's listeners and rules (indexed). */
async function referencesTo(
  reader: StoreReader,
  accountId: string,
  targetGroupId: string,
): Promise<TargetGroupReference[]> {
  const { listeners, rules } = await listenersAndRulesUsing(reader, accountId, targetGroupId);
  return referencesOf(listeners, rules).filter((r) => r.targetGroupId === targetGroupId);
}

/**
 * References held by one service's listeners and rules, read through the parent index (service →
 * listeners → rules). A `where: { serviceId }` filter with the account let SQLite pick the
 * (kind, account) index and read every listener and rule of the account.
 */
async function referencesOfService(
  reader: StoreReader,
  serviceId: string,
): Promise<TargetGroupReference[]> {
  const listeners = await reader.list<Listener>({ kind: 'listener', parentId: serviceId });
  const rules = await Promise.all(
    listeners.items.map((l) => reader.list<Rule>({ kind: 'rule', parentId: l.id })),
  );
  return referencesOf(
    listeners.items,
    rules.flatMap((page) => page.items),
  );
}

/**
 * IDs of the services whose listeners or rules forward to a target group. For GetTargetGroup's
 * `serviceArns` and DeleteTargetGroup's in-use conflict (spec §1.5 TargetGroup).
 */
export async function serviceIdsUsingTargetGroup(
  reader: StoreReader,
  accountId: string,
  targetGroupId: string,
): Promise<string[]> {
  const refs = await referencesTo(reader, accountId, targetGroupId);
  return [...new Set(refs.map((r) => r.serviceId))].sort();
}

/**
 * Checks the target groups of an action against the service and listener it will belong to, and
 * returns the action with every `targetGroupIdentifier` as a bare ID (ARNs are accepted on
 * input, spec §1.1). `holderId` is the listener or rule whose action is being replaced (its old
 * references do not count). Rules (spec §1.5, §7.1, §7.3):
 * - each target group exists in the caller's account (404 otherwise);
 * - a target group used by another service cannot be used by this one (409);
 * - TLS_PASSTHROUGH forwards only, and only to TCP target groups; HTTP and HTTPS never to TCP
 *   ones; HTTP2 and GRPC target groups only behind HTTPS;
 * - the service uses at most `targetGroupsPerService` distinct target groups (402).
 */
export async function resolveRuleAction(
  scope: OperationScope,
  field: string,
  action: RuleAction,
  service: Service,
  protocol: ListenerProtocol,
  holderId?: string,
): Promise<RuleAction> {
  if (action.fixedResponse) {
    if (protocol === 'TLS_PASSTHROUGH') {
      throw ValidationException.fromFields([
        {
          name: `${field}.fixedResponse`,
          message: 'a TLS_PASSTHROUGH listener must forward to a TCP target group',
        },
      ]);
    }
    return { fixedResponse: { statusCode: action.fixedResponse.statusCode } };
  }
  const wanted = action.forward?.targetGroups ?? [];
  const groups: StoredResource<TargetGroup>[] = [];
  for (const w of wanted) {
    groups.push(await findOwned<TargetGroup>(scope, 'target-group', w.targetGroupIdentifier));
  }
  const fields: FieldViolation[] = [];
  groups.forEach((g, i) => {
    const name = `${field}.forward.targetGroups[${i}].targetGroupIdentifier`;
    const tgProtocol = g.data.config?.protocol;
    if (protocol === 'TLS_PASSTHROUGH' && tgProtocol !== 'TCP') {
      fields.push({
        name,
        message: `target group ${g.id} is not a TCP target group; a TLS_PASSTHROUGH listener forwards only to TCP target groups`,
      });
    } else if (protocol !== 'TLS_PASSTHROUGH' && tgProtocol === 'TCP') {
      fields.push({
        name,
        message: `target group ${g.id} is a TCP target group; TCP target groups serve only TLS_PASSTHROUGH listeners`,
      });
    }
    const version = g.data.config?.protocolVersion;
    if (protocol === 'HTTP' && (version === 'HTTP2' || version === 'GRPC')) {
      fields.push({
        name,
        message: `target group ${g.id} uses ${version}, which only HTTPS listeners support`,
      });
    }
  });
  if (fields.length) throw ValidationException.fromFields(fields);

  const accountId = scope.caller.accountId;
  for (const g of groups) {
    const refs = await referencesTo(scope.reader, accountId, g.id);
    const other = refs.find((r) => r.serviceId !== service.id);
    if (other) {
      throw new ConflictException(
        `Target group ${g.id} is already used by service ${other.serviceId}. A target group can serve the listeners and rules of only one service.`,
        g.id,
        'TARGET_GROUP',
      );
    }
  }
  const own = await referencesOfService(scope.reader, service.id);
  const used = new Set(own.filter((r) => r.holderId !== holderId).map((r) => r.targetGroupId));
  for (const g of groups) used.add(g.id);
  const limit = scope.ctx.quotas.targetGroupsPerService;
  if (used.size > limit) {
    const def = DEFAULT_QUOTAS.targetGroupsPerService;
    throw new ServiceQuotaExceededException(
      `Service ${service.id} would use ${used.size} target groups; the quota is ${limit} (targetGroupsPerService). Reuse target groups or raise the quota (TRELLIS_QUOTA_TARGETGROUPSPERSERVICE).`,
      def.resourceType,
      def.quotaCode,
      service.id,
    );
  }
  return {
    forward: {
      targetGroups: wanted.map((w, i) => {
        const out: { targetGroupIdentifier: string; weight?: number } = {
          targetGroupIdentifier: groups[i]!.id,
        };
        if (w.weight !== undefined) out.weight = w.weight;
        return out;
      }),
    },
  };
}

/** Finds a service and one of its listeners (404 for either, or a listener of another service). */
export async function findServiceListener(
  scope: OperationScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
): Promise<{ service: StoredResource<Service>; listener: StoredResource<Listener> }> {
  const service = await findService(scope, serviceIdentifier);
  const listener = await findOwned<Listener>(scope, 'listener', listenerIdentifier);
  if (listener.parentId !== service.id) throw notFound('listener', listenerIdentifier);
  return { service, listener };
}

export interface CreateListenerInput {
  name?: unknown;
  protocol?: unknown;
  port?: unknown;
  defaultAction?: unknown;
  tags?: unknown;
}

function renderListener(l: Listener): Record<string, unknown> {
  return {
    arn: l.arn,
    id: l.id,
    name: l.name,
    protocol: l.protocol,
    port: l.port,
    serviceArn: l.serviceArn,
    serviceId: l.serviceId,
    defaultAction: l.defaultAction,
  };
}

/** CreateListener (spec §1.5 Listener, §7.1). */
export async function createListener(
  scope: WriteScope,
  serviceIdentifier: string,
  input: CreateListenerInput,
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkResourceName(fields, 'name', input.name, 63, 'listener-');
  checkEnum(fields, 'protocol', input.protocol, PROTOCOLS, true);
  checkInteger(fields, 'port', input.port, 1, 65535);
  checkRuleAction(fields, 'defaultAction', input.defaultAction);
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const name = input.name as string;
  const protocol = input.protocol as ListenerProtocol;
  const port = (input.port as number | undefined) ?? DEFAULT_LISTENER_PORT[protocol];
  const found = await findService(scope, serviceIdentifier);
  const service = found.data;
  if (protocol === 'TLS_PASSTHROUGH' && !service.customDomainName) {
    throw ValidationException.fromFields([
      {
        name: 'protocol',
        message: `TLS_PASSTHROUGH needs a service with a customDomainName (the SNI it matches); service ${service.id} has none`,
      },
    ]);
  }
  await checkQuota(
    scope,
    'listenersPerService',
    { kind: 'listener', parentId: service.id },
    1,
    service.id,
  );
  const samePort = await scope.tx.count({
    kind: 'listener',
    parentId: service.id,
    where: { port },
  });
  if (samePort > 0) {
    throw new ConflictException(
      `Service ${service.id} already has a listener on port ${port}.`,
      service.id,
      'LISTENER',
    );
  }
  const defaultAction = await resolveRuleAction(
    scope,
    'defaultAction',
    input.defaultAction as RuleAction,
    service,
    protocol,
  );
  const id = newResourceId(ID_PREFIX.listener);
  const now = scope.ctx.now();
  const listener: Listener = {
    id,
    arn: listenerArn(arnScope(scope), service.id, id),
    name,
    protocol,
    port,
    serviceId: service.id,
    serviceArn: service.arn,
    defaultAction,
    createdAt: now,
    lastUpdatedAt: now,
  };
  if (input.tags) listener.tags = input.tags as Tags;
  try {
    await scope.tx.insert({
      kind: 'listener',
      id,
      accountId: found.accountId,
      arn: listener.arn,
      name,
      parentId: service.id,
      data: listener,
      refs: actionTargetGroupIds(defaultAction),
    });
  } catch (err) {
    if (err instanceof StoreConflictError && err.field === 'name') {
      throw new ConflictException(
        `Service ${service.id} already has a listener named ${name}.`,
        name,
        'LISTENER',
      );
    }
    throw err;
  }
  return renderListener(listener);
}

export async function getListener(
  scope: OperationScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
): Promise<Record<string, unknown>> {
  const { listener } = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);
  return {
    ...renderListener(listener.data),
    createdAt: listener.data.createdAt,
    lastUpdatedAt: listener.data.lastUpdatedAt,
  };
}

export async function listListeners(
  scope: OperationScope,
  serviceIdentifier: string,
  page: { maxResults?: string; nextToken?: string },
): Promise<Record<string, unknown>> {
  const service = await findService(scope, serviceIdentifier);
  return listPage<Listener, Record<string, unknown>>(
    scope.reader,
    { kind: 'listener', parentId: service.id },
    page,
    (r) => ({
      arn: r.data.arn,
      id: r.data.id,
      name: r.data.name,
      protocol: r.data.protocol,
      port: r.data.port,
      createdAt: r.data.createdAt,
      lastUpdatedAt: r.data.lastUpdatedAt,
    }),
  );
}

/** UpdateListener: only `defaultAction` changes — the way to change the default rule (spec §1.5). */
export async function updateListener(
  scope: WriteScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
  input: { defaultAction?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkRuleAction(fields, 'defaultAction', input.defaultAction);
  if (fields.length) throw ValidationException.fromFields(fields);
  const { service, listener } = await findServiceListener(
    scope,
    serviceIdentifier,
    listenerIdentifier,
  );
  const defaultAction = await resolveRuleAction(
    scope,
    'defaultAction',
    input.defaultAction as RuleAction,
    service.data,
    listener.data.protocol,
    listener.id,
  );
  const updated: Listener = { ...listener.data, defaultAction, lastUpdatedAt: scope.ctx.now() };
  await scope.tx.update({
    kind: 'listener',
    id: updated.id,
    accountId: listener.accountId,
    data: updated,
    refs: actionTargetGroupIds(defaultAction),
  });
  return renderListener(updated);
}

/** DeleteListener: removes the listener and its rules (spec §1.5). */
export async function deleteListener(
  scope: WriteScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
): Promise<void> {
  const { listener } = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);
  await deleteListenerCascade(scope, listener.id);
}
