/**
 * An S3 bucket, kept locally: gzip objects under `<data-dir>/logs/s3/<bucket>/` in the key layout
 * Lattice uses (spec §1.5):
 * `[prefix/]AWSLogs/<account>/VpcLattice/AccessLogs/<region>/<YYYY/MM/DD>/<resource-id>/
 *  <account>_VpcLatticeAccessLogs_<region>_<resource-id>_<YYYYMMDDTHHmmZ>_<hash>.json.gz`.
 * One object per flush (every `s3FlushMs`, or sooner once `s3FlushRecords` are buffered).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { s3BucketDirectory, type MonitoringSettings } from '../config/monitoring-settings.js';
import type { LogDestinationSpec } from './access-log-router.js';
import { LogBuffer } from './log-buffer.js';
import {
  errorCode,
  ProblemReporter,
  type DeliveryCounters,
  type LogDestination,
  type MonitoringLogger,
} from './log-destination.js';

const gzipAsync = promisify(gzip);

/** Options of {@link createS3Destination}. */
export interface S3DestinationOptions {
  spec: LogDestinationSpec;
  dataDir: string;
  settings: Pick<MonitoringSettings, 'bufferRecords' | 's3FlushMs' | 's3FlushRecords'>;
  counters: DeliveryCounters;
  logger: MonitoringLogger;
}

/** The object key (relative to the bucket folder) of a batch written at `at` (spec §1.5). */
export function s3ObjectKey(spec: LogDestinationSpec, at: Date, hash: string): string {
  const iso = at.toISOString();
  const yyyy = iso.slice(0, 4);
  const mm = iso.slice(5, 7);
  const dd = iso.slice(8, 10);
  const stamp = `${yyyy}${mm}${dd}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
  const parts = [
    ...(spec.prefix ? [spec.prefix] : []),
    'AWSLogs',
    spec.accountId,
    'VpcLattice',
    'AccessLogs',
    spec.region,
    yyyy,
    mm,
    dd,
    spec.resourceId,
    `${spec.accountId}_VpcLatticeAccessLogs_${spec.region}_${spec.resourceId}_${stamp}_${hash}.json.gz`,
  ];
  return parts.join('/');
}

/** Creates the writer of one (bucket, subscribed resource). */
export function createS3Destination(options: S3DestinationOptions): LogDestination {
  return new S3Destination(options);
}

class S3Destination implements LogDestination {
  readonly spec: LogDestinationSpec;
  private readonly o: S3DestinationOptions;
  private readonly buffer: LogBuffer;
  private readonly problems: ProblemReporter;
  private readonly root: string;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private reportedOverflow = 0;
  private soonScheduled = false;

  constructor(o: S3DestinationOptions) {
    this.o = o;
    this.spec = o.spec;
    this.buffer = new LogBuffer(o.settings.bufferRecords);
    this.problems = new ProblemReporter(o.logger);
    this.root = s3BucketDirectory(o.dataDir, o.spec.name);
  }

  enqueue(line: string): void {
    this.buffer.push(line);
    if (
      this.buffer.length >= this.o.settings.s3FlushRecords &&
      this.writing === undefined &&
      !this.soonScheduled
    ) {
      this.soonScheduled = true;
      setImmediate(kickS3, this);
    }
  }

  start(): void {
    this.timer ??= setInterval(kickS3, this.o.settings.s3FlushMs, this);
    this.timer.unref();
  }

  kick(): void {
    this.soonScheduled = false;
    if (this.writing !== undefined || this.buffer.length === 0) return;
    this.writing = this.writeObject().finally(() => {
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
  }

  private countOverflow(): void {
    const n = this.buffer.overflowed - this.reportedOverflow;
    if (n > 0) {
      this.reportedOverflow += n;
      this.o.counters.dropped(this.spec, 'overflow', n);
      this.problems.report(this.spec, 'overflow', 'buffer full; oldest records dropped', n);
    }
  }

  private async writeObject(): Promise<void> {
    this.countOverflow();
    const { data, records } = this.buffer.take(this.o.settings.s3FlushRecords);
    if (records === 0) return;
    try {
      const body = await gzipAsync(data);
      const hash = createHash('sha256')
        .update(body)
        .update(randomBytes(4))
        .digest('hex')
        .slice(0, 8);
      const key = s3ObjectKey(this.spec, new Date(), hash);
      const path = join(this.root, ...key.split('/'));
      await mkdir(join(path, '..'), { recursive: true });
      // Written beside, then renamed: a reader never sees half an object.
      await writeFile(`${path}.part`, body);
      await rename(`${path}.part`, path);
      this.o.counters.delivered(this.spec, records);
    } catch (err) {
      this.o.counters.dropped(this.spec, 'write-error', records);
      this.problems.report(this.spec, errorCode(err), (err as Error).message, records);
    }
  }
}

function kickS3(d: S3Destination): void {
  d.kick();
}
