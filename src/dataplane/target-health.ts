import type { TargetStatus } from '../model/lattice-types.js';
import type { ResolvedHealthCheck } from '../model/health-check-defaults.js';

/** One target as the health checker sees it. `key` is `${id}:${port}` and unique in its group. */
export interface HealthCheckTarget {
  key: string;
  /** The registered target id (IP, instance id, ALB ARN, Lambda ARN). */
  id: string;
  /** Traffic port. */
  port: number;
  /** Resolved address to connect to (IP literal); undefined when it cannot be resolved. */
  address: string | undefined;
  /** Source address of probes (a namespace VPC's Lattice address, netns/); absent → any. */
  localAddress?: string | undefined;
  /** Deregistered and draining: reported DRAINING, never probed. */
  draining: boolean;
}

/** A target group's health-check plan, derived from each compiled snapshot. */
export interface HealthCheckTargetGroup {
  targetGroupId: string;
  type: 'IP' | 'INSTANCE' | 'ALB' | 'LAMBDA';
  /** Protocol of traffic to targets (HTTPS probes use TLS without verifying, spec §7.3). */
  healthCheck: ResolvedHealthCheck;
  /** False when no listener or rule forwards to the group: targets report UNUSED (spec §1.5). */
  inUse: boolean;
  targets: HealthCheckTarget[];
}

/** A status change to be written back so `ListTargets` shows it. */
export interface TargetHealthReport {
  targetGroupId: string;
  targetId: string;
  port: number;
  status: TargetStatus;
  reasonCode?: string;
}

/** Where status changes go; `bin/` wires it to the store. The data plane owns this interface. */
export interface TargetHealthSink {
  report(reports: TargetHealthReport[]): void;
}

/**
 * The data plane's view of target health, answered from memory on the hot path.
 * Implemented by the health checker (`health-checker.ts`).
 */
export interface TargetHealthView {
  /** Current status of a target; `INITIAL` for a target not yet checked. */
  status(targetGroupId: string, targetKey: string): TargetStatus;
  /**
   * Whether a new request may be sent to the target: HEALTHY, or UNAVAILABLE (checks disabled),
   * or INITIAL before the first check completes... see `health-checker.ts` for the exact rule.
   * Fail-open (all targets unhealthy → use all) is the picker's job (spec §5).
   */
  isRoutable(targetGroupId: string, targetKey: string): boolean;
  /** Increments when any status changes, so pickers can cache their healthy sets. */
  readonly generation: number;
}
