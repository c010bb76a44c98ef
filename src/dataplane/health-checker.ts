import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { TargetStatus } from '../model/lattice-types.js';
import type { ResolvedHealthCheck } from '../model/health-check-defaults.js';
import type {
  HealthCheckTarget,
  HealthCheckTargetGroup,
  TargetHealthReport,
  TargetHealthSink,
  TargetHealthView,
} from './target-health.js';
import { parseHttpCodeMatcher, type HttpCodeMatcher } from './health-matcher.js';

/**
 * The `reasonCode` values the health checker reports with a status (ListTargets shows them).
 * spec §1.5 leaves reasonCode undocumented for Lattice, so these are our own readable codes,
 * modelled on Elastic Load Balancing's (`Target.Timeout`, `Target.ResponseCodeMismatch`, …)
 * without the `Target.`/`Elb.` prefixes. HEALTHY carries no reasonCode.
 */
export const HEALTH_REASON_CODES = [
  // INITIAL: registered, the first check has not passed yet (spec §5).
  'InitialHealthChecking',
  // UNAVAILABLE: health checks disabled for the group (spec §5).
  'HealthCheckDisabled',
  // UNAVAILABLE: ALB and LAMBDA target groups are not health checked (spec §5).
  'HealthCheckNotSupported',
  // UNUSED: no listener or rule forwards to the group (spec §1.5).
  'NotInUse',
  // DRAINING: deregistration in progress (spec §1.5).
  'DeregistrationInProgress',
  // UNHEALTHY, after the last failed check:
  'Timeout',
  'ConnectionRefused',
  'ConnectionReset',
  'ResponseCodeMismatch',
  'TlsHandshakeFailed',
  'InvalidResponse',
  'AddressUnresolved',
  'HealthCheckFailed',
] as const;
export type HealthReasonCode = (typeof HEALTH_REASON_CODES)[number];

/** The reason codes a failed probe can end with. */
export type ProbeFailureReason = Extract<
  HealthReasonCode,
  | 'Timeout'
  | 'ConnectionRefused'
  | 'ConnectionReset'
  | 'ResponseCodeMismatch'
  | 'TlsHandshakeFailed'
  | 'InvalidResponse'
  | 'AddressUnresolved'
  | 'HealthCheckFailed'
>;

/** The logger the health checker writes to (structurally the data plane's logger). */
export interface HealthCheckerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of {@link createHealthChecker}. */
export interface HealthCheckerOptions {
  /** Receives every status (or reasonCode) change, batched; `bin/` wires it to the store. */
  sink?: TargetHealthSink;
  logger?: HealthCheckerLogger;
  /** Monotonic clock in milliseconds (default `performance.now`). */
  nowMs?: () => number;
  /** Upper bound on probes in flight at once (default 1024); further due probes wait in order. */
  maxConcurrentProbes?: number;
  /** How long status changes are collected before one `sink.report` call (default 100 ms). */
  reportIntervalMs?: number;
  /**
   * First probes of newly planned targets are spread over
   * `min(interval, max(1 s, newTargets / firstProbesPerSecond))` (default 2000/s), so a cold start
   * with 100k targets spreads them over a whole interval while a single new target is checked
   * within a second and can start taking traffic (spec §5).
   */
  firstProbesPerSecond?: number;
  /**
   * Test hook: multiplies every interval, timeout and spread window (default 1). `0.05` turns the
   * API's 5 s minimum interval into 250 ms; configs may also carry intervals below the API minimum
   * (e.g. 1 s), which the checker accepts as they are.
   */
  timeScale?: number;
  /** Source of jitter in [0, 1) (default Math.random). */
  random?: () => number;
}

/** The active health checker: probes targets (spec §5) and answers {@link TargetHealthView}. */
export interface HealthChecker extends TargetHealthView {
  /** Takes the full health-check plan of a new snapshot; keeps state of targets that remain. */
  update(groups: HealthCheckTargetGroup[]): void;
  /** Starts probing; idempotent. */
  start(): void;
  /** Cancels timers and in-flight probes and flushes pending reports; safe after partial start. */
  stop(): void;
}

/** Health-check probes identify themselves; Lattice does not document its user agent. */
const USER_AGENT = 'Trellis-HealthChecker/1.0';

