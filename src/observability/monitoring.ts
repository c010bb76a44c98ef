/**
 * The monitoring side of a process in one part: access-log delivery, metrics and usage metering,
 * with the one request hook the data plane calls (`bin/` sets it as `onRequestComplete`) and the
 * snapshot feed that tells delivery which subscriptions exist.
 */
import type { MonitoringSettings } from '../config/monitoring-settings.js';
import type { Snapshot } from '../model/snapshot-types.js';
import { createAccessLogDelivery, type AccessLogDelivery } from './access-log-delivery.js';
import type { RequestRecordFields } from './access-log-record.js';
import { silentMonitoringLogger, type MonitoringLogger } from './log-destination.js';
import type { ProxySpanIds } from './trace-context.js';
import { createMetrics, type TrellisMetrics } from './metrics.js';
import type { OtlpSpanExport } from './otlp-span-export.js';
import { createUsageMeter, type UsageMeter, type UsageSink } from './usage-meter.js';

/** Options of {@link createMonitoring}. */
export interface MonitoringOptions {
  dataDir: string;
  settings: MonitoringSettings;
  /** Where usage goes; without it usage is not metered. */
  usageSink?: UsageSink;
  /**
   * The OTLP span export (otlp-span-export.ts), when `settings.otlpEndpoint` is set; `bin/` loads
   * that module only then, so the OpenTelemetry SDK costs nothing when export is off.
   */
  spans?: OtlpSpanExport;
  logger?: MonitoringLogger;
}

/** The running monitoring parts. */
export interface Monitoring {
  /** The data plane's `onRequestComplete`; undefined when every part is off (zero cost). */
  readonly hook: ((record: RequestRecordFields) => void) | undefined;
  readonly metrics: TrellisMetrics | undefined;
  readonly delivery: AccessLogDelivery | undefined;
  readonly usage: UsageMeter | undefined;
  /** Whether records should carry proxy spans (OTLP export on): `bin/` sets `traceSpans`. */
  readonly traceSpans: boolean;
  /** Feed every snapshot here (subscriptions). */
  update(snapshot: Snapshot): void;
  /** Writes buffered logs and usage now (tests). */
  flush(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** Creates the monitoring parts the settings enable. */
export function createMonitoring(options: MonitoringOptions): Monitoring {
  const { settings } = options;
  const logger = options.logger ?? silentMonitoringLogger;
  const metrics = settings.metrics ? createMetrics() : undefined;
  const delivery = settings.accessLogs
    ? createAccessLogDelivery({
        dataDir: options.dataDir,
        settings,
        logger,
        ...(metrics ? { counters: metrics } : {}),
      })
    : undefined;
  const usage =
    settings.usage && options.usageSink
      ? createUsageMeter({ sink: options.usageSink, flushMs: settings.usageFlushMs, logger })
      : undefined;
  const parts: ((r: RequestRecordFields) => void)[] = [];
  if (delivery) parts.push((r) => delivery.deliver(r));
  if (metrics) parts.push((r) => metrics.observe(r));
  if (usage) parts.push((r) => usage.observe(r));
  const spans = options.spans;
  // The data plane gives a record span ids only when told to (DataPlane.traceSpans).
  if (spans) parts.push((r) => spans.observe(r as RequestRecordFields & ProxySpanIds));
  let hook: ((r: RequestRecordFields) => void) | undefined;
  if (parts.length === 1) hook = parts[0];
  else if (parts.length > 1)
    hook = (r) => {
      for (let i = 0; i < parts.length; i++) {
        try {
          parts[i]!(r);
        } catch (err) {
          logger.error('monitoring hook failed', { error: String(err) });
        }
      }
    };
  return {
    hook,
    metrics,
    delivery,
    usage,
    traceSpans: spans !== undefined,
    update: (snapshot) => delivery?.update(snapshot),
    async flush() {
      await delivery?.flush();
      await usage?.flush();
      await spans?.flush();
    },
    start() {
      delivery?.start();
      usage?.start();
    },
    async stop() {
      await delivery?.stop();
      await usage?.stop();
      await spans?.shutdown();
    },
  };
}
