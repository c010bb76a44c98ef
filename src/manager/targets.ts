/**
 * RegisterTargets, DeregisterTargets and ListTargets (spec §1.5 Targets, §5).
 *
 * Each registered target is stored as kind `target`, parentId = its target group's id, with the
 * stable id `${targetGroupId}/${targetId}:${port}` (LAMBDA targets have no port:
 * `${targetGroupId}/${functionArn}`). `data.port` is the effective traffic port (the override or
 * the group's port), which is also the port of its health record.
 *
 * Deregistration does not delete: it sets `drainingUntil` = now + 60 s (spec §1.5: DRAINING,
 * default 1 minute, in-flight requests finish). Registering a draining target again revives it. A
 * target whose draining time has passed is removed by the next write to its group (Register,
 * Deregister, ListTargets — a POST, so it runs in a transaction too) and is never listed.
 */
import { ValidationException } from '../errors/aws-errors.js';
import type { Instance, LoadBalancer } from '../model/inventory-types.js';
import type { Target, TargetGroup, TargetStatus } from '../model/lattice-types.js';
import { FIXED_LIMITS } from '../model/quotas.js';
import { isPlainObject, type FieldViolation } from '../model/validation/field-rules.js';
import { ipFamily } from '../model/validation/inventory-validation.js';
import { resolveHealthCheck } from '../model/health-check-defaults.js';
import type { StoredResource } from '../store/store.js';
import { checkQuota, findOwned } from './lookups.js';
import type { WriteScope } from './manager-context.js';
import { encodeNextToken, parsePageParams } from './pagination.js';
import { pageArray, targetGroupUsage } from './target-groups.js';

/** One `Target` of a request: `id` and an optional port override. */
interface TargetInput {
  id: string;
  port?: number;
}

interface TargetFailure {
  id: string;
  port?: number;
  failureCode: string;
  failureMessage: string;
}

/** Failure codes of Register/DeregisterTargets (real values are undocumented, spec §1.5). */
export const TARGET_FAILURE = {
  invalidIp: 'InvalidIpAddress',
  ipFamily: 'IpAddressTypeMismatch',
  instanceNotFound: 'InstanceNotFound',
  instanceNotInVpc: 'InstanceNotInVpc',
  loadBalancerNotFound: 'LoadBalancerNotFound',
  loadBalancerNotInVpc: 'LoadBalancerNotInVpc',
  invalidLambda: 'InvalidLambdaFunctionArn',
  onePerGroup: 'TargetLimitPerGroup',
  portNotAllowed: 'PortNotAllowed',
  notRegistered: 'TargetNotRegistered',
  duplicate: 'DuplicateTarget',
} as const;

const LAMBDA_ARN =
  /^arn:[a-z0-9-]+:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64}(?::(?:\$LATEST|[a-zA-Z0-9_-]+))?$/;

/** Model-level checks of `targets` (spec §6: 1–100 per call; id 1–200 chars; port 1–65535). */
function parseTargets(value: unknown, min: number, max: number, field = 'targets'): TargetInput[] {
  const fields: FieldViolation[] = [];
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    fields.push({ name: field, message: `must be a list of ${min} to ${max} targets` });
    throw ValidationException.fromFields(fields);
  }
  const out: TargetInput[] = [];
  value.forEach((t, i) => {
    if (!isPlainObject(t)) {
      fields.push({ name: `${field}[${i}]`, message: 'must be an object {id, port}' });
      return;
    }
    for (const k of Object.keys(t)) {
      if (k !== 'id' && k !== 'port') {
        fields.push({ name: `${field}[${i}].${k}`, message: 'is not a member of Target' });
      }
    }
    if (typeof t.id !== 'string' || t.id.length < 1 || t.id.length > 200) {
      fields.push({
        name: `${field}[${i}].id`,
        message: 'is required and must be 1-200 characters',
      });
    }
    if (
      t.port !== undefined &&
      (typeof t.port !== 'number' || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535)
    ) {
      fields.push({
        name: `${field}[${i}].port`,
        message: 'must be an integer between 1 and 65535',
      });
    }
    const entry: TargetInput = { id: t.id as string };
    if (t.port !== undefined) entry.port = t.port as number;
    out.push(entry);
  });
  if (fields.length) throw ValidationException.fromFields(fields);
  return out;
}

