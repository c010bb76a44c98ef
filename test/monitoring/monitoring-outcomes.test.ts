/**
 * Monitoring outcomes end to end through a real `trellis up` (started with `--otlp-endpoint` and a
 * 1.5 s target answer timeout), configured with the official VPC Lattice and IAM SDK clients:
 * a 504 with its failureReason in the record and the metrics; a 403 for each `authDeniedReason`
 * (spec §2.5, §4.1: Service, Network, Identity — anonymous without an allow, explicit deny in a
 * service policy, explicit deny in the network policy, a caller without an identity policy, a bad
 * signature) with the record's fields; a client abort mid-body; the §4.2 connection metrics and
 * ActiveRequestCount; proxy spans received by a real HTTP server speaking OTLP/HTTP JSON; and
 * `trellis top` as a user runs it. `/metrics` is read with the strict text-format parser of
 * src/model/prometheus-text.ts (no Prometheus parser package is installed).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect as h2connect, createServer as createH2Server } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateAccessLogSubscriptionCommand,
  CreateListenerCommand,
  CreateServiceCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
  CreateServiceNetworkServiceAssociationCommand,
  PutAuthPolicyCommand,
  UpdateServiceNetworkCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  createListener,
  createNetwork,
  createService,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  send,
  startUpstream,
  waitFor,
  waitForAnswer,
  type ClientResponse,
  type Network,
  type RecordingUpstream,
  type ServiceInfo,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type Credentials, type TrellisProcess } from '../support/trellis-process.js';
import { jsonOf, runCli } from '../cli/support/run-cli.js';
import { parsePrometheusText, type Exposition } from './support/prometheus-text.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ingress = randomLoopback();
const port = randomPort();
const suffix = Math.random().toString(36).slice(2, 8);
const GROUP = `/trellis/outcomes-${suffix}`;
/** A port nothing listens on (below 1024, so never an ephemeral port another test is given). */
const REFUSED_PORT = 1;

let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let iam: IAMClient;
let net: Network;
let svcOk: ServiceInfo; // NONE, healthy echo upstream
let svcHang: ServiceInfo; // NONE, the target never answers (504 after 1.5 s)
let svcRefused: ServiceInfo; // NONE, nothing listens on the target port (502)
let svcStream: ServiceInfo; // NONE, the target sends headers and part of a body, then waits
let svcIam: { id: string; arn: string; dnsName: string }; // AWS_IAM with a policy
let tgHang: { id: string; arn: string };
let up: RecordingUpstream;
let hang: RecordingUpstream;
let stream: RecordingUpstream;
let alice: Credentials;
let aliceArn = '';
let otlp: Server;
let otlpPort = 0;
const otlpBodies: unknown[] = [];

type LogRecord = Record<string, unknown>;

function readGroup(): LogRecord[] {
  const dir = join(proc.dataDir, 'logs', 'cloudwatch', encodeURIComponent(GROUP));
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return [];
  }
  return files
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogRecord);
}

async function recordOf(requestId: string): Promise<LogRecord> {
  return (await waitFor(() => readGroup().find((r) => r.requestId === requestId), {
    timeoutMs: 10_000,
    message: `record ${requestId}`,
  }))!;
}

async function metrics(): Promise<Exposition> {
  const res = await fetch(`${proc.endpoint}/metrics`);
  assert.equal(res.status, 200);
  return parsePrometheusText(await res.text());
}

const doc = (statements: object[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** A request to svcIam, unsigned or signed for `vpc-lattice-svcs` (spec §2.2) with `creds`. */
async function callIam(path: string, creds?: Credentials): Promise<ClientResponse> {
  const host = svcIam.dnsName;
  if (creds === undefined) return send(ingress, port, { host, path });
  const signed = await new SignatureV4({
    service: 'vpc-lattice-svcs',
    region: proc.region,
    credentials: creds,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  }).sign(
    new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: host,
      path,
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    }),
  );
  return send(ingress, port, { host, path, headers: signed.headers as Record<string, string> });
}

