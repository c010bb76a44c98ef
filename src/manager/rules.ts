import { AwsError, ConflictException, ValidationException } from '../errors/aws-errors.js';
import { ID_PREFIX, idFromIdentifier, newResourceId, ruleArn } from '../model/ids.js';
import type { Listener, Rule, RuleAction, RuleMatch, Tags } from '../model/lattice-types.js';
import {
  checkResourceName,
  checkTags,
  isPlainObject,
  type FieldViolation,
} from '../model/validation/field-rules.js';
import {
  checkRuleAction,
  checkRuleMatch,
  checkRulePriority,
} from '../model/validation/rule-action-validation.js';
import { StoreConflictError } from '../store/store-errors.js';
import type { StoredResource } from '../store/store.js';
import { actionTargetGroupIds, findServiceListener, resolveRuleAction } from './listeners.js';
import { checkQuota, findOwned, notFound } from './lookups.js';
import { arnScope, type OperationScope, type WriteScope } from './manager-context.js';
import { encodeNextToken, parsePageParams } from './pagination.js';

/** ID of every listener's default rule (spec §1.3: CFN accepts `default` and `…/rule/default`). */
export const DEFAULT_RULE_ID = 'default';

type Found = Awaited<ReturnType<typeof findServiceListener>>;

function isDefaultRuleIdentifier(identifier: string): boolean {
  return idFromIdentifier(identifier) === DEFAULT_RULE_ID;
}

/** The default rule as the API shows it: no conditions, evaluated last, action = default action. */
function defaultRule(listener: Listener): Record<string, unknown> {
  return {
    arn: `${listener.arn}/rule/${DEFAULT_RULE_ID}`,
    id: DEFAULT_RULE_ID,
    name: DEFAULT_RULE_ID,
    isDefault: true,
    action: listener.defaultAction,
    createdAt: listener.createdAt,
    lastUpdatedAt: listener.lastUpdatedAt,
  };
}

/** A stored (non-default) rule of the listener, by ID or ARN; 404 otherwise. */
async function findRule(
  scope: OperationScope,
  found: Found,
  ruleIdentifier: string,
): Promise<StoredResource<Rule>> {
  const rule = await findOwned<Rule>(scope, 'rule', ruleIdentifier);
  if (rule.parentId !== found.listener.id) throw notFound('rule', ruleIdentifier);
  return rule;
}

function defaultRuleRefused(action: string): ValidationException {
  return new ValidationException(
    `The default rule cannot be ${action}. To change what a listener does when no rule matches, call UpdateListener with a new defaultAction.`,
    [
      {
        name: 'ruleIdentifier',
        message: `the default rule cannot be ${action}; use UpdateListener`,
      },
    ],
    'fieldValidationFailed',
  );
}

function renderRule(r: Rule): Record<string, unknown> {
  return {
    arn: r.arn,
    id: r.id,
    name: r.name,
    isDefault: false,
    match: r.match,
    priority: r.priority,
    action: r.action,
  };
}

async function checkPriorityFree(
  scope: OperationScope,
  listenerId: string,
  priority: number,
  exceptRuleId?: string,
): Promise<void> {
  const same = await scope.reader.list<Rule>({
    kind: 'rule',
    parentId: listenerId,
    where: { priority },
  });
  const other = same.items.find((r) => r.id !== exceptRuleId);
  if (other) {
    throw new ConflictException(
      `Listener ${listenerId} already has rule ${other.id} with priority ${priority}. Priorities are unique within a listener.`,
      other.id,
      'RULE',
    );
  }
}

export interface CreateRuleInput {
  name?: unknown;
  match?: unknown;
  priority?: unknown;
  action?: unknown;
  tags?: unknown;
}

