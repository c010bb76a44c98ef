import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { MonitoringSettings } from '../config/monitoring-settings.js';
import {
  createMonitoring,
  type Monitoring,
  type MonitoringLogger,
} from '../observability/index.js';
import type { SnapshotBuilder } from '../snapshot/snapshot-builder.js';
import type { Store } from '../store/store.js';

/** The monitoring part of `trellis up`, wired: snapshots in, usage to the store, `/metrics` out. */
export interface RunningMonitoring {
  readonly monitoring: Monitoring;
  /** The data plane's `onRequestComplete` (undefined when every part is off). */
  readonly hook: Monitoring['hook'];
  /** `GET /metrics` for the API server (Prometheus text format). */
  readonly publicRoutes: Record<
    string,
    (req: IncomingMessage, res: ServerResponse) => Promise<void>
  >;
  stop(): Promise<void>;
}

/**
 * Connects observability/ to the rest (DESIGN.md: only bin/ crosses rooms): the snapshot builder
 * feeds access-log subscriptions, the usage sink writes the store, metrics answer on the API.
 */
export function startMonitoring(deps: {
  dataDir: string;
  settings: MonitoringSettings;
  store: Store;
  snapshots: SnapshotBuilder;
  log: Logger;
}): RunningMonitoring {
  const mLog = deps.log.child({ part: 'monitoring' });
  const logger: MonitoringLogger = {
    info: (message, fields) => mLog.info(fields ?? {}, message),
    warn: (message, fields) => mLog.warn(fields ?? {}, message),
    error: (message, fields) => mLog.error(fields ?? {}, message),
  };
  const monitoring = createMonitoring({
    dataDir: deps.dataDir,
    settings: deps.settings,
    usageSink: { addUsage: (increments) => deps.store.addUsage(increments) },
    logger,
  });
  monitoring.start();
  const first = deps.snapshots.current();
  if (first !== undefined) monitoring.update(first);
  const unsubscribe = deps.snapshots.subscribe((s) => monitoring.update(s));
  const metrics = monitoring.metrics;
  const publicRoutes: RunningMonitoring['publicRoutes'] = {};
  if (metrics !== undefined) {
    publicRoutes['GET /metrics'] = async (_req, res) => {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'content-type': contentType }).end(body);
    };
  }
  return {
    monitoring,
    hook: monitoring.hook,
    publicRoutes,
    async stop() {
      unsubscribe();
      await monitoring.stop();
    },
  };
}
