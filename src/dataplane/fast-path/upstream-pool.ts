import { connect, type Socket } from 'node:net';
import type { DataPlaneCounters } from '../connection-counters.js';

/** What an upstream connection reports to the request using it (the client connection). */
export interface UpstreamUser {
  upstreamData(conn: UpstreamConnection, chunk: Buffer): void;
  /** The target closed its side. */
  upstreamEnd(conn: UpstreamConnection): void;
  upstreamError(conn: UpstreamConnection, err: Error & { code?: string }): void;
  upstreamDrain(): void;
  /** A connect (true) or response deadline expired. */
  upstreamTimedOut(conn: UpstreamConnection, connecting: boolean): void;
  /** Waiting for the target's answer, and between its body chunks (→ 504). */
  readonly targetTimeoutMs: number;
  /** A connection was assigned (at once, or when one freed up). */
  upstreamReady(conn: UpstreamConnection): void;
}

/** Deadline kinds of an upstream connection (checked by the fast path's coarse clock). */
export const DEADLINE_NONE = 0;
export const DEADLINE_CONNECT = 1;
export const DEADLINE_RESPONSE = 2;
export const DEADLINE_IDLE = 3;

type UpSocket = Socket & { trellisUp?: UpstreamConnection };

/** Settings shared by every pool of one fast path. */
export interface PoolSettings {
  connectTimeoutMs: number;
  maxConnectionsPerTarget: number;
  /** How long an idle connection is kept. */
  keepAliveTimeoutMs: number;
  /** The coarse clock (ms), advanced by the fast path's ticker. */
  now(): number;
  /** Every open upstream connection, for the ticker. */
  readonly live: Set<UpstreamConnection>;
  /** Connection figures of spec §4.2 (connection-counters.ts). */
  readonly counters?: DataPlaneCounters;
}

/** One keep-alive connection to a target. Events go to module-level handlers (no closures). */
export class UpstreamConnection {
  readonly socket: UpSocket;
  readonly pool: FastPool;
  user: UpstreamUser | null = null;
  /** Answered at least one request: a failure before the next answer may be a stale keep-alive. */
  reused = false;
  deadline = 0;
  deadlineKind = DEADLINE_NONE;
  closed = false;
  /** The TCP connect completed (a failure before it is a connection error, spec §4.2). */
  connected = false;

  constructor(pool: FastPool) {
    this.pool = pool;
    const socket: UpSocket = connect({
      host: pool.host,
      port: pool.port,
      noDelay: true,
      ...(pool.localAddress !== undefined ? { localAddress: pool.localAddress } : {}),
    });
    socket.trellisUp = this;
    socket.on('connect', onUpConnect);
    socket.on('data', onUpData);
    socket.on('end', onUpEnd);
    socket.on('error', onUpError);
    socket.on('close', onUpClose);
    socket.on('drain', onUpDrain);
    this.socket = socket;
  }

  /** Tears the connection down; nothing more reaches its user. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.user = null;
    this.pool.forget(this);
    this.socket.destroy();
  }
}

function onUpConnect(this: UpSocket): void {
  const conn = this.trellisUp!;
  conn.connected = true;
  conn.pool.settings.counters?.targetOpened(this);
  conn.pool.connected(conn);
}

function onUpData(this: UpSocket, chunk: Buffer): void {
  const conn = this.trellisUp!;
  const user = conn.user;
  if (user !== null) user.upstreamData(conn, chunk);
  else conn.destroy(); // bytes nobody asked for: the connection cannot be trusted
}

function onUpEnd(this: UpSocket): void {
  const conn = this.trellisUp!;
  const user = conn.user;
  if (user !== null) user.upstreamEnd(conn);
  conn.destroy();
}

function onUpError(this: UpSocket, err: Error): void {
  const conn = this.trellisUp!;
  if (!conn.connected && !conn.closed) conn.pool.settings.counters?.targetFailed(false);
  const user = conn.user;
  conn.user = null;
  if (user !== null) user.upstreamError(conn, err);
  conn.destroy();
}

function onUpClose(this: UpSocket): void {
  const conn = this.trellisUp!;
  const user = conn.user;
  conn.user = null;
  if (user !== null) user.upstreamError(conn, CLOSED_ERROR);
  conn.destroy();
}

function onUpDrain(this: UpSocket): void {
  this.trellisUp!.user?.upstreamDrain();
}

const CLOSED_ERROR: Error & { code: string } = Object.assign(new Error('target closed'), {
  code: 'ECONNRESET',
});

/**
 * Keep-alive connections to one target (`ip:port`): idle ones are reused newest first, at most
 * `maxConnectionsPerTarget` are open, and further requests wait in a FIFO queue.
 */
export class FastPool {
  readonly host: string;
  readonly port: number;
  readonly settings: PoolSettings;
  private readonly idle: UpstreamConnection[] = [];
  private readonly waiting: (UpstreamUser | null)[] = [];
  private waitingHead = 0;
  /** Open connections, idle or busy. */
  open = 0;

