import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { DATAPLANE_RESPONSES } from '../errors/dataplane-outcomes.js';
import { DataPlaneCounters } from './connection-counters.js';
import type { Snapshot } from '../model/snapshot-types.js';
import { denyAwsIamGate, type AuthGate } from './auth-gate.js';
import { compileSnapshot, type CompiledSnapshot, type ListenAddress } from './compile-snapshot.js';
import type { Dispatcher } from 'undici';
import {
  ConnectRetry,
  Exchange,
  onResponseClose,
  onResponseFinish,
  reply,
  startByteCount,
  type DataPlaneResponse,
} from './forwarder.js';
import {
  connectionListedHeaders,
  isDroppedRequestHeader,
  pushLatticeRequestHeaders,
  requestIdFor,
} from './header-rules.js';
import {
  planHealthChecks,
  toHealthHooks,
  type HealthCheckerLike,
  type HealthHooks,
} from './health-plan.js';
import type { FunctionInvoker } from './function-invoker.js';
import { LambdaForwarder } from './lambda-forwarder.js';
import { ListenerSet, type ClientLimits, type ListenerState } from './listener-set.js';
import { silentLogger, type DataPlaneLogger } from './logger.js';
import {
  incomingRequestRecord,
  RequestRecord,
  type RequestCompleteHook,
} from './request-record.js';
import { normalizeRequestTarget } from './request-path.js';
import { RouteDecision, routeRequest, type BoundRoute, type RouteAuth } from './route-decision.js';
import type { SnapshotSource } from './snapshot-source.js';
import type { TargetHealthView } from './target-health.js';
import { UpstreamPools } from './upstream-pools.js';
import { Http2Front } from './http2-front.js';
import { Http2UpstreamPools } from './http2-upstream-pools.js';
import { TlsListeners, type DataPlaneTlsOptions } from './tls-listener.js';
import { TlsPassthrough } from './tls-passthrough.js';
import { tunnelUpgrade, type UpgradeHost } from './upgrade-tunnel.js';
import { FastPath } from './fast-path/fast-path.js';
import type { CompiledTarget } from './target-picker.js';
import type { CompiledVpc } from './compile-snapshot.js';
import { newTraceparent, startProxySpan } from '../observability/trace-context.js';

/** Timeouts of the data plane, all in milliseconds. */
export interface DataPlaneTimeouts {
  /** Connecting to a target; failure → 502 `TargetConnectionError`. Default 10 000. */
  targetConnectMs?: number;
  /**
   * Waiting for a target's response headers, and between its body chunks; expiry → 504
   * `TargetDataTimeout`. Default: the service's `idleTimeoutSeconds` (spec §6: requests are bounded
   * by the idle timeout, 60 s by default).
   */
  targetResponseMs?: number;
  /** A client's request head must arrive within this (slowloris). Default 20 000. */
  clientHeadersMs?: number;
  /** A client's whole request must arrive within this. Default 600 000 (spec §6: 10 min). */
  clientRequestMs?: number;
  /** Grace for in-flight requests on removed listeners and at stop. Default 10 000. */
  drainMs?: number;
}

/** Options of `createDataPlane`. */
export interface DataPlaneOptions {
  snapshotSource: SnapshotSource;
  /** Region for generated ARNs in headers; defaults to the snapshot's. */
  region?: string;
  logger?: DataPlaneLogger;
  /** The health checker (or `{ view, update }`); without it every target is routable. */
  health?: HealthHooks | HealthCheckerLike;
  /** Authenticate + authorize stage for `AWS_IAM` services/networks; default denies (spec §2.5). */
  authGate?: AuthGate;
  /** Called once per finished request with its access-log record; costs nothing when unset. */
  onRequestComplete?: RequestCompleteHook;
  timeouts?: DataPlaneTimeouts;
  /** Concurrent connections per target before requests queue. Default 256. */
  maxConnectionsPerTarget?: number;
  /** Worker processes; only 1 is implemented (cluster mode is future work). */
  workers?: number;
  /** Invokes LAMBDA targets' functions (spec §3.3); without it LAMBDA groups get no traffic. */
  functions?: FunctionInvoker;
  /** HTTPS listeners (tls-listener.ts): opens snapshot keys; the generated-name certificate. */
  tls?: DataPlaneTlsOptions;
  /**
   * Serve plain HTTP/1.1 on raw sockets (fast-path/), handing anything unusual to node:http.
   * Default true; false runs every request through node:http + undici.
   */
  fastPath?: boolean;
}

