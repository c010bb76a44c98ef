/**
 * End to end through a real `trellis up`: routing configured only through the official VPC
 * Lattice SDK (and the /_trellis inventory API), real upstream servers, real clients (node:http
 * and curl). Spec §3.1 (headers), §7.2 (routing), §7.5 (reachability), §7.6 (IPv6).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Agent } from 'node:http';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  CreateRuleCommand,
  CreateServiceNetworkServiceAssociationCommand,
  type HttpMatch,
  type RuleAction,
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
  send,
  startUpstream,
  waitFor,
  waitForAnswer,
  whoAnswers,
  type Network,
  type RecordingUpstream,
  type ServiceInfo,
} from '../support/dataplane-fixtures.js';
import { createInstance, createLoadBalancer, inventoryCall } from '../support/inventory-client.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

const run = promisify(execFile);

const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let vpcId: string;
let net: Network;
const upstreams = new Map<string, RecordingUpstream>();
/** Target group id per upstream name (one IP target each, on 127.0.0.1). */
const groups = new Map<string, string>();

async function upstream(name: string, host = '127.0.0.1'): Promise<RecordingUpstream> {
  const up = await startUpstream(name, { host });
  upstreams.set(name, up);
  return up;
}

/** An upstream with its own IP target group. */
async function upstreamGroup(name: string): Promise<string> {
  const up = await upstream(name);
  const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: '127.0.0.1' }]);
  groups.set(name, tg.id);
  return tg.id;
}

async function rule(
  listenerId: string,
  serviceId: string,
  priority: number,
  httpMatch: HttpMatch,
  action: RuleAction,
): Promise<void> {
  await lattice.send(
    new CreateRuleCommand({
      serviceIdentifier: serviceId,
      listenerIdentifier: listenerId,
      name: uniqueName('route'),
      priority,
      match: { httpMatch },
      action,
    }),
  );
}

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
  vpcId = defaultVpcId(proc.accountId);
  net = await createNetwork(lattice, vpcId);
});

after(async () => {
  lattice?.destroy();
  await proc?.stop();
  await Promise.all([...upstreams.values()].map((u) => u.close()));
});

