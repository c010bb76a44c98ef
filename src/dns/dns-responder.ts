/**
 * The DNS responder (issue 8 §2): UDP and TCP on one local address (plain mode), or on every VPC's
 * ingress addresses (per-VPC mode). It answers from the snapshot only — the `DnsSnapshotSource`
 * below is the whole contract with the rest of Trellis; `bin/` wires it to the snapshot builder.
 * Lifecycle: `createDnsResponder(options) → start() → stop()`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { Snapshot } from '../model/snapshot-types.js';
import { DnsAnswerer } from './dns-answerer.js';
import {
  MAX_QUERY_BYTES,
  MAX_UDP_ANSWER_BYTES,
  RCODE,
  encodeAnswer,
  type DnsQuery,
} from './dns-wire.js';
import { canonicalAddress, compileDnsZones } from './dns-zones.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';

/** Where the responder gets snapshots (the same shape the data plane's source has). */
export interface DnsSnapshotSource {
  current(): Snapshot | undefined;
  subscribe(onSnapshot: (snapshot: Snapshot) => void): () => void;
}

/** Log lines of the responder (pino-compatible through bin/). */
export interface DnsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Where to listen: one `host:port` (queries there come from the VPC owning `host`, else from the
 * default VPC), or every VPC's ingress addresses at `port` (queries come from that VPC).
 */
export type DnsListen =
  { mode: 'address'; host: string; port: number } | { mode: 'vpcs'; port: number };

export interface DnsResponderOptions {
  snapshotSource: DnsSnapshotSource;
  listen: DnsListen;
  /** The VPC of queries arriving on an address no VPC owns. */
  defaultVpcId?: string;
  /** Resolver for non-Lattice names; absent → REFUSED. */
  upstream?: { host: string; port: number };
  /** Per-source limit (default 200 queries/s, burst 400). */
  rateLimit?: RateLimit;
  upstreamTimeoutMs?: number;
  /** TCP connections open at once (default 256); TCP idle timeout (default 10 s). */
  maxTcpConnections?: number;
  tcpIdleMs?: number;
  logger?: DnsLogger;
}

/** One bound (address, port) serving UDP and TCP. */
export interface DnsEndpoint {
  address: string;
  port: number;
}

/** The running responder. */
export interface DnsResponder {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Endpoints bound right now. */
  endpoints(): DnsEndpoint[];
  /** Revision of the snapshot answering queries. */
  readonly revision: number | undefined;
  /** Counters since start (tests, monitoring). */
  readonly stats: { answered: number; dropped: number; rateLimited: number; forwarded: number };
}

const SILENT: DnsLogger = { info: () => undefined, warn: () => undefined };
const MAX_PENDING_FORWARDS = 1024;

/** Creates a responder; nothing is bound before `start()`. */
export function createDnsResponder(options: DnsResponderOptions): DnsResponder {
  return new DnsResponderImpl(options);
}

class Binding {
  udp: UdpSocket | undefined;
  tcp: Server | undefined;
  constructor(
    readonly address: string,
    public port: number,
    /** Canonical form used to find the VPC. */
    readonly local: string,
  ) {}
}

interface PendingForward {
  id: number;
  reply: (bytes: Buffer) => void;
  timer: NodeJS.Timeout;
}

class DnsResponderImpl implements DnsResponder {
  readonly stats = { answered: 0, dropped: 0, rateLimited: 0, forwarded: 0 };
  private readonly answerer: DnsAnswerer;
  private readonly limiter: RateLimiter;
  private readonly logger: DnsLogger;
  private readonly bindings = new Map<string, Binding>();
  private readonly tcpSockets = new Set<Socket>();
  private readonly pending = new Map<number, PendingForward>();
  private upstreamSocket: UdpSocket | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private reconciling: Promise<void> = Promise.resolve();
  private limitedLogAt = 0;

  constructor(private readonly options: DnsResponderOptions) {
    this.answerer = new DnsAnswerer(options.defaultVpcId, options.upstream !== undefined);
    this.limiter = new RateLimiter(options.rateLimit ?? { queriesPerSecond: 200, burst: 400 });
    this.logger = options.logger ?? SILENT;
  }

