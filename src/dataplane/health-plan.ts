import type { CompiledSnapshot } from './compile-snapshot.js';
import type { HealthCheckTargetGroup, TargetHealthView } from './target-health.js';

/**
 * The health-check plan of a compiled snapshot: every target group with its resolved check, whether
 * any listener uses it (UNUSED otherwise, spec §1.5) and its targets with resolved addresses.
 * Pure: the health checker diffs successive plans.
 */
export function planHealthChecks(compiled: CompiledSnapshot): HealthCheckTargetGroup[] {
  const plan: HealthCheckTargetGroup[] = [];
  for (const g of compiled.targetGroups.values()) {
    plan.push({
      targetGroupId: g.id,
      type: g.type,
      healthCheck: { ...g.healthCheck, matcher: { ...g.healthCheck.matcher } },
      inUse: g.inUse,
      targets: g.targets.map((t) => ({
        key: t.key,
        id: t.id,
        port: t.port,
        address: t.address,
        ...(t.localAddress !== undefined ? { localAddress: t.localAddress } : {}),
        draining: t.draining,
      })),
    });
  }
  return plan;
}

/** What the data plane needs of a health checker (`health-checker.ts` implements it). */
export interface HealthHooks {
  view: TargetHealthView;
  update(groups: HealthCheckTargetGroup[]): void;
}

/** A health checker passed as is: it is its own view (`health-checker.ts` `HealthChecker`). */
export type HealthCheckerLike = TargetHealthView & {
  update(groups: HealthCheckTargetGroup[]): void;
};

/** Accepts either shape. */
export function toHealthHooks(h: HealthHooks | HealthCheckerLike): HealthHooks {
  if ('view' in h) return h;
  return { view: h, update: (groups) => h.update(groups) };
}
