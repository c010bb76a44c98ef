import type { AuthDeniedReason, FailureReason } from '../errors/dataplane-outcomes.js';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { AuthDetail } from './auth-gate.js';
import { stampTlsFields } from './tls-fields.js';

/**
 * What the data plane knows about one finished request, in the access-log nouns of spec §4.1.
 * One instance per request (a class with every field set in the constructor, so its shape is
 * stable); handed to `onRequestComplete` only when that hook is set.
 */
export class RequestRecord {
  /**
   * Records made in this process (every path: node:http, fast path, HTTP/2, passthrough);
   * spec §4.2 ActiveRequestCount is this minus the records the monitoring hook has seen.
   */
  static started = 0;
  /** `Date.now()` when the request head was parsed. */
  startTime: number;
  requestId = '';
  serviceNetworkArn = '';
  serviceArn = '';
  targetGroupArn = '';
  listenerId = '';
  sourceVpcId = '';
  sourceVpcArn = '';
  sourceIpPort: string;
  targetIpPort = '';
  requestMethod: string;
  requestPath: string;
  protocol: string;
  hostHeader: string;
  userAgent: string;
  /** TLS SNI (spec §4.1): HTTPS (tls-fields.ts) and TLS passthrough (tls-passthrough.ts). */
  serverNameIndication = '';
  /** e.g. `TLSv1.3`, on HTTPS listeners (spec §4.1). */
  tlsVersion = '';
  /** OpenSSL cipher name, on HTTPS listeners (spec §4.1). */
  sslCipher = '';
  /** Status of the response headers sent to the client (0 when none were sent). */
  responseCode = 0;
  /** gRPC status of a gRPC request (grpc-status the client got, spec §4.1); -1: not gRPC. */
  grpcResponseCode = -1;
  /** Milliseconds from start to the last byte out (set when the request completes). */
  duration = 0;
  /**
   * Client bytes in / out for this request, head + body (spec §4.1 `bytesReceived`/`bytesSent`).
   * Until completion they hold the client socket's counters at the start (forwarder.ts).
   */
  bytesReceived = 0;
  bytesSent = 0;
  /** `Date.now()` when a body-less request was handed to the target pool (0: not, or streamed). */
  sentToTargetAt = 0;
  /** `Date.now()` when the target's response head was relayed (0: no target answer). */
  firstByteFromTargetAt = 0;
  failureReason: FailureReason | undefined = undefined;
  authDeniedReason: AuthDeniedReason | undefined = undefined;
  /** `null` for anonymous callers until the auth gate resolves a principal (spec §4.1). */
  resolvedUser: string | null = null;
  /** Caller fields (spec §4.1 `callerPrincipal*`) and the denying policy/statement, from the gate. */
  auth: AuthDetail | undefined = undefined;
  /** The proxy's span (observability/trace-context.ts `startProxySpan`); '' when spans are off. */
  traceId = '';
  spanId = '';
  parentSpanId = '';
  traceFlags = 0;

  constructor(
    startTime: number,
    sourceIpPort: string,
    requestMethod: string,
    requestPath: string,
    protocol: string,
    hostHeader: string,
    userAgent: string,
  ) {
    RequestRecord.started++;
    this.startTime = startTime;
    this.sourceIpPort = sourceIpPort;
    this.requestMethod = requestMethod;
    this.requestPath = requestPath;
    this.protocol = protocol;
    this.hostHeader = hostHeader;
    this.userAgent = userAgent;
  }
}

/** The monitoring hook: called once per request after its last byte (or its failure). */
export type RequestCompleteHook = (record: RequestRecord) => void;

/**
 * The record of a request node:http parsed (the node:http path and the upgrade tunnel): its client,
 * method, path without the query, protocol, host and user agent; TLS fields on HTTPS listeners.
 */
export function incomingRequestRecord(
  req: IncomingMessage,
  socket: Socket,
  requestId: string,
  tls: boolean,
): RequestRecord {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const record = new RequestRecord(
    Date.now(),
    `${socket.remoteAddress}:${socket.remotePort}`,
    req.method ?? 'GET',
    q < 0 ? url : url.slice(0, q),
    `HTTP/${req.httpVersion}`,
    req.headers.host ?? '',
    req.headers['user-agent'] ?? '',
  );
  record.requestId = requestId;
  if (tls) stampTlsFields(record, socket); // spec §4.1: HTTPS only
  return record;
}