/** The traffic port of a target: its override, else the group's port (none for LAMBDA). */
function effectivePort(tg: TargetGroup, t: TargetInput): number | undefined {
  if (tg.type === 'LAMBDA') return undefined;
  return t.port ?? tg.config?.port ?? (tg.config?.protocol === 'HTTPS' ? 443 : 80);
}

/** The stored id of a target (see the file comment). */
export function targetKey(
  targetGroupId: string,
  targetId: string,
  port: number | undefined,
): string {
  return port === undefined
    ? `${targetGroupId}/${targetId}`
    : `${targetGroupId}/${targetId}:${port}`;
}

function isExpired(t: Target, now: string): boolean {
  return t.drainingUntil !== undefined && t.drainingUntil <= now;
}

/** Removes targets whose draining time has passed; returns the ones still registered. */
async function purgeExpired(scope: WriteScope, tg: TargetGroup): Promise<StoredResource<Target>[]> {
  const now = scope.ctx.now();
  const all = await scope.tx.list<Target>({ kind: 'target', parentId: tg.id });
  const live: StoredResource<Target>[] = [];
  for (const t of all.items) {
    if (isExpired(t.data, now)) {
      await scope.tx.delete('target', t.id);
      scope.ctx.targetHealth?.forget(tg.id, t.data.id, t.data.port);
    } else live.push(t);
  }
  return live;
}

function failure(t: TargetInput, failureCode: string, failureMessage: string): TargetFailure {
  const f: TargetFailure = { id: t.id, failureCode, failureMessage };
  if (t.port !== undefined) f.port = t.port;
  return f;
}

/** Checks one target against the group's type and VPC; undefined when it may be registered. */
async function checkRegistration(
  scope: WriteScope,
  tg: TargetGroup,
  t: TargetInput,
): Promise<TargetFailure | undefined> {
  const vpcId = tg.config?.vpcIdentifier;
  switch (tg.type) {
    case 'IP': {
      const family = ipFamily(t.id);
      if (!family) return failure(t, TARGET_FAILURE.invalidIp, `${t.id} is not an IP address.`);
      const want = tg.config?.ipAddressType ?? 'IPV4';
      if (family !== want) {
        return failure(
          t,
          TARGET_FAILURE.ipFamily,
          `${t.id} is an ${family} address but target group ${tg.id} has ipAddressType ${want}.`,
        );
      }
      return undefined;
    }
    case 'INSTANCE': {
      const inst = await scope.reader.get<Instance>('instance', t.id);
      if (!inst || inst.accountId !== scope.caller.accountId) {
        return failure(t, TARGET_FAILURE.instanceNotFound, `Instance ${t.id} does not exist.`);
      }
      if (inst.data.vpcId !== vpcId) {
        return failure(
          t,
          TARGET_FAILURE.instanceNotInVpc,
          `Instance ${t.id} is in ${inst.data.vpcId}, not in the target group's VPC ${vpcId}.`,
        );
      }
      return undefined;
    }
    case 'ALB': {
      const lb = await scope.reader.get<LoadBalancer>('load-balancer', t.id);
      if (!lb || lb.accountId !== scope.caller.accountId) {
        return failure(
          t,
          TARGET_FAILURE.loadBalancerNotFound,
          `Load balancer ${t.id} does not exist.`,
        );
      }
      if (lb.data.vpcId !== vpcId) {
        return failure(
          t,
          TARGET_FAILURE.loadBalancerNotInVpc,
          `Load balancer ${t.id} is in ${lb.data.vpcId}, not in the target group's VPC ${vpcId}.`,
        );
      }
      return undefined;
    }
    case 'LAMBDA':
      if (t.port !== undefined) {
        return failure(
          t,
          TARGET_FAILURE.portNotAllowed,
          'A port is not applicable to Lambda targets.',
        );
      }
      if (!LAMBDA_ARN.test(t.id)) {
        return failure(t, TARGET_FAILURE.invalidLambda, `${t.id} is not a Lambda function ARN.`);
      }
      return undefined;
  }
}

/**
 * RegisterTargets: partial success (spec §1.5). Quota `targetsPerTargetGroup` is checked for the
 * whole call (402). ALB and LAMBDA groups hold one target (spec §1.5).
 */
