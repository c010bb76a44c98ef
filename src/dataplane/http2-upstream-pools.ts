import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { DataPlaneCounters } from './connection-counters.js';

/** Settings of the HTTP/2 sessions to targets. */
export interface Http2PoolOptions {
  connectTimeoutMs: number;
  /** Sessions per target at most; a new one opens when every open one is at its stream limit. */
  maxSessionsPerTarget: number;
  /** An upstream session with no stream for this long is closed. */
  idleTimeoutMs: number;
  /** Connection figures of spec §4.2 (connection-counters.ts): sessions count as HTTP/2. */
  counters?: DataPlaneCounters;
}

/** Error of a session that did not connect in time (forwarder classifies it as a connect failure). */
export class Http2ConnectTimeoutError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT';
}

class PooledSession {
  active = 0;
  connected = false;
  /** The target sent GOAWAY: streams in flight finish, new ones go to another session. */
  goingAway = false;
  constructor(readonly session: ClientHttp2Session) {}

  /** Open, not going away, and below the target's SETTINGS_MAX_CONCURRENT_STREAMS. */
  usable(): boolean {
    const s = this.session;
    if (s.closed || s.destroyed || this.goingAway) return false;
    const limit = this.connected ? (s.remoteSettings.maxConcurrentStreams ?? 100) : 100;
    return this.active < limit;
  }
}

const NO_OP = (): void => undefined;

/**
 * One target reached over HTTP/2 (target groups with protocolVersion HTTP2 or GRPC, spec §7.3):
 * prior-knowledge h2c for `http://` origins, h2 through ALPN for `https://` ones (target
 * certificates not validated, spec §7.3). Streams are multiplexed over a few long-lived sessions
 * (DESIGN.md hot path rules), opened on demand and kept while they have streams or were used
 * within the idle timeout.
 */
export class Http2Origin {
  private sessions: PooledSession[] = [];
  private closing = false;

  constructor(
    readonly origin: string,
    private readonly options: Http2PoolOptions,
    /** Source address (a namespace VPC's Lattice address, netns/), when there is one. */
    private readonly localAddress?: string,
  ) {}

  /** Starts a stream to the target; errors arrive on the stream ('error'). */
  request(headers: OutgoingHttpHeaders, endStream: boolean): ClientHttp2Stream {
    const pooled = this.pick();
    const stream = pooled.session.request(headers, { endStream });
    pooled.active++;
    stream.once('close', () => {
      pooled.active--;
    });
    return stream;
  }

  private pick(): PooledSession {
    let best: PooledSession | undefined;
    const live: PooledSession[] = [];
    for (const p of this.sessions) {
      if (p.session.closed || p.session.destroyed || p.goingAway) continue;
      live.push(p);
      if (p.usable() && (best === undefined || p.active < best.active)) best = p;
    }
    this.sessions = live;
    if (best !== undefined) return best;
    if (live.length < this.options.maxSessionsPerTarget) return this.open();
    // Every session is full: nghttp2 queues the stream until one of the target's slots frees.
    return live.reduce((a, b) => (a.active <= b.active ? a : b));
  }

  private open(): PooledSession {
    const tls = this.origin.startsWith('https:');
    const url = new URL(this.origin);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port);
    const localAddress = this.localAddress;
    let raw: Socket | undefined; // the session's own socket, for the connection counters
    const session = connect(this.origin, {
      settings: { enablePush: false },
      maxSessionMemory: 32,
      // Nagle off: a stream's HEADERS and DATA are separate small writes, and with Nagle on the
      // second one waits for the target's delayed ACK (tens of ms per request).
      createConnection: () => {
        const socket = tls
          ? // spec §7.3: target certificates are never validated.
            tlsConnect({
              host,
              port,
              rejectUnauthorized: false,
              ALPNProtocols: ['h2'],
              ...(localAddress !== undefined ? { localAddress } : {}),
            })
          : netConnect({ host, port, ...(localAddress !== undefined ? { localAddress } : {}) });
        socket.setNoDelay(true);
        raw = socket;
        return socket;
      },
    });
    const pooled = new PooledSession(session);
    this.sessions.push(pooled);
    let timedOut = false;
    let failure = '';
    const timer = setTimeout(() => {
      if (pooled.connected) return;
      timedOut = true;
      session.destroy(new Http2ConnectTimeoutError(`connect to ${this.origin} timed out`));
    }, this.options.connectTimeoutMs);
    timer.unref();
    const counters = this.options.counters;
    session.once('connect', () => {
      pooled.connected = true;
      clearTimeout(timer);
      if (counters !== undefined && raw !== undefined) {
        counters.targetOpened(raw, true);
        if (tls) counters.targetTlsHandshake();
      }
    });
    session.once('error', (err: Error & { code?: string }) => (failure = err.code ?? ''));
    session.once('close', () => {
      clearTimeout(timer);
      // Closed before it connected: refused, timed out or a failed handshake (spec §4.2).
      if (!pooled.connected && counters !== undefined)
        counters.targetFailed(timedOut, tls && /^(ERR_TLS|ERR_SSL)/.test(failure));
    });
    // Session errors reach every open stream as stream errors; the session itself just goes.
    session.on('error', NO_OP);
    session.on('goaway', () => {
      pooled.goingAway = true;
    });
    session.setTimeout(this.options.idleTimeoutMs, () => {
      if (pooled.active === 0) session.close();
    });
    // Idle sessions must not keep a stopping process alive.
    session.unref();
    if (this.closing) session.close();
    return pooled;
  }

  /** Closes every session once its streams finished; destroys what is left after `graceMs`. */
  close(graceMs: number): Promise<void> {
    this.closing = true;
    const sessions = this.sessions;
    this.sessions = [];
    return Promise.all(
      sessions.map(
        (p) =>
          new Promise<void>((resolve) => {
            const s = p.session;
            if (s.destroyed) return resolve();
            const timer = setTimeout(() => s.destroy(), graceMs);
            timer.unref();
            s.close(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    ).then(NO_OP);
  }
}

/**
 * The HTTP/2 counterpart of `UpstreamPools`: one `Http2Origin` per target origin, shared by
 * successive compiled snapshots so sessions survive configuration changes.
 */
export class Http2UpstreamPools {
  private readonly entries = new Map<string, { origin: Http2Origin; generation: number }>();
  private generation = 0;

  constructor(private readonly options: Http2PoolOptions) {}

  beginGeneration(): number {
    return ++this.generation;
  }

  acquire(origin: string, localAddress?: string): Http2Origin {
    const key = localAddress === undefined ? origin : `${origin}|${localAddress}`;
    const found = this.entries.get(key);
    if (found !== undefined) {
      found.generation = this.generation;
      return found.origin;
    }
    const created = new Http2Origin(origin, this.options, localAddress);
    this.entries.set(key, { origin: created, generation: this.generation });
    return created;
  }

  /** Closes origins no snapshot since `generation` uses; their running streams finish first. */
  sweep(generation: number, graceMs: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.generation >= generation) continue;
      this.entries.delete(key);
      void entry.origin.close(graceMs);
    }
  }

  async closeAll(graceMs: number): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.origin.close(graceMs)));
  }
}

/** RST_STREAM code sent to a target when the client went away. */
export const CANCEL = constants.NGHTTP2_CANCEL;
