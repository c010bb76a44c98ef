/**
 * Usage metering: per service and per hour, requests and bytes processed (received + sent),
 * accumulated in memory on the request path (one map lookup, two additions) and added to the
 * store every few seconds through a sink `bin/` wires to `Store.addUsage`.
 */
import type { RequestRecordFields } from './access-log-record.js';
import { idFromArn } from './metrics.js';
import { silentMonitoringLogger, type MonitoringLogger } from './log-destination.js';

/** One counter increment (the shape of the store's `UsageIncrement`). */
export interface UsageIncrement {
  serviceId: string;
  /** Start of the hour, `YYYY-MM-DDTHH:00:00Z`. */
  hour: string;
  requests: number;
  bytesProcessed: number;
}

/** Where increments go (the store, in `trellis up`). */
export interface UsageSink {
  addUsage(increments: UsageIncrement[]): Promise<void>;
}

/** The start of the UTC hour holding `ms`, as stored: `YYYY-MM-DDTHH:00:00Z`. */
export function usageHour(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 13)}:00:00Z`;
}

/** Options of {@link createUsageMeter}. */
export interface UsageMeterOptions {
  sink: UsageSink;
  flushMs: number;
  logger?: MonitoringLogger;
}

/** The running meter. */
export interface UsageMeter {
  /** The request hook. */
  observe(record: RequestRecordFields): void;
  /** Adds what was counted so far to the sink. */
  flush(): Promise<void>;
  start(): void;
  /** Stops the timer and flushes. */
  stop(): Promise<void>;
}

/** Creates the meter: `create → start → stop`. */
export function createUsageMeter(options: UsageMeterOptions): UsageMeter {
  return new Meter(options);
}

class Counts {
  requests = 0;
  bytes = 0;
  constructor(
    readonly serviceId: string,
    readonly hourIndex: number,
  ) {}
}

const HOUR_MS = 3_600_000;

class Meter implements UsageMeter {
  /** Service ARN → counts of the hour being filled. */
  private current = new Map<string, Counts>();
  /** Counts of ended hours and failed flushes, waiting for the next flush. */
  private pending: Counts[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly logger: MonitoringLogger;

  constructor(private readonly o: UsageMeterOptions) {
    this.logger = o.logger ?? silentMonitoringLogger;
  }

  observe(record: RequestRecordFields): void {
    const arn = record.serviceArn;
    if (arn === '') return; // no service was found: nothing Lattice would bill
    const hourIndex = Math.floor(record.startTime / HOUR_MS);
    let c = this.current.get(arn);
    if (c === undefined || c.hourIndex !== hourIndex) {
      if (c !== undefined) this.pending.push(c);
      c = new Counts(idFromArn(arn), hourIndex);
      this.current.set(arn, c);
    }
    c.requests++;
    c.bytes += record.bytesReceived + record.bytesSent;
  }

  start(): void {
    this.timer ??= setInterval(flushMeter, this.o.flushMs, this);
    this.timer.unref();
  }

  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  private async flushOnce(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    for (const c of this.current.values()) if (c.requests > 0) batch.push(c);
    this.current = new Map();
    if (batch.length === 0) return;
    const increments: UsageIncrement[] = batch.map((c) => ({
      serviceId: c.serviceId,
      hour: usageHour(c.hourIndex * HOUR_MS),
      requests: c.requests,
      bytesProcessed: c.bytes,
    }));
    try {
      await this.o.sink.addUsage(increments);
    } catch (err) {
      // Counters are sums: keep them for the next flush rather than lose billable traffic.
      this.pending.push(...batch);
      this.logger.warn('could not record usage; will retry', { error: String(err) });
    }
  }
}

function flushMeter(m: Meter): void {
  void m.flush();
}
