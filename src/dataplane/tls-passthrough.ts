import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { FailureReason } from '../errors/dataplane-outcomes.js';
import type { Snapshot } from '../model/snapshot-types.js';
import type { AuthGate } from './auth-gate.js';
import type { CompiledListener, CompiledSnapshot, ServiceBinding } from './compile-snapshot.js';
import {
  HELLO_BAD,
  HELLO_INCOMPLETE,
  MAX_CLIENT_HELLO,
  readClientHelloSni,
} from './client-hello.js';
import type { DataPlaneLogger } from './logger.js';
import { RequestRecord, type RequestCompleteHook } from './request-record.js';
import type { TargetHealthView } from './target-health.js';
import type { CompiledTarget } from './target-picker.js';

/** What TLS passthrough needs from the data plane that owns it. */
export interface PassthroughHost {
  /** The monitoring hook set now (it may be set or cleared at any time). */
  onRequestComplete(): RequestCompleteHook | undefined;
  readonly healthView: TargetHealthView | undefined;
  /** The auth gate and its state for the snapshot serving now (for `vpc-lattice-svcs:Connect`). */
  auth(): { gate: AuthGate; prepared: unknown };
}

/** Options of `TlsPassthrough`. */
export interface PassthroughOptions {
  connectTimeoutMs: number;
  /** Time allowed for the whole ClientHello to arrive. */
  helloTimeoutMs: number;
  /** spec §7.1: passthrough connections last at most 10 minutes. */
  maxLifetimeMs: number;
  /** Grace for open connections whose listener or service a new snapshot removed. */
  drainMs: number;
  logger: DataPlaneLogger;
}

/** A passthrough listener as reached through one custom domain in one VPC. */
interface PassthroughRoute {
  readonly binding: ServiceBinding;
  readonly listener: CompiledListener;
}

/** Per snapshot: which ports have passthrough listeners and what each exact SNI reaches. */
class PassthroughTable {
  constructor(
    readonly compiled: CompiledSnapshot,
    readonly listenerIds: ReadonlySet<string>,
    /** Lower-cased custom domain → service id (spec §7.1: the exact SNI match). */
    readonly customDomains: ReadonlyMap<string, string>,
    /** `address|port` keys with a passthrough listener of a reachable service. */
    readonly ports: ReadonlySet<string>,
  ) {}

  route(address: string, port: number, sni: string): PassthroughRoute | undefined {
    const serviceId = this.customDomains.get(sni);
    if (serviceId === undefined) return undefined;
    const binding = this.compiled.vpcsByAddress.get(address)?.hosts.get(sni);
    if (binding === undefined || binding.serviceId !== serviceId) return undefined;
    const listener = binding.listeners.get(port);
    if (listener === undefined || !this.listenerIds.has(listener.id)) return undefined;
    return { binding, listener };
  }
}

/** The socket views the auth gate reads for a connection (no HTTP request exists). */
const NO_HEADERS: Record<string, string> = {};

/**
 * TLS_PASSTHROUGH listeners (spec §7.1, §8 gotcha 16): the ClientHello's SNI is read without
 * terminating TLS; an exact custom-domain match on a passthrough listener pipes the connection's
 * bytes, hello included, to a target of the listener's TCP target group (weighted, healthy);
 * nothing is injected. Any other hello goes to the port's TLS termination (HTTPS listeners sharing
 * the port), which refuses names it does not serve; a malformed hello is closed.
 */
export class TlsPassthrough {
  private table: PassthroughTable | undefined;
  private readonly live = new Set<PassthroughConnection>();

  constructor(
    readonly host: PassthroughHost,
    readonly options: PassthroughOptions,
  ) {}

  /** Builds the table of a compiled snapshot (before the TLS listeners mark their ports). */
  apply(snapshot: Snapshot, compiled: CompiledSnapshot): void {
    const ids = new Set(
      snapshot.listeners.filter((l) => l.protocol === 'TLS_PASSTHROUGH').map((l) => l.id),
    );
    const customDomains = new Map<string, string>();
    for (const s of snapshot.services)
      if (s.customDomainName) customDomains.set(s.customDomainName.toLowerCase(), s.id);
    for (const a of snapshot.serviceNetworkServiceAssociations)
      if (a.customDomainName) customDomains.set(a.customDomainName.toLowerCase(), a.serviceId);
    const ports = new Set<string>();
    if (ids.size > 0)
      for (const [address, vpc] of compiled.vpcsByAddress)
        for (const binding of vpc.hosts.values())
          for (const [port, l] of binding.listeners)
            if (ids.has(l.id)) ports.add(`${address}|${port}`);
    const table = new PassthroughTable(compiled, ids, customDomains, ports);
    this.table = table;
    // Connections whose name no longer reaches a passthrough listener here (listener, service or
    // association removed) are cut after the drain grace, as HTTP listeners drain.
    for (const c of this.live)
      if (c.sni !== undefined && table.route(c.address, c.port, c.sni) === undefined)
        c.retire(this.options.drainMs);
  }

