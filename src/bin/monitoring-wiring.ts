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
export async function startMonitoring(deps: {
  dataDir: string;
  settings: MonitoringSettings;
  store: Store;
  snapshots: SnapshotBuilder;
  log: Logger;
}): Promise<RunningMonitoring> {
  const mLog = deps.log.child({ part: 'monitoring' });
  const logger: MonitoringLogger = {
    info: (message, fields) => mLog.info(fields ?? {}, message),
    warn: (message, fields) => mLog.warn(fields ?? {}, message),
    error: (message, fields) => mLog.error(fields ?? {}, message),
  };
  // The OpenTelemetry SDK is loaded only when spans are exported (off by default).
  const endpoint = deps.settings.otlpEndpoint;
  const spans =
    endpoint === undefined
      ? undefined
      : (await import('../observability/otlp-span-export.js')).createOtlpSpanExport({
          endpoint,
          serviceName: deps.settings.otlpServiceName,
          scheduledDelayMs: deps.settings.otlpFlushMs,
          logger,
        });
  if (endpoint !== undefined) mLog.info({ endpoint }, 'exporting proxy spans over OTLP/HTTP');
  const monitoring = createMonitoring({
    dataDir: deps.dataDir,
    settings: deps.settings,
    usageSink: { addUsage: (increments) => deps.store.addUsage(increments) },
    logger,
    ...(spans ? { spans } : {}),
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
