import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ListenAddress } from './compile-snapshot.js';
import { DataPlaneResponse } from './forwarder.js';
import type { DataPlaneCounters } from './connection-counters.js';
import type { DataPlaneLogger } from './logger.js';
import { guardConnections, type SecurityGroupGate } from './security-group-filter.js';
import type { TlsListeners } from './tls-listener.js';
import type { Http2Front } from './http2-front.js';

/** One listening socket: an ingress address and port, and the VPC whose clients arrive there. */
export class ListenerState {
  readonly key: string;
  /** The port as a string, for `x-forwarded-port`. */
  readonly portText: string;
  server: Server | null = null;
  /** Removed by a newer snapshot: its remaining responses close their connections. */
  retired = false;
  /** The VPC's security groups, swapped with each snapshot (security-group-filter.ts). */
  securityGroups: SecurityGroupGate | undefined = undefined;
  /** The socket fast path's hooks for this listener's connections (fast-path/), when attached. */
  fast: ListenerConnections | null = null;
  /** HTTP/2 sessions of an HTTPS listener (http2-front.ts), closed with the listener. */
  h2: ListenerConnections | null = null;
  constructor(
    readonly address: string,
    readonly port: number,
    readonly vpcId: string,
    /** An HTTPS listener's socket: TLS is terminated in front of the HTTP server. */
    readonly tls = false,
  ) {
    this.key = listenKey(address, port);
    this.portText = String(port);
  }
}

export function listenKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Connections a listener's server does not track itself (the fast path's). */
export interface ListenerConnections {
  /** Ends the idle keep-alive ones now; busy ones close after their answer (`retired`). */
  closeIdle(): void;
  /** Cuts every one (drain grace over). */
  closeAll(): void;
}

/** Puts something in front of a new listener's server (the fast path), before it listens. */
export type ListenerAttach = (server: Server, state: ListenerState) => void;

/** Client-side limits and timeouts (spec §6). */
export interface ClientLimits {
  /** Request line + headers, bytes (spec §6: > 60 KB → 400). */
  maxHeaderBytes: number;
  /** Time allowed for a request head to arrive (slowloris). */
  headersTimeoutMs: number;
  /** Time allowed for a whole request to arrive (spec §6: 10-min connection lifetime bounds it). */
  requestTimeoutMs: number;
  /** Server-wide keep-alive timeout; per-service idle timeouts override it after each response. */
  keepAliveTimeoutMs: number;
  /** Grace for in-flight requests when a listener is removed or the data plane stops. */
  drainTimeoutMs: number;
}

export type RequestEntry = (req: IncomingMessage, res: DataPlaneResponse, l: ListenerState) => void;
/** An HTTP/1.1 `Upgrade` request (upgrade-tunnel.ts): the socket is the handler's from now on. */
export type UpgradeEntry = (
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  l: ListenerState,
) => void;
export type ClientErrorEntry = (
  err: Error & { code?: string },
  socket: Socket,
  l: ListenerState,
) => void;

/**
 * The set of HTTP servers, one per (ingress address, listener port). `reconcile` opens the ones a
 * new snapshot needs and closes the ones it no longer does; servers that stay are untouched, so
 * their in-flight requests and keep-alive connections carry on.
 */
export class ListenerSet {
  private readonly open = new Map<string, ListenerState>();
  private readonly closing = new Set<Promise<void>>();
  /** TLS termination of HTTPS listeners (tls-listener.ts); set by the data plane. */
  tls: TlsListeners | undefined;
  /** HTTP/2 clients of HTTPS listeners (http2-front.ts); set by the data plane. */
  h2: Http2Front | undefined;
  /** WebSocket upgrades (upgrade-tunnel.ts); set by the data plane. */
  upgrade: UpgradeEntry | undefined;

  constructor(
    private readonly limits: ClientLimits,
    private readonly onRequest: RequestEntry,
    private readonly onClientError: ClientErrorEntry,
    private readonly logger: DataPlaneLogger,
    private readonly attach?: ListenerAttach,
    private readonly counters?: DataPlaneCounters,
  ) {}