/** CreateRule (spec §1.5 Rule). */
export async function createRule(
  scope: WriteScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
  input: CreateRuleInput,
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkResourceName(fields, 'name', input.name, 63, 'rule-');
  checkRuleMatch(fields, 'match', input.match);
  checkRulePriority(fields, 'priority', input.priority);
  checkRuleAction(fields, 'action', input.action);
  checkTags(fields, 'tags', input.tags);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);
  const listener = found.listener.data;
  if (listener.protocol === 'TLS_PASSTHROUGH') {
    throw new ValidationException(
      `Listener ${listener.id} uses TLS_PASSTHROUGH, which has only its default rule. Change its defaultAction with UpdateListener instead.`,
      [
        {
          name: 'listenerIdentifier',
          message: 'TLS_PASSTHROUGH listeners accept only the default rule',
        },
      ],
      'fieldValidationFailed',
    );
  }
  await checkQuota(
    scope,
    'rulesPerListener',
    { kind: 'rule', parentId: listener.id },
    1,
    listener.id,
  );
  const name = input.name as string;
  const priority = input.priority as number;
  await checkPriorityFree(scope, listener.id, priority);
  const action = await resolveRuleAction(
    scope,
    'action',
    input.action as RuleAction,
    found.service.data,
    listener.protocol,
  );
  const id = newResourceId(ID_PREFIX.rule);
  const now = scope.ctx.now();
  const rule: Rule = {
    id,
    arn: ruleArn(arnScope(scope), listener.serviceId, listener.id, id),
    name,
    priority,
    match: input.match as RuleMatch,
    action,
    isDefault: false,
    serviceId: listener.serviceId,
    listenerId: listener.id,
    createdAt: now,
    lastUpdatedAt: now,
  };
  if (input.tags) rule.tags = input.tags as Tags;
  try {
    await scope.tx.insert({
      kind: 'rule',
      id,
      accountId: found.listener.accountId,
      arn: rule.arn,
      name,
      parentId: listener.id,
      data: rule,
      refs: actionTargetGroupIds(rule.action),
    });
  } catch (err) {
    if (err instanceof StoreConflictError && err.field === 'name') {
      throw new ConflictException(
        `Listener ${listener.id} already has a rule named ${name}.`,
        name,
        'RULE',
      );
    }
    throw err;
  }
  const out = renderRule(rule);
  delete out.isDefault;
  return out;
}

/** GetRule, also for the default rule (id `default`, spec §1.3). */
export async function getRule(
  scope: OperationScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
  ruleIdentifier: string,
): Promise<Record<string, unknown>> {
  const found = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);
  if (isDefaultRuleIdentifier(ruleIdentifier)) {
    const rule = defaultRule(found.listener.data);
    if (ruleIdentifier.startsWith('arn:') && ruleIdentifier !== rule.arn) {
      throw notFound('rule', ruleIdentifier);
    }
    return rule;
  }
  const rule = (await findRule(scope, found, ruleIdentifier)).data;
  return { ...renderRule(rule), createdAt: rule.createdAt, lastUpdatedAt: rule.lastUpdatedAt };
}

/**
 * ListRules: the listener's rules, then its default rule last (spec §1.5). Stored rules page by
 * ID; the default rule rides on the final page, or on a page of its own when the last stored page
 * is full.
 */
export async function listRules(
  scope: OperationScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
  page: { maxResults?: string; nextToken?: string },
): Promise<Record<string, unknown>> {
  const found = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);
  const { limit, afterId } = parsePageParams(page.maxResults, page.nextToken);
  const result = await scope.reader.list<Rule>({
    kind: 'rule',
    parentId: found.listener.id,
    limit,
    ...(afterId ? { afterId } : {}),
  });
  const items: Record<string, unknown>[] = result.items.map((r) => ({
    arn: r.data.arn,
    id: r.data.id,
    name: r.data.name,
    isDefault: false,
    priority: r.data.priority,
    createdAt: r.data.createdAt,
    lastUpdatedAt: r.data.lastUpdatedAt,
  }));
  const out: { items: Record<string, unknown>[]; nextToken?: string } = { items };
  if (result.lastId) {
    out.nextToken = encodeNextToken(result.lastId);
  } else if (items.length < limit) {
    const d = defaultRule(found.listener.data);
    items.push({
      arn: d.arn,
      id: d.id,
      name: d.name,
      isDefault: true,
      createdAt: d.createdAt,
      lastUpdatedAt: d.lastUpdatedAt,
    });
  } else {
    // The page is full of stored rules and none follow: the default rule gets the next page.
    out.nextToken = encodeNextToken(result.items[result.items.length - 1]!.id);
  }
  return out;
}