  get revision(): number | undefined {
    return this.answerer.zones?.revision;
  }

  endpoints(): DnsEndpoint[] {
    return [...this.bindings.values()]
      .filter((b) => b.udp !== undefined)
      .map((b) => ({ address: b.address, port: b.port }));
  }

  async start(): Promise<void> {
    this.stopped = false;
    const listen = this.options.listen;
    if (listen.mode === 'address') await this.bind(listen.host, listen.port);
    this.unsubscribe = this.options.snapshotSource.subscribe((s) => this.apply(s));
    const first = this.options.snapshotSource.current();
    if (first !== undefined) this.apply(first);
    await this.reconciling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.reconciling.catch(() => undefined);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.upstreamSocket?.close();
    this.upstreamSocket = undefined;
    for (const s of this.tcpSockets) s.destroy();
    await Promise.all([...this.bindings.values()].map((b) => this.unbind(b)));
    this.bindings.clear();
  }

  private apply(snapshot: Snapshot): void {
    if (this.stopped) return;
    try {
      this.answerer.zones = compileDnsZones(snapshot);
    } catch (err) {
      this.logger.warn('DNS snapshot rejected; keeping the running one', {
        revision: snapshot.revision,
        error: (err as Error).message,
      });
      return;
    }
    if (this.options.listen.mode !== 'vpcs') return;
    const port = this.options.listen.port;
    const wanted = new Set<string>();
    for (const vpc of snapshot.vpcs) for (const a of vpc.ingressAddresses) wanted.add(a);
    this.reconciling = this.reconciling.then(async () => {
      if (this.stopped) return;
      for (const [key, b] of this.bindings)
        if (!wanted.has(b.address)) {
          this.bindings.delete(key);
          await this.unbind(b);
        }
      for (const address of wanted) if (!this.bindings.has(address)) await this.bind(address, port);
    });
  }