// ---------------------------------------------------------------------------------------------
// One probe
// ---------------------------------------------------------------------------------------------

/** What one probe needs to know. */
export interface ProbeRequest {
  protocol: ResolvedHealthCheck['protocol'];
  protocolVersion: ResolvedHealthCheck['protocolVersion'];
  address: string;
  port: number;
  path: string;
  timeoutMs: number;
  matcher: HttpCodeMatcher;
  /** Source address (a namespace VPC's Lattice address: the probe goes into that namespace). */
  localAddress?: string;
}

/** The verdict of one probe; `statusCode` when a response head arrived. */
export type ProbeOutcome =
  | { ok: true; statusCode?: number }
  | { ok: false; reasonCode: ProbeFailureReason; statusCode?: number };

const PROBE_OK: ProbeOutcome = Object.freeze({ ok: true });
const PROBE_TIMEOUT: ProbeOutcome = Object.freeze({ ok: false, reasonCode: 'Timeout' });

/** Maps a socket/TLS/parser error to a reason code. */
function failureFor(err: unknown): ProbeOutcome {
  const code = (err as { code?: unknown } | null)?.code;
  const c = typeof code === 'string' ? code : '';
  let reasonCode: ProbeFailureReason = 'HealthCheckFailed';
  if (c === 'ECONNREFUSED') reasonCode = 'ConnectionRefused';
  else if (c === 'ECONNRESET' || c === 'EPIPE' || c === 'ERR_HTTP2_STREAM_CANCEL') {
    reasonCode = 'ConnectionReset';
  } else if (c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_') || c === 'EPROTO') {
    reasonCode = 'TlsHandshakeFailed';
  } else if (c.startsWith('HPE_') || c.startsWith('ERR_HTTP2_')) reasonCode = 'InvalidResponse';
  return { ok: false, reasonCode };
}

function outcomeForStatus(matcher: HttpCodeMatcher, statusCode: number): ProbeOutcome {
  return matcher.matches(statusCode)
    ? { ok: true, statusCode }
    : { ok: false, reasonCode: 'ResponseCodeMismatch', statusCode };
}

function noop(): void {}

type Settle = (outcome: ProbeOutcome) => void;
type Teardown = () => void;

/** Response heads larger than this fail the check (Node's own default header limit). */
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;
/** Bytes a request target may hold; the API pattern for `path` is narrower still (spec §5). */
const SENDABLE_PATH = /^\/[\x21-\x7e]*$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?\r?$/;
const HEAD_END = /\r?\n\r?\n/;
const PROBE_INVALID: ProbeOutcome = Object.freeze({ ok: false, reasonCode: 'InvalidResponse' });
const PROBE_RESET: ProbeOutcome = Object.freeze({ ok: false, reasonCode: 'ConnectionReset' });

/**
 * Judges the bytes of an HTTP/1.x response received so far: an outcome once the status line and
 * the header block are complete (or clearly not HTTP), `undefined` while more bytes are needed.
 * Interim 1xx heads are skipped; `rest` returns what follows them.
 */
export function judgeResponseHead(
  received: string,
  matcher: HttpCodeMatcher,
): { outcome: ProbeOutcome | undefined; rest: string } {
  for (;;) {
    const prefix = received.length < 5 ? received : received.slice(0, 5);
    if (!'HTTP/'.startsWith(prefix)) return { outcome: PROBE_INVALID, rest: received };
    const eol = received.indexOf('\n');
    const end = HEAD_END.exec(received);
    if (eol >= 0 && !STATUS_LINE.test(received.slice(0, eol))) {
      return { outcome: PROBE_INVALID, rest: received };
    }
    if (eol < 0 || !end) {
      const tooBig = received.length > MAX_RESPONSE_HEAD_BYTES;
      return { outcome: tooBig ? PROBE_INVALID : undefined, rest: received };
    }
    const statusCode = Number(received.slice(9, 12));
    if (statusCode >= 100 && statusCode < 200 && statusCode !== 101) {
      received = received.slice(end.index + end[0].length);
      continue;
    }
    return { outcome: outcomeForStatus(matcher, statusCode), rest: received };
  }
}

