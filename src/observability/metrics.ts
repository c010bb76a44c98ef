/**
 * The metrics of spec §4.2 in Prometheus form, plus process metrics and access-log delivery
 * counters, exposed by the API at `GET /metrics`.
 *
 * Naming: `trellis_lattice_<scope>_<Lattice metric name in snake case>`, where scope is `service`
 * (labels `service`, `service_network`: ids `svc-…`, `sn-…`) or `target_group` (label
 * `target_group`: `tg-…`). E.g. Lattice's service `HTTPCode_VpcLattice_404_Count` is
 * `trellis_lattice_service_httpcode_vpclattice_404_count`. `RequestTime` is a histogram in ms.
 *
 * Per-request cost: the series of a (service ARN, network ARN) pair and of a target-group ARN
 * are resolved once (label text built then) and cached in maps; observing a request is two map
 * lookups and a few number increments. The counts are written in the text format at scrape time;
 * prom-client's registry carries the process metrics and the (rare) delivery counters.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
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
const LATTICE_INDEX: number[] = [];
VPC_LATTICE_CODES.forEach((code, i) => (LATTICE_INDEX[code] = i));

/**
 * A request-time histogram as plain numbers (prom-client's labelled children hash their labels on
 * every call — about 30× a field increment — so the hot path keeps its own counts and they are
 * written out at scrape time).
 */
class RequestTime {
  readonly buckets = new Float64Array(REQUEST_TIME_BUCKETS_MS.length);
  sum = 0;
  count = 0;

  observe(ms: number): void {
    const b = REQUEST_TIME_BUCKETS_MS;
    let i = 0;
    while (i < b.length && ms > b[i]!) i++;
    if (i < b.length) this.buckets[i]!++;
    this.sum += ms;
    this.count++;
  }
}

/** The counts of one (service, network) pair. */
class ServiceSeries {
  total = 0;
  readonly time = new RequestTime();
  /** Index = status class − 2 (2xx … 5xx). */
  readonly classes = [0, 0, 0, 0];
  /** Index = position of the code in VPC_LATTICE_CODES. */
  readonly lattice: number[] = VPC_LATTICE_CODES.map(() => 0);
  timeouts = 0;
  constructor(readonly labels: string) {}
}

/** The counts of one target group. */
class TargetGroupSeries {
  total = 0;
  readonly time = new RequestTime();
  readonly classes = [0, 0, 0, 0];
  connectionErrors = 0;
  constructor(readonly labels: string) {}
}

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Connection figures of one side, as the data plane counts them (dataplane/connection-counters.ts). */
export interface ConnectionSideCounts {
  total: number;
  active: number;
  http1: number;
  http2: number;
  errors: number;
  timeouts: number;
  tlsHandshakes: number;
  tlsErrors: number;
  bytesReceived: number;
  bytesSent: number;
}

/** What the data plane's counters read (`bin/` passes `dataPlane.counters`). */
export interface ConnectionCountsSource {
  read(): {
    requestsStarted: number;
    client: ConnectionSideCounts;
    target: ConnectionSideCounts;
  };
}

/** The metrics registry and the request hook. */
export interface TrellisMetrics extends DeliveryCounters {
  readonly registry: Registry;
  /** The request hook: counts one finished request. */
  observe(record: RequestRecordFields): void;
  /** The data plane's connection counters, read at scrape time (unset: those metrics are absent). */
  connections: ConnectionCountsSource | undefined;
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
  private readonly deliveredRecords: Counter<string>;
  private readonly droppedRecords: Counter<string>;
  private readonly services = new Map<string, Map<string, ServiceSeries>>();
  private readonly groups = new Map<string, TargetGroupSeries>();
  /** Records observed: ActiveRequestCount = requests the data plane started − this. */
  private completed = 0;
  connections: ConnectionCountsSource | undefined = undefined;

