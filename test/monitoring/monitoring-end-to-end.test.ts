/**
 * Monitoring end to end through a real `trellis up` configured with the official VPC Lattice SDK
 * and real upstream servers: access-log records of every outcome checked field by field (spec
 * §4.1, §3.2), delivery to subscriptions at network and service level (CloudWatch-style files,
 * S3-style gzip objects, a Firehose HTTP endpoint), an unwritable destination, `/metrics` parsed
 * as Prometheus text (spec §4.2), and metered usage (GetUsage) compared with the traffic sent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  CreateAccessLogSubscriptionCommand,
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createListener,
  createNetwork,
  createService,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  startUpstream,
  waitFor,
  waitForAnswer,
  type Network,
  type RecordingUpstream,
  type ServiceInfo,
} from '../support/dataplane-fixtures.js';
import { inventoryCall } from '../support/inventory-client.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { parsePrometheusText } from './support/prometheus-text.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const ingress = randomLoopback();
const port = randomPort();
const suffix = Math.random().toString(36).slice(2, 8);
const NET_GROUP = `/trellis/net-${suffix}`;
const SVC_GROUP = `/trellis/svc-${suffix}`;
const BROKEN_GROUP = `/trellis/broken-${suffix}`;
const BUCKET = `logs-${suffix}`;
const STREAM = `stream-${suffix}`;

let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let dataDir: string;
let vpcId: string;
let net: Network;
let svcA: ServiceInfo; // NONE auth, healthy upstream; subscribed to SVC_GROUP, S3, Firehose
let svcB: ServiceInfo; // target refuses connections (502); subscribed to an unwritable group
let svcEmpty: ServiceInfo; // target group without targets (503)
let svcIam: ServiceInfo; // AWS_IAM, no auth policy (403)
// Target never answers. (504 needs the 60 s minimum idle timeout to pass: covered by unit tests.)
let svcSlow: ServiceInfo;
let tgA: { id: string; arn: string };
let tgB: { id: string; arn: string };
let upA: RecordingUpstream;
let hang: RecordingUpstream;
let firehose: Server;
const firehoseBodies: string[] = [];

type LogRecord = Record<string, unknown>;

/**
 * A refused port: 1 (tcpmux), which nobody serves and the kernel never hands out as an ephemeral
 * port — unlike a port bound then closed, which a test running beside this one may be given.
 */
function closedPort(): Promise<number> {
  return Promise.resolve(1);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The client's side of the connection, as the proxy sees it (`sourceIpPort`). */
  local: string;
}

/** One request with its own connection, recording the client's address and port. */
function call(
  host: string,
  o: { path?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ingress,
        port,
        method: o.method ?? 'GET',
        path: o.path ?? '/',
        headers: { 'user-agent': 'monitoring-test/1.0', ...o.headers, host },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            local: `${req.socket?.localAddress}:${req.socket?.localPort}`,
          }),
        );
      },
    );
    let local = '';
    req.on('socket', (s) => s.on('connect', () => (local = `${s.localAddress}:${s.localPort}`)));
    req.on('error', (err) => reject(Object.assign(err, { local })));
    req.end(o.body);
  });
}

function readGroup(group: string): LogRecord[] {
  const dir = join(dataDir, 'logs', 'cloudwatch', encodeURIComponent(group));
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

function readBucket(): { key: string; records: LogRecord[] }[] {
  const root = join(dataDir, 'logs', 's3', BUCKET);
  const out: { key: string; records: LogRecord[] }[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json.gz'))
        out.push({
          key: p.slice(root.length + 1),
          records: gunzipSync(readFileSync(p))
            .toString()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as LogRecord),
        });
    }
  };
  walk(root);
  return out;
}

function firehoseRecords(): LogRecord[] {
  return firehoseBodies
    .flatMap((b) => b.split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogRecord);
}

async function recordFor(group: string, requestId: string): Promise<LogRecord> {
  const found = await waitFor(() => readGroup(group).find((r) => r.requestId === requestId), {
    timeoutMs: 5_000,
    message: `record ${requestId} in ${group}`,
  });
  return found!;
}

