import type { DataPlaneCounters } from '../connection-counters.js';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { TargetGroupType } from '../../model/lattice-types.js';
import type { CompiledVpc } from '../compile-snapshot.js';
import type { ClientLimits, ListenerState } from '../listener-set.js';
import type { DataPlaneLogger } from '../logger.js';
import type { RequestCompleteHook } from '../request-record.js';
import type { BoundRoute } from '../route-decision.js';
import type { TargetHealthView } from '../target-health.js';
import type { CompiledTarget, ForwardChoice } from '../target-picker.js';
import { ClientConnection, CLIENT_DEADLINE_NONE } from './client-connection.js';
import {
  DEADLINE_CONNECT,
  DEADLINE_IDLE,
  DEADLINE_NONE,
  FastPool,
  type PoolSettings,
  type UpstreamConnection,
} from './upstream-pool.js';

/** What the fast path needs from the data plane that owns it. */
export interface FastPathHost {
  readonly onRequestComplete: RequestCompleteHook | undefined;
  /** `routeRequest` with the plane's current snapshot, auth state and health view. */
  readonly route: BoundRoute;
  /** The VPC whose clients arrive on `l` in the current snapshot (for protocol-error records). */
  vpcOf(l: ListenerState): CompiledVpc | undefined;
  /** `http://ip:port` of a target's node:http-path pool; undefined for LAMBDA, HTTPS… */
  originOf(target: CompiledTarget): string | undefined;
  /** Connection and request figures of spec §4.2 (connection-counters.ts). */
  readonly counters: DataPlaneCounters;
  /** Whether requests with a record get a proxy span (OTLP export on). */
  readonly traceSpans: boolean;
  /** Target health, for the other target tried after a connect failure (issue #3). */
  readonly healthView: TargetHealthView | undefined;
}

/** Options of `FastPath`. */
export interface FastPathOptions {
  limits: ClientLimits;
  /** Overrides the service's idle timeout as the target response timeout (tests). */
  targetResponseMs: number | undefined;
  connectTimeoutMs: number;
  maxConnectionsPerTarget: number;
  /** Idle keep-alive connections to targets are closed after this. */
  upstreamKeepAliveMs: number;
  logger: DataPlaneLogger;
}

type ConnectionListener = (this: Server, socket: Socket) => void;
type HttpServerWithFast = Server & { trellisHttpConnection?: ConnectionListener };

/** Per (choice, vpc): the Lattice header lines toward the target (spec §3.1), built once. */
class SuffixEntry {
  constructor(
    readonly vpc: CompiledVpc,
    readonly port: number,
    readonly text: string,
  ) {}
}

/** Target pool cache on a compiled target: a pool, or null when the fast path does not serve it. */
type TargetWithFast = CompiledTarget & { trellisFast?: FastPool | null };

/**
 * The socket-level HTTP/1.1 path of the data plane: takes each accepted connection before
 * node:http does, serves the common case itself, and hands anything unusual to the listener's
 * node:http server with the bytes already read. One coarse ticker drives every timeout.
 */
export class FastPath {
  readonly host: FastPathHost;
  readonly limits: ClientLimits;
  readonly targetResponseMs: number | undefined;
  readonly connectTimeoutMs: number;
  readonly maxConnectionsPerTarget: number;
  readonly keepAliveTimeoutMs: number;
  readonly logger: DataPlaneLogger;
  /** The coarse clock (ms since epoch), advanced every tick. */
  now = Date.now();
  readonly clients = new Set<ClientConnection>();
  readonly live = new Set<UpstreamConnection>();
  private readonly pools = new Map<string, FastPool>();
  private readonly suffixes = new WeakMap<ForwardChoice, SuffixEntry>();
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly boundNow: () => number;

  constructor(host: FastPathHost, options: FastPathOptions) {
    this.host = host;
    this.limits = options.limits;
    this.targetResponseMs = options.targetResponseMs;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.maxConnectionsPerTarget = options.maxConnectionsPerTarget;
    this.keepAliveTimeoutMs = options.upstreamKeepAliveMs;
    this.logger = options.logger;
    const finest = Math.min(
      options.limits.headersTimeoutMs,
      options.connectTimeoutMs,
      options.targetResponseMs ?? 1000,
    );
    this.tickMs = Math.max(20, Math.min(250, Math.floor(finest / 4)));
    this.boundNow = (): number => this.now;
  }