/**
 * spec §5: `GET <path>` over a new HTTP/1.1 connection that is closed afterwards; HTTPS is TLS
 * without certificate verification (spec §7.3). Written on a plain socket rather than
 * `http.request`: a check needs only the status code, and this costs about half the CPU per
 * probe (0.2 ms against 0.37 ms on loopback), which matters at 100k targets.
 */
function startHttp1Probe(req: ProbeRequest, settle: Settle): Teardown {
  if (!SENDABLE_PATH.test(req.path)) {
    settle({ ok: false, reasonCode: 'HealthCheckFailed' });
    return noop;
  }
  const secure = req.protocol === 'HTTPS';
  const host = net.isIPv6(req.address) ? `[${req.address}]` : req.address;
  const request =
    `GET ${req.path} HTTP/1.1\r\nHost: ${host}:${req.port}\r\nUser-Agent: ${USER_AGENT}\r\n` +
    'Accept: */*\r\nConnection: close\r\n\r\n';
  const socket = secure
    ? tls.connect({
        host: req.address,
        port: req.port,
        // Passed on to the TCP connect (not in the TLS typings).
        ...(req.localAddress !== undefined
          ? ({ localAddress: req.localAddress } as tls.ConnectionOptions)
          : {}),
        rejectUnauthorized: false, // spec §7.3: target certificates are not validated
        // No SNI for IP literals (RFC 6066).
        servername: net.isIP(req.address) ? '' : req.address,
        ALPNProtocols: ['http/1.1'],
      })
    : net.connect({ host: req.address, port: req.port, localAddress: req.localAddress });
  let received = '';
  // Listeners stay for the socket's lifetime: events after settling are swallowed.
  socket.on(secure ? 'secureConnect' : 'connect', () => socket.write(request));
  socket.on('data', (chunk: Buffer) => {
    const judged = judgeResponseHead(received + chunk.toString('latin1'), req.matcher);
    received = judged.rest;
    if (judged.outcome) settle(judged.outcome);
  });
  socket.on('error', (err) => settle(failureFor(err)));
  socket.on('close', () => settle(PROBE_RESET));
  return () => socket.destroy();
}

/** HTTP/2: prior-knowledge h2c for HTTP, ALPN h2 for HTTPS (spec §5 protocolVersion HTTP2). */
function startHttp2Probe(req: ProbeRequest, settle: Settle): Teardown {
  const tls = req.protocol === 'HTTPS';
  const host = net.isIPv6(req.address) ? `[${req.address}]` : req.address;
  const options: http2.SecureClientSessionOptions = {
    rejectUnauthorized: false, // spec §7.3
    settings: { enablePush: false },
  };
  if (tls && net.isIP(req.address)) options.servername = '';
  // Passed on to the TCP connect (not in the HTTP/2 typings).
  if (req.localAddress !== undefined) Object.assign(options, { localAddress: req.localAddress });
  const session = http2.connect(`${tls ? 'https' : 'http'}://${host}:${req.port}`, options);
  session.on('error', (err) => settle(failureFor(err)));
  session.on('close', () => settle({ ok: false, reasonCode: 'ConnectionReset' }));
  const stream = session.request(
    { ':method': 'GET', ':path': req.path, 'user-agent': USER_AGENT, accept: '*/*' },
    { endStream: true },
  );
  stream.on('error', (err) => settle(failureFor(err)));
  stream.on('response', (headers) => {
    settle(outcomeForStatus(req.matcher, Number(headers[':status'])));
  });
  stream.on('close', () => settle({ ok: false, reasonCode: 'ConnectionReset' }));
  return () => session.destroy();
}

/** A TCP health check (the HealthCheckConfig protocol enum allows TCP): connecting is success. */
function startTcpProbe(req: ProbeRequest, settle: Settle): Teardown {
  const socket = net.connect({ host: req.address, port: req.port, localAddress: req.localAddress });
  socket.on('error', (err) => settle(failureFor(err)));
  socket.on('connect', () => settle(PROBE_OK));
  return () => socket.destroy();
}

/**
 * Runs one health check against one target. `done` is called at most once, never after the
 * returned abort function ran; by the time `done` runs or abort returns, the probe's socket is
 * destroyed and its timer cleared. Never throws: anything the target does becomes an outcome.
 */