  constructor(
    host: string,
    port: number,
    settings: PoolSettings,
    /** Source address of its connections (a namespace VPC's Lattice address, netns/). */
    readonly localAddress?: string,
  ) {
    this.host = host;
    this.port = port;
    this.settings = settings;
  }

  /** Assigns a connection to `user` now (`upstreamReady`) or once one frees up. */
  acquire(user: UpstreamUser): void {
    const conn = this.idle.pop();
    if (conn !== undefined) {
      this.assign(conn, user);
      return;
    }
    if (this.open < this.settings.maxConnectionsPerTarget) {
      this.assign(this.connect(), user);
      return;
    }
    this.waiting.push(user);
  }

  /** A fresh connection for `user`, bypassing idle ones (the retry after a stale keep-alive). */
  acquireFresh(user: UpstreamUser): void {
    this.assign(this.connect(), user);
  }

  /** Withdraws a queued request (its client left). */
  cancel(user: UpstreamUser): void {
    const i = this.waiting.indexOf(user, this.waitingHead);
    if (i >= 0) this.waiting[i] = null;
  }

  /** The request on `conn` finished cleanly: reuse the connection. */
  release(conn: UpstreamConnection): void {
    conn.user = null;
    conn.reused = true;
    const next = this.nextWaiting();
    if (next !== null) {
      this.assign(conn, next);
      return;
    }
    conn.deadline = this.settings.now() + this.settings.keepAliveTimeoutMs;
    conn.deadlineKind = DEADLINE_IDLE;
    this.idle.push(conn);
  }

  /** Called by `UpstreamConnection.destroy`. */
  forget(conn: UpstreamConnection): void {
    this.settings.live.delete(conn);
    this.open--;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // A slot freed up: open a connection for the next waiting request.
    if (this.open < this.settings.maxConnectionsPerTarget) {
      const next = this.nextWaiting();
      if (next !== null) this.assign(this.connect(), next);
    }
  }

  /** Connected: the connect deadline becomes the user's response deadline. */
  connected(conn: UpstreamConnection): void {
    const user = conn.user;
    if (conn.deadlineKind !== DEADLINE_CONNECT) return;
    if (user === null) conn.deadlineKind = DEADLINE_NONE;
    else {
      conn.deadline = this.settings.now() + user.targetTimeoutMs;
      conn.deadlineKind = DEADLINE_RESPONSE;
      user.upstreamDrain(); // a request body held until the connect (issue #3 retries) may go
    }
  }

  /** Destroys every connection (stop). */
  closeAll(): void {
    for (const conn of [...this.idle]) conn.destroy();
  }

  private connect(): UpstreamConnection {
    const conn = new UpstreamConnection(this);
    this.open++;
    this.settings.live.add(conn);
    conn.deadline = this.settings.now() + this.settings.connectTimeoutMs;
    conn.deadlineKind = DEADLINE_CONNECT;
    return conn;
  }

  private assign(conn: UpstreamConnection, user: UpstreamUser): void {
    conn.user = user;
    if (conn.deadlineKind === DEADLINE_IDLE) conn.deadlineKind = DEADLINE_NONE;
    user.upstreamReady(conn);
  }

  private nextWaiting(): UpstreamUser | null {
    const w = this.waiting;
    while (this.waitingHead < w.length) {
      const user = w[this.waitingHead]!;
      w[this.waitingHead++] = null;
      if (this.waitingHead === w.length) {
        w.length = 0;
        this.waitingHead = 0;
      }
      if (user !== null) return user;
    }
    return null;
  }
}
