/**
 * The metrics of spec §4.2 in Prometheus form, plus process metrics and access-log delivery
 * counters, exposed by the API at `GET /metrics`.
 *
 * Naming: `trellis_lattice_<scope>_<Lattice metric name in snake case>`, where scope is `service`
 * (labels `service`, `service_network`: ids `svc-…`, `sn-…`) or `target_group` (label
 * `target_group`: `tg-…`). E.g. Lattice's service `HTTPCode_VpcLattice_404_Count` is
 * `trellis_lattice_service_httpcode_vpclattice_404_count`. `RequestTime` is a histogram in ms.
 *
 * Per-request cost: label children are resolved once per (service ARN, network ARN) and per
 * target-group ARN and cached in maps, so observing a request is two map lookups and a few
 * increments — no label strings are built per request.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecordFields } from './access-log-record.js';
import type { LogDestinationSpec } from './access-log-router.js';
import type { DeliveryCounters } from './log-destination.js';

/** Request-time buckets (ms): dense below 100 ms and up to the 60 s default idle timeout. */
export const REQUEST_TIME_BUCKETS_MS = [
  1, 2, 5, 10, 15, 25, 50, 75, 100, 150, 250, 500, 750, 1000, 2500, 5000, 10000, 30000, 60000,
];

/** Codes of Lattice's `HTTPCode_VpcLattice_<code>_Count` (spec §4.2), plus 503 (no healthy target). */
export const VPC_LATTICE_CODES = [400, 403, 404, 429, 500, 502, 503, 504] as const;

const PREFIX = 'trellis_lattice_';
const CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

/** The children of one (service, network) pair. */
class ServiceSeries {
  constructor(
    readonly total: CounterChild,
    readonly time: HistogramChild,
    /** Index = status class − 2 (2xx … 5xx). */
    readonly classes: CounterChild[],
    /** Index = code (sparse). */
    readonly lattice: (CounterChild | undefined)[],
    readonly timeouts: CounterChild,
  ) {}
}

/** The children of one target group. */
class TargetGroupSeries {
  constructor(
    readonly total: CounterChild,
    readonly time: HistogramChild,
    readonly classes: CounterChild[],
    readonly connectionErrors: CounterChild,
  ) {}
}

/** The metrics registry and the request hook. */
export interface TrellisMetrics extends DeliveryCounters {
  readonly registry: Registry;
  /** The request hook: counts one finished request. */
  observe(record: RequestRecordFields): void;
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Also collect Node process metrics (default true). */
  processMetrics?: boolean;
}

/** The id at the end of an ARN (`…/svc-0123…` → `svc-0123…`); `-` when empty. */
export function idFromArn(arn: string): string {
  if (arn === '') return '-';
  const slash = arn.lastIndexOf('/');
  return slash < 0 ? arn : arn.slice(slash + 1);
}

/** Creates the metrics of one process. */
export function createMetrics(options: MetricsOptions = {}): TrellisMetrics {
  return new Metrics(options);
}

class Metrics implements TrellisMetrics {
  readonly registry = new Registry();
  private readonly svcTotal: Counter<string>;
  private readonly svcTime: Histogram<string>;
  private readonly svcClasses: Counter<string>[];
  private readonly svcLattice = new Map<number, Counter<string>>();
  private readonly svcTimeouts: Counter<string>;
  private readonly tgTotal: Counter<string>;
  private readonly tgTime: Histogram<string>;
  private readonly tgClasses: Counter<string>[];
  private readonly tgConnErrors: Counter<string>;
  private readonly deliveredRecords: Counter<string>;
  private readonly droppedRecords: Counter<string>;
  private readonly services = new Map<string, Map<string, ServiceSeries>>();
  private readonly groups = new Map<string, TargetGroupSeries>();