export function probeTarget(req: ProbeRequest, done: (outcome: ProbeOutcome) => void): () => void {
  let finished = false;
  let teardown: Teardown | undefined;
  const finish = (outcome: ProbeOutcome | undefined): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (teardown) {
      try {
        teardown();
      } catch {
        // destroying a socket that is already gone is not an error worth reporting
      }
    }
    if (outcome) done(outcome);
  };
  // spec §5: no response within the timeout is a failure.
  const timer = setTimeout(finish, req.timeoutMs, PROBE_TIMEOUT);
  const start =
    req.protocol === 'TCP'
      ? startTcpProbe
      : req.protocolVersion === 'HTTP2'
        ? startHttp2Probe
        : startHttp1Probe;
  try {
    const td = start(req, finish);
    if (finished) td();
    else teardown = td;
  } catch (err) {
    // e.g. a path Node refuses to send; the probe fails instead of the process.
    finish(failureFor(err));
  }
  return () => finish(undefined);
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/** How a target is handled under the current plan. */
type Mode = 'probe' | 'DRAINING' | 'UNUSED' | 'DISABLED' | 'NOT_SUPPORTED';

/** Floors that keep a mis-scaled or zero config from probing in a busy loop. */
const MIN_INTERVAL_MS = 10;
const MIN_TIMEOUT_MS = 1;

function intervalMsOf(hc: ResolvedHealthCheck, timeScale: number): number {
  return Math.max(MIN_INTERVAL_MS, hc.healthCheckIntervalSeconds * 1000 * timeScale);
}

function timeoutMsOf(hc: ResolvedHealthCheck, timeScale: number): number {
  return Math.max(MIN_TIMEOUT_MS, hc.healthCheckTimeoutSeconds * 1000 * timeScale);
}

class GroupState {
  readonly targets = new Map<string, TargetState>();
  type: HealthCheckTargetGroup['type'];
  inUse: boolean;
  healthCheck: ResolvedHealthCheck;
  /** Identity of the probe configuration: a change re-plans the group's probes. */
  probeKey: string;
  matcher: HttpCodeMatcher;
  intervalMs: number;
  timeoutMs: number;
  /** Bumped by each `update` that lists the group; groups left behind are forgotten. */
  seen = 0;
  constructor(
    readonly targetGroupId: string,
    plan: HealthCheckTargetGroup,
    probeKey: string,
    matcher: HttpCodeMatcher,
    timeScale: number,
  ) {
    this.type = plan.type;
    this.inUse = plan.inUse;
    this.healthCheck = plan.healthCheck;
    this.probeKey = probeKey;
    this.matcher = matcher;
    this.intervalMs = intervalMsOf(plan.healthCheck, timeScale);
    this.timeoutMs = timeoutMsOf(plan.healthCheck, timeScale);
  }
}

class TargetState {
  status: TargetStatus = 'INITIAL';
  reasonCode: HealthReasonCode | undefined = 'InitialHealthChecking';
  mode: Mode = 'probe';
  successes = 0;
  failures = 0;
  /** When the next (or current) check is due, on the `nowMs` clock. */
  dueAt = 0;
  /** Position in the scheduler heap; -1 when not scheduled. */
  heapIndex = -1;
  /** Waiting in the ready queue for a probe slot. */
  queued = false;
  /** Abort function of the probe in flight. */
  abort: (() => void) | undefined = undefined;
  removed = false;
  seen = 0;
  constructor(
    readonly group: GroupState,
    readonly key: string,
    readonly id: string,
    readonly port: number,
    public address: string | undefined,
    public localAddress: string | undefined,
  ) {}
}

function modeOf(group: HealthCheckTargetGroup, target: HealthCheckTarget): Mode {
  if (target.draining) return 'DRAINING';
  if (!group.inUse) return 'UNUSED';
  if (group.type === 'ALB' || group.type === 'LAMBDA') return 'NOT_SUPPORTED';
  if (!group.healthCheck.enabled) return 'DISABLED';
  return 'probe';
}