  /** Whether `listenerId` is a passthrough listener (its port is served by a TLS socket). */
  isListener(listenerId: string): boolean {
    return this.table?.listenerIds.has(listenerId) ?? false;
  }

  /** Whether connections to (address, port) must be sniffed before TLS termination. */
  servesPort(address: string, port: number): boolean {
    const t = this.table;
    return t !== undefined && t.ports.size > 0 && t.ports.has(`${address}|${port}`);
  }

  /**
   * Takes an accepted connection on a port with passthrough listeners: reads the ClientHello,
   * then pipes it to a target, or hands it (bytes put back) to `terminate` for TLS termination.
   */
  accept(socket: Socket, address: string, port: number, terminate: (s: Socket) => void): void {
    const c = new PassthroughConnection(this, socket, address, port, terminate);
    this.live.add(c);
  }

  /** Routes a hello's SNI; undefined → not a passthrough name on this port. */
  route(address: string, port: number, sni: string): PassthroughRoute | undefined {
    return this.table?.route(address, port, sni);
  }

  vpcOf(address: string): { vpcId: string; sourceVpcArn: string } | undefined {
    return this.table?.compiled.vpcsByAddress.get(address);
  }

  forget(c: PassthroughConnection): void {
    this.live.delete(c);
  }

  /** Cuts every passthrough connection (the data plane stops). */
  closeAll(): void {
    for (const c of [...this.live]) c.close('ClientConnectionClosed');
  }
}

const PHASE_HELLO = 0;
const PHASE_CONNECTING = 1;
const PHASE_PIPING = 2;
const PHASE_DONE = 3;

/** One client connection on a passthrough port. */
class PassthroughConnection {
  private phase = PHASE_HELLO;
  /** The routed server name, once the hello was read and matched. */
  sni: string | undefined = undefined;
  private retiring: NodeJS.Timeout | undefined;
  private held: Buffer | null = null;
  private upstream: Socket | null = null;
  private record: RequestRecord | null = null;
  private lifetime: NodeJS.Timeout | undefined;
  private readonly onHelloData = (chunk: Buffer): void => this.hello(chunk);
  private readonly onGone = (): void => this.close(undefined);
  /** One `timeout` listener for the socket's successive timers (hello, connect, idle). */
  private readonly onTimeout = (): void =>
    this.close(this.phase === PHASE_CONNECTING ? 'TargetConnectionError' : undefined);

  constructor(
    private readonly owner: TlsPassthrough,
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    private readonly terminate: (s: Socket) => void,
  ) {
    socket.on('data', this.onHelloData);
    socket.on('error', this.onGone);
    socket.on('close', this.onGone);
    socket.on('end', this.onGone);
    socket.setTimeout(owner.options.helloTimeoutMs);
    socket.on('timeout', this.onTimeout);
  }

  private hello(chunk: Buffer): void {
    const buf = this.held === null ? chunk : Buffer.concat([this.held, chunk]);
    this.held = buf;
    const sni = readClientHelloSni(buf);
    if (sni === HELLO_INCOMPLETE) {
      if (buf.length > MAX_CLIENT_HELLO + 64) this.close('ClientProtocolError');
      return;
    }
    if (sni === HELLO_BAD) {
      this.close('ClientProtocolError');
      return;
    }
    const route =
      typeof sni === 'string' ? this.owner.route(this.address, this.port, sni) : undefined;
    if (route === undefined) {
      this.handToTermination();
      return;
    }
    this.forward(route.binding, route.listener, sni as string);
  }

  /** Not ours: TLS termination gets the socket with every byte read so far put back. */
  private handToTermination(): void {
    const socket = this.socket;
    this.phase = PHASE_DONE;
    this.owner.forget(this);
    socket.removeListener('data', this.onHelloData);
    socket.removeListener('error', this.onGone);
    socket.removeListener('close', this.onGone);
    socket.removeListener('end', this.onGone);
    socket.removeListener('timeout', this.onTimeout);
    socket.setTimeout(0);
    socket.pause();
    const held = this.held;
    this.held = null;
    if (held !== null) socket.unshift(held);
    this.terminate(socket);
  }