  constructor(options: MetricsOptions) {
    const r = this.registry;
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
    const cls = ((code / 100) | 0) - 2;
    const s = this.serviceSeries(record.serviceArn, record.serviceNetworkArn);
    this.completed++;
    s.total++;
    s.time.observe(record.duration);
    if (cls >= 0 && cls <= 3) s.classes[cls]!++;
    // Generated by the proxy: an error status no target sent (spec §4.2 HTTPCode_VpcLattice_*).
    if (code >= 400 && record.firstByteFromTargetAt === 0) {
      const i = LATTICE_INDEX[code];
      if (i !== undefined) s.lattice[i]!++;
    }
    if (record.failureReason === 'TargetDataTimeout') s.timeouts++;
    if (record.targetGroupArn === '') return;
    const g = this.groupSeries(record.targetGroupArn);
    g.total++;
    g.time.observe(record.duration);
    if (cls >= 0 && cls <= 3) g.classes[cls]!++;
    if (record.failureReason === 'TargetConnectionError') g.connectionErrors++;
  }

  delivered(destination: LogDestinationSpec, records: number): void {
    this.deliveredRecords.labels(destination.type, destination.destinationArn).inc(records);
  }

  dropped(destination: LogDestinationSpec, reason: string, records: number): void {
    this.droppedRecords.labels(destination.type, destination.destinationArn, reason).inc(records);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const process = await this.registry.metrics();
    return { contentType: this.registry.contentType, body: `${this.renderLattice()}${process}` };
  }

  /** The §4.2 metrics in the text format, from the plain counts. */
  private renderLattice(): string {
    const out: string[] = [];
    const services: ServiceSeries[] = [];
    for (const byNet of this.services.values()) for (const s of byNet.values()) services.push(s);
    const groups = [...this.groups.values()];
    const counter = <T extends { labels: string }>(
      name: string,
      help: string,
      series: T[],
      value: (s: T) => number,
    ): void => {
      out.push(`# HELP ${PREFIX}${name} ${help}`, `# TYPE ${PREFIX}${name} counter`);
      for (const s of series) out.push(`${PREFIX}${name}{${s.labels}} ${value(s)}`);
    };
    const histogram = <T extends { labels: string; time: RequestTime }>(
      name: string,
      series: T[],
    ): void => {
      const n = `${PREFIX}${name}`;
      out.push(`# HELP ${n} RequestTime: ms from request start to last byte out`);
      out.push(`# TYPE ${n} histogram`);
      for (const s of series) {
        let cumulative = 0;
        REQUEST_TIME_BUCKETS_MS.forEach((le, i) => {
          cumulative += s.time.buckets[i]!;
          out.push(`${n}_bucket{${s.labels},le="${le}"} ${cumulative}`);
        });
        out.push(`${n}_bucket{${s.labels},le="+Inf"} ${s.time.count}`);
        out.push(`${n}_sum{${s.labels}} ${s.time.sum}`, `${n}_count{${s.labels}} ${s.time.count}`);
      }
    };
    counter('service_total_request_count', 'TotalRequestCount: requests', services, (s) => s.total);
    histogram('service_request_time', services);
    CLASSES.forEach((c, i) =>
      counter(
        `service_httpcode_${c}_count`,
        `HTTPCode_${c.toUpperCase()}_Count`,
        services,
        (s) => s.classes[i]!,
      ),
    );
    VPC_LATTICE_CODES.forEach((code, i) =>
      counter(
        `service_httpcode_vpclattice_${code}_count`,
        `HTTPCode_VpcLattice_${code}_Count: ${code} responses generated by the proxy itself`,
        services,
        (s) => s.lattice[i]!,
      ),
    );
    counter(
      'service_request_timeout_count',
      'RequestTimeoutCount: requests that timed out waiting for the target',
      services,
      (s) => s.timeouts,
    );
    counter(
      'target_group_total_request_count',
      'TotalRequestCount: requests',
      groups,
      (g) => g.total,
    );
    histogram('target_group_request_time', groups);
    CLASSES.forEach((c, i) =>
      counter(
        `target_group_httpcode_${c}_count`,
        `HTTPCode_${c.toUpperCase()}_Count`,
        groups,
        (g) => g.classes[i]!,
      ),
    );
    counter(
      'target_group_connection_error_count',
      'ConnectionErrorCount: failed connections to targets (timeouts included)',
      groups,
      (g) => g.connectionErrors,
    );
    this.renderConnections(out);
    return `${out.join('\n')}\n\n`;
  }