const STATIC_STATUS: Record<Exclude<Mode, 'probe'>, [TargetStatus, HealthReasonCode]> = {
  DRAINING: ['DRAINING', 'DeregistrationInProgress'],
  UNUSED: ['UNUSED', 'NotInUse'],
  DISABLED: ['UNAVAILABLE', 'HealthCheckDisabled'],
  NOT_SUPPORTED: ['UNAVAILABLE', 'HealthCheckNotSupported'],
};

function probeKeyOf(hc: ResolvedHealthCheck): string {
  return [
    hc.protocol,
    hc.protocolVersion,
    hc.port ?? '',
    hc.path,
    hc.healthCheckIntervalSeconds,
    hc.healthCheckTimeoutSeconds,
    hc.healthyThresholdCount,
    hc.unhealthyThresholdCount,
    hc.matcher.httpCode,
  ].join('\u0000');
}

/** Min-heap of targets by `dueAt`, indexed so that a target can be removed in O(log n). */
class DueHeap {
  readonly items: TargetState[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): TargetState | undefined {
    return this.items[0];
  }
  push(t: TargetState): void {
    t.heapIndex = this.items.length;
    this.items.push(t);
    this.up(t.heapIndex);
  }
  pop(): TargetState | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }
  remove(t: TargetState): void {
    const i = t.heapIndex;
    if (i < 0) return;
    const last = this.items.pop()!;
    t.heapIndex = -1;
    if (last === t) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }
  clear(): void {
    for (const t of this.items) t.heapIndex = -1;
    this.items.length = 0;
  }
  private up(i: number): void {
    const items = this.items;
    const t = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (parent.dueAt <= t.dueAt) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = t;
    t.heapIndex = i;
  }
  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const t = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && items[r]!.dueAt < items[l]!.dueAt ? r : l;
      const child = items[c]!;
      if (child.dueAt >= t.dueAt) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = t;
    t.heapIndex = i;
  }
}

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

/** Scheduler wake-ups closer together than this are merged (coarse timers, like undici's). */
const TIMER_SLACK_MS = 5;

/**
 * The active health checker of the data plane (spec §5).
 *
 * Status rules:
 * - a target whose group is probed starts `INITIAL`; one passing check makes it HEALTHY (spec
 *   §5, §8.13); `unhealthyThresholdCount` consecutive failures make it UNHEALTHY, from INITIAL
 *   too; UNHEALTHY → HEALTHY takes `healthyThresholdCount` consecutive passes;
 * - checks disabled → UNAVAILABLE; ALB/LAMBDA groups → UNAVAILABLE (not health checked); group
 *   not in use → UNUSED; draining → DRAINING; none of these are probed. A target that comes back
 *   to being probed starts over at INITIAL.
 *
 * Routing rule (`isRoutable`): HEALTHY and UNAVAILABLE only. INITIAL is not routable even when no
 * other target is HEALTHY, because Lattice sends traffic to a new target only after its initial
 * check passes (spec §5); a group whose targets are all INITIAL (just attached, or just started)
 * still serves traffic because the picker fails open when nothing is routable (spec §5
 * "Fail-open"). DRAINING, UNUSED, UNHEALTHY and unknown targets are not routable either.
 */
export function createHealthChecker(options: HealthCheckerOptions = {}): HealthChecker {
  return new HealthCheckerImpl(options);
}

class HealthCheckerImpl implements HealthChecker {
  generation = 0;
  private readonly groups = new Map<string, GroupState>();
  private readonly heap = new DueHeap();
  private readonly ready: TargetState[] = [];
  private readyHead = 0;
  private readonly inFlight = new Set<TargetState>();
  private readonly pendingReports = new Map<string, TargetHealthReport>();
  private running = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerDueAt = Infinity;
  private reportTimer: NodeJS.Timeout | undefined = undefined;
  private updates = 0;
  private readonly sink: TargetHealthSink | undefined;
  private readonly logger: HealthCheckerLogger | undefined;
  private readonly nowMs: () => number;
  private readonly maxConcurrent: number;
  private readonly reportIntervalMs: number;
  private readonly firstProbesPerSecond: number;
  private readonly timeScale: number;
  private readonly random: () => number;
  private readonly onTimer = (): void => this.tick();
  private readonly onReportTimer = (): void => this.flushReports();