/** OTLP/JSON ids are hex (OTLP spec); base64 is accepted too, in case an exporter sends it. */
const hexId = (v: unknown): string =>
  typeof v === 'string' && /^[0-9a-f]+$/.test(v)
    ? v
    : Buffer.from(String(v), 'base64').toString('hex');

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  status?: { code?: number };
  attributes: Record<string, unknown>;
  serviceName: unknown;
}

function spans(): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  type KV = { key: string; value: Record<string, unknown> };
  const attrs = (list: KV[] | undefined): Record<string, unknown> =>
    Object.fromEntries((list ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
  for (const body of otlpBodies as {
    resourceSpans: {
      resource: { attributes: KV[] };
      scopeSpans: { spans: (Record<string, unknown> & { attributes: KV[] })[] }[];
    }[];
  }[])
    for (const rs of body.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans)
          out.push({
            traceId: hexId(s.traceId),
            spanId: hexId(s.spanId),
            parentSpanId: s.parentSpanId ? hexId(s.parentSpanId) : '',
            name: String(s.name),
            status: s.status as { code?: number },
            attributes: attrs(s.attributes),
            serviceName: attrs(rs.resource.attributes)['service.name'],
          });
  return out;
}

before(async () => {
  otlp = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json')
        otlpBodies.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', () => r()));
  otlpPort = (otlp.address() as AddressInfo).port;

  proc = await startTrellis({
    // A bare origin: Trellis adds the OTLP traces path (/v1/traces).
    args: ['--dataplane-host', ingress, '--otlp-endpoint', `http://127.0.0.1:${otlpPort}`],
    env: {
      TRELLIS_STORE_SYNCHRONOUS: 'NORMAL',
      TRELLIS_TARGET_RESPONSE_TIMEOUT_MS: '1500',
      TRELLIS_OTLP_FLUSH_MS: '200',
    },
  });
  lattice = proc.lattice();
  iam = new IAMClient({
    endpoint: proc.endpoint,
    region: proc.region,
    credentials: proc.credentials,
    maxAttempts: 1,
  });
  const vpcId = defaultVpcId(proc.accountId);
  net = await createNetwork(lattice, vpcId);

  up = await startUpstream('ok');
  hang = await startUpstream('hang', { handler: () => true });
  stream = await startUpstream('stream', {
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;');
      return true; // the rest never comes
    },
  });

  svcOk = await createService(lattice, net.id, { stem: 'out-ok' });
  await createListener(
    lattice,
    svcOk.id,
    port,
    forwardTo((await createTargetGroup(lattice, vpcId, up.port, [{ id: '127.0.0.1' }])).id),
  );
  svcHang = await createService(lattice, net.id, { stem: 'out-hang' });
  tgHang = await createTargetGroup(lattice, vpcId, hang.port, [{ id: '127.0.0.1' }]);
  await createListener(lattice, svcHang.id, port, forwardTo(tgHang.id));
  svcStream = await createService(lattice, net.id, { stem: 'out-stream' });
  await createListener(
    lattice,
    svcStream.id,
    port,
    forwardTo((await createTargetGroup(lattice, vpcId, stream.port, [{ id: '127.0.0.1' }])).id),
  );
  // A port nothing listens on. Not an ephemeral port bound and closed: another test process may
  // be handed it the next moment; the kernel never hands out port 1 (tcpmux), and nobody serves it.
  const closed = REFUSED_PORT;
  svcRefused = await createService(lattice, net.id, { stem: 'out-refused' });
  await createListener(
    lattice,
    svcRefused.id,
    port,
    forwardTo((await createTargetGroup(lattice, vpcId, closed, [{ id: '127.0.0.1' }])).id),
  );

  const iamSvc = await lattice.send(
    new CreateServiceCommand({ name: uniqueName('out-iam'), authType: 'AWS_IAM' }),
  );
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: iamSvc.id,
    }),
  );
  svcIam = { id: iamSvc.id!, arn: iamSvc.arn!, dnsName: iamSvc.dnsEntry!.domainName! };
  await createListener(
    lattice,
    svcIam.id,
    port,
    forwardTo((await createTargetGroup(lattice, vpcId, up.port, [{ id: '127.0.0.1' }])).id),
  );
  // Service: anyone may call /open*, nobody /svc-deny*; anything else has no allow.
  await lattice.send(
    new PutAuthPolicyCommand({
      resourceIdentifier: svcIam.id,
      policy: doc([
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: [`${svcIam.arn}/open*`, `${svcIam.arn}/net-deny*`],
        },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: `${svcIam.arn}/svc-deny*`,
        },
      ]),
    }),
  );
  // Network: AWS_IAM, everything allowed except /net-deny* (explicit deny, spec §2.1 step 5).
  await lattice.send(
    new PutAuthPolicyCommand({
      resourceIdentifier: net.id,
      policy: doc([
        { Effect: 'Allow', Principal: '*', Action: 'vpc-lattice-svcs:Invoke', Resource: '*' },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 'vpc-lattice-svcs:Invoke',
          Resource: '*/net-deny*',
        },
      ]),
    }),
  );
  await lattice.send(
    new UpdateServiceNetworkCommand({ serviceNetworkIdentifier: net.id, authType: 'AWS_IAM' }),
  );
  // A user without any identity policy (spec §2.1 step 2: Identity denial when signed).
  const user = await iam.send(new CreateUserCommand({ UserName: uniqueName('nopolicy') }));
  aliceArn = user.User!.Arn!;
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: user.User!.UserName }));
  alice = {
    accessKeyId: key.AccessKey!.AccessKeyId!,
    secretAccessKey: key.AccessKey!.SecretAccessKey!,
  };
  await lattice.send(
    new CreateAccessLogSubscriptionCommand({
      resourceIdentifier: net.id,
      destinationArn: `arn:aws:logs:${proc.region}:${proc.accountId}:log-group:${GROUP}`,
    }),
  );

  await waitForAnswer(ingress, port, { host: svcOk.dnsName }, 'ok', 15_000);
  await waitForAnswer(ingress, port, { host: svcRefused.dnsName }, '<502>', 15_000);
  // Converged when the network's deny and the service's allow both apply.
  await waitForAnswer(ingress, port, { host: svcIam.dnsName, path: '/net-deny' }, '<403>', 15_000);
  await waitForAnswer(ingress, port, { host: svcIam.dnsName, path: '/open' }, 'ok', 15_000);
  // The subscription is live once a fresh request lands in the group.
  await waitFor(
    async () => {
      const r = await send(ingress, port, { host: svcOk.dnsName, path: '/ready' });
      const id = r.headers['x-amzn-requestid'] as string;
      return waitFor(() => readGroup().some((x) => x.requestId === id), { timeoutMs: 1_000 }).then(
        () => true,
        () => false,
      );
    },
    { timeoutMs: 15_000, message: 'access-log subscription live' },
  );
});