/** The running data plane. */
export interface DataPlane {
  start(): Promise<void>;
  /** Stops listening, lets in-flight requests finish (within `drainMs`), closes pools. Idempotent. */
  stop(): Promise<void>;
  /** Revision of the snapshot serving new requests; undefined before the first one compiled. */
  readonly revision: number | undefined;
  /** Addresses bound right now. */
  listeners(): ListenAddress[];
  /** Monitoring hook; may be set or cleared at any time. */
  onRequestComplete: RequestCompleteHook | undefined;
  /** Connection and request figures of spec §4.2, read by `/metrics` at scrape time. */
  readonly counters: DataPlaneCounters;
  /**
   * Give each logged request a proxy span (OTLP export on, issue 7 §5): the target gets the
   * span's id as its `traceparent` parent, the record the span's ids. Off: traceparent passes.
   */
  traceSpans: boolean;
  /** Resolves once the snapshot with at least this revision is serving (tests, bin/ readiness). */
  whenRevision(revision: number): Promise<void>;
}

const MAX_HEADERS = 100; // spec §6
const MAX_URL_BYTES = 16 * 1024;
const R = DATAPLANE_RESPONSES;

/** Creates the data plane: `create → start → stop`. */
export function createDataPlane(options: DataPlaneOptions): DataPlane {
  return new DataPlaneImpl(options);
}

class DataPlaneImpl implements DataPlane {
  onRequestComplete: RequestCompleteHook | undefined;
  readonly counters = new DataPlaneCounters();
  traceSpans = false;
  private current: CompiledSnapshot | undefined;
  /** The auth gate's state for `current` (AuthGate.prepare), swapped with it. */
  private currentAuth: unknown;
  private routeAuth: RouteAuth | undefined;
  private readonly logger: DataPlaneLogger;
  private readonly source: SnapshotSource;
  private readonly health: HealthHooks | undefined;
  /** FastPathHost: read to pick another target after a connect failure (issue #3). */
  readonly healthView: TargetHealthView | undefined;
  private readonly authGate: AuthGate;
  private readonly pools: UpstreamPools;
  /** Multiplexed HTTP/2 sessions to HTTP2/GRPC targets (spec §7.3). */
  private readonly h2pools: Http2UpstreamPools;
  private readonly fast: FastPath | undefined;
  private readonly lambda: LambdaForwarder | undefined;
  private readonly listenerSet: ListenerSet;
  private readonly tls: TlsListeners;
  private readonly passthrough: TlsPassthrough;
  /** Client sockets of open WebSocket tunnels (upgrade-tunnel.ts), cut when a stop's drain ends. */
  private readonly tunnels = new Set<Socket>();
  private readonly limits: ClientLimits;
  private readonly targetResponseMs: number | undefined;
  private readonly region: string | undefined;
  private readonly warned = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private applying: Promise<void> | undefined;
  private pending: Snapshot | undefined;
  private stopped = false;
  private waiters: { revision: number; resolve: () => void }[] = [];

