import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { FunctionInvokeResult } from '../model/function-types.js';
import type { FunctionInvoker } from './function-invoker.js';
import type { LambdaEventV1, LambdaEventV2 } from './lambda-event.js';
import { startPlane, type Plane } from './test-support/harness.js';
import { randomLoopback, randomPort, send } from './test-support/net.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

const ARN = (name: string): string => `arn:aws:lambda:us-west-2:111122223333:function:${name}`;

/** A function registry in memory: each function answers from its event. */
class FakeInvoker implements FunctionInvoker {
  readonly events: { arn: string; event: unknown; requestId: string | undefined }[] = [];
  constructor(private readonly fns: Record<string, (event: unknown) => FunctionInvokeResult>) {}
  invoke(
    arn: string,
    payload: string,
    options?: { requestId?: string },
  ): Promise<FunctionInvokeResult> {
    const event = JSON.parse(payload) as unknown;
    this.events.push({ arn, event, requestId: options?.requestId });
    const fn = this.fns[arn.slice(arn.lastIndexOf(':') + 1)];
    return Promise.resolve(fn ? fn(event) : { status: 'not-found', message: 'no such function' });
  }
}

const ok = (value: unknown): FunctionInvokeResult => ({
  status: 'ok',
  payload: JSON.stringify(value),
});

