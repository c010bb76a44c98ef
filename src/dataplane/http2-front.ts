/**
 * HTTP/2 clients of HTTPS listeners (spec §7.1: ALPN `h2`, `http/1.1`; HTTP/2 only over TLS).
 * The TLS server in front of a listener (tls-listener.ts) hands each connection that negotiated
 * `h2` to the `Http2Server` made here; `http/1.1` and no-ALPN connections keep the node:http path.
 *
 * Each stream runs the same stages as an HTTP/1.1 request — route, authenticate/authorize, select
 * target (route-decision.ts), header rules (header-rules.ts), access-log record — then the
 * protocol matrix of spec §7.3 decides how the target is spoken to:
 *
 * | client   | HTTP1 group            | HTTP2 group       | GRPC group               |
 * | HTTP/2   | downgraded to HTTP/1.1 | HTTP/2            | HTTP/2, POST only (400)  |
 * | gRPC     | 400 (gRPC INTERNAL)    | HTTP/2            | HTTP/2                   |
 *
 * (HTTP/1.1 clients to HTTP2/GRPC groups are refused in route-decision.ts.) gRPC clients get
 * every answer the data plane makes itself as a gRPC status (grpc-status.ts).
 */
import type { IncomingMessage } from 'node:http';
import {
  constants,
  createServer,
  type ClientHttp2Stream,
  type Http2Server,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import { DATAPLANE_RESPONSES, type FailureReason } from '../errors/dataplane-outcomes.js';
import { newTraceparent, startProxySpan } from '../observability/trace-context.js';
import { classifyUpstreamError } from './forwarder.js';
import {
  GRPC_STATUS,
  encodeGrpcMessage,
  grpcStatusForHttp,
  grpcStatusOf,
  isGrpcContentType,
} from './grpc-status.js';
import {
  isDroppedRequestHeader,
  isDroppedResponseHeader,
  pushLatticeRequestHeaders,
  requestIdFor,
} from './header-rules.js';
import { CANCEL, type Http2Origin } from './http2-upstream-pools.js';
import type { ClientLimits, ListenerState } from './listener-set.js';
import type { DataPlaneLogger } from './logger.js';
import { RequestRecord, type RequestCompleteHook } from './request-record.js';
import { normalizeRequestTarget } from './request-path.js';
import { RouteDecision, type BoundRoute } from './route-decision.js';

const R = DATAPLANE_RESPONSES;
const MAX_HEADERS = 100; // spec §6: more than 100 headers → 400
const MAX_URL_BYTES = 16 * 1024;
const END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;
const NO_OP = (): void => undefined;
/** Resends of a request a target refused unprocessed (http2 GOAWAY/REFUSED_STREAM). */
const MAX_RETRIES = 2;

/**
 * Per-session limits (issue #5 bad input): a client that breaks them loses its own session only.
 * Node's nghttp2 also answers floods on its own — SETTINGS/PING floods (outstanding ACKs), rapid
 * RST_STREAM (CVE-2023-44487: a stream-reset rate limit, then GOAWAY) and invalid frames
 * (`maxSessionInvalidFrames`) — each by ending that session.
 */
const SERVER_OPTIONS = {
  /** nghttp2 memory per session (MiB) before new streams are refused with ENHANCE_YOUR_CALM. */
  maxSessionMemory: 16,
  maxHeaderListPairs: 128,
  maxSettings: 32,
  maxSessionInvalidFrames: 100,
  maxSessionRejectedStreams: 100,
  peerMaxConcurrentStreams: 100,
  unknownProtocolTimeout: 10_000,
  settings: {
    enablePush: false,
    maxConcurrentStreams: 128,
    // spec §6: request headers over 60 KB → 400; a little room for pseudo-headers and HPACK overhead.
    maxHeaderListSize: 64 * 1024,
  },
};

/** What the HTTP/2 front needs from the data plane that owns it (a subset of FastPathHost). */
export interface Http2FrontHost {
  readonly onRequestComplete: RequestCompleteHook | undefined;
  /** Whether requests with a record get a proxy span (OTLP export on, data-plane.ts). */
  readonly traceSpans: boolean;
  readonly route: BoundRoute;
}

export interface Http2FrontOptions {
  limits: ClientLimits;
  /** Target response timeout; default the service's idle timeout (as the HTTP/1.1 path). */
  targetResponseMs: number | undefined;
  logger: DataPlaneLogger;
}

/**
 * What the auth gate and rule conditions read from a request (the parts of `IncomingMessage`
 * they use). `httpVersionMajor` 2 tells route-decision.ts this is an HTTP/2 client.
 */
class Http2RequestView {
  readonly httpVersionMajor = 2;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly socket: Socket,
  ) {}
}

