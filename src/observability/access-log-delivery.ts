/**
 * Access-log delivery: follows snapshots (which subscriptions exist), and for each finished
 * request formats one §4.1 JSON line — only when at least one subscription wants it — and hands it
 * to the writers of those subscriptions' destinations. Writers buffer; nothing here does I/O.
 */
import type { MonitoringSettings } from '../config/monitoring-settings.js';
import type { Snapshot } from '../model/snapshot-types.js';
import { formatAccessLogLine, type RequestRecordFields } from './access-log-record.js';
import {
  AccessLogRoutes,
  compileAccessLogRoutes,
  type LogDestinationSpec,
  type LogRoute,
} from './access-log-router.js';
import { createCloudWatchFileDestination } from './cloudwatch-file-destination.js';
import { createFirehoseDestination } from './firehose-destination.js';
import {
  noDeliveryCounters,
  silentMonitoringLogger,
  type DeliveryCounters,
  type LogDestination,
  type MonitoringLogger,
} from './log-destination.js';
import { createS3Destination } from './s3-destination.js';

/** Options of {@link createAccessLogDelivery}. */
export interface AccessLogDeliveryOptions {
  dataDir: string;
  settings: MonitoringSettings;
  counters?: DeliveryCounters;
  logger?: MonitoringLogger;
}

/** The running delivery. */
export interface AccessLogDelivery {
  /** Applies a snapshot's subscriptions (new writers start, removed ones flush and stop). */
  update(snapshot: Snapshot): void;
  /** The request hook: called once per finished request. Never throws, never blocks. */
  deliver(record: RequestRecordFields): void;
  /** Writes everything buffered now (tests). */
  flush(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** Creates the delivery: `create → start → update(snapshot)… → stop`. */
export function createAccessLogDelivery(options: AccessLogDeliveryOptions): AccessLogDelivery {
  return new Delivery(options);
}

class Delivery implements AccessLogDelivery {
  private routes = new AccessLogRoutes();
  private readonly writers = new Map<string, LogDestination>();
  private readonly scratch: LogRoute[] = [];
  private readonly counters: DeliveryCounters;
  private readonly logger: MonitoringLogger;
  private started = false;
  private retiring: Promise<void>[] = [];

  constructor(private readonly o: AccessLogDeliveryOptions) {
    this.counters = o.counters ?? noDeliveryCounters;
    this.logger = o.logger ?? silentMonitoringLogger;
  }

  start(): void {
    this.started = true;
    for (const w of this.writers.values()) w.start();
  }

  update(snapshot: Snapshot): void {
    const routes = compileAccessLogRoutes(snapshot);
    for (const id of routes.skipped)
      this.logger.warn('access-log subscription has a destination Trellis cannot write', { id });
    for (const [key, spec] of routes.destinations) {
      if (this.writers.has(key)) continue;
      const w = this.createWriter(spec);
      this.writers.set(key, w);
      if (this.started) w.start();
    }
    // Swap first so no new line reaches a writer that is being retired.
    this.routes = routes;
    for (const [key, w] of this.writers) {
      if (routes.destinations.has(key)) continue;
      this.writers.delete(key);
      this.retiring.push(w.stop().catch(() => undefined));
    }
  }

  deliver(record: RequestRecordFields): void {
    const routes = this.routes;
    if (routes.isEmpty) return;
    const out = this.scratch;
    const n = routes.collect(record.serviceArn, record.serviceNetworkArn, record.sourceVpcId, out);
    if (n === 0) return;
    let line: string;
    try {
      line = formatAccessLogLine(
        record,
        record.targetGroupArn === '' ? undefined : routes.targetGroupVpc.get(record.targetGroupArn),
      );
    } catch (err) {
      this.logger.error('could not format an access-log record', { error: String(err) });
      return;
    }
    for (let i = 0; i < n; i++) this.writers.get(out[i]!.destination.key)?.enqueue(line);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.flush()));
    await Promise.all(this.retiring);
  }

  async stop(): Promise<void> {
    this.started = false;
    const all = [...this.writers.values()];
    this.writers.clear();
    this.routes = new AccessLogRoutes();
    await Promise.all([...all.map((w) => w.stop().catch(() => undefined)), ...this.retiring]);
    this.retiring = [];
  }

  private createWriter(spec: LogDestinationSpec): LogDestination {
    const common = { spec, counters: this.counters, logger: this.logger };
    switch (spec.type) {
      case 'cloudwatch':
        return createCloudWatchFileDestination({
          ...common,
          dataDir: this.o.dataDir,
          settings: this.o.settings,
        });
      case 's3':
        return createS3Destination({
          ...common,
          dataDir: this.o.dataDir,
          settings: this.o.settings,
        });
      case 'firehose':
        return createFirehoseDestination({ ...common, settings: this.o.settings });
    }
  }
}