interface RuleUpdate {
  match?: unknown;
  priority?: unknown;
  action?: unknown;
}

function checkRuleUpdate(fields: FieldViolation[], prefix: string, input: RuleUpdate): void {
  checkRuleMatch(fields, `${prefix}match`, input.match, false);
  checkRulePriority(fields, `${prefix}priority`, input.priority, false);
  checkRuleAction(fields, `${prefix}action`, input.action, false);
}

/** Applies a validated update to a rule (priority collisions are the caller's business). */
async function applyRuleUpdate(
  scope: WriteScope,
  found: Found,
  rule: StoredResource<Rule>,
  input: RuleUpdate,
): Promise<Rule> {
  const updated: Rule = { ...rule.data, lastUpdatedAt: scope.ctx.now() };
  if (input.match !== undefined) updated.match = input.match as RuleMatch;
  if (input.priority !== undefined) updated.priority = input.priority as number;
  if (input.action !== undefined) {
    updated.action = await resolveRuleAction(
      scope,
      'action',
      input.action as RuleAction,
      found.service.data,
      found.listener.data.protocol,
      rule.id,
    );
  }
  return updated;
}

/** UpdateRule: `match`, `priority`, `action`; the default rule is changed with UpdateListener. */
export async function updateRule(
  scope: WriteScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
  ruleIdentifier: string,
  input: RuleUpdate,
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  checkRuleUpdate(fields, '', input);
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);
  if (isDefaultRuleIdentifier(ruleIdentifier)) throw defaultRuleRefused('updated');
  const rule = await findRule(scope, found, ruleIdentifier);
  if (input.priority !== undefined) {
    await checkPriorityFree(scope, found.listener.id, input.priority as number, rule.id);
  }
  const updated = await applyRuleUpdate(scope, found, rule, input);
  await scope.tx.update({
    kind: 'rule',
    id: rule.id,
    accountId: rule.accountId,
    data: updated,
    refs: actionTargetGroupIds(updated.action),
  });
  return renderRule(updated);
}

interface BatchItem extends RuleUpdate {
  ruleIdentifier: string;
  rule?: StoredResource<Rule>;
  updated?: Rule;
}

interface Failure {
  ruleIdentifier: string;
  failureCode: string;
  failureMessage: string;
}

function failureOf(ruleIdentifier: string, err: unknown): Failure {
  if (err instanceof AwsError) {
    return { ruleIdentifier, failureCode: err.errorType, failureMessage: err.message };
  }
  throw err;
}

/**
 * BatchUpdateRule: 1–10 updates with partial success (spec §1.5). Priority collisions are judged
 * on the listener's rules as they stand after the whole batch, so two rules can swap priorities
 * in one call; an update that still collides fails and leaves its rule as it was.
 */
