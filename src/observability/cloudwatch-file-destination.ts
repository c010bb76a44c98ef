/**
 * A CloudWatch Logs log group, kept locally: one folder per group under
 * `<data-dir>/logs/cloudwatch/<group>/` holding `current.jsonl` (JSON lines) and up to `keepFiles`
 * rotated `access-<UTC stamp>.jsonl` files. Lines are buffered and appended in batches by a timer;
 * a failed write (folder removed, read-only, disk full) drops that batch with a counter — the
 * request path is never touched.
 */
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CURRENT_LOG_FILE,
  logGroupDirectory,
  type MonitoringSettings,
} from '../config/monitoring-settings.js';
import type { LogDestinationSpec } from './access-log-router.js';
import { LogBuffer } from './log-buffer.js';
import {
  errorCode,
  ProblemReporter,
  type DeliveryCounters,
  type LogDestination,
  type MonitoringLogger,
} from './log-destination.js';

const FLUSH_MS = 200;
const BATCH_LINES = 2_000;

/** Options of {@link createCloudWatchFileDestination}. */
export interface FileDestinationOptions {
  spec: LogDestinationSpec;
  dataDir: string;
  settings: Pick<MonitoringSettings, 'bufferRecords' | 'rotateBytes' | 'keepFiles'>;
  counters: DeliveryCounters;
  logger: MonitoringLogger;
}

/** Creates the writer of one log group. */
export function createCloudWatchFileDestination(options: FileDestinationOptions): LogDestination {
  return new CloudWatchFileDestination(options);
}

/** `access-20261126T114230123Z.jsonl`: sorts by time. */
function rotatedName(now: Date): string {
  return `access-${now.toISOString().replace(/[-:.]/g, '')}.jsonl`;
}

class CloudWatchFileDestination implements LogDestination {
  readonly spec: LogDestinationSpec;
  private readonly dir: string;
  private readonly file: string;
  private readonly buffer: LogBuffer;
  private readonly o: FileDestinationOptions;
  private readonly problems: ProblemReporter;
  private handle: FileHandle | undefined;
  private handleIno = -1;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private reportedOverflow = 0;
  private soonScheduled = false;

  constructor(o: FileDestinationOptions) {
    this.o = o;
    this.spec = o.spec;
    this.dir = logGroupDirectory(o.dataDir, o.spec.name);
    this.file = join(this.dir, CURRENT_LOG_FILE);
    this.buffer = new LogBuffer(o.settings.bufferRecords);
    this.problems = new ProblemReporter(o.logger);
  }

  enqueue(line: string): void {
    this.buffer.push(line);
    if (this.buffer.length >= BATCH_LINES && !this.soonScheduled && this.writing === undefined) {
      this.soonScheduled = true;
      setImmediate(flushSoon, this);
    }
  }

  start(): void {
    this.timer ??= setInterval(flushSoon, FLUSH_MS, this);
    this.timer.unref();
  }

  /** Called by the timer: one write at a time; lines arriving meanwhile wait in the buffer. */
  kick(): void {
    this.soonScheduled = false;
    if (this.writing !== undefined || this.buffer.length === 0) {
      this.countOverflow();
      return;
    }
    this.writing = this.writeBatch().finally(() => {
      this.writing = undefined;
    });
  }

  async flush(): Promise<void> {
    await this.writing;
    while (this.buffer.length > 0) {
      this.kick();
      await this.writing;
    }
    this.countOverflow();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
  }

  private countOverflow(): void {
    const n = this.buffer.overflowed - this.reportedOverflow;
    if (n > 0) {
      this.reportedOverflow += n;
      this.o.counters.dropped(this.spec, 'overflow', n);
      this.problems.report(this.spec, 'overflow', 'buffer full; oldest records dropped', n);
    }
  }

  private async writeBatch(): Promise<void> {
    this.countOverflow();
    const { data, records } = this.buffer.take(BATCH_LINES * 4);
    if (records === 0) return;
    try {
      await this.ensureOpen();
      if (this.size > 0 && this.size + data.length > this.o.settings.rotateBytes)
        await this.rotate();
      await this.handle!.write(data);
      this.size += data.length;
      this.o.counters.delivered(this.spec, records);
    } catch (err) {
      const code = errorCode(err);
      this.o.counters.dropped(this.spec, 'write-error', records);
      this.problems.report(this.spec, code, (err as Error).message, records);
      // Next batch reopens (and recreates the folder if it can).
      await this.closeHandle();
    }
  }

  /** Opens `current.jsonl`, recreating the folder; reopens when the file was removed or rotated away. */
  private async ensureOpen(): Promise<void> {
    if (this.handle !== undefined) {
      const now = await stat(this.file).catch(() => undefined);
      if (now !== undefined && now.ino === this.handleIno) return;
      await this.closeHandle();
    }
    await mkdir(this.dir, { recursive: true });
    const h = await open(this.file, 'a');
    try {
      const s = await h.stat();
      this.handleIno = s.ino;
      this.size = s.size;
      this.handle = h;
    } catch (err) {
      await h.close().catch(() => undefined);
      throw err;
    }
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    this.handleIno = -1;
    await h?.close().catch(() => undefined);
  }

  private async rotate(): Promise<void> {
    await this.closeHandle();
    await rename(this.file, join(this.dir, rotatedName(new Date())));
    const rotated = (await readdir(this.dir))
      .filter((f) => f.startsWith('access-') && f.endsWith('.jsonl'))
      .sort();
    const excess = rotated.length - this.o.settings.keepFiles;
    for (let i = 0; i < excess; i++) await unlink(join(this.dir, rotated[i]!)).catch(() => {});
    await this.ensureOpen();
  }
}

function flushSoon(d: CloudWatchFileDestination): void {
  d.kick();
}