  /** Binds UDP, then TCP on the same port (retrying a few ephemeral ports when asked for 0). */
  private async bind(address: string, port: number): Promise<void> {
    const b = new Binding(address, port, canonicalAddress(address));
    this.bindings.set(address, b);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        b.udp = await this.bindUdp(b, port);
        b.port = b.udp.address().port;
        b.tcp = await this.bindTcp(b, b.port);
        this.logger.info('DNS responder listening', { address, port: b.port });
        return;
      } catch (err) {
        b.udp?.close();
        b.udp = undefined;
        const code = (err as NodeJS.ErrnoException).code;
        if (port === 0 && code === 'EADDRINUSE') continue;
        this.bindings.delete(address);
        this.logger.warn('DNS responder cannot listen', {
          address,
          port,
          error: (err as Error).message,
          ...(code === 'EACCES' ? { hint: 'ports below 1024 need root; pick a higher port' } : {}),
        });
        if (this.options.listen.mode === 'address') throw err;
        return;
      }
    }
  }

  private bindUdp(b: Binding, port: number): Promise<UdpSocket> {
    const socket = createSocket({ type: b.address.includes(':') ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: b.address, port, exclusive: true }, () => {
        socket.off('error', reject);
        socket.on('error', (err) =>
          this.logger.warn('DNS UDP socket error', { address: b.address, error: err.message }),
        );
        socket.on('message', (msg, rinfo) => this.onUdp(socket, b, msg, rinfo.address, rinfo.port));
        resolve(socket);
      });
    });
  }

  private bindTcp(b: Binding, port: number): Promise<Server> {
    const server = createServer((s) => this.onTcp(s));
    server.maxConnections = this.options.maxTcpConnections ?? 256;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: b.address, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) =>
          this.logger.warn('DNS TCP listener error', { address: b.address, error: err.message }),
        );
        resolve(server);
      });
    });
  }

  private async unbind(b: Binding): Promise<void> {
    b.udp?.close();
    b.udp = undefined;
    const tcp = b.tcp;
    b.tcp = undefined;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private admit(source: string): boolean {
    if (this.limiter.take(source)) return true;
    this.stats.rateLimited++;
    const now = Date.now();
    if (now - this.limitedLogAt > 1000) {
      this.limitedLogAt = now;
      this.logger.warn('DNS queries rate-limited', { source });
    }
    return false;
  }

  private onUdp(socket: UdpSocket, b: Binding, msg: Buffer, host: string, port: number): void {
    if (!this.admit(host)) return;
    const d = this.answerer.decide(msg, this.answerer.vpcFor(b.local), MAX_UDP_ANSWER_BYTES);
    if (d.kind === 'drop') {
      this.stats.dropped++;
      return;
    }
    const reply = (bytes: Buffer): void => {
      if (this.stopped) return;
      socket.send(bytes, port, host);
    };
    if (d.kind === 'answer') {
      this.stats.answered++;
      reply(d.bytes);
    } else this.forward(msg, d.query, reply);
  }

  private onTcp(socket: Socket): void {
    this.tcpSockets.add(socket);
    socket.once('close', () => this.tcpSockets.delete(socket));
    socket.setTimeout(this.options.tcpIdleMs ?? 10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    const source = socket.remoteAddress ?? '';
    const local = canonicalAddress(stripMapped(socket.localAddress ?? ''));
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        // RFC 7766 §8: a length the responder will never accept ends the connection.
        if (len > MAX_QUERY_BYTES || len < 12) {
          this.stats.dropped++;
          socket.destroy();
          return;
        }
        if (buffered.length < 2 + len) return;
        const msg = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        if (!this.admit(source)) {
          socket.destroy();
          return;
        }
        const d = this.answerer.decide(msg, this.answerer.vpcFor(local), 65535);
        const reply = (bytes: Buffer): void => {
          if (socket.destroyed) return;
          const prefix = Buffer.allocUnsafe(2);
          prefix.writeUInt16BE(bytes.length, 0);
          socket.write(Buffer.concat([prefix, bytes]));
        };
        if (d.kind === 'drop') {
          this.stats.dropped++;
          socket.destroy();
          return;
        }
        if (d.kind === 'answer') {
          this.stats.answered++;
          reply(d.bytes);
        } else this.forward(Buffer.from(msg), d.query, reply);
      }
    });
  }

  /** Relays a query to the upstream resolver over UDP with a fresh ID; SERVFAIL on timeout. */
  private forward(msg: Uint8Array, query: DnsQuery, reply: (bytes: Buffer) => void): void {
    const upstream = this.options.upstream!;
    const servfail = (): void =>
      reply(encodeAnswer(msg, query, RCODE.SERVFAIL, [], MAX_UDP_ANSWER_BYTES, false));
    if (this.pending.size >= MAX_PENDING_FORWARDS) return servfail();
    let id = (Math.random() * 0x10000) | 0;
    for (let i = 0; this.pending.has(id) && i < 16; i++) id = (Math.random() * 0x10000) | 0;
    if (this.pending.has(id)) return servfail();
    const socket = this.upstreamSocketFor(upstream.host);
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    const timer = setTimeout(() => {
      this.pending.delete(id);
      servfail();
    }, this.options.upstreamTimeoutMs ?? 2000);
    timer.unref();
    this.pending.set(id, { id: query.id, reply, timer });
    this.stats.forwarded++;
    socket.send(out, upstream.port, upstream.host);
  }

  private upstreamSocketFor(host: string): UdpSocket {
    if (this.upstreamSocket) return this.upstreamSocket;
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    socket.on('error', (err) =>
      this.logger.warn('DNS upstream socket error', { error: err.message }),
    );
    socket.on('message', (msg, rinfo) => {
      const up = this.options.upstream!;
      if (msg.length < 12 || rinfo.port !== up.port) return;
      const key = msg.readUInt16BE(0);
      const p = this.pending.get(key);
      if (p === undefined) return;
      this.pending.delete(key);
      clearTimeout(p.timer);
      const back = Buffer.from(msg);
      back.writeUInt16BE(p.id, 0);
      this.stats.answered++;
      p.reply(back);
    });
    socket.unref();
    this.upstreamSocket = socket;
    return socket;
  }
}

function stripMapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