export async function registerTargets(
  scope: WriteScope,
  identifier: string,
  input: { targets?: unknown },
): Promise<Record<string, unknown>> {
  const requested = parseTargets(input.targets, 1, 100);
  const found = await findOwned<TargetGroup>(scope, 'target-group', identifier);
  const tg = found.data;
  const live = await purgeExpired(scope, tg);
  const byKey = new Map(live.map((t) => [t.id, t]));
  const successful: TargetInput[] = [];
  const unsuccessful: TargetFailure[] = [];
  const accepted: { t: TargetInput; port: number | undefined; key: string }[] = [];
  const seen = new Set<string>();
  for (const t of requested) {
    const port = effectivePort(tg, t);
    const key = targetKey(tg.id, t.id, port);
    if (seen.has(key)) {
      unsuccessful.push(
        failure(t, TARGET_FAILURE.duplicate, 'The target appears twice in the request.'),
      );
      continue;
    }
    seen.add(key);
    const problem = await checkRegistration(scope, tg, t);
    if (problem) unsuccessful.push(problem);
    else accepted.push({ t, port, key });
  }
  // One target per ALB / LAMBDA group: a different live target, or two in this call, fail.
  if (tg.type === 'ALB' || tg.type === 'LAMBDA') {
    const others = live.filter((x) => x.data.drainingUntil === undefined);
    let holder = others[0]?.id;
    for (const a of [...accepted]) {
      if (holder === undefined) holder = a.key;
      if (a.key !== holder) {
        accepted.splice(accepted.indexOf(a), 1);
        unsuccessful.push(
          failure(
            a.t,
            TARGET_FAILURE.onePerGroup,
            `A ${tg.type} target group accepts only one target.`,
          ),
        );
      }
    }
  }
  const adding = accepted.filter((a) => !byKey.has(a.key)).length;
  if (adding > 0) {
    await checkQuota(
      scope,
      'targetsPerTargetGroup',
      { kind: 'target', parentId: tg.id },
      adding,
      tg.id,
    );
  }
  const now = scope.ctx.now();
  for (const a of accepted) {
    const existing = byKey.get(a.key);
    if (existing) {
      if (existing.data.drainingUntil !== undefined) {
        // Re-registering a draining target revives it (spec §1.5).
        const { drainingUntil: _gone, ...rest } = existing.data;
        await scope.tx.update({
          kind: 'target',
          id: a.key,
          accountId: found.accountId,
          parentId: tg.id,
          data: rest,
        });
      }
    } else {
      const data: Target = { targetGroupId: tg.id, id: a.t.id, registeredAt: now };
      if (a.port !== undefined) data.port = a.port;
      await scope.tx.insert({
        kind: 'target',
        id: a.key,
        accountId: found.accountId,
        parentId: tg.id,
        data,
      });
      // A health record left from an earlier registration must not describe the new one.
      scope.ctx.targetHealth?.forget(tg.id, a.t.id, a.port);
    }
    const ok: TargetInput = { id: a.t.id };
    if (a.port !== undefined) ok.port = a.port;
    successful.push(ok);
  }
  return { successful, unsuccessful };
}

/** DeregisterTargets: the targets start DRAINING for 60 s (spec §1.5); partial success. */
export async function deregisterTargets(
  scope: WriteScope,
  identifier: string,
  input: { targets?: unknown },
): Promise<Record<string, unknown>> {
  const requested = parseTargets(input.targets, 1, 100);
  const found = await findOwned<TargetGroup>(scope, 'target-group', identifier);
  const tg = found.data;
  const live = await purgeExpired(scope, tg);
  const byKey = new Map(live.map((t) => [t.id, t]));
  const successful: TargetInput[] = [];
  const unsuccessful: TargetFailure[] = [];
  const drainingUntil = new Date(
    Date.parse(scope.ctx.now()) + FIXED_LIMITS.defaultDrainingSeconds * 1000,
  ).toISOString();
  for (const t of requested) {
    const port = effectivePort(tg, t);
    const key = targetKey(tg.id, t.id, port);
    const existing = byKey.get(key);
    if (!existing) {
      unsuccessful.push(
        failure(
          t,
          TARGET_FAILURE.notRegistered,
          `Target ${t.id}${port ? `:${port}` : ''} is not registered in ${tg.id}.`,
        ),
      );
      continue;
    }
    if (existing.data.drainingUntil === undefined) {
      const data: Target = { ...existing.data, drainingUntil };
      await scope.tx.update({
        kind: 'target',
        id: key,
        accountId: found.accountId,
        parentId: tg.id,
        data,
      });
      byKey.set(key, { ...existing, data });
    }
    const ok: TargetInput = { id: t.id };
    if (port !== undefined) ok.port = port;
    successful.push(ok);
  }
  return { successful, unsuccessful };
}

