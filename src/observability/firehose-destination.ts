/**
 * A Firehose delivery stream: batches of newline-delimited JSON POSTed to the HTTP endpoint
 * configured for the stream (`TRELLIS_FIREHOSE_ENDPOINT_<STREAMNAME>`), with retries. A stream
 * without an endpoint, or an endpoint that keeps failing, drops its batches with a counter.
 */
import { firehoseEndpointEnvKey, type MonitoringSettings } from '../config/monitoring-settings.js';
import type { LogDestinationSpec } from './access-log-router.js';
import { LogBuffer } from './log-buffer.js';
import {
  errorCode,
  ProblemReporter,
  type DeliveryCounters,
  type LogDestination,
  type MonitoringLogger,
} from './log-destination.js';

const BATCH_LINES = 500;
const POST_TIMEOUT_MS = 5_000;

/** Options of {@link createFirehoseDestination}. */
export interface FirehoseDestinationOptions {
  spec: LogDestinationSpec;
  settings: Pick<
    MonitoringSettings,
    'bufferRecords' | 'firehoseFlushMs' | 'firehoseRetries' | 'firehoseEndpoints'
  >;
  counters: DeliveryCounters;
  logger: MonitoringLogger;
}

/** Creates the writer of one delivery stream. */
export function createFirehoseDestination(options: FirehoseDestinationOptions): LogDestination {
  return new FirehoseDestination(options);
}

class FirehoseDestination implements LogDestination {
  readonly spec: LogDestinationSpec;
  private readonly o: FirehoseDestinationOptions;
  private readonly buffer: LogBuffer;
  private readonly problems: ProblemReporter;
  private readonly endpoint: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private reportedOverflow = 0;
  private stopped = false;

  constructor(o: FirehoseDestinationOptions) {
    this.o = o;
    this.spec = o.spec;
    this.buffer = new LogBuffer(o.settings.bufferRecords);
    this.problems = new ProblemReporter(o.logger);
    this.endpoint = o.settings.firehoseEndpoints[firehoseEndpointEnvKey(o.spec.name)];
  }

  enqueue(line: string): void {
    this.buffer.push(line);
  }

  start(): void {
    this.timer ??= setInterval(kickFirehose, this.o.settings.firehoseFlushMs, this);
    this.timer.unref();
  }

  kick(): void {
    if (this.sending !== undefined || this.buffer.length === 0) return;
    this.sending = this.sendBatch().finally(() => {
      this.sending = undefined;
      // More than one batch waiting: send the next now rather than at the next tick.
      if (this.buffer.length >= BATCH_LINES && !this.stopped) setImmediate(kickFirehose, this);
    });
  }

  async flush(): Promise<void> {
    await this.sending;
    while (this.buffer.length > 0) {
      this.kick();
      await this.sending;
    }
    this.countOverflow();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    this.stopped = true;
  }

  private countOverflow(): void {
    const n = this.buffer.overflowed - this.reportedOverflow;
    if (n > 0) {
      this.reportedOverflow += n;
      this.o.counters.dropped(this.spec, 'overflow', n);
      this.problems.report(this.spec, 'overflow', 'buffer full; oldest records dropped', n);
    }
  }

  private async sendBatch(): Promise<void> {
    this.countOverflow();
    const { data: body, records } = this.buffer.take(BATCH_LINES);
    if (records === 0) return;
    if (this.endpoint === undefined) {
      this.o.counters.dropped(this.spec, 'no-endpoint', records);
      this.problems.report(
        this.spec,
        'no-endpoint',
        `no endpoint configured; set ${firehoseEndpointEnvKey(this.spec.name)}`,
        records,
      );
      return;
    }
    let lastError = 'error';
    let lastMessage = '';
    for (let attempt = 0; attempt <= this.o.settings.firehoseRetries && !this.stopped; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
      try {
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-ndjson',
            'x-amz-firehose-delivery-stream': this.spec.name,
          },
          body,
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.o.counters.delivered(this.spec, records);
          return;
        }
        lastError = `http-${res.status}`;
        lastMessage = `endpoint answered ${res.status}`;
      } catch (err) {
        lastError = errorCode((err as { cause?: unknown }).cause ?? err);
        lastMessage = (err as Error).message;
      }
    }
    this.o.counters.dropped(this.spec, 'send-error', records);
    this.problems.report(this.spec, lastError, lastMessage, records);
  }
}

function kickFirehose(d: FirehoseDestination): void {
  d.kick();
}