describe('LAMBDA targets through the data plane (spec §3.3)', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  const b = new SnapshotBuilder();
  const hosts: Record<string, string> = {};
  const tgArns: Record<string, string> = {};
  let svcArn = '';
  let netArn = '';
  let vpcArn = '';
  let vpcId = '';
  let plane: Plane;
  const invoker = new FakeInvoker({
    echo: () =>
      ok({
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"ok":true}',
        isBase64Encoded: false,
      }),
    binary: () =>
      ok({
        statusCode: 201,
        headers: {
          'content-type': 'application/octet-stream',
          'x-multi': ['a', 'b'],
          Connection: 'upgrade',
          'Transfer-Encoding': 'chunked',
          'Content-Length': '999',
        },
        multiValueHeaders: { 'set-cookie': ['c=1', 'd=2'] },
        body: Buffer.from([0, 1, 2, 255, 254]).toString('base64'),
        isBase64Encoded: true,
      }),
    minimal: () => ok({ statusCode: 204 }),
    scalar: () => ok(42),
    nostatus: () => ok({ headers: {}, body: 'x' }),
    badheaders: () => ok({ statusCode: 200, headers: { a: { nested: 1 } } }),
    throws: () => ({
      status: 'function-error',
      errorType: 'TypeError',
      payload: '{"errorType":"TypeError","errorMessage":"x"}',
    }),
    slow: () => ({ status: 'function-error', errorType: 'Sandbox.Timedout', payload: '{}' }),
    throttled: () => ({ status: 'unavailable', message: 'Rate exceeded', throttled: true }),
  });

  before(async () => {
    vpcId = b.vpc([ingress]);
    const net = b.network();
    b.associateVpc(net, vpcId);
    netArn = b.networkArnOf(net);
    const fn = (name: string, version: 'V1' | 'V2' = 'V1', fnName = name): void => {
      const svc = b.service();
      b.associateService(net, svc);
      const tg = b.targetGroup('LAMBDA', { lambdaEventStructureVersion: version });
      b.target(tg, ARN(fnName));
      b.listener(svc, port, forward(tg));
      hosts[name] = b.hostOf(svc);
      tgArns[name] = b.targetGroupArnOf(tg);
      if (name === 'v2') svcArn = b.serviceArnOf(svc);
    };
    fn('v1', 'V1', 'echo');
    fn('v2', 'V2', 'echo');
    for (const n of [
      'binary',
      'minimal',
      'scalar',
      'nostatus',
      'badheaders',
      'throws',
      'slow',
      'throttled',
      'missing',
    ])
      fn(n);
    plane = await startPlane(b, { functions: invoker, region: 'us-west-2' });
    vpcArn = `arn:aws:ec2:us-west-2:${b.build().vpcs[0]!.ownerAccountId}:vpc/${vpcId}`;
  });
  after(() => plane.stop());

  it('V1: snake_case event, joined multi-value headers, last query value, raw_path with query', async () => {
    invoker.events.length = 0;
    const r = await send(ingress, port, {
      host: hosts.v1!,
      path: '/p/x?a=1&a=2&b=%20c&flag',
      headers: {
        'X-Multi': ['one', 'two'],
        'x-amzn-requestid': 'req-v1',
        'x-amzn-lattice-identity': 'Principal=forged',
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, '{"ok":true}');
    assert.equal(r.headers['x-amzn-requestid'], 'req-v1');
    const { arn, event, requestId } = invoker.events[0]!;
    assert.equal(arn, ARN('echo'));
    assert.equal(requestId, 'req-v1');
    const e = event as LambdaEventV1;
    assert.deepEqual(Object.keys(e).sort(), [
      'headers',
      'is_base64_encoded',
      'method',
      'query_string_parameters',
      'raw_path',
    ]);
    assert.equal(e.raw_path, '/p/x?a=1&a=2&b=%20c&flag');
    assert.equal(e.method, 'GET');
    assert.deepEqual(e.query_string_parameters, { a: '2', b: ' c', flag: '' });
    assert.equal(e.is_base64_encoded, false);
    assert.deepEqual(e.headers, {
      host: hosts.v1,
      'x-multi': 'one, two',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': String(port),
      'x-amzn-lattice-network': `SourceVpcArn=${vpcArn}`,
      'x-amzn-lattice-target': `ServiceArn=${e.headers['x-amzn-lattice-target']!.match(/ServiceArn=([^;]+)/)![1]}; ServiceNetworkArn=${netArn}; TargetGroupArn=${tgArns.v1}`,
      'x-amzn-source-vpc': vpcId,
      'x-amzn-requestid': 'req-v1',
      // A W3C trace context is created when the client sends none (monitoring).
      traceparent: e.headers.traceparent,
    });
    assert.match(e.headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('V2: camelCase event with arrays, requestContext ARNs, region and timeEpoch in microseconds', async () => {
    invoker.events.length = 0;
    const before = Date.now() * 1000;
    const r = await send(ingress, port, {
      host: hosts.v2!,
      method: 'POST',
      path: '/orders?item=a&item=b',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-multi': ['one', 'two'] },
      body: '{"order":1}',
    });
    assert.equal(r.status, 200);
    const e = invoker.events[0]!.event as LambdaEventV2;
    assert.deepEqual(Object.keys(e).sort(), [
      'body',
      'headers',
      'isBase64Encoded',
      'method',
      'path',
      'queryStringParameters',
      'requestContext',
      'version',
    ]);
    assert.equal(e.version, '2.0');
    assert.equal(e.path, '/orders?item=a&item=b');
    assert.equal(e.method, 'POST');
    assert.deepEqual(e.queryStringParameters, { item: ['a', 'b'] });
    assert.deepEqual(e.headers['x-multi'], ['one', 'two']);
    assert.deepEqual(e.headers['x-forwarded-for'], ['127.0.0.1']);
    assert.equal(e.body, '{"order":1}');
    assert.equal(e.isBase64Encoded, false);
    const { timeEpoch, ...context } = e.requestContext;
    assert.deepEqual(context, {
      serviceNetworkArn: netArn,
      serviceArn: svcArn,
      targetGroupArn: tgArns.v2,
      identity: { sourceVpcArn: vpcArn }, // anonymous: no principal (spec §3.3)
      region: 'us-west-2',
    });
    assert.match(timeEpoch, /^\d{16}$/);
    assert.ok(Number(timeEpoch) >= before && Number(timeEpoch) <= Date.now() * 1000 + 1000);
  });

  const BODIES: {
    name: string;
    type?: string;
    encoding?: string;
    body: Buffer;
    base64: boolean;
  }[] = [
    { name: 'text/plain', type: 'text/plain', body: Buffer.from('héllo'), base64: false },
    { name: 'application/xml', type: 'application/xml', body: Buffer.from('<a/>'), base64: false },
    {
      name: 'application/javascript',
      type: 'application/javascript',
      body: Buffer.from('1;'),
      base64: false,
    },
    {
      name: 'octet-stream',
      type: 'application/octet-stream',
      body: Buffer.from([0, 255, 1]),
      base64: true,
    },
    { name: 'no content type', body: Buffer.from('raw'), base64: true },
    {
      name: 'gzip JSON',
      type: 'application/json',
      encoding: 'gzip',
      body: gzipSync('{"a":1}'),
      base64: true,
    },
  ];
  for (const c of BODIES) {
    it(`request body ${c.name} → ${c.base64 ? 'Base64' : 'text'}`, async () => {
      invoker.events.length = 0;
      const headers: Record<string, string> = {};
      if (c.type) headers['content-type'] = c.type;
      if (c.encoding) headers['content-encoding'] = c.encoding;
      const { request } = await import('node:http');
      await new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: ingress,
            port,
            method: 'PUT',
            path: '/',
            headers: { host: hosts.v2!, ...headers },
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(c.body);
      });
      const e = invoker.events[0]!.event as LambdaEventV2;
      assert.equal(e.isBase64Encoded, c.base64);
      assert.deepEqual(Buffer.from(e.body!, c.base64 ? 'base64' : 'utf8'), c.body);
    });
  }

  it('the response: Base64 body decoded, multi-value headers kept, hop-by-hop ignored, length computed', async () => {
    const { request } = await import('node:http');
    const res = await new Promise<{ status: number; raw: string[]; body: Buffer }>(
      (resolve, reject) => {
        const req = request(
          { host: ingress, port, path: '/', headers: { host: hosts.binary! }, agent: false },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () =>
              resolve({ status: r.statusCode!, raw: r.rawHeaders, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    assert.equal(res.status, 201);
    assert.deepEqual([...res.body], [0, 1, 2, 255, 254]);
    const pairs: [string, string][] = [];
    for (let i = 0; i < res.raw.length; i += 2)
      pairs.push([res.raw[i]!.toLowerCase(), res.raw[i + 1]!]);
    assert.deepEqual(
      pairs.filter(([k]) => k === 'x-multi').map(([, v]) => v),
      ['a', 'b'],
    );
    assert.deepEqual(
      pairs.filter(([k]) => k === 'set-cookie').map(([, v]) => v),
      ['c=1', 'd=2'],
    );
    assert.deepEqual(
      pairs.filter(([k]) => k === 'content-length').map(([, v]) => v),
      ['5'],
    );
    assert.ok(
      !pairs.some(([k, v]) => k === 'transfer-encoding' || (k === 'connection' && v === 'upgrade')),
    );
  });

  it('a response with only statusCode is accepted (no headers, empty body)', async () => {
    const r = await send(ingress, port, { host: hosts.minimal! });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
  });

  const FAILURES: { name: string; status: number; reason: string }[] = [
    { name: 'scalar', status: 502, reason: 'TargetProtocolError' },
    { name: 'nostatus', status: 502, reason: 'TargetProtocolError' },
    { name: 'badheaders', status: 502, reason: 'TargetProtocolError' },
    { name: 'throws', status: 502, reason: 'TargetProtocolError' },
    { name: 'slow', status: 504, reason: 'TargetDataTimeout' },
    { name: 'throttled', status: 502, reason: 'TargetConnectionError' },
    { name: 'missing', status: 502, reason: 'TargetConnectionError' },
  ];
  for (const f of FAILURES) {
    it(`${f.name} → ${f.status} ${f.reason}`, async () => {
      plane.records.length = 0;
      const r = await send(ingress, port, { host: hosts[f.name]! });
      assert.equal(r.status, f.status);
      const rec = await plane.record((x) => x.responseCode === f.status);
      assert.equal(rec.failureReason, f.reason);
      assert.equal(rec.targetGroupArn, tgArns[f.name]);
    });
  }

  it('a request body over 6 MB is refused with 413 and never reaches the function', async () => {
    invoker.events.length = 0;
    plane.records.length = 0;
    const r = await send(ingress, port, {
      host: hosts.v1!,
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(6 * 1024 * 1024 + 1),
    }).catch((err: Error) => ({ status: -1, body: err.message }));
    assert.equal(r.status, 413, r.body);
    assert.equal(invoker.events.length, 0);
    // The proxy keeps serving.
    assert.equal((await send(ingress, port, { host: hosts.v1! })).status, 200);
  });

  it('a 1 MB text body goes through whole', async () => {
    invoker.events.length = 0;
    const r = await send(ingress, port, {
      host: hosts.v1!,
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'y'.repeat(1024 * 1024),
    });
    assert.equal(r.status, 200);
    assert.equal((invoker.events[0]!.event as LambdaEventV1).body!.length, 1024 * 1024);
  });
});