  private forward(binding: ServiceBinding, listener: CompiledListener, sni: string): void {
    this.sni = sni;
    const socket = this.socket;
    socket.pause();
    socket.removeListener('data', this.onHelloData);
    // TLS needs half-close both ways (a client may send close_notify + FIN, then read the rest):
    // each side's end is relayed by `pipe`, and the connection closes when a socket is done.
    socket.removeListener('end', this.onGone);
    socket.allowHalfOpen = true;
    const host = this.owner.host;
    const hook = host.onRequestComplete();
    let record: RequestRecord | null = null;
    if (hook !== undefined) {
      // spec §4.1 for a connection Lattice cannot see into: no method, path, protocol or headers.
      record = new RequestRecord(
        Date.now(),
        `${socket.remoteAddress}:${socket.remotePort}`,
        '-',
        '-',
        '-',
        '-',
        '-',
      );
      record.serverNameIndication = sni;
      record.serviceArn = binding.serviceArn;
      record.serviceNetworkArn = binding.serviceNetworkArn;
      record.listenerId = listener.id;
      const vpc = this.owner.vpcOf(this.address);
      if (vpc !== undefined) {
        record.sourceVpcId = vpc.vpcId;
        record.sourceVpcArn = vpc.sourceVpcArn;
      }
      this.record = record;
    }
    // spec §2.3/§7.1: auth policies see the anonymous principal and `vpc-lattice-svcs:Connect`.
    if (binding.authRequired) {
      const { gate, prepared } = host.auth();
      const view = {
        method: '',
        url: '/',
        headers: NO_HEADERS,
        socket,
      } as unknown as IncomingMessage;
      const decision = gate.check({
        binding,
        sourceVpcId: this.owner.vpcOf(this.address)?.vpcId ?? '',
        request: view,
        port: this.port,
        prepared,
        connect: true,
      });
      if (record !== null) record.resolvedUser = decision.resolvedUser ?? null;
      if (!decision.allow) {
        if (record !== null) record.authDeniedReason = decision.authDeniedReason;
        this.close('ClientAccessDenied');
        return;
      }
    }
    const action = listener.defaultAction; // spec §7.1: only the default rule
    const choice = action.kind === 'forward' ? action.pick() : undefined;
    if (choice === undefined) {
      this.close(undefined);
      return;
    }
    if (record !== null) record.targetGroupArn = choice.group.arn;
    const target = choice.group.select(host.healthView);
    if (target?.address === undefined) {
      this.close(undefined);
      return;
    }
    if (record !== null) record.targetIpPort = target.ipPort;
    this.connectTo(target, binding.idleTimeoutMs);
  }

  private connectTo(target: CompiledTarget, idleMs: number): void {
    const socket = this.socket;
    this.phase = PHASE_CONNECTING;
    // A namespace VPC's target is reached from its Lattice address (netns/: policy routing).
    const up = connect({
      host: target.address!,
      port: target.port,
      localAddress: target.localAddress,
      allowHalfOpen: true,
    });
    this.upstream = up;
    up.setNoDelay(true);
    socket.setTimeout(this.owner.options.connectTimeoutMs);
    up.on('error', () =>
      this.close(
        this.phase === PHASE_CONNECTING ? 'TargetConnectionError' : 'TargetConnectionClosed',
      ),
    );
    up.on('close', () => this.close(undefined));
    up.once('connect', () => {
      if (this.phase !== PHASE_CONNECTING) return;
      this.phase = PHASE_PIPING;
      if (this.record !== null) this.record.sentToTargetAt = Date.now();
      const held = this.held;
      this.held = null;
      if (held !== null) up.write(held);
      // spec §6: a passthrough connection is idle when no data flows either way; the client
      // socket sees both directions (its reads and the target's bytes written to it).
      socket.setTimeout(idleMs);
      this.lifetime = setTimeout(
        () => this.close('ConnectionDurationExceeded'),
        this.owner.options.maxLifetimeMs,
      );
      this.lifetime.unref();
      up.once('data', () => {
        if (this.record !== null) this.record.firstByteFromTargetAt = Date.now();
      });
      socket.pipe(up);
      up.pipe(socket);
      socket.resume();
    });
  }

  /** Its listener is gone: closes after `graceMs` unless it ends first. */
  retire(graceMs: number): void {
    if (this.retiring !== undefined || this.phase === PHASE_DONE) return;
    this.retiring = setTimeout(() => this.close(undefined), graceMs);
    this.retiring.unref();
  }

  /** Ends the connection (both sides) once; logs it when it reached a listener. */
  close(reason: FailureReason | undefined): void {
    if (this.phase === PHASE_DONE) return;
    const piping = this.phase === PHASE_PIPING;
    this.phase = PHASE_DONE;
    this.owner.forget(this);
    if (this.lifetime !== undefined) clearTimeout(this.lifetime);
    if (this.retiring !== undefined) clearTimeout(this.retiring);
    const socket = this.socket;
    const up = this.upstream;
    if (piping && reason === undefined) {
      // A side finished: let what is in flight drain, then close both.
      socket.end();
      up?.end();
      socket.destroySoon();
      up?.destroySoon();
    } else {
      socket.destroy();
      up?.destroy();
    }
    const record = this.record;
    this.record = null;
    const hook = this.owner.host.onRequestComplete();
    if (record === null || hook === undefined) return;
    if (reason !== undefined) record.failureReason = reason;
    record.duration = Date.now() - record.startTime;
    record.bytesReceived = socket.bytesRead;
    record.bytesSent = socket.bytesWritten;
    try {
      hook(record);
    } catch {
      // A failing monitoring hook must never take the data plane down.
    }
  }
}