describe('rules: priority and every match type (spec §1.5 Rule, §7.2)', () => {
  let rules: ServiceInfo;
  let order: ServiceInfo;

  before(async () => {
    for (const n of [
      'default',
      'hdr-exact',
      'hdr-prefix',
      'hdr-contains',
      'post-api',
      'api',
      'exact-cs',
      'exact-ci',
      'prefix-cs',
      'prefix-ci',
      'early',
      'late',
    ])
      await upstreamGroup(n);
    const g = (n: string): RuleAction => forwardTo(groups.get(n)!);

    rules = await createService(lattice, net.id, { stem: 'rules' });
    const l = await createListener(lattice, rules.id, port, g('default'));
    const r = (p: number, m: HttpMatch, a: RuleAction): Promise<void> => rule(l, rules.id, p, m, a);
    await r(
      5,
      { headerMatches: [{ name: 'x-env', match: { exact: 'Canary' }, caseSensitive: true }] },
      g('hdr-exact'),
    );
    await r(6, { headerMatches: [{ name: 'X-User', match: { prefix: 'adm' } }] }, g('hdr-prefix'));
    await r(
      7,
      { headerMatches: [{ name: 'x-tags', match: { contains: 'beta' } }] },
      g('hdr-contains'),
    );
    await r(10, { method: 'POST', pathMatch: { match: { prefix: '/api' } } }, g('post-api'));
    await r(20, { pathMatch: { match: { prefix: '/api' } } }, g('api'));
    await r(30, { pathMatch: { match: { exact: '/Exact' }, caseSensitive: true } }, g('exact-cs'));
    await r(31, { pathMatch: { match: { exact: '/exact-ci' } } }, g('exact-ci'));
    await r(40, { pathMatch: { match: { prefix: '/Pre' }, caseSensitive: true } }, g('prefix-cs'));
    await r(41, { pathMatch: { match: { prefix: '/pre-ci' } } }, g('prefix-ci'));
    await r(
      50,
      { pathMatch: { match: { prefix: '/fixed' } } },
      { fixedResponse: { statusCode: 500 } },
    );

    // Priority, not creation order, decides: the rule created last has the lower number.
    order = await createService(lattice, net.id, {
      stem: 'order',
      customDomainName: `order-${Math.random().toString(36).slice(2, 8)}.example.com`,
    });
    const lo = await createListener(lattice, order.id, port, {
      fixedResponse: { statusCode: 404 },
    });
    await rule(lo, order.id, 20, { pathMatch: { match: { prefix: '/both' } } }, g('late'));
    await rule(lo, order.id, 10, { pathMatch: { match: { prefix: '/both' } } }, g('early'));
    await rule(
      lo,
      order.id,
      15,
      { pathMatch: { match: { prefix: '/both/500' } } },
      {
        fixedResponse: { statusCode: 500 },
      },
    );

    await waitForAnswer(ingress, port, { host: order.dnsName, path: '/both' }, 'early');
    await waitForAnswer(ingress, port, { host: rules.dnsName, path: '/fixed' }, '<500>');
    // While the rules propagate, a poll may legitimately reach 'late' (only the priority-20 rule
    // existed yet); the priority test counts what it receives from here on.
    upstreams.get('late')!.requests.length = 0;
  });

  const cases: {
    name: string;
    method?: string;
    path: string;
    headers?: Record<string, string>;
    want: string;
  }[] = [
    { name: 'no rule matches → default action', path: '/nothing', want: 'default' },
    {
      name: 'header exact, case-sensitive',
      path: '/',
      headers: { 'x-env': 'Canary' },
      want: 'hdr-exact',
    },
    {
      name: 'header exact, case-sensitive, other case',
      path: '/',
      headers: { 'x-env': 'canary' },
      want: 'default',
    },
    {
      name: 'header prefix, name and value case-insensitive',
      path: '/',
      headers: { 'x-user': 'ADMIN-7' },
      want: 'hdr-prefix',
    },
    {
      name: 'header prefix not at start',
      path: '/',
      headers: { 'x-user': 'root-adm' },
      want: 'default',
    },
    {
      name: 'header contains',
      path: '/',
      headers: { 'x-tags': 'alpha,BETA,gamma' },
      want: 'hdr-contains',
    },
    {
      name: 'header priority beats path rules',
      path: '/api/x',
      headers: { 'x-env': 'Canary' },
      want: 'hdr-exact',
    },
    { name: 'method + path prefix (AND)', method: 'POST', path: '/api/items', want: 'post-api' },
    { name: 'method does not match → next rule', method: 'PUT', path: '/api/items', want: 'api' },
    { name: 'path exact, case-sensitive', path: '/Exact', want: 'exact-cs' },
    { name: 'path exact, case-sensitive, other case', path: '/exact', want: 'default' },
    { name: 'path exact is not a prefix', path: '/Exact/more', want: 'default' },
    { name: 'path exact ignores the query', path: '/Exact?x=1', want: 'exact-cs' },
    { name: 'path exact, case-insensitive by default', path: '/EXACT-CI', want: 'exact-ci' },
    { name: 'path prefix, case-sensitive', path: '/Prefix/a', want: 'prefix-cs' },
    { name: 'path prefix, case-sensitive, other case', path: '/prefix/a', want: 'default' },
    {
      name: 'path prefix, case-insensitive by default',
      path: '/PRE-CI/deep/path',
      want: 'prefix-ci',
    },
    { name: 'fixed response 500', path: '/fixed/x', want: '<500>' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const o = {
        host: rules.dnsName,
        path: c.path,
        ...(c.method ? { method: c.method } : {}),
        ...(c.headers ? { headers: c.headers } : {}),
      };
      assert.equal(await whoAnswers(ingress, port, o), c.want);
    });
  }

  test('lowest priority number wins, whatever the creation order; fixed 404 default', async () => {
    assert.equal(
      await whoAnswers(ingress, port, { host: order.dnsName, path: '/both/x' }),
      'early',
    );
    assert.equal(upstreams.get('late')!.requests.length, 0);
    assert.equal(await whoAnswers(ingress, port, { host: order.dnsName, path: '/other' }), '<404>');
    // /both/500 (priority 15) is shadowed by /both (priority 10).
    assert.equal(
      await whoAnswers(ingress, port, { host: order.dnsName, path: '/both/500' }),
      'early',
    );
  });

  test('fixed responses carry the status and a request id, and reach no upstream', async () => {
    const before = [...upstreams.values()].reduce((n, u) => n + u.requests.length, 0);
    const r = await send(ingress, port, { host: order.dnsName, path: '/nope' });
    assert.equal(r.status, 404);
    assert.match(String(r.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
    const r500 = await send(ingress, port, { host: rules.dnsName, path: '/fixed' });
    assert.equal(r500.status, 500);
    const after = [...upstreams.values()].reduce((n, u) => n + u.requests.length, 0);
    assert.equal(after, before);
  });

  test('generated DNS name and custom domain both route; Host port and case are ignored', async () => {
    for (const host of [
      order.dnsName,
      order.customDomainName!,
      `${order.customDomainName!.toUpperCase()}:${port}`,
      `${order.dnsName}:1`,
    ])
      assert.equal(await whoAnswers(ingress, port, { host, path: '/both' }), 'early', host);
  });

  test('unknown host → 404 and no upstream hit', async () => {
    const before = [...upstreams.values()].reduce((n, u) => n + u.requests.length, 0);
    for (const host of ['nobody.example.com', `x${rules.dnsName}`, '']) {
      const r = await send(ingress, port, { host, path: '/' });
      assert.equal(r.status, 404, host);
    }
    const after = [...upstreams.values()].reduce((n, u) => n + u.requests.length, 0);
    assert.equal(after, before);
  });

  test('curl through the data plane gets the upstream answer', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '--max-time',
      '10',
      '-H',
      `Host: ${rules.dnsName}`,
      `http://${ingress}:${port}/api/from-curl?q=1`,
    ]);
    const echo = JSON.parse(stdout) as {
      name: string;
      url: string;
      headers: Record<string, string>;
    };
    assert.equal(echo.name, 'api');
    assert.equal(echo.url, '/api/from-curl?q=1');
    assert.match(echo.headers['user-agent']!, /^curl\//);
    assert.equal(echo.headers.host, rules.dnsName);
  });
});