async function metrics(): Promise<ReturnType<typeof parsePrometheusText>> {
  const res = await fetch(`${proc.endpoint}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheusText(await res.text());
}

async function subscribe(resourceIdentifier: string, destinationArn: string): Promise<void> {
  await lattice.send(
    new CreateAccessLogSubscriptionCommand({ resourceIdentifier, destinationArn }),
  );
}

const logGroupArn = (name: string): string =>
  `arn:aws:logs:${proc.region}:${proc.accountId}:log-group:${name}`;

before(async () => {
  firehose = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      firehoseBodies.push(body);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => firehose.listen(0, '127.0.0.1', () => r()));
  const firehosePort = (firehose.address() as AddressInfo).port;

  dataDir = mkdtempSync(join(tmpdir(), 'trellis-monitoring-'));
  // An unwritable destination: a plain file where the group's folder would be.
  mkdirSync(join(dataDir, 'logs', 'cloudwatch'), { recursive: true });
  writeFileSync(join(dataDir, 'logs', 'cloudwatch', encodeURIComponent(BROKEN_GROUP)), 'not a dir');

  proc = await startTrellis({
    dataDir,
    args: ['--dataplane-host', ingress],
    env: {
      TRELLIS_STORE_SYNCHRONOUS: 'NORMAL',
      TRELLIS_S3_LOG_FLUSH_MS: '300',
      TRELLIS_USAGE_FLUSH_MS: '200',
      TRELLIS_FIREHOSE_FLUSH_MS: '200',
      [`TRELLIS_FIREHOSE_ENDPOINT_${STREAM.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`]: `http://127.0.0.1:${firehosePort}/`,
    },
  });
  lattice = proc.lattice();
  vpcId = defaultVpcId(proc.accountId);
  net = await createNetwork(lattice, vpcId);

  upA = await startUpstream('a');
  hang = await startUpstream('hang', { handler: () => true }); // never answers

  svcA = await createService(lattice, net.id, { stem: 'mon-a' });
  tgA = await createTargetGroup(lattice, vpcId, upA.port, [{ id: '127.0.0.1' }]);
  await createListener(lattice, svcA.id, port, forwardTo(tgA.id));

  svcB = await createService(lattice, net.id, { stem: 'mon-b' });
  tgB = await createTargetGroup(lattice, vpcId, await closedPort(), [{ id: '127.0.0.1' }]);
  await createListener(lattice, svcB.id, port, forwardTo(tgB.id));

  svcEmpty = await createService(lattice, net.id, { stem: 'mon-empty' });
  const tgEmpty = await createTargetGroup(lattice, vpcId, 8080, []);
  await createListener(lattice, svcEmpty.id, port, forwardTo(tgEmpty.id));

  const iam = await lattice.send(
    new CreateServiceCommand({ name: uniqueName('mon-iam'), authType: 'AWS_IAM' }),
  );
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: iam.id,
    }),
  );
  svcIam = { id: iam.id!, arn: iam.arn!, dnsName: iam.dnsEntry!.domainName! };
  const tgIam = await createTargetGroup(lattice, vpcId, upA.port, [{ id: '127.0.0.1' }]);
  await createListener(lattice, svcIam.id, port, forwardTo(tgIam.id));

  svcSlow = await createService(lattice, net.id, { stem: 'mon-slow' });
  const tgHang = await createTargetGroup(lattice, vpcId, hang.port, [{ id: '127.0.0.1' }]);
  await createListener(lattice, svcSlow.id, port, forwardTo(tgHang.id));

  await subscribe(net.id, logGroupArn(NET_GROUP));
  await subscribe(svcA.id, logGroupArn(SVC_GROUP));
  await subscribe(svcA.arn, `arn:aws:s3:::${BUCKET}/lattice`);
  await subscribe(
    svcA.id,
    `arn:aws:firehose:${proc.region}:${proc.accountId}:deliverystream/${STREAM}`,
  );
  await subscribe(svcB.id, logGroupArn(BROKEN_GROUP));

  await waitForAnswer(ingress, port, { host: svcA.dnsName }, 'a', 10_000);
  await waitForAnswer(ingress, port, { host: svcB.dnsName }, '<502>', 10_000);
});

