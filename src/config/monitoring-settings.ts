/**
 * Settings of the monitoring side of `trellis up` (access-log delivery, metrics, usage metering,
 * price list) and the on-disk layout of delivered logs, which the data plane's sinks and the
 * `trellis logs` command both follow. Environment mapping lives here because only `config/`
 * reads the environment (STYLE.md).
 */
import { join } from 'node:path';

/** The price list usage is charged under (USD). Lattice's published structure by default. */
export interface PriceList {
  /** Per hour a service exists. */
  readonly perServiceHour: number;
  /** Per GB (10^9 bytes) processed (received + sent). */
  readonly perGbProcessed: number;
  /** Per million requests beyond the free hourly allowance. */
  readonly perMillionRequests: number;
  /** Requests per service per hour that are free. */
  readonly freeRequestsPerHour: number;
}

/**
 * Lattice's published price structure (us-east-1 at the time of writing); prices differ by region
 * and change, so every figure is configurable (`TRELLIS_PRICE_*`).
 */
export const DEFAULT_PRICES: PriceList = Object.freeze({
  perServiceHour: 0.025,
  perGbProcessed: 0.025,
  perMillionRequests: 0.1,
  freeRequestsPerHour: 300_000,
});

/** Monitoring settings: load (`monitoringSettingsFromEnv`) → frozen object. */
export interface MonitoringSettings {
  /** Whether `/metrics` is served and requests are counted. */
  readonly metrics: boolean;
  /** Whether access logs are delivered to subscriptions. */
  readonly accessLogs: boolean;
  /** Whether usage is metered into the store. */
  readonly usage: boolean;
  /** Records buffered per destination before the oldest are dropped. */
  readonly bufferRecords: number;
  /** CloudWatch-style files: rotate at this size; keep this many rotated files. */
  readonly rotateBytes: number;
  readonly keepFiles: number;
  /** S3-style objects: write one every this many ms, or when this many records are buffered. */
  readonly s3FlushMs: number;
  readonly s3FlushRecords: number;
  /** Firehose: POST batches every this many ms; retries per batch. */
  readonly firehoseFlushMs: number;
  readonly firehoseRetries: number;
  /** HTTP endpoint per delivery-stream name (`TRELLIS_FIREHOSE_ENDPOINT_<STREAMNAME>`). */
  readonly firehoseEndpoints: Readonly<Record<string, string>>;
  /** How often usage counters are added to the store. */
  readonly usageFlushMs: number;
  readonly prices: PriceList;
  /**
   * OTLP/HTTP traces URL proxy spans are exported to (`TRELLIS_OTLP_ENDPOINT`, `trellis up
   * --otlp-endpoint`); undefined: no spans (the default). A URL without a path gets `/v1/traces`.
   */
  readonly otlpEndpoint: string | undefined;
  /** `service.name` of the exported spans (`TRELLIS_OTLP_SERVICE_NAME`, default `trellis`). */
  readonly otlpServiceName: string;
  /** How often span batches are sent (`TRELLIS_OTLP_FLUSH_MS`, default 5 000, the SDK's). */
  readonly otlpFlushMs: number;
}

/** Defaults of every monitoring setting. */
export const DEFAULT_MONITORING_SETTINGS: MonitoringSettings = Object.freeze({
  metrics: true,
  accessLogs: true,
  usage: true,
  bufferRecords: 10_000,
  rotateBytes: 64 * 1024 * 1024,
  keepFiles: 5,
  s3FlushMs: 60_000,
  s3FlushRecords: 5_000,
  firehoseFlushMs: 1_000,
  firehoseRetries: 3,
  firehoseEndpoints: Object.freeze({}),
  usageFlushMs: 5_000,
  prices: DEFAULT_PRICES,
  otlpEndpoint: undefined,
  otlpServiceName: 'trellis',
  otlpFlushMs: 5_000,
});