describe('weighted target groups (spec §7.2 step 3)', () => {
  test('80/20 over 1000 requests within ±5%; weight 0 gets nothing', async () => {
    const heavy = await upstreamGroup('heavy');
    const light = await upstreamGroup('light');
    const zero = await upstreamGroup('zero');
    const svc = await createService(lattice, net.id, { stem: 'weights' });
    await createListener(
      lattice,
      svc.id,
      port,
      forwardTo({ id: heavy, weight: 80 }, { id: light, weight: 20 }, { id: zero, weight: 0 }),
    );
    await waitFor(async () => (await send(ingress, port, { host: svc.dnsName })).status === 200, {
      message: 'weighted service never served',
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const counts: Record<string, number> = {};
    const total = 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          next += 1;
          const name = (await send(ingress, port, { host: svc.dnsName, agent })).echo().name;
          counts[name] = (counts[name] ?? 0) + 1;
        }
      }),
    );
    agent.destroy();
    const sum = Object.values(counts).reduce((a, b) => a + b, 0);
    assert.equal(sum, total);
    const heavyShare = (counts.heavy ?? 0) / total;
    assert.ok(
      Math.abs(heavyShare - 0.8) <= 0.05,
      `heavy got ${heavyShare} (${JSON.stringify(counts)})`,
    );
    assert.ok(Math.abs((counts.light ?? 0) / total - 0.2) <= 0.05, JSON.stringify(counts));
    assert.equal(counts.zero ?? 0, 0);
    assert.equal(upstreams.get('zero')!.requests.length, 0);
  });
});