after(async () => {
  lattice?.destroy();
  iam?.destroy();
  await proc?.stop();
  await up?.close();
  await hang?.close();
  await stream?.close();
  await new Promise<void>((r) => (otlp ? otlp.close(() => r()) : r()));
});

const svcLabels = (s: { id: string }): Record<string, string> => ({
  service: s.id,
  service_network: net.id,
});

describe('504: the target never answers (TRELLIS_TARGET_RESPONSE_TIMEOUT_MS=1500)', () => {
  test('TargetDataTimeout in the record; 504 and RequestTimeoutCount in the metrics', async () => {
    const before = await metrics();
    const r = await send(ingress, port, { host: svcHang.dnsName, path: '/slow' });
    assert.equal(r.status, 504);
    const rec = await recordOf(r.headers['x-amzn-requestid'] as string);
    assert.equal(rec.responseCode, 504);
    assert.equal(rec.failureReason, 'TargetDataTimeout');
    assert.equal(rec.serviceArn, svcHang.arn);
    assert.equal(rec.targetGroupArn, tgHang.arn);
    assert.equal(rec.targetIpPort, `127.0.0.1:${hang.port}`);
    assert.equal(rec.responseFromTargetDuration, '-');
    assert.equal(typeof rec.duration, 'number');
    const after = await metrics();
    const l = svcLabels(svcHang);
    for (const name of [
      'trellis_lattice_service_httpcode_vpclattice_504_count',
      'trellis_lattice_service_request_timeout_count',
      'trellis_lattice_service_httpcode_5xx_count',
      'trellis_lattice_service_total_request_count',
    ])
      assert.equal(after.value(name, l), before.value(name, l) + 1, name);
    assert.equal(
      after.value('trellis_lattice_target_group_httpcode_5xx_count', { target_group: tgHang.id }),
      before.value('trellis_lattice_target_group_httpcode_5xx_count', {
        target_group: tgHang.id,
      }) + 1,
    );
  });
});

