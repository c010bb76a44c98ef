import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { DATAPLANE_RESPONSES, type FailureReason } from '../../errors/dataplane-outcomes.js';
import { classifyUpstreamError } from '../forwarder.js';
import { requestIdFor } from '../header-rules.js';
import type { ListenerState } from '../listener-set.js';
import { RequestRecord } from '../request-record.js';
import { stampTlsFields } from '../tls-fields.js';
import { newTraceparent, startProxySpan } from '../../observability/trace-context.js';
import { normalizeRequestTarget } from '../request-path.js';
import { RouteDecision } from '../route-decision.js';
import { ChunkedScanner } from './chunked-scanner.js';
import {
  findHeadEnd,
  HEAD_BAD,
  HEAD_FALLBACK,
  HEAD_TOO_MANY,
  parseRequestHead,
  RequestHead,
  SCAN_FALLBACK,
  SCAN_INCOMPLETE,
} from './request-head.js';
import {
  BODY_CHUNKED,
  BODY_LENGTH,
  BODY_NONE,
  BODY_UNTIL_CLOSE,
  parseResponseHead,
  ResponseHead,
} from './response-head.js';
import type { FastPath } from './fast-path.js';
import {
  DEADLINE_CONNECT,
  DEADLINE_RESPONSE,
  type FastPool,
  type UpstreamConnection,
  type UpstreamUser,
} from './upstream-pool.js';
import type { CompiledTarget } from '../target-picker.js';

const R = DATAPLANE_RESPONSES;
const MAX_URL_BYTES = 16 * 1024;
/** Most bytes of pipelined requests read ahead while one is being answered. */
const MAX_READ_AHEAD = 64 * 1024;
/** Bodies up to this size that arrive with their head are sent in the head's buffer. */
const SMALL_BODY = 16 * 1024;
/** Largest target response head accepted. */
const MAX_RESPONSE_HEAD = 64 * 1024;

/** Connection states. */
const S_HEAD = 0; // reading a request head
const S_BODY = 1; // streaming a request body to the target
const S_WAIT = 2; // request sent; relaying the answer
const S_CLOSED = 3;

/** Client deadline kinds. */
export const CLIENT_DEADLINE_NONE = 0;
/** A request head must arrive in time (slowloris) → 408. */
export const CLIENT_DEADLINE_HEAD = 1;
/** Keep-alive idle between requests → close silently. */
export const CLIENT_DEADLINE_IDLE = 2;
/** Closing: our side ended; the socket is cut if the client does not close in time. */
export const CLIENT_DEADLINE_LINGER = 3;
const LINGER_MS = 5_000;
/**
 * A request body is streaming and the client must send more (issue #3, like nginx
 * `client_body_timeout` → 408): the service's idle timeout between reads (spec §6), the whole
 * request within `requestTimeoutMs` (spec §6: bounded by the 10-minute lifetime).
 */
export const CLIENT_DEADLINE_BODY = 4;
const REQUEST_TIMEOUT_BODY = 'Request Timeout\n';
/**
 * Other targets of the same group tried when a connection to the chosen one cannot be made
 * (issue #3; nginx `proxy_next_upstream error`, Envoy `connect-failure`): nothing reached the
 * target, so this is safe for every method.
 */
export const MAX_CONNECT_RETRIES = 2;

/** Response relay states. */
const RESP_HEAD = 0;
const RESP_BODY = 1;
const RESP_DONE = 2;

type ClientSocket = Socket & { trellisClient?: ClientConnection };

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const HTTP11 = 'HTTP/1.1 ';

/**
 * What the auth gate and header rule conditions read from a request (the parts of
 * `IncomingMessage` they use), built from the fast path's parsed head; `headers` is built on first
 * use only.
 */
class FastRequestView {
  method = '';
  url = '';
  readonly socket: Socket;
  private readonly head: RequestHead;
  private map: Record<string, string | string[]> | null = null;

  constructor(socket: Socket, head: RequestHead) {
    this.socket = socket;
    this.head = head;
  }

  get headers(): Record<string, string | string[]> {
    return (this.map ??= this.head.headerMap());
  }

  reset(method: string, url: string): void {
    this.method = method;
    this.url = url;
    this.map = null;
  }
}

/**
 * One client connection on the fast path: parses request heads from the socket's bytes, routes
 * them with the shared decisions, and relays each request and its answer over a pooled target
 * connection. Pipelined requests are answered one at a time, in order: while one is in flight the
 * next bytes are held (at most `MAX_READ_AHEAD`, then reading pauses).
 */