  /** Listening addresses right now. */
  list(): ListenAddress[] {
    return [...this.open.values()].map((l) => ({
      address: l.address,
      port: l.port,
      vpcId: l.vpcId,
    }));
  }

  async reconcile(desired: readonly ListenAddress[]): Promise<void> {
    const wanted = new Map(desired.map((d) => [listenKey(d.address, d.port), d]));
    for (const [key, state] of this.open) {
      const d = wanted.get(key);
      if (d === undefined || d.vpcId !== state.vpcId || (d.tls ?? false) !== state.tls)
        this.retire(key, state);
    }
    const opening: Promise<void>[] = [];
    for (const [key, d] of wanted) {
      const running = this.open.get(key);
      if (running !== undefined) {
        running.securityGroups = d.securityGroups;
        continue;
      }
      const state = new ListenerState(d.address, d.port, d.vpcId, d.tls ?? false);
      state.securityGroups = d.securityGroups;
      this.open.set(key, state);
      opening.push(this.listen(state));
    }
    await Promise.all(opening);
  }

  private listen(state: ListenerState): Promise<void> {
    const limits = this.limits;
    const server = createServer({
      ServerResponse: DataPlaneResponse as unknown as typeof ServerResponse,
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks headers/request timeouts; fine enough for short test timeouts.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeoutMs >> 2)),
      requireHostHeader: false,
    });
    // spec §6: more than 100 headers → 400; Node keeps one extra so the excess is detectable.
    server.maxHeadersCount = 101;
    const onRequest = this.onRequest;
    const onClientError = this.onClientError;
    server.on('request', (req: IncomingMessage, res: DataPlaneResponse) =>
      onRequest(req, res, state),
    );
    server.on('clientError', (err: Error, socket: Socket) => onClientError(err, socket, state));
    const upgrade = this.upgrade;
    if (upgrade !== undefined)
      server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
        upgrade(req, socket, head, state),
      );
    state.server = server;
    // The fast path goes in front of node:http first, so that HTTPS listeners' decrypted
    // HTTP/1.1 connections reach it too (the TLS server captures the connection handler).
    this.attach?.(server, state);
    // HTTPS (spec §7.1): a TLS server listens and feeds decrypted connections to `server`.
    const listening =
      state.tls && this.tls !== undefined
        ? this.tls.wrap(server, state.address, state.port, this.h2?.createServer(state))
        : server;
    guardConnections(listening, state, this.logger);
    this.counters?.watchListener(listening, state.tls);
    return new Promise<void>((resolve) => {
      const onError = (err: Error): void => {
        this.logger.error('cannot listen', {
          address: state.address,
          port: state.port,
          error: err.message,
        });
        if (this.open.get(state.key) === state) this.open.delete(state.key);
        state.server = null;
        resolve();
      };
      listening.once('error', onError);
      listening.listen({ host: state.address, port: state.port, exclusive: true }, () => {
        listening.off('error', onError);
        listening.on('error', (err) =>
          this.logger.error('listener error', { listener: state.key, error: err.message }),
        );
        this.logger.info('listening', {
          address: state.address,
          port: state.port,
          vpcId: state.vpcId,
        });
        resolve();
      });
    });
  }

  private retire(key: string, state: ListenerState): void {
    this.open.delete(key);
    state.retired = true;
    const server = state.server;
    if (server === null) return;
    this.logger.info('closing listener', { address: state.address, port: state.port });
    const done = closeServer(server, this.limits.drainTimeoutMs, state.fast, state.h2);
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
  }

  /** Closes every listener, letting in-flight requests finish within the drain timeout. */
  async closeAll(): Promise<void> {
    for (const [key, state] of this.open) this.retire(key, state);
    await Promise.all([...this.closing]);
  }
}

/** Stops accepting, closes idle keep-alive connections, and cuts the rest after `graceMs`. */
function closeServer(
  server: Server,
  graceMs: number,
  fast: ListenerConnections | null,
  h2: ListenerConnections | null = null,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      fast?.closeAll();
      h2?.closeAll();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
    fast?.closeIdle();
    h2?.closeIdle();
  });
}