/**
 * The status Lattice reports before or without health results: DRAINING for deregistered targets,
 * UNAVAILABLE when checks are disabled (always for LAMBDA/ALB), UNUSED when no listener or rule
 * forwards to the group; otherwise the data plane's last verdict, INITIAL until there is one.
 */
function targetStatus(
  t: Target,
  checksEnabled: boolean,
  inUse: boolean,
  health: { status: TargetStatus; reasonCode?: string } | undefined,
): { status: TargetStatus; reasonCode?: string } {
  if (t.drainingUntil !== undefined) return { status: 'DRAINING' };
  if (!checksEnabled) return { status: 'UNAVAILABLE' };
  if (!inUse) return { status: 'UNUSED' };
  // reasonCode values are undocumented (spec §1.5): only the data plane's own are passed on.
  // A recorded UNUSED/UNAVAILABLE is the data plane's verdict on an older configuration (the group
  // was unused, or its checks were off); this one says otherwise, so the target is INITIAL until
  // the data plane catches up.
  if (health && health.status !== 'UNUSED' && health.status !== 'UNAVAILABLE') return health;
  return { status: 'INITIAL' };
}

/** ListTargets (POST, spec §1.1): optional `targets` filter (0–20), paging in the query. */
export async function listTargets(
  scope: WriteScope,
  identifier: string,
  input: { targets?: unknown },
  page: { maxResults?: string; nextToken?: string },
): Promise<Record<string, unknown>> {
  const filters = input.targets === undefined ? [] : parseTargets(input.targets, 0, 20);
  const found = await findOwned<TargetGroup>(scope, 'target-group', identifier);
  const tg = found.data;
  const checksEnabled =
    tg.type !== 'LAMBDA' && tg.type !== 'ALB' && resolveHealthCheck(tg.config).enabled;
  const usage = await targetGroupUsage(scope, found.accountId, found.id);
  const inUse = (usage.get(tg.id)?.size ?? 0) > 0;
  const records = (await scope.ctx.targetHealth?.get(tg.id)) ?? [];
  const health = new Map(records.map((r) => [targetKey(tg.id, r.targetId, r.port), r]));
  const render = (t: StoredResource<Target>): Record<string, unknown> => {
    const rec = health.get(t.id);
    const s = targetStatus(
      t.data,
      checksEnabled,
      inUse,
      rec
        ? rec.reasonCode
          ? { status: rec.status, reasonCode: rec.reasonCode }
          : { status: rec.status }
        : undefined,
    );
    const item: Record<string, unknown> = { id: t.data.id, status: s.status };
    if (t.data.port !== undefined) item.port = t.data.port;
    if (s.reasonCode) item.reasonCode = s.reasonCode;
    return item;
  };
  if (filters.length === 0) {
    // One page read from the store's (kind, parent, id) index instead of every target of the
    // group per page (1,000 targets: 10 pages read 10,000 rows). Targets whose deregistration
    // delay ran out are dropped as they are met, so a page may hold fewer than maxResults.
    const { limit, afterId } = parsePageParams(page.maxResults, page.nextToken);
    const result = await scope.tx.list<Target>({
      kind: 'target',
      parentId: tg.id,
      limit,
      ...(afterId !== undefined ? { afterId } : {}),
    });
    const now = scope.ctx.now();
    const items: Record<string, unknown>[] = [];
    for (const t of result.items) {
      if (isExpired(t.data, now)) {
        await scope.tx.delete('target', t.id);
        scope.ctx.targetHealth?.forget(tg.id, t.data.id, t.data.port);
      } else items.push(render(t));
    }
    const out: Record<string, unknown> = { items };
    if (result.lastId !== undefined) out.nextToken = encodeNextToken(result.lastId);
    return out;
  }
  const live = await purgeExpired(scope, tg);
  const matching = live.filter((t) =>
    filters.some((f) => f.id === t.data.id && (f.port === undefined || f.port === t.data.port)),
  );
  return pageArray(matching, (t) => t.id, page, render);
}