  constructor(options: MetricsOptions) {
    const r = this.registry;
    const svc = ['service', 'service_network'];
    const tg = ['target_group'];
    const counter = (name: string, help: string, labelNames: string[]): Counter<string> =>
      new Counter({ name: PREFIX + name, help, labelNames, registers: [r] });
    this.svcTotal = counter('service_total_request_count', 'TotalRequestCount: requests', svc);
    this.svcTime = new Histogram({
      name: `${PREFIX}service_request_time`,
      help: 'RequestTime: ms from request start to last byte out',
      labelNames: svc,
      buckets: REQUEST_TIME_BUCKETS_MS,
      registers: [r],
    });
    this.svcClasses = CLASSES.map((c) =>
      counter(`service_httpcode_${c}_count`, `HTTPCode_${c.toUpperCase()}_Count`, svc),
    );
    for (const code of VPC_LATTICE_CODES)
      this.svcLattice.set(
        code,
        counter(
          `service_httpcode_vpclattice_${code}_count`,
          `HTTPCode_VpcLattice_${code}_Count: ${code} responses generated by the proxy itself`,
          svc,
        ),
      );
    this.svcTimeouts = counter(
      'service_request_timeout_count',
      'RequestTimeoutCount: requests that timed out waiting for the target',
      svc,
    );
    this.tgTotal = counter('target_group_total_request_count', 'TotalRequestCount: requests', tg);
    this.tgTime = new Histogram({
      name: `${PREFIX}target_group_request_time`,
      help: 'RequestTime: ms from request start to last byte out',
      labelNames: tg,
      buckets: REQUEST_TIME_BUCKETS_MS,
      registers: [r],
    });
    this.tgClasses = CLASSES.map((c) =>
      counter(`target_group_httpcode_${c}_count`, `HTTPCode_${c.toUpperCase()}_Count`, tg),
    );
    this.tgConnErrors = counter(
      'target_group_connection_error_count',
      'ConnectionErrorCount: failed connections to targets (timeouts included)',
      tg,
    );
    this.deliveredRecords = new Counter({
      name: 'trellis_access_log_records_delivered',
      help: 'Access-log records written to a destination',
      labelNames: ['destination_type', 'destination'],
      registers: [r],
    });
    this.droppedRecords = new Counter({
      name: 'trellis_access_log_records_dropped',
      help: 'Access-log records dropped (reason: overflow, write-error, send-error, no-endpoint)',
      labelNames: ['destination_type', 'destination', 'reason'],
      registers: [r],
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: r });
  }

  observe(record: RequestRecordFields): void {
    const code = record.responseCode;
    const cls = (code / 100) | 0;
    const s = this.serviceSeries(record.serviceArn, record.serviceNetworkArn);
    s.total.inc();
    s.time.observe(record.duration);
    if (cls >= 2 && cls <= 5) s.classes[cls - 2]!.inc();
    // Generated by the proxy: an error status no target sent (spec §4.2 HTTPCode_VpcLattice_*).
    if (code >= 400 && record.firstByteFromTargetAt === 0) s.lattice[code]?.inc();
    if (record.failureReason === 'TargetDataTimeout') s.timeouts.inc();
    if (record.targetGroupArn === '') return;
    const g = this.groupSeries(record.targetGroupArn);
    g.total.inc();
    g.time.observe(record.duration);
    if (cls >= 2 && cls <= 5) g.classes[cls - 2]!.inc();
    if (record.failureReason === 'TargetConnectionError') g.connectionErrors.inc();
  }

  delivered(destination: LogDestinationSpec, records: number): void {
    this.deliveredCounter(destination, records);
  }

  dropped(destination: LogDestinationSpec, reason: string, records: number): void {
    this.droppedRecords.labels(destination.type, destination.destinationArn, reason).inc(records);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private deliveredCounter(destination: LogDestinationSpec, records: number): void {
    this.deliveredRecords.labels(destination.type, destination.destinationArn).inc(records);
  }

  private serviceSeries(serviceArn: string, networkArn: string): ServiceSeries {
    let byNet = this.services.get(serviceArn);
    if (byNet === undefined) this.services.set(serviceArn, (byNet = new Map()));
    let s = byNet.get(networkArn);
    if (s === undefined) {
      const labels = [idFromArn(serviceArn), idFromArn(networkArn)];
      const lattice: (CounterChild | undefined)[] = [];
      for (const [c, counter] of this.svcLattice) lattice[c] = counter.labels(...labels);
      s = new ServiceSeries(
        this.svcTotal.labels(...labels),
        this.svcTime.labels(...labels),
        this.svcClasses.map((c) => c.labels(...labels)),
        lattice,
        this.svcTimeouts.labels(...labels),
      );
      byNet.set(networkArn, s);
    }
    return s;
  }

  private groupSeries(arn: string): TargetGroupSeries {
    let g = this.groups.get(arn);
    if (g === undefined) {
      const id = idFromArn(arn);
      g = new TargetGroupSeries(
        this.tgTotal.labels(id),
        this.tgTime.labels(id),
        this.tgClasses.map((c) => c.labels(id)),
        this.tgConnErrors.labels(id),
      );
      this.groups.set(arn, g);
    }
    return g;
  }
}