  /**
   * Puts the fast path in front of a listener's node:http server: the server keeps listening
   * (and owns the fallback), but accepted sockets come here first.
   */
  attach(server: Server, state: ListenerState): void {
    // HTTPS listeners (spec §7.1): the TLS server in front hands decrypted HTTP/1.1 connections
    // to the connection handler this installs, so they run here as plain HTTP does.
    const s = server as HttpServerWithFast;
    const [httpConnection] = server.listeners('connection') as ConnectionListener[];
    if (httpConnection === undefined) return;
    s.trellisHttpConnection = httpConnection;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => this.accept(socket, state));
    state.fast = {
      closeIdle: () => this.closeIdle(state),
      closeAll: () => this.closeAll(state),
    };
    this.ensureTicker();
  }

  private accept(socket: Socket, state: ListenerState): void {
    this.now = Date.now();
    this.clients.add(new ClientConnection(socket, this, state));
  }

  /** Gives a socket to the listener's node:http server (fallback). */
  handOver(socket: Socket, state: ListenerState): void {
    const server = state.server as HttpServerWithFast | null;
    const listener = server?.trellisHttpConnection;
    if (server === null || listener === undefined) {
      socket.destroy();
      return;
    }
    listener.call(server, socket);
  }

  /** The pool for a target, or null when node:http must serve it (LAMBDA, HTTPS). */
  poolFor(target: CompiledTarget, type: TargetGroupType): FastPool | null {
    const t = target as TargetWithFast;
    const cached = t.trellisFast;
    if (cached !== undefined) return cached;
    let pool: FastPool | null = null;
    const origin = type === 'LAMBDA' ? undefined : this.host.originOf(target);
    if (origin !== undefined && origin.startsWith('http://') && target.address !== undefined) {
      const local = target.localAddress;
      const key = `${target.address}|${target.port}|${local ?? ''}`;
      pool = this.pools.get(key) ?? null;
      if (pool === null) {
        const settings: PoolSettings = {
          connectTimeoutMs: this.connectTimeoutMs,
          maxConnectionsPerTarget: this.maxConnectionsPerTarget,
          keepAliveTimeoutMs: this.keepAliveTimeoutMs,
          now: this.boundNow,
          live: this.live,
          counters: this.host.counters,
        };
        pool = new FastPool(target.address, target.port, settings, local);
        this.pools.set(key, pool);
      }
    }
    t.trellisFast = pool;
    return pool;
  }

  /** `x-forwarded-proto/port` and the Lattice lines for (choice, vpc) on listener `l`. */
  suffixFor(choice: ForwardChoice, vpc: CompiledVpc, l: ListenerState): string {
    const found = this.suffixes.get(choice);
    if (found !== undefined && found.vpc === vpc && found.port === l.port) return found.text;
    const text =
      `x-forwarded-proto: ${l.tls ? 'https' : 'http'}\r\nx-forwarded-port: ${l.portText}\r\n` +
      `x-amzn-lattice-network: ${vpc.networkHeader}\r\n` +
      `x-amzn-lattice-target: ${choice.targetHeader}\r\n` +
      `x-amzn-source-vpc: ${vpc.vpcId}\r\n`;
    this.suffixes.set(choice, new SuffixEntry(vpc, l.port, text));
    return text;
  }

  vpcOf(l: ListenerState): CompiledVpc | undefined {
    return this.host.vpcOf(l);
  }

  /** Forgets pools with no connection left (after a snapshot swap). */
  sweep(): void {
    for (const [key, pool] of this.pools) if (pool.open === 0) this.pools.delete(key);
  }

  /** Stops the ticker and destroys every connection. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const c of [...this.clients]) c.destroy();
    for (const u of [...this.live]) u.destroy();
    this.pools.clear();
  }

  private closeIdle(state: ListenerState): void {
    for (const c of [...this.clients]) if (c.listener === state) c.closeIfIdle();
  }

  private closeAll(state: ListenerState): void {
    for (const c of [...this.clients]) if (c.listener === state) c.destroy();
  }

  private ensureTicker(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(tick, this.tickMs, this);
    this.timer.unref();
  }

  /** One tick of the coarse clock: expire what is overdue. */
  onTick(): void {
    const now = (this.now = Date.now());
    for (const c of this.clients)
      if (c.deadlineKind !== CLIENT_DEADLINE_NONE && c.deadline <= now) c.expire();
    for (const u of this.live) {
      if (u.deadlineKind === DEADLINE_NONE || u.deadline > now) continue;
      const kind = u.deadlineKind;
      u.deadlineKind = DEADLINE_NONE;
      const user = u.user;
      if (kind === DEADLINE_IDLE || user === null) u.destroy();
      else {
        if (kind === DEADLINE_CONNECT) this.host.counters.targetFailed(true);
        user.upstreamTimedOut(u, kind === DEADLINE_CONNECT);
      }
    }
  }
}

function tick(fast: FastPath): void {
  fast.onTick();
}