  constructor(options: HealthCheckerOptions) {
    this.sink = options.sink;
    this.logger = options.logger;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.maxConcurrent = Math.max(1, options.maxConcurrentProbes ?? 1024);
    this.reportIntervalMs = options.reportIntervalMs ?? 100;
    this.firstProbesPerSecond = options.firstProbesPerSecond ?? 2000;
    this.timeScale = options.timeScale ?? 1;
    this.random = options.random ?? Math.random;
  }

  // ----- TargetHealthView (request hot path: two Map lookups) -----

  status(targetGroupId: string, targetKey: string): TargetStatus {
    return this.groups.get(targetGroupId)?.targets.get(targetKey)?.status ?? 'INITIAL';
  }

  isRoutable(targetGroupId: string, targetKey: string): boolean {
    const s = this.groups.get(targetGroupId)?.targets.get(targetKey)?.status;
    return s === 'HEALTHY' || s === 'UNAVAILABLE';
  }

  // ----- plan -----

  update(plan: HealthCheckTargetGroup[]): void {
    const seen = ++this.updates;
    const fresh: TargetState[] = [];
    for (const g of plan) {
      let group = this.groups.get(g.targetGroupId);
      if (group?.seen === seen) continue; // a group listed twice: the first one wins
      const probeKey = probeKeyOf(g.healthCheck);
      if (!group) {
        group = new GroupState(
          g.targetGroupId,
          g,
          probeKey,
          this.compileMatcher(g),
          this.timeScale,
        );
        this.groups.set(g.targetGroupId, group);
      } else {
        group.type = g.type;
        group.inUse = g.inUse;
        if (group.probeKey !== probeKey) this.replanGroup(group, g, probeKey, fresh);
        else group.healthCheck = g.healthCheck; // only `enabled` may differ
      }
      group.seen = seen;
      for (const t of g.targets) {
        let target = group.targets.get(t.key);
        if (target?.seen === seen) continue;
        const mode = modeOf(g, t);
        if (!target) {
          target = new TargetState(group, t.key, t.id, t.port, t.address, t.localAddress);
          group.targets.set(t.key, target);
          target.seen = seen;
          this.enterMode(target, mode, fresh);
          if (mode !== 'probe') continue;
          // A new probed target reports INITIAL so ListTargets shows it before the first check.
          this.queueReport(target);
          continue;
        }
        target.seen = seen;
        if (target.address !== t.address || target.localAddress !== t.localAddress) {
          target.address = t.address;
          target.localAddress = t.localAddress;
          if (target.mode === 'probe' && mode === 'probe') this.restartProbing(target, fresh);
        }
        if (target.mode !== mode) this.enterMode(target, mode, fresh);
      }
      // Targets no longer registered are forgotten.
      for (const target of group.targets.values()) {
        if (target.seen !== seen) this.forget(target);
      }
    }
    for (const group of this.groups.values()) {
      if (group.seen === seen) continue;
      for (const target of group.targets.values()) this.forget(target);
      this.groups.delete(group.targetGroupId);
    }
    if (this.running) {
      this.scheduleFirstProbes(fresh);
      this.arm();
      this.pump();
    }
  }

  private compileMatcher(g: HealthCheckTargetGroup): HttpCodeMatcher {
    try {
      return parseHttpCodeMatcher(g.healthCheck.matcher.httpCode);
    } catch (err) {
      // The API validates matchers; should one slip through, check with Lattice's default.
      this.logger?.warn('invalid health-check matcher, using 200', {
        targetGroupId: g.targetGroupId,
        httpCode: g.healthCheck.matcher.httpCode,
        error: (err as Error).message,
      });
      return parseHttpCodeMatcher('200');
    }
  }

  /** The health check of a group changed (spec §5: UpdateTargetGroup at any time). */
  private replanGroup(
    group: GroupState,
    g: HealthCheckTargetGroup,
    probeKey: string,
    fresh: TargetState[],
  ): void {
    const matcherChanged = group.healthCheck.matcher.httpCode !== g.healthCheck.matcher.httpCode;
    group.healthCheck = g.healthCheck;
    group.probeKey = probeKey;
    if (matcherChanged) group.matcher = this.compileMatcher(g);
    group.intervalMs = intervalMsOf(g.healthCheck, this.timeScale);
    group.timeoutMs = timeoutMsOf(g.healthCheck, this.timeScale);
    // Statuses stay; counters restart because they counted a different check.
    for (const target of group.targets.values()) {
      if (target.mode === 'probe') this.restartProbing(target, fresh);
    }
  }