  /**
   * The connection-level metrics of §4.2 and ActiveRequestCount, process-wide with a `side` label:
   * `target` (the data plane → targets, what Lattice reports per target group) and `client`
   * (clients → listeners; Lattice has no such dimension).
   */
  private renderConnections(out: string[]): void {
    const source = this.connections;
    if (source === undefined) return;
    const c = source.read();
    const metric = (
      name: string,
      type: 'counter' | 'gauge',
      help: string,
      value: (s: ConnectionSideCounts) => number,
      sides: ('client' | 'target')[] = ['client', 'target'],
    ): void => {
      out.push(`# HELP ${PREFIX}${name} ${help}`, `# TYPE ${PREFIX}${name} ${type}`);
      for (const side of sides) out.push(`${PREFIX}${name}{side="${side}"} ${value(c[side])}`);
    };
    out.push(
      `# HELP ${PREFIX}active_request_count ActiveRequestCount: requests in flight`,
      `# TYPE ${PREFIX}active_request_count gauge`,
      `${PREFIX}active_request_count ${Math.max(0, c.requestsStarted - this.completed)}`,
    );
    metric(
      'total_connection_count',
      'counter',
      'TotalConnectionCount: connections opened',
      (s) => s.total,
    );
    metric(
      'active_connection_count',
      'gauge',
      'ActiveConnectionCount: connections open now',
      (s) => s.active,
    );
    metric(
      'http1_connection_count',
      'counter',
      'HTTP1_ConnectionCount: HTTP/1.1 connections',
      (s) => s.http1,
    );
    metric(
      'http2_connection_count',
      'counter',
      'HTTP2_ConnectionCount: HTTP/2 connections',
      (s) => s.http2,
    );
    metric(
      'connection_error_count',
      'counter',
      'ConnectionErrorCount: connects to targets that failed (timeouts included)',
      (s) => s.errors,
      ['target'],
    );
    metric(
      'connection_timeout_count',
      'counter',
      'ConnectionTimeoutCount: connects to targets that timed out',
      (s) => s.timeouts,
      ['target'],
    );
    metric(
      'tls_connection_error_count',
      'counter',
      'TLSConnectionErrorCount: failed TLS handshakes',
      (s) => s.tlsErrors,
    );
    metric(
      'total_tls_connection_handshake_count',
      'counter',
      'TotalTLSConnectionHandshakeCount: completed TLS handshakes',
      (s) => s.tlsHandshakes,
    );
    metric(
      'total_received_connection_bytes',
      'counter',
      'TotalReceivedConnectionBytes: bytes read on these connections',
      (s) => s.bytesReceived,
    );
    metric(
      'total_sent_connection_bytes',
      'counter',
      'TotalSentConnectionBytes: bytes written on these connections',
      (s) => s.bytesSent,
    );
  }

  private serviceSeries(serviceArn: string, networkArn: string): ServiceSeries {
    let byNet = this.services.get(serviceArn);
    if (byNet === undefined) this.services.set(serviceArn, (byNet = new Map()));
    let s = byNet.get(networkArn);
    if (s === undefined) {
      const labels = `service="${labelValue(idFromArn(serviceArn))}",service_network="${labelValue(idFromArn(networkArn))}"`;
      s = new ServiceSeries(labels);
      byNet.set(networkArn, s);
    }
    return s;
  }

  private groupSeries(arn: string): TargetGroupSeries {
    let g = this.groups.get(arn);
    if (g === undefined) {
      g = new TargetGroupSeries(`target_group="${labelValue(idFromArn(arn))}"`);
      this.groups.set(arn, g);
    }
    return g;
  }
}
