import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { DATAPLANE_RESPONSES, type FailureReason } from '../errors/dataplane-outcomes.js';
import { newTraceparent } from '../observability/trace-context.js';
import type { CompiledVpc } from './compile-snapshot.js';
import { connectionListedHeaders, isDroppedRequestHeader, requestIdFor } from './header-rules.js';
import type { ListenerState } from './listener-set.js';
import { normalizeRequestTarget } from './request-path.js';
import {
  incomingRequestRecord,
  type RequestCompleteHook,
  type RequestRecord,
} from './request-record.js';
import { RouteDecision, type BoundRoute } from './route-decision.js';
import type { CompiledTarget } from './target-picker.js';

const R = DATAPLANE_RESPONSES;
/** Largest target response head accepted before the tunnel opens. */
const MAX_RESPONSE_HEAD = 64 * 1024;

/** What the tunnel needs from the data plane. */
export interface UpgradeHost {
  onRequestComplete(): RequestCompleteHook | undefined;
  readonly route: BoundRoute;
  /** `http://…` / `https://…` of a target's pool; undefined for LAMBDA targets. */
  originOf(target: CompiledTarget): string | undefined;
  readonly connectTimeoutMs: number;
  /** Open tunnels' client sockets (the data plane cuts them at stop). */
  readonly tunnels: Set<Socket>;
}

/**
 * HTTP/1.1 `Upgrade: websocket` (RFC 6455 §4): Lattice does not support WebSockets (spec §6
 * quotas table); Trellis passes them through as a documented difference. The upgrade request is
 * routed and authorized like any request, sent to the chosen target with the Lattice headers
 * (spec §3.1), and once the target answers `101` the two connections are joined byte for byte
 * until either closes or the service's idle timeout passes with no data (spec §6). Any other
 * answer is relayed and the connection closed. Both the node:http path and the fast path (which
 * hands upgrades to node:http) end here, on HTTP and HTTPS listeners.
 */