describe('403 for each authDeniedReason (spec §2.5, §4.1)', () => {
  const cases: {
    name: string;
    path: string;
    creds?: () => Credentials;
    reason: string;
    user: () => string | null;
    body: RegExp;
  }[] = [
    {
      name: 'anonymous caller, no statement allows the path → Service',
      path: '/closed',
      reason: 'Service',
      user: () => 'Anonymous',
      body: /because no service-based policy allows/,
    },
    {
      name: 'explicit deny in the service policy → Service',
      path: '/svc-deny',
      reason: 'Service',
      user: () => 'Anonymous',
      body: /with an explicit deny in a service-based policy/,
    },
    {
      name: 'explicit deny in the network policy → Network',
      path: '/net-deny',
      reason: 'Network',
      user: () => 'Anonymous',
      body: /with an explicit deny in a service network-based policy/,
    },
    {
      name: 'signed by a user with no identity policy → Identity',
      path: '/open',
      creds: () => alice,
      reason: 'Identity',
      user: () => aliceArn,
      body: /because no identity-based policy allows/,
    },
    {
      name: 'a bad signature → Identity, resolvedUser Unknown',
      path: '/open',
      creds: () => ({ ...alice, secretAccessKey: 'not-the-secret' }),
      reason: 'Identity',
      user: () => 'Unknown',
      body: /^InvalidSignatureException/,
    },
  ];
  for (const tc of cases)
    test(tc.name, async () => {
      const before = await metrics();
      const r = await callIam(tc.path, tc.creds?.());
      assert.equal(r.status, 403, r.body);
      assert.match(r.body, tc.body);
      const rec = await recordOf(r.headers['x-amzn-requestid'] as string);
      assert.equal(rec.responseCode, 403);
      assert.equal(rec.failureReason, 'ClientAccessDenied');
      assert.equal(rec.authDeniedReason, tc.reason);
      assert.equal(rec.resolvedUser, tc.user());
      assert.equal(rec.serviceArn, svcIam.arn);
      assert.equal(rec.serviceNetworkArn, net.arn);
      assert.equal(rec.requestPath, tc.path);
      assert.equal(rec.targetIpPort, '-');
      assert.equal(rec.targetGroupArn, '-');
      const after = await metrics();
      const name = 'trellis_lattice_service_httpcode_vpclattice_403_count';
      assert.equal(after.value(name, svcLabels(svcIam)), before.value(name, svcLabels(svcIam)) + 1);
    });
});