export class ClientConnection implements UpstreamUser {
  readonly socket: ClientSocket;
  readonly fast: FastPath;
  readonly listener: ListenerState;
  private state = S_HEAD;
  private processing = false;
  private pending: Buffer | null = null;
  private scanFrom = 0;
  deadline = 0;
  deadlineKind = CLIENT_DEADLINE_HEAD;
  private readonly head = new RequestHead();
  private readonly view: FastRequestView;
  private readonly decision = new RouteDecision();
  private readonly xff: string;
  // The request in flight.
  private requestId = '';
  private record: RequestRecord | null = null;
  private isHead = false;
  private closeAfter = false;
  private idleTimeoutMs = 0;
  private kaMs = -1;
  private kaLines = '';
  targetTimeoutMs = 0;
  private bodyKind = BODY_NONE;
  private bodyRemaining = 0;
  private bodyDone = true;
  private readonly bodyScanner = new ChunkedScanner();
  private upHead: Buffer | null = null;
  private pool: FastPool | null = null;
  private upstream: UpstreamConnection | null = null;
  private retried = false;
  /** Targets whose connection failed for the request in flight (connect retries, issue #3). */
  private readonly failedTargets: CompiledTarget[] = [];
  /** When the request's body started to stream (the whole-request bound). */
  private bodyStartedAt = 0;
  private readMark = 0;
  private writeMark = 0;
  // The answer being relayed.
  private respState = RESP_DONE;
  private respBuf: Buffer | null = null;
  private respScanFrom = 0;
  private readonly resp = new ResponseHead();
  private respKind = BODY_NONE;
  private respRemaining = 0;
  private readonly respScanner = new ChunkedScanner();
  private respStatus = 0;
  private headersSent = false;
  private upstreamPaused = false;

  constructor(socket: Socket, fast: FastPath, listener: ListenerState) {
    this.socket = socket;
    this.fast = fast;
    this.listener = listener;
    this.view = new FastRequestView(socket, this.head);
    this.xff = `x-forwarded-for: ${socket.remoteAddress ?? ''}\r\n`;
    this.deadline = fast.now + fast.limits.headersTimeoutMs;
    this.socket.trellisClient = this;
    socket.on('data', onClientData);
    socket.on('end', onClientEnd);
    socket.on('error', onClientError);
    socket.on('close', onClientClose);
    socket.on('drain', onClientDrain);
  }

