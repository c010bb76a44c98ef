import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EchoBody, Upstream } from './test-support/net.js';
import { randomLoopback, randomPort, send, startUpstream } from './test-support/net.js';
import { startPlane, type Plane } from './test-support/harness.js';
import { SnapshotBuilder, fixed, forward } from './test-support/snapshot-builder.js';

describe('routing (spec §7.2)', () => {
  const ingress = randomLoopback();
  const otherIngress = randomLoopback();
  const port = randomPort();
  const b = new SnapshotBuilder();
  let a: Upstream, bUp: Upstream, c: Upstream, d: Upstream;
  let plane: Plane;
  let host = '';
  let custom = '';
  let isolatedHost = '';

  before(async () => {
    [a, bUp, c, d] = await Promise.all([
      startUpstream('a'),
      startUpstream('b'),
      startUpstream('c'),
      startUpstream('d'),
    ]);
    const vpc = b.vpc([ingress]);
    const lonelyVpc = b.vpc([otherIngress]);
    const net = b.network();
    const otherNet = b.network();
    b.associateVpc(net, vpc);
    const svc = b.service({ customDomainName: 'Orders.Example.COM' });
    custom = 'orders.example.com';
    host = b.hostOf(svc);
    b.associateService(net, svc);
    // A service only in a network no VPC here is associated with: unreachable.
    const isolated = b.service();
    isolatedHost = b.hostOf(isolated);
    b.associateService(otherNet, isolated);
    b.listener(isolated, port, forward(b.targetGroup()));
    // The lonely VPC needs some listener to exist on its address: associate it with otherNet.
    b.associateVpc(otherNet, lonelyVpc);

    const tg = (u: Upstream): string => {
      const id = b.targetGroup('IP', { port: u.port });
      b.target(id, u.address);
      return id;
    };
    const [ta, tb, tc, td] = [tg(a), tg(bUp), tg(c), tg(d)];
    const l = b.listener(svc, port, forward(ta));
    b.rule(l, 10, { method: 'POST' }, forward(tb));
    b.rule(l, 20, { pathMatch: { match: { prefix: '/api' } } }, forward(tc));
    b.rule(l, 5, { pathMatch: { match: { exact: '/Exact' }, caseSensitive: true } }, forward(td));
    b.rule(l, 30, { headerMatches: [{ name: 'X-Tenant', match: { exact: 'Blue' } }] }, forward(tb));
    b.rule(
      l,
      31,
      { headerMatches: [{ name: 'x-tier', match: { prefix: 'Gold' }, caseSensitive: true }] },
      forward(tc),
    );
    b.rule(l, 32, { headerMatches: [{ name: 'x-tag', match: { contains: 'beta' } }] }, forward(td));
    // AND of method + path + header.
    b.rule(
      l,
      40,
      {
        method: 'PUT',
        pathMatch: { match: { prefix: '/and' } },
        headerMatches: [{ name: 'x-and', match: { exact: 'yes' } }],
      },
      forward(td),
    );
    b.rule(l, 50, { pathMatch: { match: { prefix: '/gone' } } }, fixed(404));
    b.rule(l, 51, { pathMatch: { match: { prefix: '/broken' } } }, fixed(500));
    // Lower priority number wins when two rules match: /api/priority matches 20 (→ c) and 15 (→ a).
    b.rule(l, 15, { pathMatch: { match: { prefix: '/api/priority' } } }, forward(ta));
    plane = await startPlane(b);
  });

  after(async () => {
    await plane.stop();
    await Promise.all([a, bUp, c, d].map((u) => u.close()));
  });

  const cases: {
    name: string;
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    host?: () => string;
    want: string | number;
  }[] = [
    { name: 'default action', want: 'a' },
    { name: 'method exact', method: 'POST', want: 'b' },
    { name: 'other method falls through', method: 'DELETE', want: 'a' },
    { name: 'path prefix', path: '/api/x', want: 'c' },
    { name: 'path prefix is case-insensitive by default', path: '/API/x', want: 'c' },
    { name: 'query string is not part of the path', path: '/nope?p=/api', want: 'a' },
    { name: 'case-sensitive exact path', path: '/Exact', want: 'd' },
    { name: 'case-sensitive exact path, other case', path: '/exact', want: 'a' },
    {
      name: 'header exact, name and value case-insensitive',
      headers: { 'x-tenant': 'blue' },
      want: 'b',
    },
    { name: 'header prefix, case-sensitive value', headers: { 'X-Tier': 'Gold-1' }, want: 'c' },
    {
      name: 'header prefix, case-sensitive value mismatch',
      headers: { 'X-Tier': 'gold-1' },
      want: 'a',
    },
    { name: 'header contains', headers: { 'x-tag': 'alpha-BETA-gamma' }, want: 'd' },
    {
      name: 'AND: all conditions',
      method: 'PUT',
      path: '/and/1',
      headers: { 'x-and': 'yes' },
      want: 'd',
    },
    {
      name: 'AND: one condition fails',
      method: 'PUT',
      path: '/and/1',
      headers: { 'x-and': 'no' },
      want: 'a',
    },
    { name: 'priority order', path: '/api/priority', want: 'a' },
    { name: 'fixed 404', path: '/gone', want: 404 },
    { name: 'fixed 500', path: '/broken', want: 500 },
    {
      name: 'custom domain, any case, port ignored',
      host: () => 'ORDERS.example.com:9999',
      want: 'a',
    },
    { name: 'custom domain', host: () => custom, want: 'a' },
    { name: 'unknown host', host: () => 'nobody.example.com', want: 404 },
    { name: 'service not reachable from this VPC', host: () => isolatedHost, want: 404 },
  ];

  for (const tc of cases) {
    it(tc.name, async () => {
      const r = await send(ingress, port, {
        host: tc.host?.() ?? host,
        method: tc.method,
        path: tc.path,
        headers: tc.headers,
      });
      if (typeof tc.want === 'number') {
        assert.equal(r.status, tc.want, r.body);
        assert.ok(r.headers['x-amzn-requestid']);
      } else {
        assert.equal(r.status, 200, r.body);
        assert.equal((JSON.parse(r.body) as EchoBody).name, tc.want);
      }
    });
  }

  it('answers 404 "Non Existent Service" and logs it', async () => {
    const r = await send(ingress, port, { host: 'nobody.example.com' });
    assert.equal(r.status, 404);
    assert.equal(r.body, 'Non Existent Service\n');
  });

  it('a VPC without an association to the service gets 404', async () => {
    // otherIngress belongs to a VPC associated only with otherNet, where `host`'s service is not.
    const r = await send(otherIngress, port, { host });
    assert.equal(r.status, 404);
    assert.equal(r.body, 'Non Existent Service\n');
    const ok = await send(otherIngress, port, { host: isolatedHost });
    assert.equal(ok.status, 503); // reachable there, but its target group has no targets
  });

  it('lists bound listener addresses', () => {
    const bound = plane.plane
      .listeners()
      .map((l) => `${l.address}:${l.port}`)
      .sort();
    assert.deepEqual(bound, [`${ingress}:${port}`, `${otherIngress}:${port}`].sort());
  });
});