export async function batchUpdateRule(
  scope: WriteScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
  input: { rules?: unknown },
): Promise<Record<string, unknown>> {
  const fields: FieldViolation[] = [];
  const raw = input.rules;
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 10) {
    fields.push({
      name: 'rules',
      message: 'is required and must be a list of 1 to 10 rule updates',
    });
    throw ValidationException.fromFields(fields);
  }
  raw.forEach((u: unknown, i) => {
    const p = `rules[${i}]`;
    if (!isPlainObject(u)) {
      fields.push({ name: p, message: 'must be an object with ruleIdentifier' });
      return;
    }
    for (const k of Object.keys(u)) {
      if (!['ruleIdentifier', 'match', 'priority', 'action'].includes(k)) {
        fields.push({ name: `${p}.${k}`, message: 'is not a member of this request' });
      }
    }
    const id = u.ruleIdentifier;
    if (typeof id !== 'string' || id.length < 1 || id.length > 2048) {
      fields.push({
        name: `${p}.ruleIdentifier`,
        message: 'is required and must be a rule ID or ARN',
      });
    }
  });
  if (fields.length) throw ValidationException.fromFields(fields);
  const found = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);

  const unsuccessful: Failure[] = [];
  const pending: BatchItem[] = [];
  const seen = new Set<string>();
  for (const u of raw as (RuleUpdate & { ruleIdentifier: string })[]) {
    const item: BatchItem = { ...u };
    try {
      const itemFields: FieldViolation[] = [];
      checkRuleUpdate(itemFields, '', u);
      if (itemFields.length) throw ValidationException.fromFields(itemFields);
      if (isDefaultRuleIdentifier(u.ruleIdentifier)) throw defaultRuleRefused('updated');
      item.rule = await findRule(scope, found, u.ruleIdentifier);
      if (seen.has(item.rule.id)) {
        throw new ConflictException(
          `Rule ${item.rule.id} appears more than once in this batch.`,
          item.rule.id,
          'RULE',
        );
      }
      seen.add(item.rule.id);
      item.updated = await applyRuleUpdate(scope, found, item.rule, u);
      pending.push(item);
    } catch (err) {
      unsuccessful.push(failureOf(u.ruleIdentifier, err));
    }
  }

  // Judge priorities on the final state. A priority wanted by a rule that does not move stays
  // with it; one wanted by several moving rules goes to the first of them in the request. Drop
  // the losers (they keep their old priority) and look again until nothing collides.
  const all = await scope.reader.list<Rule>({ kind: 'rule', parentId: found.listener.id });
  const current = new Map(all.items.map((r) => [r.id, r.data.priority]));
  let accepted = pending.filter((it) => it.updated!.priority === it.rule!.data.priority);
  let moving = pending.filter((it) => it.updated!.priority !== it.rule!.data.priority);
  for (;;) {
    const movingIds = new Set(moving.map((it) => it.rule!.id));
    const held = new Map<number, string>();
    for (const [id, p] of current) if (!movingIds.has(id)) held.set(p, id);
    const losers: { it: BatchItem; holder: string }[] = [];
    for (const it of moving) {
      const p = it.updated!.priority;
      const holder = held.get(p);
      if (holder !== undefined) losers.push({ it, holder });
      else held.set(p, it.rule!.id);
    }
    if (!losers.length) break;
    for (const { it, holder } of losers) {
      unsuccessful.push({
        ruleIdentifier: it.ruleIdentifier,
        failureCode: 'ConflictException',
        failureMessage: `Priority ${it.updated!.priority} would also be held by rule ${holder}. Priorities are unique within a listener.`,
      });
    }
    const lost = new Set(losers.map((l) => l.it));
    moving = moving.filter((it) => !lost.has(it));
  }
  accepted = [...accepted, ...moving];

  const successful: Record<string, unknown>[] = [];
  for (const it of accepted) {
    await scope.tx.update({
      kind: 'rule',
      id: it.rule!.id,
      accountId: it.rule!.accountId,
      data: it.updated!,
      refs: actionTargetGroupIds(it.updated!.action),
    });
    successful.push(renderRule(it.updated!));
  }
  return { successful, unsuccessful };
}

/** DeleteRule; the default rule goes only with its listener (spec §1.5). */
export async function deleteRule(
  scope: WriteScope,
  serviceIdentifier: string,
  listenerIdentifier: string,
  ruleIdentifier: string,
): Promise<void> {
  const found = await findServiceListener(scope, serviceIdentifier, listenerIdentifier);
  if (isDefaultRuleIdentifier(ruleIdentifier)) throw defaultRuleRefused('deleted');
  const rule = await findRule(scope, found, ruleIdentifier);
  await scope.tx.delete('rule', rule.id);
}
