import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { DATAPLANE_RESPONSES, type FailureReason } from '../errors/dataplane-outcomes.js';
import { isDroppedResponseHeader } from './header-rules.js';
import type { RequestCompleteHook, RequestRecord } from './request-record.js';
import type { TargetHealthView } from './target-health.js';
import type { CompiledTarget, TargetGroupRuntime } from './target-picker.js';

/**
 * The data plane's `ServerResponse`: carries the request's exchange and record so the per-response
 * listeners are shared module-level functions, not closures (STYLE.md, undici habits).
 */
export class DataPlaneResponse extends ServerResponse {
  exchange: Exchange | null = null;
  record: RequestRecord | null = null;
  hook: RequestCompleteHook | null = null;
  clientSocket: Socket | null = null;
  requestId = '';
  /** Per-service client idle timeout applied once the response is finished (spec §6). */
  idleTimeoutMs = 0;
  serverKeepAliveMs = 0;
}

/** Writes a data-plane answer (spec §4.1 error table): short plain body, request id echoed. */
export function reply(
  res: DataPlaneResponse,
  status: number,
  body: string,
  reason: FailureReason | undefined,
  close = false,
): void {
  if (res.record !== null && reason !== undefined) res.record.failureReason = reason;
  if (res.headersSent || res.destroyed) return;
  if (close) res.shouldKeepAlive = false;
  res.writeHead(status, [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'x-amzn-requestid',
    res.requestId,
  ]);
  res.end(body);
}

interface Outcome {
  status: number;
  body: string;
  reason: FailureReason;
}
const CONNECT_FAILED: Outcome = {
  ...DATAPLANE_RESPONSES.targetFailure,
  reason: 'TargetConnectionError',
};
const CLOSED: Outcome = { ...DATAPLANE_RESPONSES.targetFailure, reason: 'TargetConnectionClosed' };
const PROTOCOL: Outcome = { ...DATAPLANE_RESPONSES.targetFailure, reason: 'TargetProtocolError' };
const TIMEOUT: Outcome = { ...DATAPLANE_RESPONSES.targetTimeout, reason: 'TargetDataTimeout' };
const BAD_REQUEST: Outcome = { ...DATAPLANE_RESPONSES.badRequest, reason: 'ClientProtocolError' };
const INTERNAL: Outcome = { ...DATAPLANE_RESPONSES.internal, reason: 'InternalError' };

/**
 * Maps an upstream error to the client-facing outcome (issue: refused/reset/garbage → 502, hang →
 * 504). undici error codes first, then socket errno codes, then llhttp parse errors.
 */
export function classifyUpstreamError(err: unknown): Outcome {
  const e = err as { code?: unknown; name?: unknown } | null;
  const code = e?.code;
  // undici's HTTPParserError sometimes carries no code: the target answered something not HTTP.
  if (e?.name === 'HTTPParserError') return PROTOCOL;
  if (typeof code !== 'string') return CONNECT_FAILED;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return TIMEOUT;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return CONNECT_FAILED;
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return CLOSED;
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      return BAD_REQUEST;
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
    case 'UND_ERR_INFO':
      return PROTOCOL;
    default:
      if (code.startsWith('HPE_')) return PROTOCOL;
      if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) return PROTOCOL;
      return code.startsWith('UND_ERR') ? INTERNAL : CONNECT_FAILED;
  }
}

/**
 * Other targets of the same group tried when a connection to the chosen one cannot be made
 * (issue #3; nginx `proxy_next_upstream error`, Envoy `connect-failure`); as on the fast path.
 */
export const MAX_CONNECT_RETRIES = 2;

/** Errors meaning no connection was made, so nothing of the request reached the target. */
function isConnectFailure(err: unknown): boolean {
  switch ((err as { code?: unknown } | null)?.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return true;
    default:
      return false;
  }
}

/** What a retry on another target needs (set by the data plane for forwarded requests). */
export class ConnectRetry {
  readonly failed: CompiledTarget[] = [];
  constructor(
    readonly options: Dispatcher.DispatchOptions,
    readonly group: TargetGroupRuntime,
    public target: CompiledTarget,
    readonly view: TargetHealthView | undefined,
  ) {}
}

/** Thrown into undici when the client went away, so the upstream request is cancelled. */
class ClientClosedError extends Error {
  readonly code = 'TRELLIS_CLIENT_CLOSED';
}

const STATE_WAITING = 0;
const STATE_STREAMING = 1;
const STATE_DONE = 2;