describe('client aborts', () => {
  test('mid-body: the 200 head was sent, ClientConnectionClosed; ActiveRequestCount goes back', async () => {
    const base = (await metrics()).value('trellis_lattice_active_request_count');
    const marker = `/abort-${suffix}`;
    await new Promise<void>((done, fail) => {
      const req = request(
        { host: ingress, port, path: marker, headers: { host: svcStream.dnsName }, agent: false },
        (res) => {
          assert.equal(res.statusCode, 200);
          res.once('data', () => {
            // The request is in flight in the proxy now: the gauge counts it.
            waitFor(
              async () =>
                (await metrics()).value('trellis_lattice_active_request_count') >= base + 1,
              { timeoutMs: 10_000, message: 'active request counted' },
            ).then(() => {
              req.destroy();
              done();
            }, fail);
          });
        },
      );
      req.on('error', () => undefined);
      req.end();
    });
    const rec = (await waitFor(() => readGroup().find((x) => x.requestPath === marker), {
      timeoutMs: 10_000,
      message: 'abort record',
    }))!;
    assert.equal(rec.responseCode, 200);
    assert.equal(rec.failureReason, 'ClientConnectionClosed');
    assert.equal(rec.serviceArn, svcStream.arn);
    await waitFor(
      async () => (await metrics()).value('trellis_lattice_active_request_count') <= base,
      { timeoutMs: 10_000, message: 'ActiveRequestCount back to its base' },
    );
  });
});

describe('§4.2 metrics', () => {
  test('every §4.2 metric is exposed, with its type', async () => {
    const m = await metrics();
    const service = [
      ['service_request_timeout_count', 'counter'],
      ['service_total_request_count', 'counter'],
      ['service_request_time', 'histogram'],
      ...['2xx', '3xx', '4xx', '5xx'].map((c) => [`service_httpcode_${c}_count`, 'counter']),
      ...[400, 403, 404, 429, 500, 502, 504].map((c) => [
        `service_httpcode_vpclattice_${c}_count`,
        'counter',
      ]),
    ];
    const targetGroup = [
      ['target_group_total_request_count', 'counter'],
      ['target_group_request_time', 'histogram'],
      ['target_group_connection_error_count', 'counter'],
      ...['2xx', '3xx', '4xx', '5xx'].map((c) => [`target_group_httpcode_${c}_count`, 'counter']),
    ];
    // Connection-level ones: process-wide, by side (README: "supported with a difference").
    const connection = [
      ['active_request_count', 'gauge'],
      ['total_connection_count', 'counter'],
      ['active_connection_count', 'gauge'],
      ['http1_connection_count', 'counter'],
      ['http2_connection_count', 'counter'],
      ['connection_error_count', 'counter'],
      ['connection_timeout_count', 'counter'],
      ['tls_connection_error_count', 'counter'],
      ['total_tls_connection_handshake_count', 'counter'],
      ['total_received_connection_bytes', 'counter'],
      ['total_sent_connection_bytes', 'counter'],
    ];
    for (const [name, type] of [...service, ...targetGroup, ...connection])
      assert.equal(m.types.get(`trellis_lattice_${name!}`), type, name);
  });

  test('connection counts follow the connections made', async () => {
    const before = await metrics();
    const c = (m: Exposition, name: string, side: string): number =>
      m.value(`trellis_lattice_${name}`, { side });
    // Each `send` opens its own client connection (agent: false).
    for (let i = 0; i < 3; i++)
      assert.equal((await send(ingress, port, { host: svcOk.dnsName })).status, 200);
    for (let i = 0; i < 2; i++)
      assert.equal((await send(ingress, port, { host: svcRefused.dnsName })).status, 502);
    const after = await metrics();
    assert.ok(
      c(after, 'total_connection_count', 'client') >=
        c(before, 'total_connection_count', 'client') + 5,
    );
    assert.ok(
      c(after, 'http1_connection_count', 'client') >=
        c(before, 'http1_connection_count', 'client') + 5,
    );
    assert.ok(
      c(after, 'total_received_connection_bytes', 'client') >
        c(before, 'total_received_connection_bytes', 'client'),
    );
    assert.ok(
      c(after, 'total_sent_connection_bytes', 'client') >
        c(before, 'total_sent_connection_bytes', 'client'),
    );
    // Refused connects to the target are connection errors (the upstream port is closed).
    assert.ok(
      c(after, 'connection_error_count', 'target') >=
        c(before, 'connection_error_count', 'target') + 2,
    );
    // Keep-alive connections to the echo upstream: at least one was opened and is counted.
    assert.ok(c(after, 'total_connection_count', 'target') >= 1);
    assert.ok(
      c(after, 'active_connection_count', 'target') <= c(after, 'total_connection_count', 'target'),
    );
    // The client connections above are closed once answered: the gauge comes back down.
    await waitFor(
      async () =>
        c(await metrics(), 'active_connection_count', 'client') <=
        c(before, 'active_connection_count', 'client'),
      { timeoutMs: 10_000, message: 'client connections closed' },
    );
  });
});