describe('headers toward targets and back (spec §3.1, §3.2)', () => {
  let svc: ServiceInfo;
  let tgArn: string;

  before(async () => {
    const up = await upstream('headers');
    const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: '127.0.0.1' }]);
    tgArn = tg.arn;
    svc = await createService(lattice, net.id, { stem: 'headers' });
    await createListener(lattice, svc.id, port, forwardTo(tg.id));
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'headers');
  });

  test('forged x-amzn-lattice-* / x-amzn-source-vpc / x-forwarded-* are replaced by the real ones', async () => {
    const r = await send(ingress, port, {
      host: svc.dnsName,
      path: '/h',
      localAddress: '127.0.0.1',
      headers: {
        'x-amzn-lattice-target': 'ServiceArn=forged',
        'x-amzn-lattice-network': 'SourceVpcArn=forged',
        'x-amzn-lattice-identity': 'Principal=arn:aws:iam::999999999999:root',
        'x-amzn-lattice-identity-tags': 'principal=forged',
        'X-Amzn-Lattice-Anything': 'forged',
        'x-amzn-source-vpc': 'vpc-forged',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-port': '1',
        'x-forwarded-proto': 'https',
        'x-custom': 'kept',
      },
    });
    assert.equal(r.status, 200);
    const h = r.echo().headers;
    const arn = (kind: string): string =>
      `arn:aws:vpc-lattice:${proc.region}:${proc.accountId}:${kind}`;
    assert.equal(
      h['x-amzn-lattice-target'],
      `ServiceArn=${svc.arn}; ServiceNetworkArn=${net.arn}; TargetGroupArn=${tgArn}`,
    );
    assert.ok(svc.arn.startsWith(arn('service/')));
    assert.equal(
      h['x-amzn-lattice-network'],
      `SourceVpcArn=arn:aws:ec2:${proc.region}:${proc.accountId}:vpc/${vpcId}`,
    );
    assert.equal(h['x-amzn-source-vpc'], vpcId);
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-port'], String(port));
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-amzn-lattice-identity'], undefined, 'anonymous: no identity header');
    assert.equal(h['x-amzn-lattice-identity-tags'], undefined);
    assert.equal(h['x-amzn-lattice-anything'], undefined);
    assert.equal(h['x-custom'], 'kept');
    assert.equal(h.host, svc.dnsName, 'Host passes through unchanged');
    // spec §3.2: a generated request id, forwarded and returned.
    assert.match(
      String(r.headers['x-amzn-requestid']),
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    assert.equal(h['x-amzn-requestid'], r.headers['x-amzn-requestid']);
  });

  test('a client-supplied x-amzn-requestid is honoured, truncated to 512 bytes', async () => {
    const mine = await send(ingress, port, {
      host: svc.dnsName,
      headers: { 'x-amzn-requestid': 'my-own-id' },
    });
    assert.equal(mine.headers['x-amzn-requestid'], 'my-own-id');
    assert.equal(mine.echo().headers['x-amzn-requestid'], 'my-own-id');
    const long = await send(ingress, port, {
      host: svc.dnsName,
      headers: { 'x-amzn-requestid': 'r'.repeat(600) },
    });
    assert.equal(long.headers['x-amzn-requestid'], 'r'.repeat(512));
  });

  test('Host with a port reaches the target unchanged', async () => {
    const r = await send(ingress, port, { host: `${svc.dnsName}:${port}` });
    assert.equal(r.echo().headers.host, `${svc.dnsName}:${port}`);
  });
});