  // ---- client side -------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    const p = this.pending;
    this.pending = p === null ? chunk : Buffer.concat([p, chunk]);
    if (this.deadlineKind === CLIENT_DEADLINE_BODY) this.armBodyDeadline();
    else if (this.state === S_HEAD && this.deadlineKind === CLIENT_DEADLINE_IDLE) {
      this.deadlineKind = CLIENT_DEADLINE_HEAD;
      this.deadline = this.fast.now + this.fast.limits.headersTimeoutMs;
    }
    this.process();
  }

  /** Works through the held bytes: request heads, then body bytes toward the target. */
  private process(): void {
    if (this.processing) return; // re-entered from an answer given while routing
    this.processing = true;
    try {
      this.work();
    } finally {
      this.processing = false;
    }
  }

  private work(): void {
    for (;;) {
      const state = this.state;
      if (state === S_HEAD) {
        if (!this.readHead()) return;
      } else if (state === S_BODY) {
        if (!this.pumpBody()) return;
      } else {
        if (state === S_WAIT && this.pending !== null && this.pending.length > MAX_READ_AHEAD)
          this.socket.pause();
        return;
      }
    }
  }

  /** Parses one request head if complete; false when waiting for bytes or the connection ended. */
  private readHead(): boolean {
    const buf = this.pending;
    if (buf === null) return false;
    const end = findHeadEnd(buf, this.scanFrom, buf.length);
    const limit = this.fast.limits.maxHeaderBytes;
    if (end === SCAN_INCOMPLETE) {
      this.scanFrom = buf.length;
      if (buf.length > limit) this.rejectHead(R.headersTooLarge.body);
      return false;
    }
    this.scanFrom = 0;
    if (end === SCAN_FALLBACK) {
      this.handOver();
      return false;
    }
    if (end > limit) {
      this.rejectHead(R.headersTooLarge.body);
      return false;
    }
    const head = this.head;
    const verdict = parseRequestHead(buf, end, head);
    if (verdict === HEAD_BAD) {
      this.rejectHead(R.badRequest.body);
      return false;
    }
    if (verdict === HEAD_TOO_MANY) {
      this.rejectHead(R.headersTooLarge.body);
      return false;
    }
    if (verdict === HEAD_FALLBACK) {
      this.handOver();
      return false;
    }
    try {
      return this.startRequest(buf, end);
    } catch (err) {
      // A bug in a stage (or an auth gate that throws) answers 500 for that request, never crashes.
      this.fast.logger.error('request pipeline failed', { error: (err as Error).message });
      if (this.state !== S_HEAD || this.pending !== buf) return false;
      this.consume(end, BODY_NONE);
      this.reply(500, R.internal.body, 'InternalError', true);
      return false;
    }
  }

  /** Routes a parsed request and starts forwarding it; false when it was answered or handed over. */
  private startRequest(buf: Buffer, end: number): boolean {
    const fast = this.fast;
    const head = this.head;
    const socket = this.socket;
    this.requestId = requestIdFor(head.requestId);
    this.isHead = head.isHead;
    this.closeAfter = head.close || this.listener.retired;
    this.deadlineKind = CLIENT_DEADLINE_NONE;
    this.headersSent = false;
    this.respStatus = 0;
    this.retried = false;
    this.failedTargets.length = 0;
    let url = head.url;
    const method = head.method;

    const hook = fast.host.onRequestComplete;
    let record: RequestRecord | null = null;
    if (hook !== undefined) {
      const q = url.indexOf('?');
      record = new RequestRecord(
        Date.now(),
        `${socket.remoteAddress}:${socket.remotePort}`,
        method,
        q < 0 ? url : url.slice(0, q),
        'HTTP/1.1',
        head.host ?? '',
        head.userAgent ?? '',
      );
      record.requestId = this.requestId;
      if (this.listener.tls) stampTlsFields(record, socket); // spec §4.1: HTTPS only
      // Bytes of this request already read: the buffered head (and any body bytes behind it;
      // with pipelining, bytes of the next request read ahead are counted here too).
      this.readMark = socket.bytesRead - buf.length;
      this.writeMark = socket.bytesWritten;
    }
    this.record = record;

    if (url.length > MAX_URL_BYTES || url.charCodeAt(0) !== 47 /* '/' */) {
      this.consume(end, BODY_NONE);
      this.reply(400, R.badRequest.body, 'ClientProtocolError', true);
      return this.state !== S_CLOSED;
    }
    const normalized = normalizeRequestTarget(url);
    if (normalized === undefined) {
      this.consume(end, BODY_NONE);
      this.reply(400, R.badRequest.body, 'ClientProtocolError', true);
      return this.state !== S_CLOSED;
    }
    url = normalized;

    const d = this.decision;
    resetDecision(d);
    this.view.reset(method, head.url); // the gate verifies the path as sent
    fast.host.route(
      d,
      this.listener,
      head.host,
      method,
      url,
      this.view as unknown as IncomingMessage,
      record,
    );
    const binding = d.binding;
    this.idleTimeoutMs = binding?.idleTimeoutMs ?? fast.limits.keepAliveTimeoutMs;
    const bodyKind = head.chunked ? BODY_CHUNKED : head.contentLength > 0 ? BODY_LENGTH : BODY_NONE;
    const target = d.target;
    if (target === null || d.vpc === null || d.choice === null || binding === null) {
      this.consume(end, bodyKind);
      this.reply(d.status, d.body, d.reason, d.close);
      return this.state !== S_CLOSED;
    }
    const pool = fast.poolFor(target, d.choice.group.type);
    if (pool === null) {
      // LAMBDA, HTTPS and other targets the fast path does not speak: node:http serves them.
      this.scanFrom = 0;
      this.handOver();
      return false;
    }

    // The head toward the target (spec §3.1): the client's lines minus hop-by-hop and forgeable
    // ones, copied byte for byte, then the precomputed Lattice lines and the per-request ones.
    let dynamic = this.xff + fast.suffixFor(d.choice, d.vpc, this.listener) + 'x-amzn-requestid: ';
    dynamic += this.requestId;
    dynamic += '\r\n';
    // W3C trace context, as on the node:http path: a client's traceparent passes, else one is made.
    // With OTLP export on, the proxy's span goes in between: its id is the target's parent.
    if (record !== null && fast.host.traceSpans) {
      const at = head.traceparentAt;
      if (at >= 0) head.drop[at] = 1;
      dynamic += `traceparent: ${startProxySpan(at >= 0 ? head.value(at) : undefined, record)}\r\n`;
    } else if (!head.hasTraceparent) dynamic += `traceparent: ${newTraceparent()}\r\n`;
    const identity = d.identityHeaders;
    if (identity !== undefined)
      for (let i = 0; i + 1 < identity.length; i += 2)
        dynamic += `${identity[i]}: ${identity[i + 1]}\r\n`;
    if (bodyKind === BODY_CHUNKED) dynamic += 'transfer-encoding: chunked\r\n';
    dynamic += '\r\n';
    const line = `${method} ${url} HTTP/1.1\r\n`;
    let size = line.length + dynamic.length;
    const count = head.count;
    const drop = head.drop;
    for (let i = 0; i < count; i++)
      if (drop[i] === 0) size += head.lineEnd[i]! - head.nameStart[i]!;
    const out = Buffer.allocUnsafe(size);
    let off = out.write(line, 0, 'latin1');
    // Copy runs of kept lines at once.
    let runStart = -1;
    let runEnd = -1;
    for (let i = 0; i < count; i++) {
      if (drop[i] === 1) continue;
      const s = head.nameStart[i]!;
      if (s !== runEnd) {
        if (runStart >= 0) off += buf.copy(out, off, runStart, runEnd);
        runStart = s;
      }
      runEnd = head.lineEnd[i]!;
    }
    if (runStart >= 0) off += buf.copy(out, off, runStart, runEnd);
    out.write(dynamic, off, 'latin1');
    this.upHead = out;

    this.consume(end, bodyKind);
    this.targetTimeoutMs = fast.targetResponseMs ?? binding.idleTimeoutMs;
    this.respState = RESP_HEAD;
    this.respBuf = null;
    this.respScanFrom = 0;
    this.pool = pool;
    this.state = this.bodyDone ? S_WAIT : S_BODY;
    if (!this.bodyDone) {
      this.bodyStartedAt = fast.now;
      this.deadlineKind = CLIENT_DEADLINE_BODY;
      this.armBodyDeadline();
    }
    if (record !== null && this.bodyDone) record.sentToTargetAt = Date.now();
    pool.acquire(this);
    return this.state !== S_CLOSED;
  }

  /** Drops the head's bytes and prepares the body framing. */
  private consume(end: number, bodyKind: number): void {
    const buf = this.pending!;
    this.pending = end < buf.length ? buf.subarray(end) : null;
    this.bodyKind = bodyKind;
    this.bodyRemaining = bodyKind === BODY_LENGTH ? this.head.contentLength : 0;
    this.bodyDone = bodyKind === BODY_NONE;
    if (bodyKind === BODY_CHUNKED) this.bodyScanner.reset();
  }

  /** Sends held body bytes to the target; false when waiting (bytes, a connection, or drain). */
  private pumpBody(): boolean {
    const up = this.upstream;
    if (up === null || !up.connected) {
      // Queued for a connection, or still connecting: hold the bytes (a connect failure may then
      // retry another target with the whole body, issue #3), stop reading.
      if (this.pending !== null) this.socket.pause();
      return false;
    }
    for (;;) {
      const buf = this.pending;
      if (buf === null) {
        this.socket.resume();
        return false;
      }
      let take: number;
      if (this.bodyKind === BODY_LENGTH) {
        take = Math.min(this.bodyRemaining, buf.length);
        this.bodyRemaining -= take;
        if (this.bodyRemaining === 0) this.bodyDone = true;
      } else {
        take = this.bodyScanner.scan(buf, 0, buf.length);
        if (this.bodyScanner.error) {
          this.failRequestBody();
          return false;
        }
        if (this.bodyScanner.done) this.bodyDone = true;
      }
      this.pending = take < buf.length ? buf.subarray(take) : null;
      const ok = up.socket.write(take === buf.length ? buf : buf.subarray(0, take));
      if (up.deadlineKind === DEADLINE_RESPONSE) up.deadline = this.fast.now + this.targetTimeoutMs;
      if (this.bodyDone) {
        if (this.record !== null) this.record.sentToTargetAt = Date.now();
        if (this.deadlineKind === CLIENT_DEADLINE_BODY) this.deadlineKind = CLIENT_DEADLINE_NONE;
        this.state = S_WAIT;
        return true;
      }
      if (!ok) {
        this.socket.pause();
        return false;
      }
    }
  }

  /** Broken chunked framing from the client: the body cannot be delimited. */
  private failRequestBody(): void {
    this.closeAfter = true;
    this.dropUpstream();
    if (this.headersSent) this.abort('ClientProtocolError');
    else {
      this.respState = RESP_DONE;
      this.reply(400, R.badRequest.body, 'ClientProtocolError', true);
    }
  }

  upstreamDrain(): void {
    if (this.state === S_BODY) this.process();
  }

  onDrain(): void {
    if (this.upstreamPaused && this.upstream !== null) {
      this.upstreamPaused = false;
      this.upstream.socket.resume();
    }
  }

  /** The client closed or reset: cancel what is in flight. */
  onGone(): void {
    if (this.state === S_CLOSED) {
      this.fast.clients.delete(this);
      this.socket.destroy();
      return;
    }
    const inFlight = this.state === S_BODY || this.state === S_WAIT;
    this.state = S_CLOSED;
    this.fast.clients.delete(this);
    if (inFlight) {
      if (this.upstream === null) this.pool?.cancel(this);
      this.dropUpstream();
      this.finishRecord('ClientConnectionClosed');
    }
    this.socket.destroy();
  }

  onEnd(): void {
    // A half-close while a request is in flight is treated as the client leaving (as node:http does).
    if (this.state === S_CLOSED || (this.state === S_HEAD && this.pending === null)) {
      this.state = S_CLOSED;
      this.fast.clients.delete(this);
      this.socket.destroySoon();
      return;
    }
    this.onGone();
  }

  /** Next read of the streaming body due: idle timeout from now, within the whole-request bound. */
  private armBodyDeadline(): void {
    const now = this.fast.now;
    this.deadline = Math.min(
      now + this.idleTimeoutMs,
      this.bodyStartedAt + this.fast.limits.requestTimeoutMs,
    );
  }

  /**
   * Whether the request body is stalled by the client: it is streaming, reading is not paused by
   * us (a queued or connecting target, target back-pressure) and no answer has begun.
   */
  private clientStalls(): boolean {
    const up = this.upstream;
    return (
      this.state === S_BODY &&
      !this.headersSent &&
      up !== null &&
      up.connected &&
      !this.socket.isPaused()
    );
  }

  /** The client stopped sending its announced body: 408 and close (nginx client_body_timeout). */
  private bodyTimedOut(): void {
    this.deadlineKind = CLIENT_DEADLINE_NONE;
    this.closeAfter = true;
    this.dropUpstream(); // the target got part of a body: that connection cannot be reused
    this.respState = RESP_DONE;
    this.reply(408, REQUEST_TIMEOUT_BODY, 'ClientProtocolError', true);
  }

  /** A deadline of the coarse clock expired. */
  expire(): void {
    if (this.deadlineKind === CLIENT_DEADLINE_BODY) {
      if (this.clientStalls()) this.bodyTimedOut();
      else if (this.state === S_BODY)
        this.armBodyDeadline(); // we hold the client: not its fault
      else this.deadlineKind = CLIENT_DEADLINE_NONE;
      return;
    }
    if (
      this.deadlineKind === CLIENT_DEADLINE_HEAD &&
      this.pending !== null &&
      this.state === S_HEAD
    ) {
      this.deadlineKind = CLIENT_DEADLINE_NONE;
      this.logProtocolError(408);
      this.writeClose(408, 'Request Timeout', 'Request Timeout\n');
      return;
    }
    this.state = S_CLOSED;
    this.fast.clients.delete(this);
    this.socket.destroy();
  }

  /** Closes an idle keep-alive connection (listener removed). True when it was idle. */
  closeIfIdle(): boolean {
    if (this.state !== S_HEAD || this.pending !== null) return false;
    this.closeGracefully();
    return true;
  }

  destroy(): void {
    this.onGone();
  }

  /** A malformed or oversized head: 400 and close (spec §6), logged as ClientProtocolError. */
  private rejectHead(body: string): void {
    this.logProtocolError(400);
    this.writeClose(400, 'Bad Request', body);
  }

  private logProtocolError(status: number): void {
    const hook = this.fast.host.onRequestComplete;
    if (hook === undefined) return;
    const socket = this.socket;
    const record = new RequestRecord(
      Date.now(),
      `${socket.remoteAddress}:${socket.remotePort}`,
      '-',
      '-',
      '-',
      '-',
      '-',
    );
    record.failureReason = 'ClientProtocolError';
    record.responseCode = status;
    const vpc = this.fast.vpcOf(this.listener);
    if (vpc !== undefined) {
      record.sourceVpcId = vpc.vpcId;
      record.sourceVpcArn = vpc.sourceVpcArn;
    }
    callHook(hook, record);
  }

  private writeClose(status: number, phrase: string, body: string): void {
    this.socket.write(
      `HTTP/1.1 ${status} ${phrase}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      'latin1',
    );
    this.closeGracefully();
  }

  /**
   * Ends our side after what was written; unread client bytes are discarded (reading goes on, so
   * the client's own close is seen), and a lingering connection is cut after `LINGER_MS`.
   */
  private closeGracefully(): void {
    this.state = S_CLOSED;
    this.pending = null;
    const socket = this.socket;
    socket.removeListener('data', onClientData);
    socket.end();
    socket.resume();
    this.deadlineKind = CLIENT_DEADLINE_LINGER;
    this.deadline = this.fast.now + LINGER_MS;
  }

  /** Gives the connection to node:http with every byte not yet consumed (`unshift`). */
  private handOver(): void {
    const socket = this.socket;
    this.state = S_CLOSED;
    this.fast.clients.delete(this);
    socket.removeListener('data', onClientData);
    socket.removeListener('end', onClientEnd);
    socket.removeListener('error', onClientError);
    socket.removeListener('close', onClientClose);
    socket.removeListener('drain', onClientDrain);
    socket.trellisClient = undefined;
    const rest = this.pending;
    this.pending = null;
    if (rest !== null) socket.unshift(rest);
    this.fast.handOver(socket, this.listener);
    if (socket.isPaused()) socket.resume();
  }

  // ---- answers from the data plane ---------------------------------------------------------

  /** A data-plane answer (spec §4.1 error table): short plain body, request id echoed. */
  private reply(
    status: number,
    body: string,
    reason: FailureReason | undefined,
    close: boolean,
  ): void {
    if (close || !this.bodyDone) this.closeAfter = true; // an unread body cannot be skipped safely
    const closing = this.closeAfter;
    const noBody = this.isHead || status === 204 || status === 304;
    const text =
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-amzn-requestid: ${this.requestId}\r\n` +
      (closing ? 'connection: close\r\n\r\n' : this.keepAliveLines());
    const socket = this.socket;
    this.respStatus = status;
    this.headersSent = true;
    if (!socket.writable) return this.complete(reason);
    if (noBody) socket.write(text, 'latin1');
    else {
      socket.cork();
      socket.write(text, 'latin1');
      socket.write(body, 'utf8');
      socket.uncork();
    }
    this.complete(reason);
  }

  /** `Connection`/`Keep-Alive` lines advertising the service's idle timeout (spec §6), cached. */
  private keepAliveLines(): string {
    const ms = this.idleTimeoutMs;
    if (ms !== this.kaMs) {
      this.kaMs = ms;
      this.kaLines = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(ms / 1000)}\r\n\r\n`;
    }
    return this.kaLines;
  }

  // ---- target side -------------------------------------------------------------------------

  upstreamReady(conn: UpstreamConnection): void {
    if (this.state === S_CLOSED) {
      conn.pool.release(conn);
      return;
    }
    this.upstream = conn;
    if (conn.deadlineKind !== DEADLINE_CONNECT) {
      conn.deadline = this.fast.now + this.targetTimeoutMs;
      conn.deadlineKind = DEADLINE_RESPONSE;
    }
    conn.socket.write(this.upHead!);
    if (this.state === S_BODY) this.process();
  }

  upstreamData(conn: UpstreamConnection, chunk: Buffer): void {
    conn.deadline = this.fast.now + this.targetTimeoutMs;
    if (this.respState === RESP_HEAD) this.readResponseHead(conn, chunk);
    else if (this.respState === RESP_BODY) this.relayBody(conn, chunk, 0);
    else conn.destroy(); // bytes after the answer ended
  }

  private readResponseHead(conn: UpstreamConnection, chunk: Buffer): void {
    let buf = this.respBuf === null ? chunk : Buffer.concat([this.respBuf, chunk]);
    for (;;) {
      const end = findHeadEnd(buf, this.respScanFrom, buf.length);
      if (end === SCAN_INCOMPLETE) {
        if (buf.length > MAX_RESPONSE_HEAD) return this.upstreamFailed(conn, PROTOCOL_ERROR);
        this.respBuf = buf;
        this.respScanFrom = buf.length;
        return;
      }
      this.respScanFrom = 0;
      const resp = this.resp;
      if (end === SCAN_FALLBACK || !parseResponseHead(buf, end, this.isHead, resp))
        return this.upstreamFailed(conn, PROTOCOL_ERROR);
      if (resp.status < 200) {
        // 1xx informational answers are not relayed; 101 was never asked for.
        if (resp.status === 101) return this.upstreamFailed(conn, PROTOCOL_ERROR);
        if (end === buf.length) {
          this.respBuf = null;
          return;
        }
        buf = buf.subarray(end);
        continue;
      }
      this.respBuf = null;
      this.sendResponseHead(conn, buf, end);
      return;
    }
  }

  private sendResponseHead(conn: UpstreamConnection, buf: Buffer, end: number): void {
    const resp = this.resp;
    const kind = resp.bodyKind;
    if (!this.bodyDone) this.closeAfter = true; // answered before the request body ended
    if (this.listener.retired) this.closeAfter = true;
    let extra = `x-amzn-requestid: ${this.requestId}\r\n`;
    if (kind === BODY_CHUNKED || kind === BODY_UNTIL_CLOSE)
      extra += 'transfer-encoding: chunked\r\n';
    extra += this.closeAfter ? 'connection: close\r\n\r\n' : this.keepAliveLines();
    let size = HTTP11.length + (resp.linesStart - resp.statusAt) + extra.length;
    const count = resp.count;
    for (let i = 0; i < count; i++)
      if (resp.drop[i] === 0) size += resp.lineEnd[i]! - resp.lineStart[i]!;
    // A small answer read whole goes out as one buffer: one plain write, no writev.
    const whole =
      kind === BODY_LENGTH &&
      resp.contentLength <= SMALL_BODY &&
      buf.length - end >= resp.contentLength;
    const out = Buffer.allocUnsafe(whole ? size + resp.contentLength : size);
    let off = out.write(HTTP11, 0, 'latin1');
    let runStart = resp.statusAt;
    let runEnd = resp.linesStart;
    for (let i = 0; i < count; i++) {
      if (resp.drop[i] === 1) continue;
      const s = resp.lineStart[i]!;
      if (s !== runEnd) {
        off += buf.copy(out, off, runStart, runEnd);
        runStart = s;
      }
      runEnd = resp.lineEnd[i]!;
    }
    off += buf.copy(out, off, runStart, runEnd);
    out.write(extra, off, 'latin1');

    this.respStatus = resp.status;
    this.headersSent = true;
    this.respKind = kind;
    this.respRemaining = resp.contentLength;
    if (kind === BODY_CHUNKED) this.respScanner.reset();
    if (this.record !== null) this.record.firstByteFromTargetAt = Date.now();
    const socket = this.socket;
    if (whole) {
      buf.copy(out, size, end, end + resp.contentLength);
      socket.write(out);
      if (end + resp.contentLength < buf.length) resp.close = true; // more than announced
      this.respState = RESP_DONE;
      this.responseDone(conn);
      return;
    }
    if (kind === BODY_NONE) {
      socket.write(out);
      if (end < buf.length) resp.close = true; // bytes after a body-less answer
      this.respState = RESP_DONE;
      this.responseDone(conn);
      return;
    }
    this.respState = RESP_BODY;
    socket.cork();
    socket.write(out);
    if (end < buf.length) this.relayBody(conn, buf, end);
    socket.uncork();
  }

  /** Relays body bytes `chunk[from…]` by the answer's framing. */
  private relayBody(conn: UpstreamConnection, chunk: Buffer, from: number): void {
    const socket = this.socket;
    const kind = this.respKind;
    let ok = true;
    let done = false;
    if (kind === BODY_LENGTH) {
      const n = Math.min(this.respRemaining, chunk.length - from);
      this.respRemaining -= n;
      ok = socket.write(from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n));
      if (this.respRemaining === 0) {
        done = true;
        if (from + n < chunk.length) this.resp.close = true; // more than announced
      }
    } else if (kind === BODY_CHUNKED) {
      const sc = this.respScanner;
      const end = sc.scan(chunk, from, chunk.length);
      if (sc.error) return this.upstreamFailed(conn, PROTOCOL_ERROR);
      ok = socket.write(from === 0 && end === chunk.length ? chunk : chunk.subarray(from, end));
      if (sc.done) {
        done = true;
        if (end < chunk.length) this.resp.close = true;
      }
    } else {
      // Close-delimited: re-framed as chunks so the client connection stays reusable.
      const n = chunk.length - from;
      if (n > 0) {
        socket.cork();
        socket.write(`${n.toString(16)}\r\n`, 'latin1');
        socket.write(from === 0 ? chunk : chunk.subarray(from));
        ok = socket.write(CRLF);
        socket.uncork();
      }
    }
    if (done) {
      this.respState = RESP_DONE;
      this.responseDone(conn);
    } else if (!ok && !this.upstreamPaused) {
      this.upstreamPaused = true;
      conn.socket.pause();
    }
  }

  upstreamEnd(conn: UpstreamConnection): void {
    if (this.respState === RESP_BODY && this.respKind === BODY_UNTIL_CLOSE) {
      this.socket.write(LAST_CHUNK);
      this.respState = RESP_DONE;
      this.resp.close = true;
      this.responseDone(conn);
      return;
    }
    this.upstreamFailed(conn, CLOSED_EARLY);
  }

  upstreamError(conn: UpstreamConnection, err: Error & { code?: string }): void {
    this.upstreamFailed(conn, err);
  }

  /** A deadline of the target connection expired (connect or response). */
  upstreamTimedOut(conn: UpstreamConnection, connecting: boolean): void {
    // The target waits for body bytes the client does not send: the client's timeout, not 504.
    if (!connecting && this.upstream === conn && this.clientStalls()) return this.bodyTimedOut();
    this.upstreamFailed(conn, connecting ? CONNECT_TIMEOUT : RESPONSE_TIMEOUT);
  }

  private upstreamFailed(conn: UpstreamConnection, err: Error & { code?: string }): void {
    if (this.upstream !== conn) return;
    const respState = this.respState;
    this.dropUpstream();
    if (this.state === S_CLOSED || respState === RESP_DONE) return;
    // A kept-alive connection the target had already closed: try once more on a fresh one, when
    // nothing of the answer arrived and the request had no body to replay.
    if (!conn.connected && err !== RESPONSE_TIMEOUT && this.retryOtherTarget()) return;
    if (
      conn.reused &&
      !this.retried &&
      respState === RESP_HEAD &&
      this.respBuf === null &&
      this.bodyKind === BODY_NONE &&
      err !== RESPONSE_TIMEOUT &&
      this.pool !== null
    ) {
      this.retried = true;
      this.pool.acquireFresh(this);
      return;
    }
    const outcome = classifyUpstreamError(err);
    this.respState = RESP_DONE;
    if (this.headersSent) {
      // The status line is gone; all the client can learn is a truncated response.
      this.abort(outcome.reason);
      return;
    }
    this.reply(outcome.status, outcome.body, outcome.reason, false);
  }

  /**
   * The connection to the chosen target could not be made: nothing of the request reached it
   * (body bytes wait for the connect, `pumpBody`), so another target of the same group is tried,
   * at most `MAX_CONNECT_RETRIES` times. The access log then names the target that answered.
   */
  private retryOtherTarget(): boolean {
    const d = this.decision;
    const failed = d.target;
    if (failed === null || d.choice === null || this.failedTargets.length >= MAX_CONNECT_RETRIES)
      return false;
    this.failedTargets.push(failed);
    const group = d.choice.group;
    const next = group.selectOther(this.fast.host.healthView, this.failedTargets);
    if (next === undefined) return false;
    const pool = this.fast.poolFor(next, group.type);
    if (pool === null) return false;
    d.target = next;
    this.pool = pool;
    if (this.record !== null) this.record.targetIpPort = next.ipPort;
    pool.acquire(this);
    return true;
  }

  /** The answer was relayed completely. */
  private responseDone(conn: UpstreamConnection): void {
    this.upstream = null;
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      conn.socket.resume();
    }
    if (this.resp.close || !this.bodyDone || conn.closed) conn.destroy();
    else conn.pool.release(conn);
    this.complete(undefined);
  }

  /** Request finished (answered): log, then close or wait for the next request. */
  private complete(reason: FailureReason | undefined): void {
    this.finishRecord(reason);
    if (this.state === S_CLOSED) return;
    if (this.closeAfter) {
      this.closeGracefully();
      return;
    }
    this.state = S_HEAD;
    this.deadlineKind = CLIENT_DEADLINE_IDLE;
    this.deadline = this.fast.now + this.idleTimeoutMs;
    if (this.pending !== null) {
      this.deadlineKind = CLIENT_DEADLINE_HEAD;
      this.deadline = this.fast.now + this.fast.limits.headersTimeoutMs;
    }
    this.socket.resume();
    if (this.pending !== null) this.process();
  }

  private finishRecord(reason: FailureReason | undefined): void {
    const record = this.record;
    if (record === null) return;
    this.record = null;
    const hook = this.fast.host.onRequestComplete;
    if (hook === undefined) return;
    if (reason !== undefined && record.failureReason === undefined) record.failureReason = reason;
    record.duration = Date.now() - record.startTime;
    record.responseCode = this.headersSent ? this.respStatus : 0;
    const socket = this.socket;
    record.bytesReceived = socket.bytesRead - this.readMark;
    record.bytesSent = socket.bytesWritten - this.writeMark;
    callHook(hook, record);
  }

  /** The answer cannot be completed: cut the client connection (truncation is all it can see). */
  private abort(reason: FailureReason): void {
    if (this.record !== null && this.record.failureReason === undefined)
      this.record.failureReason = reason;
    this.dropUpstream();
    this.state = S_CLOSED;
    this.fast.clients.delete(this);
    this.finishRecord(reason);
    this.socket.destroy();
  }

  private dropUpstream(): void {
    const up = this.upstream;
    this.upstream = null;
    this.upstreamPaused = false;
    if (up !== null) up.destroy();
  }
}

function resetDecision(d: RouteDecision): void {
  d.status = 0;
  d.body = '';
  d.reason = undefined;
  d.close = false;
  d.vpc = null;
  d.binding = null;
  d.choice = null;
  d.target = null;
  d.identityHeaders = undefined;
}

function callHook(hook: (r: RequestRecord) => void, record: RequestRecord): void {
  try {
    hook(record);
  } catch {
    // A failing monitoring hook must never take the data plane down.
  }
}

type CodedError = Error & { code?: string };
const PROTOCOL_ERROR: CodedError = Object.assign(
  new Error('target answered something not HTTP/1.1'),
  {
    code: 'HPE_INVALID',
  },
);
const CLOSED_EARLY: CodedError = Object.assign(new Error('target closed the connection'), {
  code: 'ECONNRESET',
});
const CONNECT_TIMEOUT: CodedError = Object.assign(new Error('connect timeout'), {
  code: 'UND_ERR_CONNECT_TIMEOUT',
});
const RESPONSE_TIMEOUT: CodedError = Object.assign(new Error('target response timeout'), {
  code: 'UND_ERR_HEADERS_TIMEOUT',
});

function onClientData(this: ClientSocket, chunk: Buffer): void {
  this.trellisClient?.onData(chunk);
}
function onClientEnd(this: ClientSocket): void {
  this.trellisClient?.onEnd();
}
function onClientError(this: ClientSocket): void {
  this.trellisClient?.onGone();
}
function onClientClose(this: ClientSocket): void {
  this.trellisClient?.onGone();
}
function onClientDrain(this: ClientSocket): void {
  this.trellisClient?.onDrain();
}
