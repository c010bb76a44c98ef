import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EchoBody, Upstream } from './test-support/net.js';
import { randomLoopback, randomPort, send, startUpstream } from './test-support/net.js';
import { startPlane, type Plane } from './test-support/harness.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';
import type { TargetHealthView } from './target-health.js';
import type { HealthCheckTargetGroup } from './target-health.js';

/** A TCP server that misbehaves on purpose. */
async function startRawServer(onConn: (s: Socket) => void): Promise<{
  port: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('forwarding', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  const b = new SnapshotBuilder();
  const ups: Upstream[] = [];
  const raws: { close(): Promise<void> }[] = [];
  let plane: Plane;
  const hosts: Record<string, string> = {};
  let vpcId = '';
  let netId = '';
  const svcIds: Record<string, string> = {};
  const tgIds: Record<string, string> = {};
  const plans: HealthCheckTargetGroup[][] = [];
  const unhealthy = new Set<string>();
  const view: TargetHealthView = {
    generation: 0,
    status: () => 'HEALTHY',
    isRoutable: (_tg, key) => !unhealthy.has(key),
  };

  before(async () => {
    const [a, w80, w20, v6, inst, alb, h1, h2, d1, d2] = await Promise.all([
      startUpstream('a'),
      startUpstream('w80'),
      startUpstream('w20'),
      startUpstream('v6', '::1'),
      startUpstream('instance'),
      startUpstream('alb'),
      startUpstream('h1'),
      startUpstream('h2'),
      startUpstream('d1'),
      startUpstream('d2'),
    ]);
    ups.push(a!, w80!, w20!, v6!, inst!, alb!, h1!, h2!, d1!, d2!);
    const hang = await startRawServer(() => undefined);
    const reset = await startRawServer((s) => s.once('data', () => s.resetAndDestroy()));
    const garbage = await startRawServer((s) =>
      s.once('data', () => s.end('this is not http\r\n\r\n')),
    );
    const closed = await startRawServer(() => undefined);
    await closed.close(); // its port now refuses connections
    raws.push(hang, reset, garbage);

    vpcId = b.vpc([ingress]);
    netId = b.network();
    b.associateVpc(netId, vpcId);
    const svc = (name: string, action: ReturnType<typeof forward>): void => {
      const id = b.service();
      b.associateService(netId, id);
      b.listener(id, port, action);
      hosts[name] = b.hostOf(id);
      svcIds[name] = id;
    };
    const ipGroup = (name: string, targets: [string, number][], config = {}): string => {
      const id = b.targetGroup('IP', { port: 1, ...config });
      for (const [addr, p] of targets) b.target(id, addr, p);
      tgIds[name] = id;
      return id;
    };
    svc('plain', forward(ipGroup('a', [[a!.address, a!.port]])));
    svc(
      'weighted',
      forward(
        [ipGroup('w80', [[w80!.address, w80!.port]]), 80],
        [ipGroup('w20', [[w20!.address, w20!.port]]), 20],
        [ipGroup('zero', [[a!.address, a!.port]]), 0],
      ),
    );
    svc('zero-only', forward([ipGroup('zero2', [[a!.address, a!.port]]), 0]));
    svc('v6', forward(ipGroup('v6', [['::1', v6!.port]], { ipAddressType: 'IPV6' })));
    const instTg = b.targetGroup('INSTANCE', { port: inst!.port });
    b.instance('i-0123456789abcdef0', '127.0.0.1');
    b.target(instTg, 'i-0123456789abcdef0');
    svc('instance', forward(instTg));
    const albTg = b.targetGroup('ALB', { port: alb!.port });
    b.target(albTg, b.loadBalancer('127.0.0.1'));
    svc('alb', forward(albTg));
    svc(
      'health',
      forward(
        ipGroup('health', [
          ['127.0.0.1', h1!.port],
          ['127.0.0.1', h2!.port],
        ]),
      ),
    );
    const drainTg = ipGroup('drain', [['127.0.0.1', d1!.port]]);
    b.target(drainTg, '127.0.0.1', d2!.port, new Date(Date.now() + 60_000).toISOString());
    svc('drain', forward(drainTg));
    svc('empty', forward(ipGroup('empty', [])));
    svc('hang', forward(ipGroup('hang', [['127.0.0.1', hang.port]])));
    svc('reset', forward(ipGroup('reset', [['127.0.0.1', reset.port]])));
    svc('garbage', forward(ipGroup('garbage', [['127.0.0.1', garbage.port]])));
    svc('refused', forward(ipGroup('refused', [['127.0.0.1', closed.port]])));

    plane = await startPlane(b, {
      // Short enough for the hanging target's 504 to come quickly, long enough that no healthy
      // target misses it on a loaded CI machine.
      timeouts: { targetResponseMs: 2_000, targetConnectMs: 5_000 },
      health: { view, update: (g) => plans.push(g) },
    });
  });

  after(async () => {
    await plane.stop();
    await Promise.all([...ups.map((u) => u.close()), ...raws.map((r) => r.close())]);
  });

  const get = (name: string, extra: Parameters<typeof send>[2] = {}) =>
    send(ingress, port, { host: hosts[name], ...extra });

  it('adds the Lattice headers and strips forged ones (spec §3.1)', async () => {
    const r = await get('plain', {
      path: '/p?q=1',
      headers: {
        'X-Amzn-Lattice-Identity': 'Principal=forged',
        'x-amzn-lattice-network': 'forged',
        'x-amzn-source-vpc': 'vpc-forged',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-port': '1',
        connection: 'keep-alive, x-hop',
        'x-hop': 'hop',
        'x-custom': 'kept',
      },
    });
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body) as EchoBody;
    const h = echo.headers;
    assert.equal(echo.url, '/p?q=1');
    assert.equal(h.host, hosts.plain, 'Host passes through unchanged');
    assert.equal(h['x-custom'], 'kept');
    assert.equal(h['x-hop'], undefined, 'headers named by Connection are hop-by-hop');
    assert.equal(h['x-amzn-lattice-identity'], undefined);
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-port'], String(port));
    assert.equal(h['x-amzn-source-vpc'], vpcId);
    assert.equal(
      h['x-amzn-lattice-network'],
      `SourceVpcArn=arn:aws:ec2:${b.region}:${b.account}:vpc/${vpcId}`,
    );
    assert.equal(
      h['x-amzn-lattice-target'],
      `ServiceArn=${b.serviceArnOf(svcIds.plain!)}; ServiceNetworkArn=${b.networkArnOf(netId)}; TargetGroupArn=${b.targetGroupArnOf(tgIds.a!)}`,
    );
    assert.match(h['x-amzn-requestid'] as string, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-amzn-requestid'], h['x-amzn-requestid']);
    assert.equal(r.headers['x-upstream'], 'a');
  });

  it('honours a client request id, truncated to 512 bytes (spec §3.2)', async () => {
    const long = 'r'.repeat(600);
    const r = await get('plain', { headers: { 'x-amzn-requestid': long } });
    const echo = JSON.parse(r.body) as EchoBody;
    assert.equal(echo.headers['x-amzn-requestid'], 'r'.repeat(512));
    assert.equal(r.headers['x-amzn-requestid'], 'r'.repeat(512));
    const short = await get('plain', { headers: { 'x-amzn-requestid': 'my-id' } });
    assert.equal(short.headers['x-amzn-requestid'], 'my-id');
  });

  it('forwards request bodies, fixed-length and chunked', async () => {
    const r = await get('plain', { method: 'POST', body: 'hello body' });
    assert.equal((JSON.parse(r.body) as EchoBody).body, 'hello body');
    const chunked = await get('plain', {
      method: 'POST',
      body: 'chunky',
      headers: { 'transfer-encoding': 'chunked' },
    });
    assert.equal((JSON.parse(chunked.body) as EchoBody).body, 'chunky');
  });

  it('splits traffic by weight, 80/20 within ±5%, and never picks weight 0', async () => {
    const counts: Record<string, number> = {};
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 16 });
    const N = 1000;
    const batch = 50;
    for (let i = 0; i < N; i += batch) {
      const replies = await Promise.all(
        Array.from({ length: batch }, () => get('weighted', { agent })),
      );
      for (const r of replies) {
        const name = (JSON.parse(r.body) as EchoBody).name;
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }
    agent.destroy();
    assert.equal(counts.a, undefined, 'weight 0 group got traffic');
    const share = (counts.w80 ?? 0) / N;
    assert.ok(share > 0.75 && share < 0.85, `w80 share ${share}`);
    assert.equal((counts.w80 ?? 0) + (counts.w20 ?? 0), N);
  });

  it('a forward whose only group has weight 0 answers 503', async () => {
    const r = await get('zero-only');
    assert.equal(r.status, 503);
  });

  it('reaches IPv6, INSTANCE and ALB targets', async () => {
    for (const [name, want] of [
      ['v6', 'v6'],
      ['instance', 'instance'],
      ['alb', 'alb'],
    ] as const) {
      const r = await get(name);
      assert.equal(r.status, 200, `${name}: ${r.body}`);
      assert.equal((JSON.parse(r.body) as EchoBody).name, want);
    }
  });

  it('round-robins across routable targets and fails open when none is (spec §5)', async () => {
    const names = async (n: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < n; i++)
        out.push((JSON.parse((await get('health')).body) as EchoBody).name);
      return out;
    };
    assert.deepEqual(new Set(await names(4)), new Set(['h1', 'h2']));
    const [h1, h2] = [ups[6]!, ups[7]!];
    unhealthy.add(`127.0.0.1:${h1.port}`);
    (view as { generation: number }).generation += 1;
    assert.deepEqual(new Set(await names(4)), new Set(['h2']));
    unhealthy.add(`127.0.0.1:${h2.port}`);
    (view as { generation: number }).generation += 1;
    assert.deepEqual(new Set(await names(4)), new Set(['h1', 'h2']), 'fail-open');
    unhealthy.clear();
    (view as { generation: number }).generation += 1;
  });

  it('sends nothing new to draining targets', async () => {
    for (let i = 0; i < 6; i++)
      assert.equal((JSON.parse((await get('drain')).body) as EchoBody).name, 'd1');
  });

  it('hands the health checker a plan with resolved addresses, in-use flags and draining', () => {
    const plan = plans.at(-1)!;
    const drain = plan.find((g) => g.targetGroupId === tgIds.drain)!;
    assert.equal(drain.inUse, true);
    assert.equal(drain.targets.length, 2);
    assert.equal(drain.targets.filter((t) => t.draining).length, 1);
    const inst = plan.find((g) => g.type === 'INSTANCE')!;
    assert.equal(inst.targets[0]!.address, '127.0.0.1');
    const alb = plan.find((g) => g.type === 'ALB')!;
    assert.equal(alb.healthCheck.enabled, false);
  });

  const failures: [string, number, string][] = [
    ['empty', 503, ''],
    ['refused', 502, 'TargetConnectionError'],
    ['reset', 502, 'TargetConnectionClosed'],
    ['garbage', 502, 'TargetProtocolError'],
    ['hang', 504, 'TargetDataTimeout'],
  ];
  for (const [name, status, reason] of failures) {
    it(`${name} target → ${status}${reason ? ` (${reason})` : ''}`, async () => {
      const r = await get(name, { path: `/${name}` });
      assert.equal(r.status, status, r.body);
      assert.ok(r.body.length > 0 && r.body.length < 64);
      const rec = await plane.record((x) => x.requestPath === `/${name}`);
      assert.equal(rec.responseCode, status);
      if (reason) assert.equal(rec.failureReason, reason);
      assert.equal(rec.serviceArn, b.serviceArnOf(svcIds[name]!));
    });
  }

  it('a failing target answers 502 to a POST with a body too', async () => {
    const r = await get('refused', { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(r.status, 502);
  });

  it('records carry the access-log fields', async () => {
    await get('plain', { path: '/logged?x=1', headers: { 'user-agent': 'ua/1' } });
    const rec = await plane.record((x) => x.requestPath === '/logged');
    assert.equal(rec.responseCode, 200);
    assert.equal(rec.userAgent, 'ua/1');
    assert.equal(rec.sourceVpcId, vpcId);
    assert.equal(rec.targetGroupArn, b.targetGroupArnOf(tgIds.a!));
    assert.match(rec.targetIpPort, /^127\.0\.0\.1:\d+$/);
    assert.equal(rec.failureReason, undefined);
  });
});
