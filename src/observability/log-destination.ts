import type { LogDestinationSpec } from './access-log-router.js';

/** Logging of the monitoring side itself (pino adapter wired by bin/). */
export interface MonitoringLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that says nothing (tests, benches). */
export const silentMonitoringLogger: MonitoringLogger = {
  info() {},
  warn() {},
  error() {},
};

/** Counts of what each destination delivered and dropped (exported as metrics). */
export interface DeliveryCounters {
  delivered(destination: LogDestinationSpec, records: number): void;
  /** `reason`: `overflow` (buffer full, oldest dropped), `write-error`, `no-endpoint`, … */
  dropped(destination: LogDestinationSpec, reason: string, records: number): void;
}

/** Counters that count nothing. */
export const noDeliveryCounters: DeliveryCounters = {
  delivered() {},
  dropped() {},
};

/**
 * A writer of one destination: `enqueue` is called on the request path and only buffers;
 * writing happens later, batched, off that path. `create → start → stop` (stop flushes).
 */
export interface LogDestination {
  readonly spec: LogDestinationSpec;
  /** Buffers one JSON line; never blocks, never throws. */
  enqueue(line: string): void;
  start(): void;
  /** Writes what is buffered now (tests, stop). */
  flush(): Promise<void>;
  /** Flushes, then releases files and timers. Safe to call twice. */
  stop(): Promise<void>;
}

/** Logs a destination problem at most once a minute per (destination, code). */
export class ProblemReporter {
  private readonly last = new Map<string, number>();
  constructor(private readonly logger: MonitoringLogger) {}

  report(spec: LogDestinationSpec, code: string, message: string, records: number): void {
    const key = `${spec.key}|${code}`;
    const now = Date.now();
    const at = this.last.get(key);
    if (at !== undefined && now - at < 60_000) return;
    this.last.set(key, now);
    this.logger.warn('access-log records dropped', {
      destinationArn: spec.destinationArn,
      code,
      error: message,
      records,
    });
  }
}

/** The error code of a failed I/O call, for counters and logs. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}