describe('TLS and HTTP/2 connection metrics', () => {
  const tlsPort = randomPort();
  let tlsHost = '';
  const seenTraceparents: string[] = [];
  const h2target = createH2Server((req, res) => {
    if (typeof req.headers.traceparent === 'string') seenTraceparents.push(req.headers.traceparent);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('h2');
  });
  after(() => new Promise<void>((r) => h2target.close(() => r())));

  /** One HTTP/2 request over a new TLS connection (ALPN h2), with the service's name as SNI. */
  function h2get(servername: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((done, fail) => {
      const session = h2connect(`https://${ingress}:${tlsPort}`, {
        servername,
        rejectUnauthorized: false, // the local CA's generated-name certificate; not under test here
      });
      session.on('error', fail);
      const req = session.request({ ':path': '/h2', ':authority': servername, ...headers });
      req.on('response', (h) => {
        req.resume();
        req.on('end', () => {
          session.close();
          done(Number(h[':status']));
        });
      });
      req.on('error', fail);
      req.end();
    });
  }

  test('handshakes, failed handshakes and HTTP/2 connections on both sides', async () => {
    await new Promise<void>((r) => h2target.listen(0, '127.0.0.1', () => r()));
    const vpcId = defaultVpcId(proc.accountId);
    const svc = await createService(lattice, net.id, { stem: 'out-tls' });
    tlsHost = svc.dnsName;
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('h2group'),
        type: 'IP',
        config: {
          port: (h2target.address() as AddressInfo).port,
          protocol: 'HTTP',
          protocolVersion: 'HTTP2',
          vpcIdentifier: vpcId,
          healthCheck: { enabled: false },
        },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '127.0.0.1' }] }),
    );
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.id,
        name: uniqueName('https'),
        protocol: 'HTTPS',
        port: tlsPort,
        defaultAction: forwardTo(tg.id!),
      }),
    );
    await waitFor(async () => (await h2get(svc.dnsName).catch(() => 0)) === 200, {
      timeoutMs: 15_000,
      message: 'HTTPS listener with an HTTP2 target group serving',
    });
    const c = (m: Exposition, name: string, side: string): number =>
      m.value(`trellis_lattice_${name}`, { side });
    const before = await metrics();
    assert.equal(await h2get(svc.dnsName), 200);
    // Bytes that are not a TLS ClientHello: a failed handshake on the listener.
    await new Promise<void>((done) => {
      const s = netConnect(tlsPort, ingress, () => s.end('this is not TLS\r\n\r\n'));
      s.on('error', () => done());
      s.on('close', () => done());
      s.resume();
    });
    const after = (await waitFor(
      async () => {
        const m = await metrics();
        return c(m, 'tls_connection_error_count', 'client') >
          c(before, 'tls_connection_error_count', 'client')
          ? m
          : undefined;
      },
      { timeoutMs: 10_000, message: 'failed handshake counted' },
    ))!;
    assert.equal(
      c(after, 'total_tls_connection_handshake_count', 'client'),
      c(before, 'total_tls_connection_handshake_count', 'client') + 1,
    );
    assert.equal(
      c(after, 'http2_connection_count', 'client'),
      c(before, 'http2_connection_count', 'client') + 1,
    );
    assert.equal(
      c(after, 'tls_connection_error_count', 'client'),
      c(before, 'tls_connection_error_count', 'client') + 1,
    );
    assert.ok(
      c(after, 'total_connection_count', 'client') >=
        c(before, 'total_connection_count', 'client') + 2,
    );
    // The HTTP2 target group's multiplexed session to the h2c target.
    assert.ok(c(after, 'http2_connection_count', 'target') >= 1);
  });

  test('an HTTP/2 request gets its proxy span too (OTLP on)', async () => {
    assert.ok(tlsHost, 'the listener of the previous test');
    const clientTrace = 'a3ce929d0e0e47364bf92f3577b34da6';
    const status = await h2get(tlsHost, { traceparent: `00-${clientTrace}-b7ad6b7169203331-01` });
    assert.equal(status, 200);
    const seen = seenTraceparents.find((t) => t.startsWith(`00-${clientTrace}-`));
    assert.ok(seen, 'the target got the trace');
    const spanId = seen.split('-')[2];
    assert.notEqual(spanId, 'b7ad6b7169203331');
    const span = (await waitFor(() => spans().find((s) => s.spanId === spanId), {
      timeoutMs: 10_000,
      message: 'HTTP/2 span exported',
    }))!;
    assert.equal(span.traceId, clientTrace);
    assert.equal(span.parentSpanId, 'b7ad6b7169203331');
    assert.equal(span.attributes['network.protocol.version'], '2.0');
  });
});