  constructor(options: DataPlaneOptions) {
    this.source = options.snapshotSource;
    this.logger = options.logger ?? silentLogger;
    this.health = options.health === undefined ? undefined : toHealthHooks(options.health);
    this.healthView = this.health?.view;
    this.authGate = options.authGate ?? denyAwsIamGate;
    this.onRequestComplete = options.onRequestComplete;
    this.region = options.region;
    const t = options.timeouts ?? {};
    this.targetResponseMs = t.targetResponseMs;
    this.limits = {
      maxHeaderBytes: 60 * 1024,
      headersTimeoutMs: t.clientHeadersMs ?? 20_000,
      requestTimeoutMs: t.clientRequestMs ?? 600_000,
      keepAliveTimeoutMs: 60_000,
      drainTimeoutMs: t.drainMs ?? 10_000,
    };
    this.pools = new UpstreamPools({
      connectTimeoutMs: t.targetConnectMs ?? 10_000,
      maxConnectionsPerTarget: options.maxConnectionsPerTarget ?? 256,
      keepAliveTimeoutMs: 4_000,
      counters: this.counters,
    });
    this.lambda = options.functions && new LambdaForwarder(options.functions, this.logger);
    this.fast =
      options.fastPath === false
        ? undefined
        : new FastPath(this, {
            limits: this.limits,
            targetResponseMs: t.targetResponseMs,
            connectTimeoutMs: t.targetConnectMs ?? 10_000,
            maxConnectionsPerTarget: options.maxConnectionsPerTarget ?? 256,
            upstreamKeepAliveMs: 4_000,
            logger: this.logger,
          });
    const fast = this.fast;
    this.listenerSet = new ListenerSet(
      this.limits,
      (req, res, l) => this.handleSafely(req, res, l),
      (err, socket, l) => this.handleClientError(err, socket, l),
      this.logger,
      fast && ((server, state) => fast.attach(server, state)),
      this.counters,
    );
    this.tls = new TlsListeners(options.tls, this.logger);
    this.listenerSet.tls = this.tls;
    // spec §7.1: HTTP/2 clients of HTTPS listeners (ALPN h2).
    this.listenerSet.h2 = new Http2Front(this, {
      limits: this.limits,
      targetResponseMs: t.targetResponseMs,
      logger: this.logger,
    });
    this.h2pools = new Http2UpstreamPools({
      connectTimeoutMs: t.targetConnectMs ?? 10_000,
      maxSessionsPerTarget: 4,
      idleTimeoutMs: 60_000,
      counters: this.counters,
    });
    // spec §7.1 TLS_PASSTHROUGH: SNI-routed byte pipes on the TLS ports (tls-passthrough.ts).
    this.passthrough = new TlsPassthrough(
      {
        onRequestComplete: () => this.onRequestComplete,
        healthView: this.healthView,
        auth: () => this.auth(),
      },
      {
        connectTimeoutMs: t.targetConnectMs ?? 10_000,
        helloTimeoutMs: this.limits.headersTimeoutMs,
        maxLifetimeMs: 600_000,
        drainMs: this.limits.drainTimeoutMs,
        logger: this.logger,
      },
    );
    this.tls.passthrough = this.passthrough;
    // WebSockets pass through after routing and auth (a difference from Lattice, spec §6).
    const upgradeHost: UpgradeHost = {
      onRequestComplete: () => this.onRequestComplete,
      route: this.route,
      originOf: (target) => this.originOf(target),
      connectTimeoutMs: t.targetConnectMs ?? 10_000,
      tunnels: this.tunnels,
    };
    this.listenerSet.upgrade = (req, socket, head, l) => {
      try {
        tunnelUpgrade(upgradeHost, req, socket, head, l);
      } catch (err) {
        this.logger.error('upgrade pipeline failed', { error: (err as Error).message });
        socket.destroy();
      }
    };
    if ((options.workers ?? 1) > 1)
      this.logger.warn('workers > 1 is not implemented yet; running one worker', {
        workers: options.workers,
      });
  }

  get revision(): number | undefined {
    return this.current?.revision;
  }

  listeners(): ListenAddress[] {
    return this.listenerSet.list();
  }