/** Stream counts of one client session (premature-reset guard, idle timeout). */
class SessionCounts {
  /** Streams open now. */
  active = 0;
  /** Streams ever opened. */
  total = 0;
  /** Streams the client cancelled (RST_STREAM CANCEL) before their answer finished. */
  resets = 0;
  /** The idle timeout armed on the session (the last routed service's, spec §6). */
  idleMs = 0;
}

/** spec §6: a connection lives at most 10 minutes, then takes no new streams. */
const MAX_CONNECTION_MS = 600_000;

/**
 * Rapid reset (CVE-2023-44487): a session whose client cancelled at least this many streams, and
 * more than half of all its streams, is cut off (as Envoy's premature-reset overload check).
 * nghttp2's own stream-reset rate limit only sends GOAWAY and leaves the connection open.
 */
const PREMATURE_RESETS = 100;

type SessionWithCount = ServerHttp2Session & { trellisCounts?: SessionCounts };

/** Creates the HTTP/2 servers of HTTPS listeners and runs their streams. */
export class Http2Front {
  constructor(
    private readonly host: Http2FrontHost,
    private readonly options: Http2FrontOptions,
  ) {}

  /**
   * The HTTP/2 server of one HTTPS listener. It never listens itself: tls-listener.ts emits the
   * h2 connections into it. Sets `state.h2` so closing the listener closes its sessions too.
   */
  createServer(state: ListenerState): Http2Server {
    const server = createServer(SERVER_OPTIONS);
    const sessions = new Set<SessionWithCount>();
    const idleMs = this.options.limits.keepAliveTimeoutMs;
    server.on('session', (session: SessionWithCount) => {
      sessions.add(session);
      const counts = (session.trellisCounts = new SessionCounts());
      session.once('close', () => sessions.delete(session));
      // Protocol errors, floods, bad frames: that session is destroyed, nothing else.
      session.on('error', NO_OP);
      // spec §6: idle timeout — no active request for the idle time closes the connection; each
      // routed stream re-arms it with its service's `idleTimeoutSeconds` (handle()).
      counts.idleMs = idleMs;
      session.setTimeout(idleMs);
      session.on('timeout', () => {
        if (counts.active === 0) session.close();
      });
      // spec §6: after 10 minutes GOAWAY (ConnectionDurationExceeded): streams in flight finish.
      const lifetime = setTimeout(() => session.close(), MAX_CONNECTION_MS);
      lifetime.unref();
      session.once('close', () => clearTimeout(lifetime));
      if (state.retired) session.close();
    });
    server.on('sessionError', NO_OP);
    server.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]) => {
        const session = stream.session as SessionWithCount | undefined;
        const counts = session?.trellisCounts;
        if (session !== undefined && counts !== undefined) {
          counts.active++;
          counts.total++;
          stream.once('close', () => {
            counts.active--;
            if (stream.rstCode !== constants.NGHTTP2_CANCEL) return;
            counts.resets++;
            if (counts.resets >= PREMATURE_RESETS && counts.resets * 2 > counts.total)
              session.destroy(undefined, constants.NGHTTP2_ENHANCE_YOUR_CALM);
          });
        }
        stream.on('error', NO_OP);
        try {
          this.handle(stream, headers, flags, raw, state);
        } catch (err) {
          this.options.logger.error('HTTP/2 request pipeline failed', {
            error: (err as Error).message,
          });
          if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        }
      },
    );
    state.h2 = {
      // GOAWAY: streams in flight finish, no new ones.
      closeIdle: () => {
        for (const s of sessions) s.close();
      },
      closeAll: () => {
        for (const s of sessions) s.destroy();
      },
    };
    return server;
  }

  private handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    flags: number,
    raw: string[],
    l: ListenerState,
  ): void {
    const socket = stream.session?.socket as Socket | undefined;
    if (socket === undefined) return;
    const method = headers[':method'] ?? '';
    const rawUrl = headers[':path'];
    const authority = headers[':authority'] ?? headers.host;
    const requestId = requestIdFor(headers['x-amzn-requestid']);
    const grpc = isGrpcContentType(headers['content-type']);
    const hook = this.host.onRequestComplete;
    let record: RequestRecord | null = null;
    if (hook !== undefined) {
      const path = rawUrl ?? '-';
      const q = path.indexOf('?');
      record = new RequestRecord(
        Date.now(),
        `${socket.remoteAddress}:${socket.remotePort}`,
        method,
        q < 0 ? path : path.slice(0, q),
        'HTTP/2.0',
        authority ?? '',
        headers['user-agent'] ?? '',
      );
      record.requestId = requestId;
    }
    const ex = new Http2Exchange(stream, requestId, grpc, record, hook, raw);
    const endStream = (flags & END_STREAM) !== 0;

    // spec §6 limits; CONNECT (no :path) is not proxied.
    let headerCount = 0;
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.charCodeAt(0) !== 58 /* ':' */) headerCount++;
    if (headerCount > MAX_HEADERS)
      return ex.answer(400, R.headersTooLarge.body, 'ClientProtocolError');
    if (
      rawUrl === undefined ||
      rawUrl.length > MAX_URL_BYTES ||
      rawUrl.charCodeAt(0) !== 47 /* '/' */ ||
      method === 'CONNECT'
    )
      return ex.answer(400, R.badRequest.body, 'ClientProtocolError');
    const url = normalizeRequestTarget(rawUrl);
    if (url === undefined) return ex.answer(400, R.badRequest.body, 'ClientProtocolError');

    // HTTP/2 carries the host in :authority; header conditions and the signature see it as Host.
    if (headers.host === undefined && authority !== undefined) headers.host = authority;
    const view = new Http2RequestView(method, rawUrl, headers, socket);
    const d = new RouteDecision();
    this.host.route(d, l, authority, method, url, view as unknown as IncomingMessage, record);
    const { vpc, choice, target, binding } = d;
    const counts = (stream.session as SessionWithCount | undefined)?.trellisCounts;
    if (binding !== null && counts !== undefined && counts.idleMs !== binding.idleTimeoutMs) {
      counts.idleMs = binding.idleTimeoutMs;
      stream.session?.setTimeout(binding.idleTimeoutMs);
    }
    if (target === null || vpc === null || choice === null || binding === null)
      return ex.answer(d.status, d.body, d.reason);

    // spec §7.3 protocol matrix, HTTP/2 rows.
    const version = choice.group.protocolVersion;
    if (version === 'HTTP1' ? grpc : version === 'GRPC' && method !== 'POST')
      return ex.answer(400, R.protocolMismatch.body, 'ClientProtocolError');

    // Headers toward the target (spec §3.1): drop hop-by-hop and forgeable ones, add ours.
    const toH2 = version !== 'HTTP1';
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) === 58 /* ':' */) continue;
      const lower = name.toLowerCase();
      if (isDroppedRequestHeader(lower)) {
        // gRPC needs `te: trailers` end to end (the only `te` HTTP/2 allows).
        if (toH2 && lower === 'te' && raw[i + 1] === 'trailers') out.push('te', 'trailers');
        continue;
      }
      if (toH2 && lower === 'host') continue; // :authority carries it
      out.push(lower, raw[i + 1]!);
    }
    if (!toH2 && headers.host === authority && !raw.includes('host') && authority !== undefined)
      out.push('host', authority);
    pushLatticeRequestHeaders(
      out,
      socket.remoteAddress ?? '',
      'https',
      l.portText,
      vpc,
      choice.targetHeader,
      requestId,
      d.identityHeaders,
    );
    // W3C trace context, as on the HTTP/1.1 paths; with OTLP export on the proxy's span is the
    // target's parent (the client's traceparent was copied above: replace it).
    if (record !== null && this.host.traceSpans) {
      for (let i = out.length - 2; i >= 0; i -= 2) if (out[i] === 'traceparent') out.splice(i, 2);
      const given = headers.traceparent;
      out.push(
        'traceparent',
        startProxySpan(typeof given === 'string' ? given : undefined, record),
      );
    } else if (headers.traceparent === undefined) out.push('traceparent', newTraceparent());

    const timeout = this.options.targetResponseMs ?? binding.idleTimeoutMs;
    if (record !== null && endStream) record.sentToTargetAt = Date.now();
    if (toH2) {
      if (target.h2 === undefined) return ex.answer(503, R.noHealthyTarget.body, undefined);
      ex.forwardHttp2(target.h2, method, url, authority ?? '', out, endStream, timeout);
      return;
    }
    const pool = target.pool;
    if (pool === undefined) return ex.answer(503, R.noHealthyTarget.body, undefined);
    // spec §7.3: HTTP/2 client, HTTP1 target group → the request is downgraded to HTTP/1.1.
    const handler = new Http1Relay(ex);
    ex.http1 = handler;
    pool.dispatch(
      {
        path: url,
        method,
        headers: out,
        // undici destroys a body stream when done with it; the client's stream must outlive it.
        body: endStream ? null : stream.pipe(new PassThrough()),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      },
      handler,
    );
  }
}