describe('target types (spec §1.5 TargetGroup, §7.6)', () => {
  test('IPv6 target group reaches an upstream on [::1]', async () => {
    const up = await upstream('v6', '::1');
    const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: '::1' }], {
      ipAddressType: 'IPV6',
    });
    const svc = await createService(lattice, net.id, { stem: 'ipv6' });
    await createListener(lattice, svc.id, port, forwardTo(tg.id));
    await waitForAnswer(ingress, port, { host: svc.dnsName, path: '/six' }, 'v6');
    assert.equal(up.requests.at(-1)!.url, '/six');
    assert.equal(up.requests.at(-1)!.remoteAddress, '::1');
  });

  test('INSTANCE target resolves through the inventory', async () => {
    const up = await upstream('instance');
    const instanceId = await createInstance(proc, vpcId, '127.0.0.1');
    const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: instanceId }], {
      type: 'INSTANCE',
    });
    const svc = await createService(lattice, net.id, { stem: 'instance' });
    await createListener(lattice, svc.id, port, forwardTo(tg.id));
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'instance');
  });

  test('ALB target resolves through the inventory', async () => {
    const up = await upstream('alb');
    const lbArn = await createLoadBalancer(proc, vpcId, uniqueName('lb').slice(0, 32), '127.0.0.1');
    const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: lbArn, port: up.port }], {
      type: 'ALB',
    });
    const svc = await createService(lattice, net.id, { stem: 'alb' });
    await createListener(lattice, svc.id, port, forwardTo(tg.id));
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'alb');
  });
});

describe('reachability by ingress address (spec §7.5)', () => {
  test('a VPC not associated with the network gets 404; associating it makes it work', async () => {
    const up = await upstream('reach');
    const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: '127.0.0.1' }]);
    const svc = await createService(lattice, net.id, { stem: 'reach' });
    await createListener(lattice, svc.id, port, forwardTo(tg.id));

    // A second VPC with its own ingress address, associated with a different network whose
    // service listens on the same port, so the data plane accepts connections there.
    const ingress2 = randomLoopback();
    const vpc = await inventoryCall(proc, 'POST', '/_trellis/vpcs', {
      ingressAddresses: [ingress2],
      cidrBlocks: ['10.0.0.0/16'],
    });
    assert.equal(vpc.status, 201, JSON.stringify(vpc.body));
    const vpc2 = vpc.body!.vpcId as string;
    const other = await createNetwork(lattice, vpc2);
    const otherUp = await upstream('other-net');
    const otherTg = await createTargetGroup(lattice, vpcId, otherUp.port, [{ id: '127.0.0.1' }]);
    const otherSvc = await createService(lattice, other.id, { stem: 'other' });
    await createListener(lattice, otherSvc.id, port, forwardTo(otherTg.id));
    await waitForAnswer(ingress2, port, { host: otherSvc.dnsName }, 'other-net');
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'reach');

    // Same client address on both ingresses: only the ingress address decides the VPC.
    const hits = up.requests.length;
    const denied = await send(ingress2, port, { host: svc.dnsName, localAddress: '127.0.0.1' });
    assert.equal(denied.status, 404);
    assert.equal(up.requests.length, hits, 'no upstream hit from the unassociated VPC');
    assert.equal(
      await whoAnswers(ingress, port, { host: otherSvc.dnsName, localAddress: '127.0.0.1' }),
      '<404>',
      'and the other way round',
    );

    // spec §7.5: one SN–VPC association per VPC, so the service joins the second VPC's network.
    await lattice.send(
      new CreateServiceNetworkServiceAssociationCommand({
        serviceNetworkIdentifier: other.id,
        serviceIdentifier: svc.id,
      }),
    );
    await waitForAnswer(ingress2, port, { host: svc.dnsName, localAddress: '127.0.0.1' }, 'reach');
    const r = await send(ingress2, port, { host: svc.dnsName, localAddress: '127.0.0.1' });
    assert.equal(r.echo().headers['x-amzn-source-vpc'], vpc2);
    assert.equal(
      r.echo().headers['x-amzn-lattice-target'],
      `ServiceArn=${svc.arn}; ServiceNetworkArn=${other.arn}; TargetGroupArn=${tg.arn}`,
    );
    assert.equal(
      r.echo().headers['x-amzn-lattice-network'],
      `SourceVpcArn=arn:aws:ec2:${proc.region}:${proc.accountId}:vpc/${vpc2}`,
    );
  });
});