/**
 * One request in flight to a target: the undici dispatch handler (the callback API, which undici
 * drives natively without a wrapper) that streams the target's answer back to the client.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly req: IncomingMessage;
  readonly res: DataPlaneResponse;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private state = STATE_WAITING;
  private drainHooked = false;
  /** Retry on another target after a connect failure (issue #3); null when not possible. */
  retry: ConnectRetry | null = null;

  constructor(req: IncomingMessage, res: DataPlaneResponse) {
    this.req = req;
    this.res = res;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.res.destroyed && this.state !== STATE_DONE) abort(new ClientClosedError());
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx informational: not relayed
    const res = this.res;
    if (res.destroyed) return false;
    const out: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1');
      if (isDroppedResponseHeader(name.toLowerCase())) continue;
      out.push(name, raw[i + 1]!.toString('latin1'));
    }
    out.push('x-amzn-requestid', res.requestId);
    this.resumeUpstream = resume;
    this.state = STATE_STREAMING;
    try {
      res.writeHead(statusCode, statusText || undefined, out);
      if (res.record !== null) res.record.firstByteFromTargetAt = Date.now();
    } catch {
      // A header value Node will not write: the target's answer is unusable.
      this.state = STATE_DONE;
      if (res.record !== null) res.record.failureReason = 'TargetProtocolError';
      if (res.headersSent) res.destroy();
      else reply(res, 502, DATAPLANE_RESPONSES.targetFailure.body, undefined);
      this.abortUpstream?.(new ClientClosedError());
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    const res = this.res;
    if (res.destroyed) return false;
    if (res.write(chunk)) return true;
    if (!this.drainHooked) {
      this.drainHooked = true;
      res.on('drain', onResponseDrain);
    }
    return false;
  }

  onComplete(): void {
    this.state = STATE_DONE;
    if (!this.res.destroyed) this.res.end();
  }

  onError(err: Error): void {
    const wasStreaming = this.state === STATE_STREAMING;
    if (this.state === STATE_DONE) return;
    if (this.state === STATE_WAITING && this.retryOtherTarget(err)) return;
    this.state = STATE_DONE;
    const res = this.res;
    if (err instanceof ClientClosedError || res.destroyed) {
      if (res.record !== null && res.record.failureReason === undefined)
        res.record.failureReason = 'ClientConnectionClosed';
      return;
    }
    const outcome = classifyUpstreamError(err);
    if (wasStreaming || res.headersSent) {
      // The status line is gone; all the client can learn is a truncated response.
      if (res.record !== null) res.record.failureReason = outcome.reason;
      res.destroy();
      return;
    }
    // The request body may be half-read: answer and close rather than resync the stream.
    reply(res, outcome.status, outcome.body, outcome.reason, !this.req.complete);
  }

  /**
   * The connection could not be made: try another target of the group (at most
   * `MAX_CONNECT_RETRIES`), when the request body, if any, was not read yet.
   */
  private retryOtherTarget(err: Error): boolean {
    const r = this.retry;
    if (r === null || !isConnectFailure(err) || r.failed.length >= MAX_CONNECT_RETRIES)
      return false;
    const req = this.req;
    const res = this.res;
    if (res.destroyed || (r.options.body !== null && (req.readableDidRead || req.destroyed)))
      return false;
    r.failed.push(r.target);
    const next = r.group.selectOther(r.view, r.failed);
    if (next?.pool === undefined) return false;
    r.target = next;
    if (res.record !== null) res.record.targetIpPort = next.ipPort;
    this.abortUpstream = null;
    next.pool.dispatch(r.options, this);
    return true;
  }

  /** The client connection closed first: cancel the upstream request. */
  clientClosed(): void {
    if (this.state === STATE_DONE) return;
    this.state = STATE_DONE;
    if (this.res.record !== null && this.res.record.failureReason === undefined)
      this.res.record.failureReason = 'ClientConnectionClosed';
    this.abortUpstream?.(new ClientClosedError());
  }

  resume(): void {
    this.resumeUpstream?.();
  }
}

function onResponseDrain(this: DataPlaneResponse): void {
  this.exchange?.resume();
}

const READ_MARK = Symbol('trellis.bytesReadMark');
type MarkedSocket = Socket & { [READ_MARK]?: number };

/** Notes the client socket's byte counters at a request's start (spec §4.1 bytes fields). */
export function startByteCount(record: RequestRecord, socket: Socket): void {
  record.bytesReceived = (socket as MarkedSocket)[READ_MARK] ?? 0;
  record.bytesSent = socket.bytesWritten;
}

/**
 * `close` listener of every forwarded or logged response: cancels the upstream request if the
 * client left early, and hands the record to the monitoring hook.
 */
export function onResponseClose(this: DataPlaneResponse): void {
  const ex = this.exchange;
  if (ex !== null && !this.writableFinished) ex.clientClosed();
  const record = this.record;
  const hook = this.hook;
  if (record === null || hook === null) return;
  record.duration = Date.now() - record.startTime;
  record.responseCode = this.headersSent ? this.statusCode : 0;
  const socket = this.clientSocket;
  if (socket !== null) {
    // Counters of the connection since the previous request ended (startByteCount).
    const read = socket.bytesRead;
    record.bytesReceived = read - record.bytesReceived;
    record.bytesSent = socket.bytesWritten - record.bytesSent;
    (socket as MarkedSocket)[READ_MARK] = read;
  }
  if (!this.writableFinished && record.failureReason === undefined)
    record.failureReason = 'ClientConnectionClosed';
  try {
    hook(record);
  } catch {
    // A failing monitoring hook must never take the data plane down.
  }
}

/**
 * `finish` listener: after Node armed its server-wide keep-alive timer, apply the service's own
 * idle timeout (spec §6 `idleTimeoutSeconds`). Node clears it when the next request arrives.
 */
export function onResponseFinish(this: DataPlaneResponse): void {
  const socket = this.clientSocket;
  if (socket === null || socket.destroyed) return;
  // Node arms `keepAliveTimeout` (plus a small buffer) only when no pipelined request is pending.
  const armed = socket.timeout;
  if (armed !== undefined && armed >= this.serverKeepAliveMs) socket.setTimeout(this.idleTimeoutMs);
}