describe('OTLP/HTTP proxy spans (--otlp-endpoint)', () => {
  test("a client's trace continues through the proxy's span to the target", async () => {
    const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    const r = await send(ingress, port, {
      host: svcOk.dnsName,
      path: '/traced',
      headers: { traceparent: `00-${clientTrace}-${clientSpan}-01` },
    });
    assert.equal(r.status, 200);
    const seen = r.echo().headers.traceparent as string;
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen);
    assert.ok(m, `target traceparent ${seen}`);
    assert.equal(m[1], clientTrace, 'same trace');
    assert.notEqual(m[2], clientSpan, "the target's parent is the proxy's span");
    const span = (await waitFor(() => spans().find((s) => s.spanId === m[2]), {
      timeoutMs: 10_000,
      message: 'span exported',
    }))!;
    assert.equal(span.traceId, clientTrace);
    assert.equal(span.parentSpanId, clientSpan);
    assert.equal(span.name, 'GET');
    assert.equal(span.serviceName, 'trellis');
    assert.equal(span.attributes['aws.vpc_lattice.service.arn'], svcOk.arn);
    assert.equal(span.attributes['aws.vpc_lattice.service_network.arn'], net.arn);
    assert.equal(span.attributes['aws.vpc_lattice.request_id'], r.headers['x-amzn-requestid']);
    assert.equal(span.attributes['url.path'], '/traced');
    assert.equal(String(span.attributes['http.response.status_code']), '200');
    assert.equal(span.attributes['network.peer.address'], '127.0.0.1');
    assert.equal(String(span.attributes['network.peer.port']), String(up.port));
  });

  test('without a client traceparent the span starts the trace; failures carry their reason', async () => {
    const r = await send(ingress, port, { host: svcOk.dnsName, path: '/fresh' });
    const seen = r.echo().headers.traceparent as string;
    const [, trace, parent] = seen.split('-');
    const span = (await waitFor(() => spans().find((s) => s.spanId === parent), {
      timeoutMs: 10_000,
      message: 'span exported',
    }))!;
    assert.equal(span.traceId, trace);
    assert.equal(span.parentSpanId, '');

    const bad = await send(ingress, port, { host: svcRefused.dnsName, path: '/refused' });
    assert.equal(bad.status, 502);
    const failed = (await waitFor(
      () =>
        spans().find(
          (s) => s.attributes['aws.vpc_lattice.request_id'] === bad.headers['x-amzn-requestid'],
        ),
      { timeoutMs: 10_000, message: 'failed span exported' },
    ))!;
    assert.equal(failed.attributes['aws.vpc_lattice.failure_reason'], 'TargetConnectionError');
    assert.equal(failed.status?.code, 2, 'STATUS_CODE_ERROR');
  });
});

