/** The data plane's public surface (what `bin/` wires). */
export { createDataPlane } from './data-plane.js';
export type { DataPlane, DataPlaneOptions, DataPlaneTimeouts } from './data-plane.js';
export type { SnapshotSource } from './snapshot-source.js';
export type {
  HealthCheckTarget,
  HealthCheckTargetGroup,
  TargetHealthReport,
  TargetHealthSink,
  TargetHealthView,
} from './target-health.js';
export { planHealthChecks } from './health-plan.js';
export type { HealthHooks, HealthCheckerLike } from './health-plan.js';
export { compileSnapshot, SnapshotCompileError, defaultWeight } from './compile-snapshot.js';
export type { CompiledSnapshot, ListenAddress } from './compile-snapshot.js';
export { denyAwsIamGate } from './auth-gate.js';
export type { AuthGate, AuthGateInput, AuthDecision } from './auth-gate.js';
export { RequestRecord } from './request-record.js';
export type { RequestCompleteHook } from './request-record.js';
export type { DataPlaneLogger } from './logger.js';
export { silentLogger } from './logger.js';
