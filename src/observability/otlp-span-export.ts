/**
 * The optional OpenTelemetry export of proxy spans (issue 7 §5): one span per proxied request,
 * built from its access-log record when the request completes, batched by the SDK's
 * `BatchSpanProcessor` and sent by the OTLP/HTTP exporter (JSON encoding) to
 * `TRELLIS_OTLP_ENDPOINT`. Off by default; when off, nothing here is loaded or called.
 *
 * The span's ids were fixed at request start by the data plane (`startProxySpan`): the trace of
 * the client's `traceparent` (its span is the parent) or a new trace, and the span id the target
 * received as its parent — so a target's own spans nest under the proxy's.
 */
import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { MonitoringLogger } from './log-destination.js';
import type { ProxySpanIds } from './trace-context.js';

/** The record fields a span is made of (a structural slice of the data plane's RequestRecord). */
export interface SpanRecordFields extends ProxySpanIds {
  readonly startTime: number;
  readonly duration: number;
  readonly requestId: string;
  readonly serviceNetworkArn: string;
  readonly serviceArn: string;
  readonly targetGroupArn: string;
  readonly sourceIpPort: string;
  readonly targetIpPort: string;
  readonly requestMethod: string;
  readonly requestPath: string;
  readonly protocol: string;
  readonly hostHeader: string;
  readonly userAgent: string;
  readonly responseCode: number;
  /** gRPC status of a gRPC request; absent or negative: not gRPC. */
  readonly grpcResponseCode?: number;
  readonly failureReason: string | undefined;
  readonly authDeniedReason: string | undefined;
  readonly resolvedUser: string | null;
}

/** Options of {@link createOtlpSpanExport}. */
export interface OtlpSpanExportOptions {
  /** The OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  endpoint: string;
  /** `service.name` of the resource. */
  serviceName: string;
  /** How often batches are sent (ms); the SDK default is 5 000. */
  scheduledDelayMs?: number;
  logger: MonitoringLogger;
}

/** The running export. */
export interface OtlpSpanExport {
  /** The monitoring hook's part: exports the span of a record that has one. */
  observe(record: SpanRecordFields): void;
  /** Sends what is batched now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const SCOPE = { name: 'trellis-dataplane' };

function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** `ip:port` (IPv6 `[ip]:port` or `ip:port`) → [address, port]. */
function splitHostPort(text: string): [string, number] | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  return [text.slice(0, colon).replace(/^\[|\]$/g, ''), port];
}

/** The span of one record: HTTP semantic-convention attributes plus the Lattice ones of §4.1. */
export function spanFromRecord(r: SpanRecordFields, resource: Resource): ReadableSpan {
  const attributes: Attributes = {
    'http.request.method': r.requestMethod,
    'url.path': r.requestPath,
    'server.address': r.hostHeader,
    'user_agent.original': r.userAgent,
    'network.protocol.version': r.protocol.startsWith('HTTP/') ? r.protocol.slice(5) : r.protocol,
    'aws.vpc_lattice.request_id': r.requestId,
  };
  if (r.responseCode > 0) attributes['http.response.status_code'] = r.responseCode;
  const grpc = r.grpcResponseCode;
  if (grpc !== undefined && grpc >= 0) attributes['rpc.grpc.status_code'] = grpc;
  const client = splitHostPort(r.sourceIpPort);
  if (client) [attributes['client.address'], attributes['client.port']] = client;
  const target = splitHostPort(r.targetIpPort);
  if (target) [attributes['network.peer.address'], attributes['network.peer.port']] = target;
  if (r.serviceArn) attributes['aws.vpc_lattice.service.arn'] = r.serviceArn;
  if (r.serviceNetworkArn) attributes['aws.vpc_lattice.service_network.arn'] = r.serviceNetworkArn;
  if (r.targetGroupArn) attributes['aws.vpc_lattice.target_group.arn'] = r.targetGroupArn;
  if (r.failureReason) attributes['aws.vpc_lattice.failure_reason'] = r.failureReason;
  if (r.authDeniedReason) attributes['aws.vpc_lattice.auth_denied_reason'] = r.authDeniedReason;
  if (r.resolvedUser !== null) attributes['aws.vpc_lattice.resolved_user'] = r.resolvedUser;
  // Server spans: 5xx and requests without an answer are errors, 4xx are the client's (semconv).
  const failed = r.responseCode >= 500 || r.responseCode === 0;
  const status = failed
    ? { code: SpanStatusCode.ERROR, message: r.failureReason ?? `HTTP ${r.responseCode}` }
    : { code: SpanStatusCode.UNSET };
  const spanContext = { traceId: r.traceId, spanId: r.spanId, traceFlags: r.traceFlags };
  return {
    name: r.requestMethod === '-' ? 'HTTP' : r.requestMethod,
    kind: SpanKind.SERVER,
    spanContext: () => spanContext,
    ...(r.parentSpanId
      ? {
          parentSpanContext: {
            traceId: r.traceId,
            spanId: r.parentSpanId,
            traceFlags: r.traceFlags,
            isRemote: true,
          },
        }
      : {}),
    startTime: hrTime(r.startTime),
    endTime: hrTime(r.startTime + r.duration),
    duration: hrTime(r.duration),
    status,
    attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** Starts the export: an OTLP/HTTP JSON exporter behind a batch span processor. */
export function createOtlpSpanExport(options: OtlpSpanExportOptions): OtlpSpanExport {
  const resource = resourceFromAttributes({ 'service.name': options.serviceName });
  const exporter = new OTLPTraceExporter({ url: options.endpoint });
  const processor = new BatchSpanProcessor({
    exporter,
    ...(options.scheduledDelayMs !== undefined
      ? { scheduledDelayMillis: options.scheduledDelayMs }
      : {}),
  });
  let warned = false;
  return {
    observe(record) {
      // Records without a span: protocol errors answered before routing, TLS passthrough.
      if (record.traceId === '') return;
      try {
        processor.onEnd(spanFromRecord(record, resource));
      } catch (err) {
        if (!warned) options.logger.warn('span export failed', { error: String(err) });
        warned = true;
      }
    },
    flush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  };
}