  whenRevision(revision: number): Promise<void> {
    if ((this.current?.revision ?? -1) >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.unsubscribe = this.source.subscribe((s) => this.offer(s));
    const first = this.source.current();
    if (first !== undefined) this.offer(first);
    await this.applying;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.pending = undefined;
    await this.applying?.catch(() => undefined);
    // Tunnels (WebSockets, TLS passthrough) have no request to finish: once the drain grace is
    // over they are cut, or the listeners' servers would wait for them to end on their own.
    const cut = setTimeout(() => {
      this.passthrough.closeAll();
      for (const s of this.tunnels) s.destroy();
    }, this.limits.drainTimeoutMs);
    await this.listenerSet.closeAll();
    clearTimeout(cut);
    this.passthrough.closeAll();
    for (const s of this.tunnels) s.destroy();
    this.fast?.close();
    await this.pools.closeAll(this.limits.drainTimeoutMs);
    await this.h2pools.closeAll(this.limits.drainTimeoutMs);
  }

  /** Queues a snapshot; snapshots are applied one at a time, newest wins. */
  private offer(snapshot: Snapshot): void {
    if (this.stopped) return;
    const newest = this.pending?.revision ?? this.current?.revision ?? -1;
    if (snapshot.revision <= newest && this.current !== undefined) return;
    this.pending = snapshot;
    if (this.applying === undefined) this.applying = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== undefined && !this.stopped) {
        const snapshot = this.pending;
        this.pending = undefined;
        await this.apply(snapshot);
      }
    } finally {
      this.applying = undefined;
    }
  }

  private async apply(snapshot: Snapshot): Promise<void> {
    const generation = this.pools.beginGeneration();
    const h2generation = this.h2pools.beginGeneration();
    let compiled: CompiledSnapshot;
    let auth: unknown;
    try {
      compiled = compileSnapshot(snapshot, {
        region: this.region,
        acquirePool: (origin, localAddress) => this.pools.acquire(origin, localAddress),
        retainPool: (pool) => this.pools.retain(pool),
        acquireFunction: this.lambda?.acquireFor(this.region ?? snapshot.region),
        acquireHttp2: (origin, localAddress) => this.h2pools.acquire(origin, localAddress),
        warnOnce: (key, message, fields) => this.warnOnce(key, message, fields),
      });
      auth = this.authGate.prepare?.(snapshot);
    } catch (err) {
      this.logger.error('snapshot rejected; keeping the running one', {
        revision: snapshot.revision,
        running: this.current?.revision,
        error: (err as Error).message,
      });
      return;
    }
    // Swap first: in-flight requests hold the snapshot they began with; new ones see this one.
    this.current = compiled;
    this.currentAuth = auth;
    this.pools.sweep(generation);
    this.h2pools.sweep(h2generation, this.limits.drainTimeoutMs);
    this.fast?.sweep();
    if (this.health !== undefined) {
      try {
        this.health.update(planHealthChecks(compiled));
      } catch (err) {
        this.logger.error('health checker rejected the plan', { error: (err as Error).message });
      }
    }
    // The SNI table swaps with the snapshot: new handshakes get the new certificates (spec §7.4).
    await this.listenerSet.reconcile(this.tls.apply(snapshot, compiled));
    this.logger.info('snapshot applied', { revision: compiled.revision });
    const ready = this.waiters.filter((w) => w.revision <= compiled.revision);
    this.waiters = this.waiters.filter((w) => w.revision > compiled.revision);
    for (const w of ready) w.resolve();
  }

  /** FastPathHost: the shared routing decisions with this plane's current state. */
  readonly route: BoundRoute = (out, l, host, method, url, request, record) =>
    routeRequest(
      out,
      this.current,
      this.auth(),
      this.healthView,
      l,
      host,
      method,
      url,
      request,
      record,
    );

  /** FastPathHost: the VPC whose clients arrive on `l`. */
  vpcOf(l: ListenerState): CompiledVpc | undefined {
    return this.current?.vpcsByAddress.get(l.address);
  }

  /** FastPathHost: the origin of a target's pool (`http://…`), undefined for LAMBDA targets. */
  originOf(target: CompiledTarget): string | undefined {
    return target.pool === undefined ? undefined : this.pools.originOf(target.pool);
  }

  /** The auth stage for the current snapshot, as `routeRequest` takes it (one object per swap). */
  private auth(): RouteAuth {
    const prepared = this.currentAuth;
    let auth = this.routeAuth;
    if (auth === undefined || auth.prepared !== prepared)
      this.routeAuth = auth = { gate: this.authGate, prepared };
    return auth;
  }

  private warnOnce(key: string, message: string, fields?: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(message, fields);
  }

  /** A bug in a stage (or an auth gate that throws) answers 500 for that request, never crashes. */
  private handleSafely(req: IncomingMessage, res: DataPlaneResponse, l: ListenerState): void {
    try {
      this.handle(req, res, l);
    } catch (err) {
      this.logger.error('request pipeline failed', { error: (err as Error).message });
      reply(res, 500, R.internal.body, 'InternalError', true);
    }
  }

  /** The request pipeline: listener → route → authenticate/authorize → select target → forward → log. */
  private handle(req: IncomingMessage, res: DataPlaneResponse, l: ListenerState): void {
    const socket = req.socket;
    res.clientSocket = socket;
    res.serverKeepAliveMs = this.limits.keepAliveTimeoutMs;
    const headers = req.headers;
    res.requestId = requestIdFor(headers['x-amzn-requestid']);
    let url = req.url ?? '/';
    const method = req.method ?? 'GET';

    const hook = this.onRequestComplete;
    let record: RequestRecord | null = null;
    if (hook !== undefined) {
      record = incomingRequestRecord(req, socket, res.requestId, l.tls);
      startByteCount(record, socket);
      res.record = record;
      res.hook = hook;
      res.on('close', onResponseClose);
    }
    if (l.retired) res.shouldKeepAlive = false; // listener being removed

    // spec §6: more than 100 headers → 400.
    if (req.rawHeaders.length > MAX_HEADERS * 2) {
      return reply(res, 400, R.headersTooLarge.body, 'ClientProtocolError', true);
    }
    if (url.length > MAX_URL_BYTES || url.charCodeAt(0) !== 47 /* '/' */) {
      return reply(res, 400, R.badRequest.body, 'ClientProtocolError', true);
    }
    // Rules, auth policy and target see one normalised path (request-path.ts, spec §2.3/§7.2).
    const normalized = normalizeRequestTarget(url);
    if (normalized === undefined)
      return reply(res, 400, R.badRequest.body, 'ClientProtocolError', true);
    url = normalized;

    // Route → authenticate/authorize → select target (route-decision.ts, shared with fast-path/).
    const d = new RouteDecision();
    routeRequest(
      d,
      this.current,
      this.auth(),
      this.healthView,
      l,
      headers.host,
      method,
      url,
      req,
      record,
    );
    const binding = d.binding;
    if (binding !== null && binding.idleTimeoutMs !== this.limits.keepAliveTimeoutMs) {
      res.idleTimeoutMs = binding.idleTimeoutMs;
      // Advertise the service's timeout in `Keep-Alive: timeout=N` too (Node writes it from this
      // field), or clients that honour the hint (undici) close after the server-wide 60 s.
      (res as unknown as { _keepAliveTimeout: number })._keepAliveTimeout = binding.idleTimeoutMs;
      res.on('finish', onResponseFinish);
    }
    const { vpc, choice, target, identityHeaders } = d;
    if (target?.pool === undefined || vpc === null || choice === null || binding === null)
      return reply(res, d.status, d.body, d.reason, d.close);

    // Headers toward the target (spec §3.1): drop hop-by-hop and forgeable ones, add ours.
    const raw = req.rawHeaders;
    const out: string[] = [];
    let listed: Set<string> | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const lower = name.toLowerCase();
      if (isDroppedRequestHeader(lower)) {
        if (lower === 'connection') listed = connectionListedHeaders(raw[i + 1]);
        continue;
      }
      out.push(name, raw[i + 1]!);
    }
    if (listed !== undefined) {
      for (let i = out.length - 2; i >= 0; i -= 2)
        if (listed.has(out[i]!.toLowerCase())) out.splice(i, 2);
    }
    pushLatticeRequestHeaders(
      out,
      socket.remoteAddress ?? '',
      l.tls ? 'https' : 'http',
      l.portText,
      vpc,
      choice.targetHeader,
      res.requestId,
      identityHeaders,
    );
    // W3C trace context: a client's traceparent passes unchanged; one is created if absent. With
    // OTLP export on, the proxy's span goes in between: its id is the target's parent.
    if (record !== null && this.traceSpans) {
      for (let i = out.length - 2; i >= 0; i -= 2)
        if (out[i]!.toLowerCase() === 'traceparent') out.splice(i, 2);
      const given = headers.traceparent;
      out.push(
        'traceparent',
        startProxySpan(typeof given === 'string' ? given : undefined, record),
      );
    } else if (headers.traceparent === undefined) out.push('traceparent', newTraceparent());

    const exchange = new Exchange(req, res);
    res.exchange = exchange;
    if (record === null) res.on('close', onResponseClose);
    const hasBody =
      headers['transfer-encoding'] !== undefined ||
      (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    const timeout = this.targetResponseMs ?? binding.idleTimeoutMs;
    if (record !== null && !hasBody) record.sentToTargetAt = Date.now();
    const options: Dispatcher.DispatchOptions = {
      path: url,
      method,
      headers: out,
      body: hasBody ? req : null,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    };
    // Another target of the group if this one refuses the connection (issue #3).
    if (choice.group.candidates.length > 1)
      exchange.retry = new ConnectRetry(options, choice.group, target, this.healthView);
    target.pool.dispatch(options, exchange);
  }

  /** Malformed requests, oversized heads, smuggling attempts, slow clients (spec §6). */
  private handleClientError(
    err: Error & { code?: string },
    socket: Socket,
    l: ListenerState,
  ): void {
    const code = err.code ?? '';
    const hook = this.onRequestComplete;
    if (hook !== undefined && code !== 'ECONNRESET') {
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
      const vpc = this.current?.vpcsByAddress.get(l.address);
      if (vpc !== undefined) {
        record.sourceVpcId = vpc.vpcId;
        record.sourceVpcArn = vpc.sourceVpcArn;
      }
      record.responseCode = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      try {
        hook(record);
      } catch {
        // never let monitoring take the data plane down
      }
    }
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    const timeout = code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const body =
      code === 'HPE_HEADER_OVERFLOW'
        ? R.headersTooLarge.body
        : timeout
          ? 'Request Timeout\n'
          : R.badRequest.body;
    const status = timeout ? '408 Request Timeout' : '400 Bad Request';
    socket.end(
      `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    socket.destroySoon();
  }
}

/** The host name of a `Host` header (moved to route-decision.ts; kept exported here). */
export { hostName } from './route-decision.js';