after(async () => {
  lattice?.destroy();
  await proc?.stop();
  await upA?.close();
  await hang?.close();
  await new Promise<void>((r) => firehose?.close(() => r()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('access-log records (spec §4.1)', () => {
  test('a 2xx request: every field, one by one', async () => {
    const started = Date.now();
    const a = await call(svcA.dnsName, { path: '/orders/7?x=1', headers: { 'x-probe': '1' } });
    assert.equal(a.status, 200);
    const requestId = a.headers['x-amzn-requestid'] as string;
    assert.match(requestId, /^[0-9a-f-]{36}$/, 'generated UUID returned to the client');
    const seen = upA.requests.find((r) => r.headers['x-amzn-requestid'] === requestId);
    assert.ok(seen, 'the request id was forwarded to the target');

    const r = await recordFor(SVC_GROUP, requestId);
    assert.match(r.startTime as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.ok(Math.abs(Date.parse(r.startTime as string) - started) < 5_000);
    assert.equal(r.requestId, requestId);
    assert.equal(r.serviceNetworkArn, net.arn);
    assert.equal(r.serviceArn, svcA.arn);
    assert.equal(r.targetGroupArn, tgA.arn);
    assert.equal(r.listenerType, '-');
    assert.match(r.listenerId as string, /^listener-[0-9a-z]{17}$/);
    assert.equal(r.sourceVpcArn, `arn:aws:ec2:${proc.region}:${proc.accountId}:vpc/${vpcId}`);
    assert.equal(r.sourceVpcId, vpcId);
    assert.equal(r.destinationVpcId, vpcId);
    assert.equal(r.sourceIpPort, a.local);
    assert.equal(r.targetIpPort, `127.0.0.1:${upA.port}`);
    assert.equal(r.requestMethod, 'GET');
    assert.equal(r.requestPath, '/orders/7');
    assert.equal(r.protocol, 'HTTP/1.1');
    assert.equal(r.responseCode, 200);
    assert.equal(r.grpcResponseCode, '-');
    assert.ok((r.bytesReceived as number) >= 60, `bytesReceived ${String(r.bytesReceived)}`);
    assert.ok((r.bytesSent as number) > a.body.length, `bytesSent ${String(r.bytesSent)}`);
    assert.equal(typeof r.duration, 'number');
    assert.ok((r.duration as number) >= 0 && (r.duration as number) < 5_000);
    assert.equal(typeof r.requestToTargetDuration, 'number');
    assert.equal(typeof r.responseFromTargetDuration, 'number');
    assert.ok((r.requestToTargetDuration as number) <= (r.duration as number));
    assert.ok((r.responseFromTargetDuration as number) <= (r.duration as number));
    assert.equal(r.userAgent, 'monitoring-test/1.0');
    assert.equal(r.hostHeader, svcA.dnsName);
    assert.equal(r.serverNameIndication, '-');
    assert.equal(r.sslCipher, '-');
    assert.equal(r.tlsVersion, '-');
    assert.equal(r.resolvedUser, null);
    assert.equal(r.authDeniedReason, null);
    for (const f of [
      'callerPrincipal',
      'callerPrincipalOrgID',
      'callerPrincipalTags',
      'callerX509SubjectCN',
      'callerX509IssuerOU',
      'callerX509SANNameCN',
      'callerX509SANDNS',
      'callerX509SANURI',
    ])
      assert.equal(r[f], '-', f);
    assert.equal(r.failureReason, '-');
    assert.equal(Object.keys(r).length, 38, 'every §4.1 field, nothing else');
  });

  test('a client-supplied x-amzn-requestid is truncated at 512 bytes, returned, forwarded, logged (§3.2)', async () => {
    const long = `client-${'x'.repeat(600)}`;
    const a = await call(svcA.dnsName, { headers: { 'x-amzn-requestid': long } });
    const id = long.slice(0, 512);
    assert.equal(a.headers['x-amzn-requestid'], id);
    assert.ok(upA.requests.some((r) => r.headers['x-amzn-requestid'] === id));
    assert.equal((await recordFor(SVC_GROUP, id)).requestId, id);
  });

  test('W3C traceparent: passed to the target unchanged, created when absent', async () => {
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const a = await call(svcA.dnsName, { path: '/traced', headers: { traceparent: given } });
    const b = await call(svcA.dnsName, { path: '/untraced' });
    const seenA = upA.requests.find(
      (r) => r.headers['x-amzn-requestid'] === a.headers['x-amzn-requestid'],
    );
    const seenB = upA.requests.find(
      (r) => r.headers['x-amzn-requestid'] === b.headers['x-amzn-requestid'],
    );
    assert.equal(seenA?.headers.traceparent, given);
    assert.match(String(seenB?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test('404 unknown service: logged to the network of the client VPC', async () => {
    const a = await call(`nothing-${suffix}.example`);
    assert.equal(a.status, 404);
    const r = await recordFor(NET_GROUP, a.headers['x-amzn-requestid'] as string);
    assert.equal(r.responseCode, 404);
    assert.equal(r.serviceArn, '-');
    assert.equal(r.targetGroupArn, '-');
    assert.equal(r.targetIpPort, '-');
    assert.equal(r.destinationVpcId, '-');
    assert.equal(r.sourceVpcId, vpcId);
    assert.equal(r.requestToTargetDuration, '-');
    assert.equal(r.responseFromTargetDuration, '-');
  });

  test('403 AWS_IAM without a policy: ClientAccessDenied with an authDeniedReason', async () => {
    const a = await call(svcIam.dnsName);
    assert.equal(a.status, 403);
    const r = await recordFor(NET_GROUP, a.headers['x-amzn-requestid'] as string);
    assert.equal(r.responseCode, 403);
    assert.equal(r.serviceArn, svcIam.arn);
    assert.equal(r.failureReason, 'ClientAccessDenied');
    assert.ok(['Service', 'Network', 'Identity'].includes(r.authDeniedReason as string));
    assert.equal(r.targetIpPort, '-');
  });

  test('502 target refused: TargetConnectionError, and the unwritable destination does not stall it', async () => {
    const t0 = Date.now();
    const a = await call(svcB.dnsName);
    assert.equal(a.status, 502);
    assert.ok(Date.now() - t0 < 3_000);
    const r = await recordFor(NET_GROUP, a.headers['x-amzn-requestid'] as string);
    assert.equal(r.failureReason, 'TargetConnectionError');
    assert.equal(r.targetGroupArn, tgB.arn);
    assert.match(r.targetIpPort as string, /^127\.0\.0\.1:\d+$/);
    assert.equal(r.responseFromTargetDuration, '-');
  });

  test('503 no target: logged without a target', async () => {
    const a = await call(svcEmpty.dnsName);
    assert.equal(a.status, 503);
    const r = await recordFor(NET_GROUP, a.headers['x-amzn-requestid'] as string);
    assert.equal(r.responseCode, 503);
    assert.equal(r.targetIpPort, '-');
  });

  test('client abort: ClientConnectionClosed, no response code', async () => {
    const marker = `abort-${suffix}`;
    await new Promise<void>((resolve) => {
      const req = request({
        host: ingress,
        port,
        path: `/${marker}`,
        headers: { host: svcSlow.dnsName },
        agent: false,
      });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    const r = (await waitFor(
      () => readGroup(NET_GROUP).find((x) => x.requestPath === `/${marker}`),
      { message: 'abort record' },
    ))!;
    assert.equal(r.failureReason, 'ClientConnectionClosed');
    assert.equal(r.responseCode, '-');
  });
});

describe('subscriptions receive exactly their records', () => {
  test('service-level groups, S3 objects and Firehose hold svcA only; the network group all', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (await call(svcA.dnsName, { path: `/batch/${i}` })).headers['x-amzn-requestid'] as string,
      );
    const other = (await call(svcB.dnsName)).headers['x-amzn-requestid'] as string;

    await waitFor(() => ids.every((id) => readGroup(SVC_GROUP).some((r) => r.requestId === id)));
    await waitFor(() => readGroup(NET_GROUP).some((r) => r.requestId === other));
    const svcRecords = readGroup(SVC_GROUP);
    assert.ok(
      svcRecords.every((r) => r.serviceArn === svcA.arn),
      'service group: svcA only',
    );
    const netRecords = readGroup(NET_GROUP);
    for (const id of [...ids, other])
      assert.ok(
        netRecords.some((r) => r.requestId === id),
        id,
      );
    assert.ok(
      netRecords.every((r) => r.serviceNetworkArn === net.arn || r.serviceArn === '-'),
      'network group: traffic through this network (or unrouted traffic of its VPC)',
    );
    // Each record once per subscription.
    for (const id of ids) assert.equal(svcRecords.filter((r) => r.requestId === id).length, 1);

    const objects = await waitFor(
      () => {
        const o = readBucket();
        const all = o.flatMap((x) => x.records);
        return ids.every((id) => all.some((r) => r.requestId === id)) ? o : undefined;
      },
      { timeoutMs: 5_000, message: 'S3 objects' },
    );
    const keyPattern = new RegExp(
      `^lattice/AWSLogs/${proc.accountId}/VpcLattice/AccessLogs/${proc.region}/\\d{4}/\\d{2}/\\d{2}/${svcA.id}/${proc.accountId}_VpcLatticeAccessLogs_${proc.region}_${svcA.id}_\\d{8}T\\d{4}Z_[0-9a-f]{8}\\.json\\.gz$`,
    );
    for (const o of objects!) {
      assert.match(o.key, keyPattern);
      assert.ok(o.records.every((r) => r.serviceArn === svcA.arn));
    }

    await waitFor(() => ids.every((id) => firehoseRecords().some((r) => r.requestId === id)), {
      message: 'firehose records',
    });
    assert.ok(firehoseRecords().every((r) => r.serviceArn === svcA.arn));
  });
});

describe('metrics and usage', () => {
  test('/metrics counters match the traffic sent (parsed as Prometheus text)', async () => {
    const before = await metrics();
    const labels = { service: svcA.id, service_network: net.id };
    const base = before.value('trellis_lattice_service_total_request_count', labels);
    const base2xx = before.value('trellis_lattice_service_httpcode_2xx_count', labels);
    const baseTg = before.value('trellis_lattice_target_group_total_request_count', {
      target_group: tgA.id,
    });
    const labelsB = { service: svcB.id, service_network: net.id };
    const base502 = before.value('trellis_lattice_service_httpcode_vpclattice_502_count', labelsB);
    const baseConn = before.value('trellis_lattice_target_group_connection_error_count', {
      target_group: tgB.id,
    });
    for (let i = 0; i < 7; i++) assert.equal((await call(svcA.dnsName)).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await call(svcB.dnsName)).status, 502);

    const m = await metrics();
    assert.equal(m.types.get('trellis_lattice_service_total_request_count'), 'counter');
    assert.equal(m.types.get('trellis_lattice_service_request_time'), 'histogram');
    assert.equal(m.value('trellis_lattice_service_total_request_count', labels), base + 7);
    assert.equal(m.value('trellis_lattice_service_httpcode_2xx_count', labels), base2xx + 7);
    assert.equal(
      m.value('trellis_lattice_target_group_total_request_count', { target_group: tgA.id }),
      baseTg + 7,
    );
    assert.equal(
      m.value('trellis_lattice_service_httpcode_vpclattice_502_count', labelsB),
      base502 + 3,
    );
    assert.equal(
      m.value('trellis_lattice_target_group_connection_error_count', { target_group: tgB.id }),
      baseConn + 3,
    );
    const count = m.value('trellis_lattice_service_request_time_count', labels);
    assert.equal(count, m.value('trellis_lattice_service_total_request_count', labels));
    assert.equal(
      m.value('trellis_lattice_service_request_time_bucket', { ...labels, le: '+Inf' }),
      count,
    );
    assert.ok(
      m.value('trellis_lattice_service_httpcode_vpclattice_404_count', {
        service: '-',
        service_network: '-',
      }) >= 1,
    );
    assert.ok(m.find('process_cpu_user_seconds_total').length === 1, 'process metrics');
  });

  test('the unwritable destination counts its drops', async () => {
    await call(svcB.dnsName);
    await waitFor(
      async () =>
        (await metrics()).value('trellis_access_log_records_dropped', {
          destination: logGroupArn(BROKEN_GROUP),
          reason: 'write-error',
        }) > 0,
      { message: 'drop counter' },
    );
    assert.match(proc.output(), /access-log records dropped/);
  });

  test('a log folder removed at run time is recreated', async () => {
    const dir = join(dataDir, 'logs', 'cloudwatch', encodeURIComponent(SVC_GROUP));
    rmSync(dir, { recursive: true, force: true });
    const id = (await call(svcA.dnsName)).headers['x-amzn-requestid'] as string;
    await recordFor(SVC_GROUP, id);
  });

  test('GetUsage totals match the requests sent to a fresh service', async () => {
    const svc = await createService(lattice, net.id, { stem: 'mon-usage' });
    const tg = await createTargetGroup(lattice, vpcId, upA.port, [{ id: '127.0.0.1' }]);
    await createListener(lattice, svc.id, port, forwardTo(tg.id));
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'a', 10_000);
    const sent = 12;
    let bytes = 0;
    for (let i = 0; i < sent; i++) {
      const a = await call(svc.dnsName, { method: 'POST', body: 'x'.repeat(100) });
      bytes += a.body.length;
    }
    const usage = await waitFor(
      async () => {
        const res = await inventoryCall(proc, 'GET', `/_trellis/usage?serviceIdentifier=${svc.id}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const items = res.body!.items as { requests: number; bytesProcessed: number }[];
        const total = items.reduce((n, i) => n + i.requests, 0);
        // waitForAnswer's probes count too (≥ 1 more than `sent`); usage and the log group are
        // flushed by separate timers, so wait until both hold the same requests.
        const logged = readGroup(NET_GROUP).filter((r) => r.serviceArn === svc.arn).length;
        return total >= sent + 1 && total === logged ? res.body! : undefined;
      },
      { timeoutMs: 5_000, message: 'usage recorded' },
    );
    const items = usage!.items as {
      serviceId: string;
      hour: string;
      requests: number;
      bytesProcessed: number;
      serviceHours: number;
    }[];
    assert.ok(items.every((i) => i.serviceId === svc.id));
    assert.match(items[0]!.hour, /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
    const recs = readGroup(NET_GROUP).filter((r) => r.serviceArn === svc.arn);
    const totalRequests = items.reduce((n, i) => n + i.requests, 0);
    assert.equal(totalRequests, recs.length, 'usage requests = logged requests of the service');
    const loggedBytes = recs.reduce(
      (n, r) => n + (r.bytesReceived as number) + (r.bytesSent as number),
      0,
    );
    assert.equal(
      items.reduce((n, i) => n + i.bytesProcessed, 0),
      loggedBytes,
      'usage bytes = logged bytes',
    );
    assert.ok(loggedBytes > sent * 100 + bytes);
    const totals = usage!.totals as { serviceHours: number; estimatedCharge: number };
    assert.ok(totals.serviceHours > 0 && totals.serviceHours < 0.1);
    assert.ok(totals.estimatedCharge > 0);
  });
});

describe('CLI', () => {
  const trellis = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run(process.execPath, [join(ROOT, 'bin/trellis.js'), ...args], {
      env: { ...process.env, TRELLIS_DATA_DIR: '', AWS_ACCESS_KEY_ID: '', AWS_PROFILE: '' },
    });

  test('trellis usage prints the metered rows and the estimated charge', async () => {
    const { stdout } = await trellis('usage', '--data-dir', dataDir, '--service', svcA.id);
    assert.match(stdout, new RegExp(svcA.id));
    assert.match(
      stdout,
      /Total: \d+ requests, [\d.]+ GB, [\d.]+ service-hours, estimated \$[\d.]+/,
    );
    const json = await trellis('usage', '--data-dir', dataDir, '--service', svcA.id, '-o', 'json');
    const report = JSON.parse(json.stdout) as { items: { serviceId: string; requests: number }[] };
    assert.ok(report.items.length >= 1 && report.items.every((i) => i.serviceId === svcA.id));
  });

  test('trellis logs tail prints records of a group, filtered', async () => {
    const id = (await call(svcA.dnsName, { path: '/tail-me' })).headers[
      'x-amzn-requestid'
    ] as string;
    await recordFor(SVC_GROUP, id);
    const { stdout } = await trellis(
      'logs',
      'tail',
      SVC_GROUP,
      '--data-dir',
      dataDir,
      '--filter',
      id,
    );
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]!) as LogRecord).requestId, id);
    for (let i = 0; i < 3; i++) {
      const more = (await call(svcA.dnsName)).headers['x-amzn-requestid'] as string;
      await recordFor(SVC_GROUP, more);
    }
    const all = await trellis(
      'logs',
      'tail',
      logGroupArn(SVC_GROUP),
      '--data-dir',
      dataDir,
      '-n',
      '3',
    );
    assert.equal(all.stdout.trim().split('\n').length, 3);
  });
});
