import type { Logger } from 'pino';
import { dataPlaneTimeoutsFromEnv } from '../config/dataplane-timeouts.js';
import type { Settings } from '../config/settings.js';
import { createDataPlane, type DataPlane, type TargetHealthReport } from '../dataplane/index.js';
import { createHealthChecker, type HealthChecker } from '../dataplane/health-checker.js';
import { createSigV4AuthGate } from '../dataplane/sigv4-auth-gate.js';
import type { FunctionInvoker } from '../dataplane/function-invoker.js';
import type { SnapshotSource } from '../dataplane/snapshot-source.js';
import type { Store } from '../store/store.js';
import { resolve } from 'node:path';
import { dataPlaneTls, prepareCertificates } from './certificates-wiring.js';

export interface RunningDataPlane {
  dataPlane: DataPlane;
  healthChecker: HealthChecker;
  stop(): Promise<void>;
}

/**
 * Wires the data plane to the store (DESIGN.md: they meet only here): snapshots in through the
 * builder, target health out through a sink that writes the store's health table.
 */
export async function startDataPlane(deps: {
  settings: Settings;
  store: Store;
  snapshots: SnapshotSource;
  log: Logger;
  /** Runs LAMBDA targets' functions (the function runner). */
  functions?: FunctionInvoker;
}): Promise<RunningDataPlane> {
  const { store, log } = deps;
  const dpLog = log.child({ part: 'dataplane' });
  const logger = {
    info: (message: string, fields?: Record<string, unknown>) => dpLog.info(fields ?? {}, message),
    warn: (message: string, fields?: Record<string, unknown>) => dpLog.warn(fields ?? {}, message),
    error: (message: string, fields?: Record<string, unknown>) =>
      dpLog.error(fields ?? {}, message),
  };
  const healthChecker = createHealthChecker({
    logger,
    sink: {
      report(reports: TargetHealthReport[]) {
        const updatedAt = new Date().toISOString();
        store
          .putTargetHealth(
            reports.map((r) => ({
              targetGroupId: r.targetGroupId,
              targetId: r.targetId,
              port: r.port,
              status: r.status,
              ...(r.reasonCode ? { reasonCode: r.reasonCode } : {}),
              updatedAt,
            })),
          )
          .catch((err: unknown) => dpLog.warn({ err }, 'could not record target health'));
      },
    },
  });
  const dataPlane = createDataPlane({
    snapshotSource: deps.snapshots,
    region: deps.settings.region,
    logger,
    health: healthChecker,
    authGate: createSigV4AuthGate({ region: deps.settings.region }),
    timeouts: dataPlaneTimeoutsFromEnv(process.env),
    tls: dataPlaneTls(prepareCertificates(resolve(deps.settings.dataDir), deps.settings.region)),
    ...(deps.functions !== undefined ? { functions: deps.functions } : {}),
  });
  let started = false;
  try {
    healthChecker.start();
    await dataPlane.start();
    started = true;
  } finally {
    if (!started) {
      healthChecker.stop();
      await dataPlane.stop();
    }
  }
  return {
    dataPlane,
    healthChecker,
    async stop() {
      await dataPlane.stop();
      healthChecker.stop();
    },
  };
}
