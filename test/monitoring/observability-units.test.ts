/**
 * Unit tests of the monitoring parts that the end-to-end suite cannot reach quickly: drop-oldest
 * buffering, destination parsing and the S3 key layout (spec §1.5), routing by subscription level
 * (spec §4.1), metrics for outcomes that need a 60 s idle timeout end to end (504), usage hours,
 * and the monitoring settings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_MONITORING_SETTINGS,
  firehoseEndpointEnvKey,
  logGroupDirectory,
  monitoringSettingsFromEnv,
} from '../../src/config/monitoring-settings.js';
import type { Snapshot } from '../../src/model/snapshot-types.js';
import {
  ACCESS_LOG_FIELDS,
  compileAccessLogRoutes,
  createAccessLogDelivery,
  createMetrics,
  createUsageMeter,
  LogBuffer,
  parseDestination,
  s3ObjectKey,
  formatAccessLogLine,
  toAccessLogRecord,
  usageHour,
  type LogRoute,
  type RequestRecordFields,
  type UsageIncrement,
} from '../../src/observability/index.js';
import { parsePrometheusText } from './support/prometheus-text.js';

const SN = 'arn:aws:vpc-lattice:us-east-1:111122223333:servicenetwork/sn-0123456789abcdef0';
const SN2 = 'arn:aws:vpc-lattice:us-east-1:111122223333:servicenetwork/sn-0000000000000000b';
const SVC = 'arn:aws:vpc-lattice:us-east-1:111122223333:service/svc-0123456789abcdef0';
const SVC2 = 'arn:aws:vpc-lattice:us-east-1:111122223333:service/svc-0000000000000000b';
const TG = 'arn:aws:vpc-lattice:us-east-1:111122223333:targetgroup/tg-0123456789abcdef0';

function record(over: Partial<RequestRecordFields> = {}): RequestRecordFields {
  return {
    startTime: Date.parse('2026-11-26T11:42:30.123Z'),
    requestId: 'req-1',
    serviceNetworkArn: SN,
    serviceArn: SVC,
    targetGroupArn: TG,
    listenerId: 'listener-0123456789abcdef0',
    sourceVpcId: 'vpc-1',
    sourceVpcArn: 'arn:aws:ec2:us-east-1:111122223333:vpc/vpc-1',
    sourceIpPort: '127.0.0.1:5000',
    targetIpPort: '127.0.0.1:8080',
    requestMethod: 'GET',
    requestPath: '/',
    protocol: 'HTTP/1.1',
    hostHeader: 'svc.example',
    userAgent: 'ua',
    responseCode: 200,
    duration: 12,
    bytesReceived: 100,
    bytesSent: 200,
    sentToTargetAt: Date.parse('2026-11-26T11:42:30.125Z'),
    firstByteFromTargetAt: Date.parse('2026-11-26T11:42:30.130Z'),
    failureReason: undefined,
    authDeniedReason: undefined,
    resolvedUser: null,
    ...over,
  };
}

function snapshot(over: Partial<Snapshot>): Snapshot {
  const empty = {
    revision: 1,
    region: 'us-east-1',
    partition: 'aws',
    serviceNetworks: [],
    services: [],
    listeners: [],
    rules: [],
    targetGroups: [],
    targets: [],
    serviceNetworkServiceAssociations: [],
    serviceNetworkVpcAssociations: [],
    authPolicies: [],
    accessLogSubscriptions: [],
    vpcs: [],
    instances: [],
    loadBalancers: [],
    accounts: [],
    users: [],
    roles: [],
    accessKeys: [],
  };
  return { ...empty, ...over } as Snapshot;
}

function subscription(id: string, resourceArn: string, destinationArn: string): unknown {
  return {
    id,
    arn: `arn:aws:vpc-lattice:us-east-1:111122223333:accesslogsubscription/${id}`,
    resourceId: resourceArn.slice(resourceArn.lastIndexOf('/') + 1),
    resourceArn,
    destinationArn,
    createdAt: '',
    lastUpdatedAt: '',
    accountId: '111122223333',
  };
}

describe('LogBuffer', () => {
  test('keeps the newest lines within capacity, drops the oldest, counts drops (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(
          fc.string({ unit: 'grapheme' }).map((t) => t.replace(/\n/g, ' ')),
          {
            maxLength: 120,
          },
        ),
        (cap, lines) => {
          const b = new LogBuffer(cap);
          for (const l of lines) b.push(l);
          const { data, records } = b.take();
          const out = data.length ? data.toString('utf8').slice(0, -1).split('\n') : [];
          assert.equal(records, out.length);
          assert.deepEqual(out, lines.slice(lines.length - out.length), 'a suffix: newest kept');
          assert.equal(b.overflowed, lines.length - out.length);
          assert.ok(out.length <= cap, 'bounded by capacity');
          assert.ok(
            out.length >= Math.min(lines.length, cap - Math.floor(cap / 8)),
            'drops little',
          );
          assert.equal(b.length, 0);
        },
      ),
    );
  });
});

describe('access-log record', () => {
  test('has every §4.1 field, dashes where nothing applies', () => {
    const r = toAccessLogRecord(
      record({
        targetGroupArn: '',
        targetIpPort: '',
        firstByteFromTargetAt: 0,
        sentToTargetAt: 0,
        responseCode: 0,
      }),
      undefined,
    );
    assert.deepEqual(Object.keys(r), ACCESS_LOG_FIELDS);
    assert.equal(r.startTime, '2026-11-26T11:42:30Z');
    assert.equal(r.targetGroupArn, '-');
    assert.equal(r.responseCode, '-');
    assert.equal(r.requestToTargetDuration, '-');
    assert.equal(r.responseFromTargetDuration, '-');
    assert.equal(r.destinationVpcId, '-');
  });
  test('durations from the target timestamps; HTTP/2.0 is written HTTP/2', () => {
    const r = toAccessLogRecord(record({ protocol: 'HTTP/2.0' }), 'vpc-9');
    assert.equal(r.requestToTargetDuration, 2);
    assert.equal(r.responseFromTargetDuration, 5); // start+12 − (start+7)
    assert.equal(r.protocol, 'HTTP/2');
    assert.equal(r.destinationVpcId, 'vpc-9');
  });
  test('the hand-written JSON line equals JSON.stringify of the record (property)', () => {
    const text = fc.oneof(
      fc.constant(''),
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.constant('a"b\\c\n\u2028'),
    );
    fc.assert(
      fc.property(
        fc.record({
          requestId: text,
          requestPath: text,
          userAgent: text,
          hostHeader: text,
          serviceArn: text,
          responseCode: fc.integer({ min: 0, max: 599 }),
          duration: fc.integer({ min: 0, max: 100_000 }),
          sentToTargetAt: fc.constantFrom(0, Date.parse('2026-11-26T11:42:30.125Z')),
          firstByteFromTargetAt: fc.constantFrom(0, Date.parse('2026-11-26T11:42:30.130Z')),
          resolvedUser: fc.option(text, { nil: null }),
          failureReason: fc.option(text, { nil: undefined }),
          caller: fc.option(text, { nil: undefined }),
        }),
        fc.option(text, { nil: undefined }),
        ({ caller, ...over }, vpc) => {
          const r = record({ ...over, auth: { callerPrincipal: caller } });
          const line = formatAccessLogLine(r, vpc);
          assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(toAccessLogRecord(r, vpc))));
          assert.equal(line, JSON.stringify(toAccessLogRecord(r, vpc)));
        },
      ),
    );
  });

  test('caller fields from the auth gate', () => {
    const r = toAccessLogRecord(
      record({
        auth: { callerPrincipal: 'arn:aws:iam::1:user/a', callerPrincipalTags: '{"t":"v"}' },
        resolvedUser: 'arn:aws:iam::1:user/a',
      }),
      undefined,
    );
    assert.equal(r.callerPrincipal, 'arn:aws:iam::1:user/a');
    assert.equal(r.callerPrincipalOrgID, '-');
    assert.equal(r.callerPrincipalTags, '{"t":"v"}');
    assert.equal(r.resolvedUser, 'arn:aws:iam::1:user/a');
  });
});

describe('destinations and routing', () => {
  test('destination ARNs of the three types (spec §1.5)', () => {
    const table: [string, string | undefined, string][] = [
      ['arn:aws:logs:us-east-1:111122223333:log-group:/lattice/a', 'cloudwatch', '/lattice/a'],
      ['arn:aws:logs:us-east-1:111122223333:log-group:/lattice/a:*', 'cloudwatch', '/lattice/a'],
      ['arn:aws:s3:::my-bucket', 's3', 'my-bucket'],
      ['arn:aws:s3:::my-bucket/some/prefix/', 's3', 'my-bucket'],
      ['arn:aws:firehose:us-east-1:111122223333:deliverystream/s1', 'firehose', 's1'],
      ['arn:aws:sqs:us-east-1:111122223333:q', undefined, ''],
    ];
    for (const [arn, type, name] of table) {
      const d = parseDestination(arn, 'svc-1', '111122223333', 'us-east-1');
      assert.equal(d?.type, type, arn);
      if (d) assert.equal(d.name, name, arn);
    }
    assert.equal(
      parseDestination('arn:aws:s3:::b/some/prefix/', 'svc-1', '1', 'r')?.prefix,
      'some/prefix',
    );
  });

  test('S3 object key layout', () => {
    const spec = parseDestination('arn:aws:s3:::b/p', 'svc-0123', '111122223333', 'eu-west-1')!;
    assert.equal(
      s3ObjectKey(spec, new Date('2026-01-02T03:04:05Z'), 'abcd1234'),
      'p/AWSLogs/111122223333/VpcLattice/AccessLogs/eu-west-1/2026/01/02/svc-0123/111122223333_VpcLatticeAccessLogs_eu-west-1_svc-0123_20260102T0304Z_abcd1234.json.gz',
    );
  });

  test('network subscriptions get traffic through that network (and unrouted traffic of its VPCs); service ones only their service', () => {
    const routes = compileAccessLogRoutes(
      snapshot({
        serviceNetworkVpcAssociations: [{ vpcId: 'vpc-1', serviceNetworkArn: SN }] as never,
        accessLogSubscriptions: [
          subscription('als-net', SN, 'arn:aws:logs:us-east-1:111122223333:log-group:net'),
          subscription('als-svc', SVC, 'arn:aws:logs:us-east-1:111122223333:log-group:svc'),
          {
            ...(subscription('als-res', SN, 'arn:aws:s3:::res') as object),
            serviceNetworkLogType: 'RESOURCE',
          },
        ] as never,
      }),
    );
    const out: LogRoute[] = [];
    const ids = (svc: string, sn: string, vpc: string): string[] => {
      routes.collect(svc, sn, vpc, out);
      return out.map((r) => r.subscriptionId).sort();
    };
    assert.deepEqual(ids(SVC, SN, 'vpc-1'), ['als-net', 'als-svc']);
    assert.deepEqual(ids(SVC2, SN, 'vpc-1'), ['als-net']);
    assert.deepEqual(ids(SVC, SN2, 'vpc-2'), ['als-svc']);
    assert.deepEqual(ids(SVC2, SN2, 'vpc-2'), []);
    assert.deepEqual(ids('', '', 'vpc-1'), ['als-net'], '404 of a client in the network VPC');
    assert.deepEqual(ids('', '', 'vpc-2'), []);
    assert.equal(routes.destinations.size, 2, 'RESOURCE log type carries no HTTP records');
  });

  test('a full CloudWatch destination drops the oldest records and counts them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trellis-obs-'));
    try {
      const dropped: [string, number][] = [];
      const delivery = createAccessLogDelivery({
        dataDir,
        settings: { ...DEFAULT_MONITORING_SETTINGS, bufferRecords: 10 },
        counters: { delivered() {}, dropped: (_d, reason, n) => dropped.push([reason, n]) },
      });
      delivery.update(
        snapshot({
          accessLogSubscriptions: [
            subscription('als-svc', SVC, 'arn:aws:logs:us-east-1:111122223333:log-group:g'),
          ] as never,
        }),
      );
      // Not started: nothing is written until flush, so 25 records overflow a 10-record buffer.
      for (let i = 0; i < 25; i++) delivery.deliver(record({ requestId: `r${i}` }));
      await delivery.flush();
      const dir = logGroupDirectory(dataDir, 'g');
      const lines = readFileSync(join(dir, 'current.jsonl'), 'utf8').trim().split('\n');
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { requestId: string }).requestId),
        Array.from({ length: 10 }, (_, i) => `r${i + 15}`),
      );
      assert.deepEqual(dropped, [['overflow', 15]]);
      await delivery.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('CloudWatch files rotate by size and keep N', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trellis-obs-'));
    try {
      const delivery = createAccessLogDelivery({
        dataDir,
        settings: { ...DEFAULT_MONITORING_SETTINGS, rotateBytes: 4_000, keepFiles: 2 },
      });
      delivery.update(
        snapshot({
          accessLogSubscriptions: [
            subscription('als-svc', SVC, 'arn:aws:logs:us-east-1:111122223333:log-group:g'),
          ] as never,
        }),
      );
      for (let batch = 0; batch < 6; batch++) {
        for (let i = 0; i < 3; i++) delivery.deliver(record({ requestId: `b${batch}-${i}` }));
        await delivery.flush();
        await new Promise((r) => setTimeout(r, 2));
      }
      const files = readdirSync(logGroupDirectory(dataDir, 'g')).sort();
      assert.equal(files.filter((f) => f.startsWith('access-')).length, 2, files.join());
      assert.ok(files.includes('current.jsonl'));
      await delivery.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('metrics', () => {
  test('outcomes map to the §4.2 metrics', async () => {
    const m = createMetrics({ processMetrics: false });
    m.observe(record());
    m.observe(record({ responseCode: 404, firstByteFromTargetAt: 0 })); // fixed/unknown: proxy
    m.observe(record({ responseCode: 404 })); // the target's own 404
    m.observe(
      record({
        responseCode: 504,
        firstByteFromTargetAt: 0,
        failureReason: 'TargetDataTimeout',
        duration: 60_000,
      }),
    );
    m.observe(
      record({
        responseCode: 502,
        firstByteFromTargetAt: 0,
        failureReason: 'TargetConnectionError',
      }),
    );
    const e = parsePrometheusText((await m.render()).body);
    const svc = { service: 'svc-0123456789abcdef0', service_network: 'sn-0123456789abcdef0' };
    const tg = { target_group: 'tg-0123456789abcdef0' };
    assert.equal(e.value('trellis_lattice_service_total_request_count', svc), 5);
    assert.equal(e.value('trellis_lattice_service_httpcode_2xx_count', svc), 1);
    assert.equal(e.value('trellis_lattice_service_httpcode_4xx_count', svc), 2);
    assert.equal(e.value('trellis_lattice_service_httpcode_5xx_count', svc), 2);
    assert.equal(e.value('trellis_lattice_service_httpcode_vpclattice_404_count', svc), 1);
    assert.equal(e.value('trellis_lattice_service_httpcode_vpclattice_504_count', svc), 1);
    assert.equal(e.value('trellis_lattice_service_httpcode_vpclattice_502_count', svc), 1);
    assert.equal(e.value('trellis_lattice_service_request_timeout_count', svc), 1);
    assert.equal(e.value('trellis_lattice_target_group_connection_error_count', tg), 1);
    assert.equal(e.value('trellis_lattice_target_group_total_request_count', tg), 5);
    assert.equal(e.value('trellis_lattice_service_request_time_bucket', { ...svc, le: '25' }), 4);
    assert.equal(e.value('trellis_lattice_service_request_time_sum', svc), 60_000 + 4 * 12);
  });
});

describe('usage meter', () => {
  test('counts requests and bytes per service and hour; a failed flush is retried', async () => {
    const added: UsageIncrement[][] = [];
    let fail = true;
    const meter = createUsageMeter({
      flushMs: 60_000,
      sink: {
        addUsage: async (inc) => {
          if (fail) throw new Error('store down');
          added.push(inc);
        },
      },
    });
    const t = Date.parse('2026-11-26T11:59:59Z');
    meter.observe(record({ startTime: t }));
    meter.observe(record({ startTime: t }));
    meter.observe(record({ startTime: t + 2_000 })); // next hour
    meter.observe(record({ serviceArn: '' })); // unrouted: not billed
    await meter.flush();
    fail = false;
    await meter.flush();
    const rows = added.flat().sort((a, b) => a.hour.localeCompare(b.hour));
    assert.deepEqual(rows, [
      {
        serviceId: 'svc-0123456789abcdef0',
        hour: '2026-11-26T11:00:00Z',
        requests: 2,
        bytesProcessed: 600,
      },
      {
        serviceId: 'svc-0123456789abcdef0',
        hour: '2026-11-26T12:00:00Z',
        requests: 1,
        bytesProcessed: 300,
      },
    ]);
    assert.equal(usageHour(t), '2026-11-26T11:00:00Z');
  });
});

describe('monitoring settings', () => {
  test('environment mapping, firehose endpoints by stream name, bad values rejected', () => {
    const s = monitoringSettingsFromEnv({
      TRELLIS_PRICE_GB: '0.01',
      TRELLIS_LOG_ROTATE_BYTES: '1024',
      [firehoseEndpointEnvKey('my-stream.1')]: 'http://127.0.0.1:9/',
      TRELLIS_METRICS: 'off',
    });
    assert.equal(s.prices.perGbProcessed, 0.01);
    assert.equal(s.prices.perServiceHour, 0.025);
    assert.equal(s.rotateBytes, 1024);
    assert.equal(s.metrics, false);
    assert.equal(
      s.firehoseEndpoints['TRELLIS_FIREHOSE_ENDPOINT_MY_STREAM_1'],
      'http://127.0.0.1:9/',
    );
    assert.throws(
      () => monitoringSettingsFromEnv({ TRELLIS_LOG_BUFFER_RECORDS: '-1' }),
      /TRELLIS_LOG_BUFFER_RECORDS/,
    );
    assert.throws(
      () => monitoringSettingsFromEnv({ TRELLIS_FIREHOSE_ENDPOINT_X: 'not a url' }),
      /URL/,
    );
  });
});