export function tunnelUpgrade(
  host: UpgradeHost,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  l: ListenerState,
): void {
  socket.on('error', destroyQuietly);
  host.tunnels.add(socket);
  socket.once('close', () => host.tunnels.delete(socket));
  const headers = req.headers;
  const requestId = requestIdFor(headers['x-amzn-requestid']);
  const method = req.method ?? 'GET';
  const raw = req.url ?? '/';
  const hook = host.onRequestComplete();
  let record: RequestRecord | null =
    hook === undefined ? null : incomingRequestRecord(req, socket, requestId, l.tls);
  const finish = (reason: FailureReason | undefined, status: number): void => {
    if (record === null || hook === undefined) return;
    const r = record;
    record = null;
    if (reason !== undefined && r.failureReason === undefined) r.failureReason = reason;
    r.responseCode = status;
    r.duration = Date.now() - r.startTime;
    r.bytesReceived = socket.bytesRead;
    r.bytesSent = socket.bytesWritten;
    try {
      hook(r);
    } catch {
      // A failing monitoring hook must never take the data plane down.
    }
  };
  const answer = (status: number, body: string, reason: FailureReason | undefined): void => {
    if (socket.writable)
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-amzn-requestid: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
      );
    socket.destroySoon();
    finish(reason, status);
  };

  const upgrade = String(headers.upgrade ?? '').toLowerCase();
  const url = normalizeRequestTarget(raw);
  if (upgrade !== 'websocket' || url === undefined || raw.charCodeAt(0) !== 47 /* '/' */)
    return answer(400, R.badRequest.body, 'ClientProtocolError');

  const d = new RouteDecision();
  host.route(d, l, headers.host, method, url, req, record);
  const { vpc, choice, target, binding } = d;
  if (target === null || vpc === null || choice === null || binding === null)
    return answer(d.status, d.body, d.reason);
  const origin = host.originOf(target);
  if (origin === undefined || target.address === undefined)
    return answer(400, R.badRequest.body, 'ClientProtocolError'); // LAMBDA: no upgrade

  const out = requestHead(req, url, l, vpc, choice.targetHeader, requestId, d.identityHeaders);
  const secure = origin.startsWith('https:');
  // A namespace VPC's target is reached from its Lattice address (netns/: policy routing).
  const localAddress = target.localAddress;
  // spec §7.3: HTTPS targets' certificates are not validated (as Lattice).
  const up = secure
    ? tlsConnect({
        host: target.address,
        port: target.port,
        rejectUnauthorized: false,
        // tls.connect hands localAddress to net.connect; its typings leave it out.
        ...({ localAddress } as ConnectionOptions),
      })
    : netConnect({ host: target.address, port: target.port, localAddress });
  up.setNoDelay(true);
  let phase: 'connecting' | 'head' | 'open' | 'done' = 'connecting';
  let held: Buffer | null = null;
  let status = 0;
  const connectTimer = setTimeout(() => fail('TargetConnectionError'), host.connectTimeoutMs);
  connectTimer.unref();
  const close = (reason: FailureReason | undefined): void => {
    if (phase === 'done') return;
    phase = 'done';
    clearTimeout(connectTimer);
    socket.destroy();
    up.destroy();
    finish(reason, status);
  };
  function fail(reason: FailureReason): void {
    if (phase === 'done') return;
    if (phase === 'connecting' || (phase === 'head' && status === 0)) {
      phase = 'done';
      clearTimeout(connectTimer);
      up.destroy();
      const timeout = reason === 'TargetDataTimeout';
      const o = timeout ? R.targetTimeout : R.targetFailure;
      answer(o.status, o.body, reason);
      return;
    }
    close(reason);
  }
  up.on('error', () =>
    fail(phase === 'connecting' ? 'TargetConnectionError' : 'TargetConnectionClosed'),
  );
  up.on('close', () => (phase === 'head' ? fail('TargetConnectionClosed') : close(undefined)));
  socket.on('close', () => close(phase === 'open' ? undefined : 'ClientConnectionClosed'));
  up.once(secure ? 'secureConnect' : 'connect', () => {
    if (phase !== 'connecting') return;
    clearTimeout(connectTimer);
    phase = 'head';
    up.write(out);
    if (head.length > 0) up.write(head);
    if (record !== null) record.sentToTargetAt = Date.now();
    // spec §6: the service's idle timeout bounds the wait for the answer and, once open, the
    // time with no data either way (the client socket sees both directions).
    socket.setTimeout(binding.idleTimeoutMs);
    socket.on('timeout', () => (phase === 'open' ? close(undefined) : fail('TargetDataTimeout')));
  });
  up.on('data', function onHead(chunk: Buffer) {
    if (phase !== 'head') return;
    const buf = held === null ? chunk : Buffer.concat([held, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_RESPONSE_HEAD) fail('TargetProtocolError');
      else held = buf;
      return;
    }
    held = null;
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, Math.min(end, 16)));
    if (m === null) return fail('TargetProtocolError');
    status = Number(m[1]);
    if (record !== null) record.firstByteFromTargetAt = Date.now();
    up.removeListener('data', onHead);
    phase = 'open';
    // The target's head as sent, with the request id added (spec §3.2).
    socket.write(
      Buffer.concat([
        buf.subarray(0, end + 2),
        Buffer.from(`x-amzn-requestid: ${requestId}\r\n\r\n`, 'latin1'),
        buf.subarray(end + 4),
      ]),
    );
    socket.setTimeout(binding.idleTimeoutMs); // restarts the timer: now idle means no data
    up.pipe(socket);
    // Only a switched protocol carries client bytes on; any other answer ends the exchange.
    if (status === 101) socket.pipe(up);
  });
}

/** The upgrade request toward the target: client headers minus hop-by-hop/forgeable, plus ours. */
function requestHead(
  req: IncomingMessage,
  url: string,
  l: ListenerState,
  vpc: CompiledVpc,
  targetHeader: string,
  requestId: string,
  identity: readonly string[] | undefined,
): string {
  const raw = req.rawHeaders;
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.toLowerCase() === 'connection') listed = connectionListedHeaders(raw[i + 1]);
  let text = `${req.method ?? 'GET'} ${url} HTTP/1.1\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (isDroppedRequestHeader(lower) || listed?.has(lower)) continue;
    text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  text +=
    `connection: upgrade\r\nupgrade: ${String(req.headers.upgrade)}\r\n` +
    `x-forwarded-for: ${req.socket.remoteAddress ?? ''}\r\n` +
    `x-forwarded-proto: ${l.tls ? 'https' : 'http'}\r\nx-forwarded-port: ${l.portText}\r\n` +
    `x-amzn-lattice-network: ${vpc.networkHeader}\r\n` +
    `x-amzn-lattice-target: ${targetHeader}\r\n` +
    `x-amzn-source-vpc: ${vpc.vpcId}\r\nx-amzn-requestid: ${requestId}\r\n`;
  if (identity !== undefined)
    for (let i = 0; i + 1 < identity.length; i += 2)
      text += `${identity[i]}: ${identity[i + 1]}\r\n`;
  if (req.headers.traceparent === undefined) text += `traceparent: ${newTraceparent()}\r\n`;
  return text + '\r\n';
}

function destroyQuietly(this: Socket): void {
  this.destroy();
}