/** An OTLP/HTTP traces URL from a setting: http(s) only; a bare origin gets `/v1/traces`. */
export function otlpTracesUrl(value: string): string {
  const url = new URL(value); // throws on a non-URL
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

/** The environment key of a delivery stream's endpoint: name upper-cased, non-alphanumerics → `_`. */
export function firehoseEndpointEnvKey(streamName: string): string {
  return `TRELLIS_FIREHOSE_ENDPOINT_${streamName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function positive(
  env: Record<string, string | undefined>,
  key: string,
  fallback: number,
  problems: string[],
  allowZero = false,
): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    problems.push(
      `${key} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`,
    );
    return fallback;
  }
  return n;
}

function flag(env: Record<string, string | undefined>, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'off', 'no'].includes(raw.toLowerCase());
}

/**
 * Reads monitoring settings from the environment and freezes them. Unknown firehose stream names
 * are kept by their environment key (`TRELLIS_FIREHOSE_ENDPOINT_<NAME>`), matched at delivery time
 * through {@link firehoseEndpointEnvKey}. Throws an Error naming every bad value.
 */
export function monitoringSettingsFromEnv(
  env: Record<string, string | undefined>,
): MonitoringSettings {
  const d = DEFAULT_MONITORING_SETTINGS;
  const problems: string[] = [];
  const firehoseEndpoints: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('TRELLIS_FIREHOSE_ENDPOINT_') && value) {
      try {
        new URL(value);
        firehoseEndpoints[key] = value;
      } catch {
        problems.push(`${key} must be a URL, got "${value}"`);
      }
    }
  }
  let otlpEndpoint: string | undefined;
  const rawOtlp = env.TRELLIS_OTLP_ENDPOINT;
  if (rawOtlp !== undefined && rawOtlp !== '') {
    try {
      otlpEndpoint = otlpTracesUrl(rawOtlp);
    } catch {
      problems.push(`TRELLIS_OTLP_ENDPOINT must be an http(s) URL, got "${rawOtlp}"`);
    }
  }
  const settings: MonitoringSettings = {
    metrics: flag(env, 'TRELLIS_METRICS', d.metrics),
    accessLogs: flag(env, 'TRELLIS_ACCESS_LOGS', d.accessLogs),
    usage: flag(env, 'TRELLIS_USAGE', d.usage),
    bufferRecords: positive(env, 'TRELLIS_LOG_BUFFER_RECORDS', d.bufferRecords, problems),
    rotateBytes: positive(env, 'TRELLIS_LOG_ROTATE_BYTES', d.rotateBytes, problems),
    keepFiles: positive(env, 'TRELLIS_LOG_KEEP_FILES', d.keepFiles, problems),
    s3FlushMs: positive(env, 'TRELLIS_S3_LOG_FLUSH_MS', d.s3FlushMs, problems),
    s3FlushRecords: positive(env, 'TRELLIS_S3_LOG_FLUSH_RECORDS', d.s3FlushRecords, problems),
    firehoseFlushMs: positive(env, 'TRELLIS_FIREHOSE_FLUSH_MS', d.firehoseFlushMs, problems),
    firehoseRetries: positive(env, 'TRELLIS_FIREHOSE_RETRIES', d.firehoseRetries, problems, true),
    firehoseEndpoints: Object.freeze(firehoseEndpoints),
    usageFlushMs: positive(env, 'TRELLIS_USAGE_FLUSH_MS', d.usageFlushMs, problems),
    otlpEndpoint,
    otlpServiceName: env.TRELLIS_OTLP_SERVICE_NAME || d.otlpServiceName,
    otlpFlushMs: positive(env, 'TRELLIS_OTLP_FLUSH_MS', d.otlpFlushMs, problems),
    prices: Object.freeze({
      perServiceHour: positive(
        env,
        'TRELLIS_PRICE_SERVICE_HOUR',
        d.prices.perServiceHour,
        problems,
        true,
      ),
      perGbProcessed: positive(env, 'TRELLIS_PRICE_GB', d.prices.perGbProcessed, problems, true),
      perMillionRequests: positive(
        env,
        'TRELLIS_PRICE_MILLION_REQUESTS',
        d.prices.perMillionRequests,
        problems,
        true,
      ),
      freeRequestsPerHour: positive(
        env,
        'TRELLIS_FREE_REQUESTS_PER_HOUR',
        d.prices.freeRequestsPerHour,
        problems,
        true,
      ),
    }),
  };
  if (problems.length) throw new Error(`invalid monitoring settings: ${problems.join('; ')}`);
  return Object.freeze(settings);
}

/** The folder of a CloudWatch Logs log group's files: `<data-dir>/logs/cloudwatch/<encoded group>`. */
export function logGroupDirectory(dataDir: string, logGroupName: string): string {
  // Group names hold `/` (e.g. `/lattice/prod`); one folder per group, so the name is encoded.
  return join(dataDir, 'logs', 'cloudwatch', encodeURIComponent(logGroupName));
}

/** The file a log group is written to now; rotated files are `access-<UTC stamp>.jsonl` beside it. */
export const CURRENT_LOG_FILE = 'current.jsonl';

/** Root of the local S3 bucket folders: `<data-dir>/logs/s3/<bucket>/…` (spec §1.5 key layout). */
export function s3BucketDirectory(dataDir: string, bucket: string): string {
  return join(dataDir, 'logs', 's3', bucket);
}
