import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Pool } from 'undici';
import { RequestRecord } from './request-record.js';

/** Counts of one side (clients → listeners, or the data plane → targets) at one moment. */
export interface SideCounts {
  /** Connections opened (spec §4.2 TotalConnectionCount). */
  total: number;
  /** Open now (ActiveConnectionCount). */
  active: number;
  /** By protocol (HTTP1_ConnectionCount / HTTP2_ConnectionCount). */
  http1: number;
  http2: number;
  /** Connect failures (ConnectionErrorCount), timeouts included; target side only. */
  errors: number;
  /** Connects that timed out (ConnectionTimeoutCount); target side only. */
  timeouts: number;
  /** Completed TLS handshakes (TotalTLSConnectionHandshakeCount). */
  tlsHandshakes: number;
  /** Failed TLS handshakes (TLSConnectionErrorCount). */
  tlsErrors: number;
  /** Bytes read / written on these connections (TotalReceived/SentConnectionBytes). */
  bytesReceived: number;
  bytesSent: number;
}

/** What {@link DataPlaneCounters.read} returns (observability/metrics.ts reads it at scrape time). */
export interface DataPlaneCounts {
  /** Requests that got an access-log record (ActiveRequestCount = this − records completed). */
  requestsStarted: number;
  client: SideCounts;
  target: SideCounts;
}

class Side {
  total = 0;
  active = 0;
  http1 = 0;
  http2 = 0;
  errors = 0;
  timeouts = 0;
  tlsHandshakes = 0;
  tlsErrors = 0;
  /** Bytes of closed connections; open ones are added at read time. */
  closedReceived = 0;
  closedSent = 0;
  readonly open = new Set<Socket>();

  counts(): SideCounts {
    let bytesReceived = this.closedReceived;
    let bytesSent = this.closedSent;
    for (const s of this.open) {
      bytesReceived += s.bytesRead;
      bytesSent += s.bytesWritten;
    }
    return {
      total: this.total,
      active: this.active,
      http1: this.http1,
      http2: this.http2,
      errors: this.errors,
      timeouts: this.timeouts,
      tlsHandshakes: this.tlsHandshakes,
      tlsErrors: this.tlsErrors,
      bytesReceived,
      bytesSent,
    };
  }
}

type CountedSocket = Socket & { trellisCounted?: Side };

function onCountedClose(this: CountedSocket): void {
  const side = this.trellisCounted;
  if (side === undefined) return;
  this.trellisCounted = undefined;
  side.active--;
  side.open.delete(this);
  side.closedReceived += this.bytesRead;
  side.closedSent += this.bytesWritten;
}

const TLS_ERROR = /^(ERR_TLS|ERR_SSL|ECONNRESET$)/;

/**
 * The connection-level figures of spec §4.2 (TotalConnectionCount, ActiveConnectionCount,
 * HTTP1/HTTP2_ConnectionCount, ConnectionErrorCount, ConnectionTimeoutCount, TLS handshakes and
 * errors, connection bytes) for both sides of the data plane, and the access-log records started
 * (RequestRecord.started). Counted per connection, never per request, as plain numbers;
 * `/metrics` reads them at scrape time. Process-wide: Lattice dimensions them by target group,
 * but a pooled connection to a target serves every target group that target belongs to.
 */
export class DataPlaneCounters {
  private readonly client = new Side();
  private readonly target = new Side();

  // Event listeners bound once per process, so a connection costs no closure.
  private readonly onClientConnection = (socket: Socket): void => {
    this.opened(this.client, socket);
  };
  private readonly onPlainClientConnection = (socket: Socket): void => {
    this.opened(this.client, socket);
    this.client.http1++;
  };
  private readonly onSecureConnection = (socket: TLSSocket): void => {
    this.client.tlsHandshakes++;
    if (socket.alpnProtocol === 'h2') this.client.http2++;
    else this.client.http1++;
  };
  private readonly onTlsClientError = (): void => {
    this.client.tlsErrors++;
  };

  /**
   * Counts the connections a listener accepts: every TCP connection (refused by security groups
   * too); on HTTPS listeners the handshakes, their failures, and HTTP/1.1 vs HTTP/2 by ALPN.
   */
  watchListener(server: Server, tls: boolean): void {
    if (tls) {
      server.on('connection', this.onClientConnection);
      server.on('secureConnection', this.onSecureConnection);
      server.on('tlsClientError', this.onTlsClientError);
    } else server.on('connection', this.onPlainClientConnection);
  }

  /** A cleartext HTTP/2 (h2c) client connection; h2 over TLS is counted from ALPN already. */
  clientHttp2(): void {
    this.client.http2++;
  }

  /** A connection to a target opened (`http2`: an HTTP/2 session's socket). */
  targetOpened(socket: Socket, http2 = false): void {
    this.opened(this.target, socket);
    if (http2) this.target.http2++;
    else this.target.http1++;
  }

  /** A connection to a target failed before it was usable; `timedOut` when the connect timed out. */
  targetFailed(timedOut: boolean, tls = false): void {
    this.target.errors++;
    if (timedOut) this.target.timeouts++;
    if (tls) this.target.tlsErrors++;
  }

  /** A TLS handshake with a target (HTTPS target groups) completed. */
  targetTlsHandshake(): void {
    this.target.tlsHandshakes++;
  }

  /**
   * Counts the connections of an undici pool (the node:http path's targets): `connect` carries no
   * socket, so its bytes are not counted; errors are classified by their code.
   */
  watchPool(pool: Pool, https: boolean): void {
    const target = this.target;
    pool.on('connect', () => {
      target.total++;
      target.active++;
      target.http1++;
      if (https) target.tlsHandshakes++;
    });
    pool.on('disconnect', () => {
      target.active--;
    });
    pool.on('connectionError', (_origin, _targets, err: Error & { code?: string }) => {
      const code = err.code ?? '';
      this.targetFailed(code === 'UND_ERR_CONNECT_TIMEOUT', https && TLS_ERROR.test(code));
    });
  }

  read(): DataPlaneCounts {
    return {
      requestsStarted: RequestRecord.started,
      client: this.client.counts(),
      target: this.target.counts(),
    };
  }

  private opened(side: Side, socket: Socket): void {
    const s = socket as CountedSocket;
    if (s.trellisCounted !== undefined) return;
    s.trellisCounted = side;
    side.total++;
    side.active++;
    side.open.add(s);
    s.once('close', onCountedClose);
  }
}