describe('trellis top', () => {
  /** Sends requests (4 at a time) until `stop` resolves: traffic for every refresh window. */
  async function traffic(stop: Promise<unknown>): Promise<void> {
    let done = false;
    void stop.finally(() => (done = true));
    const loop = async (host: string, path = '/'): Promise<void> => {
      while (!done) await send(ingress, port, { host, path }).catch(() => undefined);
    };
    await Promise.all([
      loop(svcOk.dnsName),
      loop(svcOk.dnsName),
      loop(svcRefused.dnsName),
      loop(svcIam.dnsName, '/closed'),
    ]);
  }

  test('--once --output json: rate, 4xx/5xx rates and p99 per service of one window', async () => {
    type Row = {
      serviceId: string;
      serviceName: string;
      serviceNetworkId: string;
      requests: number;
      requestsPerSecond: number;
      clientErrorRate: number;
      serverErrorRate: number;
      p99Ms: number | null;
    };
    let release = (): void => undefined;
    const stopped = new Promise<void>((r) => (release = r));
    const load = traffic(stopped);
    try {
      // A window may miss a service on a stalled machine: run again until each one shows up.
      const rows = await waitFor(
        async () => {
          const run = await runCli([
            'top',
            '--once',
            '--interval',
            '1',
            '--output',
            'json',
            '--data-dir',
            proc.dataDir,
          ]);
          assert.equal(run.code, 0, run.stderr);
          const got = jsonOf<Row[]>(run);
          const row = (s: { id: string }): Row | undefined =>
            got.find((x) => x.serviceId === s.id && x.requests > 0);
          return row(svcOk) && row(svcRefused) && row(svcIam) ? got : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 0, message: 'a window with traffic to each service' },
      );
      assert.ok(rows);
      const ok = rows.find((x) => x.serviceId === svcOk.id)!;
      assert.equal(ok.serviceNetworkId, net.id);
      assert.match(ok.serviceName, /^out-ok/);
      assert.ok(ok.requestsPerSecond > 0);
      assert.equal(ok.serverErrorRate, 0);
      assert.equal(ok.clientErrorRate, 0);
      assert.equal(typeof ok.p99Ms, 'number');
      assert.equal(rows.find((x) => x.serviceId === svcRefused.id)!.serverErrorRate, 1);
      assert.equal(rows.find((x) => x.serviceId === svcIam.id)!.clientErrorRate, 1);
    } finally {
      release();
      await load;
    }
  });

  test('the table, and the live mode until Ctrl-C', async () => {
    const table = await runCli(['top', '--once', '--interval', '0.5', '--data-dir', proc.dataDir]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^trellis top — http:\/\/127\.0\.0\.1:\d+ — 0\.5s window/);
    assert.match(table.stdout, /SERVICE\s+│?\s*NAME.*REQ\/S.*4XX.*5XX.*P50 MS.*P99 MS/s);
    assert.match(table.stdout, new RegExp(svcOk.id));

    // Live: JSON lines, one per refresh, until SIGINT (exit 0).
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/trellis.js'),
        'top',
        '--interval',
        '0.3',
        '-o',
        'json',
        '--data-dir',
        proc.dataDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => out.split('\n').filter(Boolean).length >= 2, {
        timeoutMs: 30_000,
        message: 'two refreshes',
      });
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
    for (const line of out.split('\n').filter(Boolean)) assert.ok(Array.isArray(JSON.parse(line)));
  });
});