  private restartProbing(target: TargetState, fresh: TargetState[]): void {
    this.cancel(target);
    target.successes = 0;
    target.failures = 0;
    fresh.push(target);
  }

  private enterMode(target: TargetState, mode: Mode, fresh: TargetState[]): void {
    const wasProbed = target.mode === 'probe' && target.status !== 'INITIAL';
    target.mode = mode;
    target.successes = 0;
    target.failures = 0;
    this.cancel(target);
    if (mode === 'probe') {
      // Coming (back) into probing: the target must pass a check again (spec §5).
      if (!wasProbed) this.setStatus(target, 'INITIAL', 'InitialHealthChecking');
      fresh.push(target);
    } else {
      const [status, reasonCode] = STATIC_STATUS[mode];
      this.setStatus(target, status, reasonCode);
    }
  }

  private forget(target: TargetState): void {
    this.cancel(target);
    target.removed = true;
    target.group.targets.delete(target.key);
    // A deregistered target's last status must not be written back over its removal.
    this.pendingReports.delete(reportKey(target));
  }

  /** Unschedules a target and aborts its probe in flight. */
  private cancel(target: TargetState): void {
    this.heap.remove(target);
    target.queued = false;
    if (target.abort) {
      const abort = target.abort;
      target.abort = undefined;
      this.inFlight.delete(target);
      abort();
    }
  }

  // ----- lifecycle -----

  start(): void {
    if (this.running) return;
    this.running = true;
    const all: TargetState[] = [];
    for (const group of this.groups.values()) {
      for (const target of group.targets.values()) {
        if (target.mode === 'probe' && target.heapIndex < 0 && !target.abort) all.push(target);
      }
    }
    this.scheduleFirstProbes(all);
    this.arm();
    if (this.pendingReports.size) this.armReports();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Infinity;
    this.heap.clear();
    for (let i = this.readyHead; i < this.ready.length; i++) this.ready[i]!.queued = false;
    this.ready.length = 0;
    this.readyHead = 0;
    for (const target of [...this.inFlight]) this.cancel(target);
    this.flushReports();
  }

  // ----- scheduling -----

  private scheduleFirstProbes(targets: TargetState[]): void {
    if (!this.running || targets.length === 0) return;
    const now = this.nowMs();
    const spreadMs = Math.max(
      1000 * this.timeScale,
      (targets.length * 1000) / this.firstProbesPerSecond,
    );
    for (const target of targets) {
      if (target.removed || target.mode !== 'probe') continue;
      const window = Math.min(target.group.intervalMs, spreadMs);
      target.dueAt = now + this.random() * window;
      this.heap.remove(target);
      this.heap.push(target);
    }
  }

  /** Keeps one timer armed for the earliest due target. */
  private arm(): void {
    if (!this.running) return;
    const top = this.heap.peek();
    if (!top) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerDueAt = Infinity;
      return;
    }
    if (this.timer && this.timerDueAt <= top.dueAt + TIMER_SLACK_MS) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.max(0, Math.ceil(top.dueAt - this.nowMs()));
    this.timerDueAt = top.dueAt;
    this.timer = setTimeout(this.onTimer, delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    if (!this.running) return;
    const limit = this.nowMs() + TIMER_SLACK_MS;
    for (let top = this.heap.peek(); top && top.dueAt <= limit; top = this.heap.peek()) {
      this.heap.pop();
      top.queued = true;
      this.ready.push(top);
    }
    this.pump();
    this.arm();
  }

  /** Starts queued probes while there is room under the concurrency cap. */
  private pump(): void {
    while (this.running && this.inFlight.size < this.maxConcurrent) {
      if (this.readyHead >= this.ready.length) break;
      const target = this.ready[this.readyHead]!;
      this.ready[this.readyHead++] = undefined!;
      if (!target.queued || target.removed) continue;
      target.queued = false;
      this.startProbe(target);
    }
    if (this.readyHead >= this.ready.length) {
      this.ready.length = 0;
      this.readyHead = 0;
    } else if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
  }

