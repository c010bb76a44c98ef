import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TargetStatus } from '../model/lattice-types.js';
import type { ResolvedHealthCheck } from '../model/health-check-defaults.js';
import type { HealthCheckTargetGroup, TargetHealthReport } from './target-health.js';
import {
  createHealthChecker,
  judgeResponseHead,
  probeTarget,
  type HealthChecker,
  type HealthCheckerOptions,
  type ProbeOutcome,
  type ProbeRequest,
} from './health-checker.js';
import { parseHttpCodeMatcher } from './health-matcher.js';
import fc from 'fast-check';

// Intervals in these tests are config seconds scaled by TIME_SCALE (a test hook of the checker):
// interval 1 s → 100 ms, timeout 1 s → 100 ms. The checker accepts intervals below the API's 5 s
// minimum; only the API validates that range.
const TIME_SCALE = 0.1;

// A self-signed P-256 certificate (CN=trellis-health-check-test, valid until 2126) for the HTTPS
// probes: spec §7.3 says target certificates are not validated.
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgt08nJ8eniV3EPDYN
YwNebwm3YP9lmN4gtxu1OJCeTT2hRANCAAQYaBr8hJH3qVBotdz63I8jjJK/0wjA
KTAEKevfWBWM7WQMUKMp7TyQiMwus6vPJ1ZMrYkArSMODi5rq6HKfp69
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBnzCCAUWgAwIBAgIUQghx8Dr1WAZ+YGUlo1cZGnEbv4kwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZdHJlbGxpcy1oZWFsdGgtY2hlY2stdGVzdDAgFw0yNjExMjYx
MTE4NTdaGA8yMTI2MTEwMjExMTg1N1owJDEiMCAGA1UEAwwZdHJlbGxpcy1oZWFs
dGgtY2hlY2stdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBhoGvyEkfep
UGi13PrcjyOMkr/TCMApMAQp699YFYztZAxQoyntPJCIzC6zq88nVkytiQCtIw4O
Lmurocp+nr2jUzBRMB0GA1UdDgQWBBTgfl3q4t0reVRsakuPk9yV55mJ1jAfBgNV
HSMEGDAWgBTgfl3q4t0reVRsakuPk9yV55mJ1jAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0gAMEUCIQCFFCX8lBXU8yrx6k+LshMCQmmGfIk0uUVVDpBZI0iL
IgIgFGe+jOmZ+5s5XlOCaswD+DtIM7J4ltpeJiazNNG8pfY=
-----END CERTIFICATE-----
`;

// ----- helpers -----

interface TestServer {
  port: number;
  host: string;
  connections: number;
  close(): Promise<void>;
}

const servers = new Set<{ close(): Promise<void> }>();
after(async () => {
  for (const s of servers) await s.close();
});

async function listen(
  server: net.Server | http2.Http2Server | http2.Http2SecureServer,
  host = '127.0.0.1',
): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const out: TestServer = {
    port: 0,
    host,
    connections: 0,
    close: async () => {
      servers.delete(out);
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise((r) => server.close(r));
    },
  };
  server.on('connection', (s: net.Socket) => {
    out.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, host);
  await once(server, 'listening');
  out.port = (server.address() as AddressInfo).port;
  servers.add(out);
  return out;
}

/** An HTTP/1.1 server answering `/status/<code>` with that code and everything else with `code()`. */
async function httpServer(
  onRequest?: (req: http.IncomingMessage) => number | undefined,
  host?: string,
): Promise<TestServer & { requests: http.IncomingMessage[] }> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    const fromPath = /^\/status\/(\d+)/.exec(req.url ?? '');
    const code = fromPath ? Number(fromPath[1]) : (onRequest?.(req) ?? 200);
    if (code === 0) return; // hang
    res.writeHead(code, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
  const s = await listen(server, host);
  return Object.assign(s, { requests });
}

/** A raw TCP server whose connections are handled by `onSocket` (misbehaving targets). */
async function rawServer(onSocket: (socket: net.Socket) => void): Promise<TestServer> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.resume(); // read (and drop) the request, so the client's close is noticed
    onSocket(socket);
  });
  return listen(server);
}

function healthCheck(overrides: Partial<ResolvedHealthCheck> = {}): ResolvedHealthCheck {
  return {
    enabled: true,
    protocol: 'HTTP',
    protocolVersion: 'HTTP1',
    port: undefined,
    path: '/',
    healthCheckIntervalSeconds: 1,
    healthCheckTimeoutSeconds: 1,
    healthyThresholdCount: 3,
    unhealthyThresholdCount: 2,
    matcher: { httpCode: '200' },
    ...overrides,
  };
}

function group(
  targetGroupId: string,
  ports: Array<number | { port: number; address?: string; draining?: boolean }>,
  hc: Partial<ResolvedHealthCheck> = {},
  extra: Partial<HealthCheckTargetGroup> = {},
): HealthCheckTargetGroup {
  return {
    targetGroupId,
    type: 'IP',
    healthCheck: healthCheck(hc),
    inUse: true,
    targets: ports.map((p) => {
      const t = typeof p === 'number' ? { port: p } : p;
      const address = 'address' in t ? t.address : '127.0.0.1';
      const id = address ?? 'i-0123456789abcdef0';
      return { key: `${id}:${t.port}`, id, port: t.port, address, draining: t.draining ?? false };
    }),
    ...extra,
  };
}

function key(port: number, address = '127.0.0.1'): string {
  return `${address}:${port}`;
}

function checker(options: HealthCheckerOptions = {}): HealthChecker {
  const c = createHealthChecker({ timeScale: TIME_SCALE, reportIntervalMs: 20, ...options });
  const stop = { close: async () => c.stop() };
  servers.add(stop);
  return c;
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitForStatus(
  c: HealthChecker,
  tg: string,
  k: string,
  status: TargetStatus,
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(
    `${tg} ${k} → ${status} (is ${c.status(tg, k)})`,
    () => c.status(tg, k) === status,
    timeoutMs,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function recordingSink(): {
  reports: TargetHealthReport[];
  calls: number;
  report(r: TargetHealthReport[]): void;
} {
  const sink = {
    reports: [] as TargetHealthReport[],
    calls: 0,
    report(r: TargetHealthReport[]) {
      sink.calls++;
      sink.reports.push(...r);
    },
  };
  return sink;
}

// ----- tests -----

describe('health checker: status transitions', () => {
  it('INITIAL → HEALTHY after one passing check, with a GET on a new connection each time', async () => {
    const c = checker();
    const seen: TargetStatus[] = [];
    const s = await httpServer(() => {
      seen.push(c.status('tg-1', key(s.port)));
      return 200;
    });
    c.update([group('tg-1', [s.port], { path: '/health?deep=1' })]);
    assert.equal(c.status('tg-1', key(s.port)), 'INITIAL');
    assert.equal(c.isRoutable('tg-1', key(s.port)), false);
    c.start();
    await waitFor('three checks', () => s.requests.length >= 3);
    // spec §5/§8.13: one passing check is enough for a new target (healthyThresholdCount is 5
    // here). On a loaded machine a check may time out before it is judged, so allow one extra
    // INITIAL before the first HEALTHY, but far fewer than the threshold's five.
    assert.equal(seen[0], 'INITIAL');
    const firstHealthy = seen.indexOf('HEALTHY');
    assert.ok(firstHealthy >= 1 && firstHealthy <= 2, `seen ${seen.join(',')}`);
    assert.ok(
      seen.slice(firstHealthy).every((x) => x === 'HEALTHY'),
      `seen ${seen.join(',')}`,
    );
    assert.equal(c.isRoutable('tg-1', key(s.port)), true);
    const req = s.requests[0]!;
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/health?deep=1');
    assert.equal(req.headers.host, `127.0.0.1:${s.port}`);
    assert.match(req.headers['user-agent'] ?? '', /HealthChecker/);
    // spec §5: each check opens a new connection and closes it afterwards.
    assert.equal(s.connections, s.requests.length);
    c.stop();
  });

  it('probes IPv6 targets on [::1]', async () => {
    const c = checker();
    const s = await httpServer(undefined, '::1');
    c.update([group('tg-v6', [{ port: s.port, address: '::1' }])]);
    c.start();
    await waitForStatus(c, 'tg-v6', key(s.port, '::1'), 'HEALTHY');
    assert.equal(s.requests[0]!.headers.host, `[::1]:${s.port}`);
    c.stop();
  });

  it('HEALTHY → UNHEALTHY after unhealthyThresholdCount failures, back after healthyThresholdCount passes', async () => {
    const c = checker();
    let code = 200;
    const log: Array<[number, TargetStatus]> = [];
    const s = await httpServer(() => {
      log.push([code, c.status('tg-1', key(s.port))]);
      return code;
    });
    c.update([group('tg-1', [s.port], { unhealthyThresholdCount: 2, healthyThresholdCount: 3 })]);
    c.start();
    await waitForStatus(c, 'tg-1', key(s.port), 'HEALTHY');
    const failFrom = log.length;
    code = 503;
    await waitForStatus(c, 'tg-1', key(s.port), 'UNHEALTHY');
    await waitFor('one more failing check', () => log.length >= failFrom + 3);
    // The status each failing check saw before it answered: still HEALTHY after one failure.
    assert.deepEqual(
      log.slice(failFrom, failFrom + 3).map(([, st]) => st),
      ['HEALTHY', 'HEALTHY', 'UNHEALTHY'],
    );
    assert.equal(c.isRoutable('tg-1', key(s.port)), false);
    const passFrom = log.length;
    code = 200;
    await waitForStatus(c, 'tg-1', key(s.port), 'HEALTHY');
    await waitFor('one more passing check', () => log.length >= passFrom + 4);
    assert.deepEqual(
      log.slice(passFrom, passFrom + 4).map(([, st]) => st),
      ['UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY', 'HEALTHY'],
    );
    c.stop();
  });

  it('a stopped target goes UNHEALTHY with ConnectionRefused; INITIAL targets go UNHEALTHY too', async () => {
    const sink = recordingSink();
    const c = checker({ sink });
    const s = await httpServer();
    const dead = await httpServer();
    await dead.close();
    c.update([group('tg-1', [s.port, dead.port])]);
    c.start();
    await waitForStatus(c, 'tg-1', key(dead.port), 'UNHEALTHY');
    await waitForStatus(c, 'tg-1', key(s.port), 'HEALTHY');
    await s.close();
    await waitForStatus(c, 'tg-1', key(s.port), 'UNHEALTHY');
    await sleep(50);
    const last = sink.reports.filter((r) => r.port === s.port).at(-1);
    assert.deepEqual(last, {
      targetGroupId: 'tg-1',
      targetId: '127.0.0.1',
      port: s.port,
      status: 'UNHEALTHY',
      reasonCode: 'ConnectionRefused',
    });
    c.stop();
  });

  it('a target without a resolved address goes UNHEALTHY with AddressUnresolved', async () => {
    const sink = recordingSink();
    const c = checker({ sink });
    c.update([group('tg-1', [{ port: 8080, address: undefined }])]);
    c.start();
    await waitForStatus(c, 'tg-1', 'i-0123456789abcdef0:8080', 'UNHEALTHY');
    c.stop();
    assert.equal(sink.reports.at(-1)?.reasonCode, 'AddressUnresolved');
  });
});

describe('health checker: matcher.httpCode', () => {
  const cases: Array<{ answer: number; httpCode: string; status: TargetStatus }> = [
    { answer: 200, httpCode: '200', status: 'HEALTHY' },
    { answer: 202, httpCode: '200', status: 'UNHEALTHY' },
    { answer: 202, httpCode: '200,202', status: 'HEALTHY' },
    { answer: 204, httpCode: '200,202', status: 'UNHEALTHY' },
    { answer: 299, httpCode: '200-299', status: 'HEALTHY' },
    { answer: 301, httpCode: '200-299', status: 'UNHEALTHY' },
    { answer: 404, httpCode: '200,300-399,404', status: 'HEALTHY' },
    { answer: 302, httpCode: '200,300-399,404', status: 'HEALTHY' },
    { answer: 500, httpCode: '200-499', status: 'UNHEALTHY' },
  ];
  it('judges answers against lists and ranges (one group per case)', async () => {
    const sink = recordingSink();
    const c = checker({ sink });
    const s = await httpServer();
    c.update(
      cases.map((k, i) =>
        group(`tg-${i}`, [s.port], {
          path: `/status/${k.answer}`,
          matcher: { httpCode: k.httpCode },
        }),
      ),
    );
    c.start();
    for (const [i, k] of cases.entries()) {
      await waitForStatus(c, `tg-${i}`, key(s.port), k.status);
    }
    c.stop();
    for (const [i, k] of cases.entries()) {
      if (k.status !== 'UNHEALTHY') continue;
      const last = sink.reports.filter((r) => r.targetGroupId === `tg-${i}`).at(-1);
      assert.equal(last?.reasonCode, 'ResponseCodeMismatch', `${k.answer} vs ${k.httpCode}`);
    }
  });
});

describe('health checker: misbehaving targets', () => {
  const cases: Array<{ name: string; onSocket: (s: net.Socket) => void; reasonCode: string }> = [
    { name: 'never answers', onSocket: () => {}, reasonCode: 'Timeout' },
    {
      name: 'sends headers slowly',
      onSocket: (s) => {
        const text = 'HTTP/1.1 200 OK\r\nx-slow: ' + 'a'.repeat(200);
        let i = 0;
        const t = setInterval(() => (i < text.length ? s.write(text[i++]!) : clearInterval(t)), 20);
        s.on('close', () => clearInterval(t));
      },
      reasonCode: 'Timeout',
    },
    {
      name: 'answers garbage',
      onSocket: (s) => s.end('garbage garbage garbage\r\n\r\n'),
      reasonCode: 'InvalidResponse',
    },
    {
      name: 'answers a bad status line',
      onSocket: (s) => s.end('HTTP/1.1 abc OK\r\n\r\n'),
      reasonCode: 'InvalidResponse',
    },
    {
      name: 'resets the connection',
      onSocket: (s) => s.resetAndDestroy(),
      reasonCode: 'ConnectionReset',
    },
    {
      name: 'closes without answering',
      onSocket: (s) => s.end(),
      reasonCode: 'ConnectionReset',
    },
    {
      name: 'sends oversized headers',
      onSocket: (s) => s.end(`HTTP/1.1 200 OK\r\nx-big: ${'b'.repeat(100_000)}\r\n\r\n`),
      reasonCode: 'InvalidResponse',
    },
    {
      name: 'speaks TLS to a plain HTTP check',
      onSocket: (s) => s.end(Buffer.from('160303002a', 'hex')),
      reasonCode: 'InvalidResponse',
    },
  ];
  for (const k of cases) {
    it(`${k.name} → UNHEALTHY (${k.reasonCode})`, async () => {
      const sink = recordingSink();
      const c = checker({ sink });
      const s = await rawServer(k.onSocket);
      c.update([group('tg-bad', [s.port])]);
      c.start();
      await waitForStatus(c, 'tg-bad', key(s.port), 'UNHEALTHY');
      c.stop();
      assert.equal(sink.reports.at(-1)?.reasonCode, k.reasonCode);
    });
  }
});

describe('health checker: HTTPS and HTTP/2 probes', () => {
  it('HTTPS probes a self-signed target without verifying its certificate (spec §7.3)', async () => {
    const c = checker();
    const server = https.createServer({ key: TLS_KEY, cert: TLS_CERT }, (req, res) => {
      res.writeHead(req.url === '/tls' ? 200 : 404).end();
    });
    const s = await listen(server);
    c.update([group('tg-tls', [s.port], { protocol: 'HTTPS', path: '/tls' })]);
    c.start();
    await waitForStatus(c, 'tg-tls', key(s.port), 'HEALTHY');
    c.stop();
  });

  it('HTTPS probe to a plain HTTP target fails the TLS handshake', async () => {
    const sink = recordingSink();
    const c = checker({ sink });
    const s = await httpServer();
    c.update([group('tg-tls', [s.port], { protocol: 'HTTPS' })]);
    c.start();
    await waitForStatus(c, 'tg-tls', key(s.port), 'UNHEALTHY');
    c.stop();
    assert.equal(sink.reports.at(-1)?.reasonCode, 'TlsHandshakeFailed');
  });

  it('HTTP2 over TLS negotiates h2 through ALPN', async () => {
    const c = checker();
    const paths: string[] = [];
    const server = http2.createSecureServer({ key: TLS_KEY, cert: TLS_CERT }, (req, res) => {
      paths.push(`${req.httpVersion} ${req.url}`);
      res.writeHead(204).end();
    });
    const s = await listen(server);
    c.update([
      group('tg-h2', [s.port], {
        protocol: 'HTTPS',
        protocolVersion: 'HTTP2',
        path: '/grpc.health.v1.Health/Check',
        matcher: { httpCode: '200-299' },
      }),
    ]);
    c.start();
    await waitForStatus(c, 'tg-h2', key(s.port), 'HEALTHY');
    c.stop();
    assert.equal(paths[0], '2.0 /grpc.health.v1.Health/Check');
  });

  it('HTTP2 over cleartext uses prior knowledge (h2c), on IPv4 and IPv6', async () => {
    const c = checker();
    const server = http2.createServer((_req, res) => res.writeHead(200).end());
    const s4 = await listen(server);
    const server6 = http2.createServer((_req, res) => res.writeHead(200).end());
    const s6 = await listen(server6, '::1');
    c.update([
      group('tg-h2c', [s4.port, { port: s6.port, address: '::1' }], { protocolVersion: 'HTTP2' }),
    ]);
    c.start();
    await waitForStatus(c, 'tg-h2c', key(s4.port), 'HEALTHY');
    await waitForStatus(c, 'tg-h2c', key(s6.port, '::1'), 'HEALTHY');
    c.stop();
  });

  it('HTTP2 probe to an HTTP/1-only target fails without crashing', async () => {
    const c = checker();
    const s = await httpServer();
    c.update([group('tg-h2c', [s.port], { protocolVersion: 'HTTP2' })]);
    c.start();
    await waitForStatus(c, 'tg-h2c', key(s.port), 'UNHEALTHY');
    c.stop();
  });

  it('TCP health checks pass when the connection opens', async () => {
    const c = checker();
    const s = await rawServer((sock) => sock.end());
    c.update([group('tg-tcp', [s.port], { protocol: 'TCP' })]);
    c.start();
    await waitForStatus(c, 'tg-tcp', key(s.port), 'HEALTHY');
    c.stop();
  });
});

describe('health checker: statuses that are not probed', () => {
  it('disabled → UNAVAILABLE, ALB/LAMBDA → UNAVAILABLE, unused → UNUSED, draining → DRAINING; none are probed', async () => {
    const sink = recordingSink();
    const c = checker({ sink });
    const s = await httpServer();
    c.update([
      group('tg-off', [s.port], { enabled: false }),
      group('tg-alb', [s.port], {}, { type: 'ALB' }),
      group('tg-fn', [s.port], {}, { type: 'LAMBDA' }),
      group('tg-unused', [s.port], {}, { inUse: false }),
      group('tg-drain', [{ port: s.port, draining: true }]),
    ]);
    c.start();
    await sleep(400); // several intervals
    const expected: Array<[string, TargetStatus, boolean, string]> = [
      ['tg-off', 'UNAVAILABLE', true, 'HealthCheckDisabled'],
      ['tg-alb', 'UNAVAILABLE', true, 'HealthCheckNotSupported'],
      ['tg-fn', 'UNAVAILABLE', true, 'HealthCheckNotSupported'],
      ['tg-unused', 'UNUSED', false, 'NotInUse'],
      ['tg-drain', 'DRAINING', false, 'DeregistrationInProgress'],
    ];
    for (const [tg, status, routable, reasonCode] of expected) {
      assert.equal(c.status(tg, key(s.port)), status, tg);
      assert.equal(c.isRoutable(tg, key(s.port)), routable, tg);
      assert.deepEqual(
        sink.reports.filter((r) => r.targetGroupId === tg),
        [{ targetGroupId: tg, targetId: '127.0.0.1', port: s.port, status, reasonCode }],
      );
    }
    assert.equal(s.requests.length, 0);
    c.stop();
  });

  it('a group that comes into use starts at INITIAL and is probed; enabling checks likewise', async () => {
    const c = checker();
    const s = await httpServer();
    c.update([
      group('tg-unused', [s.port], {}, { inUse: false }),
      group('tg-off', [s.port], { enabled: false }),
    ]);
    c.start();
    const g0 = c.generation;
    c.update([group('tg-unused', [s.port]), group('tg-off', [s.port])]);
    assert.equal(c.status('tg-unused', key(s.port)), 'INITIAL');
    assert.equal(c.status('tg-off', key(s.port)), 'INITIAL');
    assert.ok(c.generation > g0);
    await waitForStatus(c, 'tg-unused', key(s.port), 'HEALTHY');
    await waitForStatus(c, 'tg-off', key(s.port), 'HEALTHY');
    // Disabling again: UNAVAILABLE, still routable, no more probes.
    c.update([group('tg-unused', [s.port]), group('tg-off', [s.port], { enabled: false })]);
    assert.equal(c.status('tg-off', key(s.port)), 'UNAVAILABLE');
    assert.equal(c.isRoutable('tg-off', key(s.port)), true);
    c.stop();
  });

  it('a draining HEALTHY target reports DRAINING, is not routable and is no longer probed', async () => {
    const c = checker();
    const s = await httpServer();
    c.update([group('tg-1', [s.port])]);
    c.start();
    await waitForStatus(c, 'tg-1', key(s.port), 'HEALTHY');
    c.update([group('tg-1', [{ port: s.port, draining: true }])]);
    assert.equal(c.status('tg-1', key(s.port)), 'DRAINING');
    assert.equal(c.isRoutable('tg-1', key(s.port)), false);
    const n = s.requests.length;
    await sleep(300);
    assert.equal(s.requests.length, n);
    c.stop();
  });
});

describe('health checker: configuration updates', () => {
  it('a changed health check keeps statuses and probes with the new settings', async () => {
    const c = checker();
    const s = await httpServer();
    c.update([group('tg-1', [s.port], { path: '/old' })]);
    c.start();
    await waitForStatus(c, 'tg-1', key(s.port), 'HEALTHY');
    const gen = c.generation;
    c.update([group('tg-1', [s.port], { path: '/status/202', matcher: { httpCode: '202' } })]);
    assert.equal(c.status('tg-1', key(s.port)), 'HEALTHY');
    assert.equal(c.generation, gen);
    await waitFor('a check on the new path', () => s.requests.some((r) => r.url === '/status/202'));
    await sleep(300);
    assert.equal(c.status('tg-1', key(s.port)), 'HEALTHY');
    assert.equal(c.generation, gen);
    c.stop();
  });

  it('health-check port overrides the traffic port; new targets are added and removed ones forgotten', async () => {
    const c = checker();
    const s = await httpServer();
    // Traffic ports 1001..1003 are not listening; the checks go to the health-check port.
    c.update([group('tg-1', [1001, 1002], { port: s.port })]);
    c.start();
    await waitForStatus(c, 'tg-1', key(1001), 'HEALTHY');
    await waitForStatus(c, 'tg-1', key(1002), 'HEALTHY');
    c.update([group('tg-1', [1002, 1003], { port: s.port })]);
    assert.equal(c.status('tg-1', key(1002)), 'HEALTHY');
    assert.equal(c.status('tg-1', key(1003)), 'INITIAL');
    assert.equal(c.isRoutable('tg-1', key(1001)), false); // forgotten
    await waitForStatus(c, 'tg-1', key(1003), 'HEALTHY');
    // Removing the whole group stops its probes.
    c.update([]);
    assert.equal(c.isRoutable('tg-1', key(1002)), false);
    await sleep(50);
    const n = s.requests.length;
    await sleep(300);
    assert.equal(s.requests.length, n);
    c.stop();
  });

  it('reports status changes to the sink in batches', async () => {
    const sink = recordingSink();
    const c = checker({ sink, reportIntervalMs: 100 });
    const s = await httpServer();
    const ports = [2001, 2002, 2003, 2004, 2005];
    c.update([group('tg-1', ports, { port: s.port })]);
    c.start();
    for (const p of ports) await waitForStatus(c, 'tg-1', key(p), 'HEALTHY');
    await sleep(150);
    c.stop();
    for (const p of ports) {
      // Within one batch only the latest status of a target is sent; an INITIAL report may have
      // been superseded by HEALTHY before the batch went out.
      const mine = sink.reports.filter((r) => r.port === p);
      assert.deepEqual(mine.at(-1), {
        targetGroupId: 'tg-1',
        targetId: '127.0.0.1',
        port: p,
        status: 'HEALTHY',
      });
      for (const r of mine.slice(0, -1)) {
        assert.deepEqual(r, { ...r, status: 'INITIAL', reasonCode: 'InitialHealthChecking' });
      }
    }
    assert.ok(sink.calls <= 4, `${sink.calls} sink calls for 10 changes`);
  });

  it('a throwing sink is logged, not fatal', async () => {
    const errors: string[] = [];
    const c = checker({
      sink: {
        report() {
          throw new Error('store is down');
        },
      },
      logger: { info() {}, warn() {}, error: (m) => errors.push(m) },
    });
    const s = await httpServer();
    c.update([group('tg-1', [s.port])]);
    c.start();
    await waitForStatus(c, 'tg-1', key(s.port), 'HEALTHY');
    await waitFor('a logged sink error', () => errors.length > 0);
    c.stop();
  });

  it('an invalid matcher falls back to 200 with a warning', async () => {
    const warnings: string[] = [];
    const c = checker({ logger: { info() {}, warn: (m) => warnings.push(m), error() {} } });
    const s = await httpServer();
    c.update([group('tg-1', [s.port], { matcher: { httpCode: '2xx' } })]);
    c.start();
    await waitForStatus(c, 'tg-1', key(s.port), 'HEALTHY');
    assert.equal(warnings.length, 1);
    c.stop();
  });
});

describe('health checker: resources', () => {
  it('spreads first probes: one new target is checked soon, many are spread out', async () => {
    const s = await httpServer();
    const started = Date.now();
    // interval 30 s (3 s scaled); jitter 0.9 of the spread window.
    const one = checker({ random: () => 0.9 });
    one.update([group('tg-one', [s.port], { healthCheckIntervalSeconds: 30 })]);
    one.start();
    await waitForStatus(one, 'tg-one', key(s.port), 'HEALTHY', 2000);
    assert.ok(Date.now() - started < 2000);
    one.stop();

    const firsts: number[] = [];
    const s2 = await httpServer(() => {
      firsts.push(Date.now());
      return 200;
    });
    // 5 targets at 10 first probes per second: a 500 ms window, so due after 450 ms.
    const many = checker({ random: () => 0.9, firstProbesPerSecond: 10 });
    const t0 = Date.now();
    many.update([
      group('tg-many', [4001, 4002, 4003, 4004, 4005], {
        port: s2.port,
        healthCheckIntervalSeconds: 30,
      }),
    ]);
    many.start();
    await waitForStatus(many, 'tg-many', key(4005), 'HEALTHY');
    many.stop();
    assert.ok(firsts[0]! - t0 >= 400, `first probe after ${firsts[0]! - t0} ms`);
  });

  it('never has more than maxConcurrentProbes probes in flight', async () => {
    let open = 0;
    let peak = 0;
    const s = await rawServer((sock) => {
      // Counted from accept to answer: a probe slot frees only once the answer arrived.
      open++;
      peak = Math.max(peak, open);
      setTimeout(() => {
        open--;
        sock.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      }, 30);
    });
    const c = checker({ maxConcurrentProbes: 3 });
    const ports = Array.from({ length: 20 }, (_, i) => 3000 + i);
    c.update([group('tg-1', ports, { port: s.port, healthCheckTimeoutSeconds: 5 })]);
    c.start();
    for (const p of ports) await waitForStatus(c, 'tg-1', key(p), 'HEALTHY');
    c.stop();
    assert.ok(peak <= 3, `peak ${peak}`);
    assert.ok(peak >= 2, `peak ${peak}`);
  });

  it('stop() cancels timers and in-flight probes and leaves no handles behind', async () => {
    const hang = await rawServer(() => {});
    const ok = await httpServer();
    await sleep(20);
    const count = (): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
      return out;
    };
    const before = count();
    const sink = recordingSink();
    const c = createHealthChecker({ timeScale: TIME_SCALE, sink });
    c.stop(); // safe before start
    c.update([
      group('tg-hang', [hang.port], { healthCheckTimeoutSeconds: 100 }),
      group('tg-ok', [ok.port]),
      group('tg-h2', [ok.port], { protocolVersion: 'HTTP2', healthCheckTimeoutSeconds: 100 }),
    ]);
    c.start();
    c.start(); // idempotent
    await waitForStatus(c, 'tg-ok', key(ok.port), 'HEALTHY');
    await waitFor('a hanging probe', () => hang.connections > 0);
    c.stop();
    c.stop();
    await sleep(50);
    // Nothing the checker created is left: no sockets, no more timers than before it existed.
    const now = count();
    for (const [kind, n] of Object.entries(now)) {
      assert.ok(n <= (before[kind] ?? 0), `${kind}: ${n} now, ${before[kind] ?? 0} before`);
    }
    // Statuses stay readable after stop, and pending reports were flushed.
    assert.equal(c.status('tg-ok', key(ok.port)), 'HEALTHY');
    assert.ok(sink.reports.some((r) => r.status === 'HEALTHY'));
    // A restart resumes probing.
    const n = ok.requests.length;
    c.start();
    await waitFor('a probe after restart', () => ok.requests.length > n);
    c.stop();
  });

  it('isRoutable and status answer for unknown groups and targets', () => {
    const c = createHealthChecker();
    assert.equal(c.status('tg-none', 'x:1'), 'INITIAL');
    assert.equal(c.isRoutable('tg-none', 'x:1'), false);
    assert.equal(c.generation, 0);
    c.stop();
  });
});

describe('probeTarget', () => {
  it('reports the status code and never calls back after abort', async () => {
    const s = await httpServer();
    const base: ProbeRequest = {
      protocol: 'HTTP',
      protocolVersion: 'HTTP1',
      address: '127.0.0.1',
      port: s.port,
      path: '/status/418',
      timeoutMs: 2000,
      matcher: parseHttpCodeMatcher('200-499'),
    };
    const outcome = await new Promise<ProbeOutcome>((r) => probeTarget(base, r));
    assert.deepEqual(outcome, { ok: true, statusCode: 418 });
    let called = false;
    const abort = probeTarget(base, () => (called = true));
    abort();
    await sleep(100);
    assert.equal(called, false);
  });

  it('turns a path Node refuses to send into a failure', async () => {
    const outcome = await new Promise<ProbeOutcome>((r) =>
      probeTarget(
        {
          protocol: 'HTTP',
          protocolVersion: 'HTTP1',
          address: '127.0.0.1',
          port: 9,
          path: '/bad path\n',
          timeoutMs: 1000,
          matcher: parseHttpCodeMatcher('200'),
        },
        r,
      ),
    );
    assert.equal(outcome.ok, false);
  });
});

describe('judgeResponseHead', () => {
  const matcher = parseHttpCodeMatcher('200,204');
  const cases: Array<[string, string, ProbeOutcome | undefined]> = [
    ['complete 200', 'HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody', { ok: true, statusCode: 200 }],
    ['no reason phrase', 'HTTP/1.1 204\r\n\r\n', { ok: true, statusCode: 204 }],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\n\r\n', { ok: true, statusCode: 200 }],
    ['bare LF line ends', 'HTTP/1.1 200 OK\nA: b\n\n', { ok: true, statusCode: 200 }],
    [
      'interim 103 then 200',
      'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
      { ok: true, statusCode: 200 },
    ],
    [
      'mismatch',
      'HTTP/1.1 503 Busy\r\n\r\n',
      { ok: false, reasonCode: 'ResponseCodeMismatch', statusCode: 503 },
    ],
    ['head not complete', 'HTTP/1.1 200 OK\r\nA: b\r\n', undefined],
    ['status line not complete', 'HTTP/1.1 20', undefined],
    ['prefix', 'HT', undefined],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n', { ok: false, reasonCode: 'InvalidResponse' }],
    ['HTTP/2 preface', 'HTTP/2 200\r\n\r\n', { ok: false, reasonCode: 'InvalidResponse' }],
    ['bad code', 'HTTP/1.1 2000 OK\r\n\r\n', { ok: false, reasonCode: 'InvalidResponse' }],
    [
      'too big',
      `HTTP/1.1 200 OK\r\nA: ${'a'.repeat(20000)}`,
      { ok: false, reasonCode: 'InvalidResponse' },
    ],
  ];
  for (const [name, text, outcome] of cases) {
    it(name, () => assert.deepEqual(judgeResponseHead(text, matcher).outcome, outcome));
  }

  it('gives the same verdict however the bytes are split (property)', () => {
    const heads = fc.constantFrom(
      'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.0 404 Not Found\r\n\r\n',
      'garbage\r\n\r\n',
    );
    fc.assert(
      fc.property(heads, fc.array(fc.nat(), { maxLength: 8 }), (head, cuts) => {
        const whole = judgeResponseHead(head, matcher).outcome;
        const points = [...new Set(cuts.map((c) => c % head.length))].sort((a, b) => a - b);
        let received = '';
        let outcome: ProbeOutcome | undefined;
        let from = 0;
        for (const to of [...points, head.length]) {
          if (outcome) break;
          const judged = judgeResponseHead(received + head.slice(from, to), matcher);
          received = judged.rest;
          outcome = judged.outcome;
          from = to;
        }
        assert.deepEqual(outcome, whole);
      }),
    );
  });

  it('never throws on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const { outcome } = judgeResponseHead(text, matcher);
        assert.ok(outcome === undefined || typeof outcome.ok === 'boolean');
      }),
    );
  });
});