/** Header names HTTP/2 forbids in responses (connection-specific, RFC 9113 §8.2.2). */
function isDroppedHttp2ResponseHeader(lower: string): boolean {
  return isDroppedResponseHeader(lower) || lower === 'http2-settings';
}

/** One client stream in flight: the answer relayed back, the record completed at close. */
class Http2Exchange {
  /** Status sent to the client (0: none yet). */
  status = 0;
  grpcStatus = -1;
  done = false;
  bytesIn = 0;
  bytesOut = 0;
  http1: Http1Relay | null = null;
  private upstream: ClientHttp2Stream | null = null;
  private trailers: OutgoingHttpHeaders | null = null;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly requestId: string,
    readonly grpc: boolean,
    readonly record: RequestRecord | null,
    readonly hook: RequestCompleteHook | undefined,
    raw: string[],
  ) {
    if (record !== null) {
      // HPACK hides the wire size; header bytes are counted as name + value lengths.
      for (const h of raw) this.bytesIn += h.length;
    }
    stream.once('close', () => this.closed());
    stream.on('wantTrailers', () => this.sendTrailers());
  }

  /** An answer the data plane gives itself; a gRPC status for gRPC clients. */
  answer(status: number, body: string, reason: FailureReason | undefined): void {
    const record = this.record;
    if (record !== null && reason !== undefined) record.failureReason = reason;
    this.done = true;
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    if (stream.headersSent) {
      // Mid-answer: a gRPC client still gets a status in the trailers; others a reset stream.
      if (this.grpc) return this.endWithGrpcError(grpcStatusForHttp(status), body.trim());
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    this.status = status;
    if (this.grpc) {
      // Trailers-only response (gRPC over HTTP/2): status and message in the one HEADERS frame.
      const code = grpcStatusForHttp(status);
      this.grpcStatus = code;
      this.respond(
        {
          ':status': status,
          'content-type': 'application/grpc',
          'grpc-status': String(code),
          'grpc-message': encodeGrpcMessage(body.trim()),
          'x-amzn-requestid': this.requestId,
        },
        true,
      );
    } else {
      const bytes = Buffer.from(body);
      this.respond(
        {
          ':status': status,
          'content-type': 'text/plain; charset=utf-8',
          'content-length': bytes.length,
          'x-amzn-requestid': this.requestId,
        },
        false,
      );
      this.bytesOut += bytes.length;
      stream.end(bytes);
    }
    // A request body still coming is read and dropped, so the client's window never stalls.
    if (!stream.readableEnded) stream.resume();
  }

  private respond(
    headers: OutgoingHttpHeaders,
    endStream: boolean,
    waitForTrailers = false,
  ): boolean {
    try {
      this.stream.respond(headers, { endStream, waitForTrailers });
    } catch {
      return false;
    }
    if (this.record !== null)
      for (const k in headers) this.bytesOut += k.length + String(headers[k]).length;
    return true;
  }

  private endWithGrpcError(code: number, message: string): void {
    this.grpcStatus = code;
    this.trailers = { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) };
    if (!this.stream.writableEnded) this.stream.end();
  }

  private sendTrailers(): void {
    const t = this.trailers ?? {};
    try {
      this.stream.sendTrailers(t);
    } catch {
      this.stream.close();
    }
  }

  /** Relays the request over a multiplexed HTTP/2 session (HTTP2/GRPC target groups). */
  forwardHttp2(
    origin: Http2Origin,
    method: string,
    path: string,
    authority: string,
    out: string[],
    endStream: boolean,
    timeoutMs: number,
  ): void {
    const headers: OutgoingHttpHeaders = {
      ':method': method,
      ':path': path,
      ':scheme': origin.origin.startsWith('https:') ? 'https' : 'http',
      ':authority': authority,
    };
    for (let i = 0; i < out.length; i += 2) {
      const name = out[i]!;
      const prev = headers[name];
      if (prev === undefined) headers[name] = out[i + 1]!;
      else
        headers[name] = Array.isArray(prev) ? [...prev, out[i + 1]!] : [String(prev), out[i + 1]!];
    }
    this.startUpstream(origin, headers, endStream, timeoutMs, MAX_RETRIES);
  }

  /**
   * One attempt at the target. A body-less request the target refused unprocessed (REFUSED_STREAM,
   * or a GOAWAY that raced it — a target recycling its connection) is sent again on another
   * session, at most `MAX_RETRIES` times: RFC 9113 §8.7 says such a request was not processed.
   */
  private startUpstream(
    origin: Http2Origin,
    headers: OutgoingHttpHeaders,
    endStream: boolean,
    timeoutMs: number,
    retries: number,
  ): void {
    const mayRetry = retries > 0;
    let up: ClientHttp2Stream;
    try {
      up = origin.request(headers, endStream);
    } catch (err) {
      if (mayRetry && endStream)
        return this.startUpstream(origin, headers, true, timeoutMs, retries - 1);
      return this.upstreamFailed(err);
    }
    this.upstream = up;
    let answered = false;
    let failure: unknown;
    // The outcome is decided at 'close' (after 'error'), when a retry is still possible.
    up.on('error', (err) => (failure = err));
    up.on('close', () => {
      if (this.done || this.upstream !== up) return;
      const refused =
        up.rstCode === constants.NGHTTP2_REFUSED_STREAM ||
        (failure as { code?: string } | undefined)?.code === 'ERR_HTTP2_GOAWAY_SESSION';
      if (mayRetry && endStream && !answered && refused && !this.stream.destroyed) {
        this.upstream = null;
        this.startUpstream(origin, headers, true, timeoutMs, retries - 1);
        return;
      }
      this.upstreamFailed(failure ?? { code: 'ECONNRESET' });
    });
    up.setTimeout(timeoutMs, () => {
      this.upstreamFailed({ code: 'UND_ERR_HEADERS_TIMEOUT' });
      up.close(CANCEL);
    });
    const client = this.stream;
    if (!endStream) {
      // Client → target, with backpressure both ways (streaming requests, gRPC client streams).
      client.on('data', (chunk: Buffer) => {
        this.bytesIn += chunk.length;
        if (!up.write(chunk)) client.pause();
      });
      up.on('drain', () => client.resume());
      client.once('end', () => {
        if (this.record !== null) this.record.sentToTargetAt = Date.now();
        if (!up.destroyed) up.end();
      });
    }
    up.on('response', (h: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number) => {
      answered = true;
      this.upstreamResponse(h, flags);
    });
    up.on('data', (chunk: Buffer) => {
      if (client.destroyed || this.done) return;
      this.bytesOut += chunk.length;
      if (!client.write(chunk)) {
        up.pause();
        client.once('drain', () => up.resume());
      }
    });
    up.on('trailers', (t: IncomingHttpHeaders) => {
      const kept: OutgoingHttpHeaders = {};
      for (const k in t)
        if (k.charCodeAt(0) !== 58 && !isDroppedHttp2ResponseHeader(k)) kept[k] = t[k];
      this.trailers = kept;
      const code = grpcStatusOf(t);
      if (code !== undefined) this.grpcStatus = code;
    });
    up.on('end', () => {
      if (this.done) return;
      this.done = true;
      if (!client.destroyed && !client.writableEnded) client.end();
    });
  }

  private upstreamResponse(h: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
    const client = this.stream;
    if (this.done || client.destroyed) return;
    const status = h[':status'] ?? 502;
    if (this.record !== null) this.record.firstByteFromTargetAt = Date.now();
    // A gRPC call answered by something that is not gRPC: a proper gRPC error instead.
    if (this.grpc && !isGrpcContentType(h['content-type'])) {
      const shown = status >= 400 ? status : 502;
      this.upstream?.close(CANCEL);
      this.answer(
        shown,
        `target answered non-gRPC (HTTP ${status}, content-type ${String(h['content-type'] ?? 'none')})`,
        'TargetProtocolError',
      );
      return;
    }
    const out: OutgoingHttpHeaders = { ':status': status };
    for (const k in h) {
      if (k.charCodeAt(0) === 58 || isDroppedHttp2ResponseHeader(k)) continue;
      out[k] = h[k];
    }
    out['x-amzn-requestid'] = this.requestId;
    const end = (flags & END_STREAM) !== 0;
    if (end) {
      const code = grpcStatusOf(h);
      if (code !== undefined) this.grpcStatus = code;
      this.done = true;
    }
    this.status = status;
    if (!this.respond(out, end, !end)) {
      this.status = 0;
      this.done = false;
      this.upstream?.close(CANCEL);
      this.answer(502, R.targetFailure.body, 'TargetProtocolError');
    }
  }

  /** The target failed before or during its answer. */
  upstreamFailed(err: unknown): void {
    if (this.done) return;
    const outcome = classifyUpstreamError(err);
    this.answer(outcome.status, outcome.body, outcome.reason);
  }

  /** The target's HTTP/1.1 answer (http1 relay) starts. */
  http1Headers(status: number, raw: Buffer[]): boolean {
    if (this.done || this.stream.destroyed) return false;
    const out: OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1').toLowerCase();
      if (isDroppedHttp2ResponseHeader(name)) continue;
      const value = raw[i + 1]!.toString('latin1');
      const prev = out[name];
      if (prev === undefined) out[name] = value;
      else out[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
    }
    out['x-amzn-requestid'] = this.requestId;
    if (this.record !== null) this.record.firstByteFromTargetAt = Date.now();
    this.status = status;
    if (!this.respond(out, false)) {
      this.status = 0;
      this.answer(502, R.targetFailure.body, 'TargetProtocolError');
      return false;
    }
    return true;
  }

  private closed(): void {
    const up = this.upstream;
    if (up !== null && !up.closed) up.close(CANCEL);
    this.http1?.abort();
    const record = this.record;
    const hook = this.hook;
    if (record === null || hook === undefined) return;
    if (!this.done && record.failureReason === undefined)
      record.failureReason = 'ClientConnectionClosed';
    record.duration = Date.now() - record.startTime;
    record.responseCode = this.status;
    if (this.grpc) {
      record.grpcResponseCode =
        this.grpcStatus >= 0
          ? this.grpcStatus
          : this.status > 0
            ? grpcStatusForHttp(this.status)
            : GRPC_STATUS.UNKNOWN;
    }
    record.bytesReceived = this.bytesIn;
    record.bytesSent = this.bytesOut;
    try {
      hook(record);
    } catch {
      // monitoring never takes the data plane down
    }
  }
}

/**
 * HTTP/2 client, HTTP1 target group (spec §7.3 "downgraded"): the undici dispatch handler that
 * relays the target's HTTP/1.1 answer onto the client's stream.
 */
class Http1Relay implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | null = null;
  private finished = false;

  constructor(private readonly ex: Http2Exchange) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx informational: not relayed
    const ok = this.ex.http1Headers(statusCode, raw);
    if (ok) this.ex.stream.on('drain', resume);
    return ok;
  }

  onData(chunk: Buffer): boolean {
    const stream = this.ex.stream;
    if (stream.destroyed) return false;
    this.ex.bytesOut += chunk.length;
    return stream.write(chunk);
  }

  onComplete(): void {
    this.finished = true;
    const ex = this.ex;
    if (ex.done) return;
    ex.done = true;
    if (!ex.stream.destroyed && !ex.stream.writableEnded) ex.stream.end();
  }

  onError(err: Error): void {
    this.finished = true;
    if (this.ex.stream.destroyed) return;
    this.ex.upstreamFailed(err);
  }

  /** The client's stream closed: cancel the upstream request if it still runs. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.abortUpstream?.(new Error('client stream closed'));
  }
}