  private startProbe(target: TargetState): void {
    const group = target.group;
    if (target.address === undefined) {
      this.onProbeDone(target, { ok: false, reasonCode: 'AddressUnresolved' });
      return;
    }
    const req: ProbeRequest = {
      protocol: group.healthCheck.protocol,
      protocolVersion: group.healthCheck.protocolVersion,
      address: target.address,
      port: group.healthCheck.port ?? target.port,
      path: group.healthCheck.path,
      timeoutMs: group.timeoutMs,
      matcher: group.matcher,
      ...(target.localAddress !== undefined ? { localAddress: target.localAddress } : {}),
    };
    this.inFlight.add(target);
    let abort: (() => void) | undefined = undefined;
    let doneEarly: ProbeOutcome | undefined;
    abort = probeTarget(req, (outcome) => {
      if (!abort) {
        doneEarly = outcome; // settled synchronously inside probeTarget
        return;
      }
      if (target.abort !== abort) return; // cancelled meanwhile
      target.abort = undefined;
      this.inFlight.delete(target);
      this.onProbeDone(target, outcome);
      this.pump();
    });
    if (doneEarly) {
      this.inFlight.delete(target);
      this.onProbeDone(target, doneEarly);
      return;
    }
    target.abort = abort;
  }

  private onProbeDone(target: TargetState, outcome: ProbeOutcome): void {
    if (!this.running || target.removed || target.mode !== 'probe') return;
    const hc = target.group.healthCheck;
    if (outcome.ok) {
      target.failures = 0;
      target.successes++;
      // spec §5/§8.13: one pass takes a new target out of INITIAL; recovering from UNHEALTHY
      // takes healthyThresholdCount consecutive passes.
      if (
        target.status === 'INITIAL' ||
        (target.status === 'UNHEALTHY' && target.successes >= hc.healthyThresholdCount)
      ) {
        this.setStatus(target, 'HEALTHY', undefined);
      }
    } else {
      target.successes = 0;
      target.failures++;
      if (target.status === 'UNHEALTHY') {
        this.setStatus(target, 'UNHEALTHY', outcome.reasonCode); // keep the latest reason
      } else if (target.failures >= hc.unhealthyThresholdCount) {
        this.setStatus(target, 'UNHEALTHY', outcome.reasonCode);
      }
    }
    // spec §5: "per target, independent of response time" — the next check is due one interval
    // after this one was due, or now if the check took longer than that.
    const now = this.nowMs();
    target.dueAt = Math.max(target.dueAt + target.group.intervalMs, now);
    this.heap.push(target);
    this.arm();
  }

  // ----- reporting -----

  private setStatus(
    target: TargetState,
    status: TargetStatus,
    reasonCode: HealthReasonCode | undefined,
  ): void {
    if (target.status === status && target.reasonCode === reasonCode) return;
    if (target.status !== status) this.generation++;
    target.status = status;
    target.reasonCode = reasonCode;
    this.queueReport(target);
  }

  private queueReport(target: TargetState): void {
    if (!this.sink) return;
    const report: TargetHealthReport = {
      targetGroupId: target.group.targetGroupId,
      targetId: target.id,
      port: target.port,
      status: target.status,
    };
    if (target.reasonCode !== undefined) report.reasonCode = target.reasonCode;
    const key = reportKey(target);
    this.pendingReports.delete(key); // keep insertion order = order of the latest change
    this.pendingReports.set(key, report);
    this.armReports();
  }

  private armReports(): void {
    if (this.running && !this.reportTimer && this.pendingReports.size) {
      this.reportTimer = setTimeout(this.onReportTimer, this.reportIntervalMs);
    }
  }

  private flushReports(): void {
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    if (!this.sink || this.pendingReports.size === 0) return;
    const reports = [...this.pendingReports.values()];
    this.pendingReports.clear();
    try {
      this.sink.report(reports);
    } catch (err) {
      this.logger?.error('target health sink failed', {
        error: (err as Error)?.message ?? String(err),
        reports: reports.length,
      });
    }
  }
}

function reportKey(target: TargetState): string {
  return `${target.group.targetGroupId}\u0000${target.key}`;
}
