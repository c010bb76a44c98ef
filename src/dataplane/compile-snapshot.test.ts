import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { compileSnapshot, defaultWeight, SnapshotCompileError } from './compile-snapshot.js';
import { hostName } from './data-plane.js';
import { planHealthChecks } from './health-plan.js';
import { randomLoopback, randomPort, startUpstream } from './test-support/net.js';
import { startPlane } from './test-support/harness.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';
import { UpstreamPools } from './upstream-pools.js';

function deps(warnings: string[] = []) {
  const pools: Pool[] = [];
  return {
    pools,
    warnings,
    acquirePool: (origin: string) => {
      const p = new Pool(origin);
      pools.push(p);
      return p;
    },
    warnOnce: (_key: string, message: string) => warnings.push(message),
  };
}

describe('compileSnapshot', () => {
  it('defaultWeight honours both model statements (spec §8.4)', () => {
    assert.equal(defaultWeight(1), 100);
    assert.equal(defaultWeight(2), 1);
  });

  const hosts: [string | undefined, string][] = [
    ['a.example.com', 'a.example.com'],
    ['A.Example.COM:8080', 'a.example.com'],
    ['[::1]:80', '[::1]'],
    ['', ''],
    [undefined, ''],
  ];
  for (const [input, want] of hosts)
    it(`hostName(${JSON.stringify(input)}) = ${want}`, () => assert.equal(hostName(input), want));

  it('rejects an ingress address claimed by two VPCs', () => {
    const b = new SnapshotBuilder();
    b.vpc(['127.1.1.1']);
    b.vpc(['127.1.1.1']);
    assert.throws(() => compileSnapshot(b.build(), deps()), SnapshotCompileError);
  });

  it('rejects a forward to an unknown target group', () => {
    const b = new SnapshotBuilder();
    const svc = b.service();
    b.listener(svc, 80, forward('tg-00000000000000000'));
    assert.throws(() => compileSnapshot(b.build(), deps()), /unknown target group/);
  });

  it('compiles HTTP, HTTPS and TLS_PASSTHROUGH listeners, and marks unused groups', async () => {
    const b = new SnapshotBuilder();
    const vpc = b.vpc(['127.1.1.2']);
    const net = b.network();
    b.associateVpc(net, vpc);
    const svc = b.service();
    b.associateService(net, svc);
    const used = b.targetGroup('IP', { port: 8080 });
    const unused = b.targetGroup('IP', { port: 8080 });
    b.target(used, '10.0.0.1');
    b.target(unused, '10.0.0.2', 9090);
    b.listener(svc, 80, forward(used));
    b.listener(svc, 443, forward(used), 'HTTPS');
    b.listener(svc, 8443, forward(used), 'TLS_PASSTHROUGH');
    const d = deps();
    const compiled = compileSnapshot(b.build(), d);
    // spec §7.1: HTTPS listeners are served (TLS terminated by tls-listener.ts).
    assert.deepEqual(compiled.listenAddresses, [
      { address: '127.1.1.2', port: 80, vpcId: vpc },
      { address: '127.1.1.2', port: 443, vpcId: vpc },
      // spec §7.1: passthrough ports are served too (tls-passthrough.ts routes them by SNI).
      { address: '127.1.1.2', port: 8443, vpcId: vpc },
    ]);
    const plan = planHealthChecks(compiled);
    const byId = new Map(plan.map((g) => [g.targetGroupId, g]));
    assert.equal(byId.get(used)!.inUse, true);
    assert.equal(byId.get(unused)!.inUse, false);
    assert.deepEqual(byId.get(unused)!.targets, [
      { key: '10.0.0.2:9090', id: '10.0.0.2', port: 9090, address: '10.0.0.2', draining: false },
    ]);
    assert.equal(byId.get(used)!.healthCheck.path, '/');
    await Promise.all(d.pools.map((p) => p.close()));
  });

  it("applies the service's idleTimeoutSeconds to idle client connections (spec §6)", async () => {
    const up = await startUpstream('a');
    const b = new SnapshotBuilder();
    const ingress = randomLoopback();
    const port = randomPort();
    const vpc = b.vpc([ingress]);
    const net = b.network();
    b.associateVpc(net, vpc);
    const svc = b.service({ idleTimeoutSeconds: 1 });
    b.associateService(net, svc);
    const tg = b.targetGroup('IP', { port: up.port });
    b.target(tg, '127.0.0.1');
    b.listener(svc, port, forward(tg));
    const plane = await startPlane(b);
    try {
      const closedAfter = await new Promise<number>((resolve) => {
        const s = connect({ host: ingress, port }, () =>
          s.write(`GET / HTTP/1.1\r\nHost: ${b.hostOf(svc)}\r\n\r\n`),
        );
        let answeredAt = 0;
        s.on('data', () => (answeredAt ||= Date.now()));
        s.on('close', () => resolve(Date.now() - answeredAt));
        s.on('error', () => undefined);
      });
      // Closed by the service's 1 s, not the server-wide 60 s; the upper bound is loose because a
      // loaded CI machine delays timers by seconds (a 3 s bound failed under --test-concurrency).
      assert.ok(closedAfter >= 900 && closedAfter < 30_000, `closed after ${closedAfter} ms`);
    } finally {
      await plane.stop();
      await up.close();
    }
  });
});

describe('compileSnapshot reuses an unchanged target group', () => {
  it('keeps the compiled targets and pools of groups whose entries did not change', async () => {
    const pools = new UpstreamPools({
      connectTimeoutMs: 1000,
      maxConnectionsPerTarget: 4,
      keepAliveTimeoutMs: 1000,
    });
    const compile = (s: Parameters<typeof compileSnapshot>[0]) => {
      const generation = pools.beginGeneration();
      const c = compileSnapshot(s, {
        acquirePool: (origin, localAddress) => pools.acquire(origin, localAddress),
        retainPool: (pool) => pools.retain(pool),
        warnOnce: () => undefined,
      });
      pools.sweep(generation);
      return c;
    };
    const b = new SnapshotBuilder();
    const a = b.targetGroup('IP');
    const other = b.targetGroup('IP');
    for (let i = 1; i <= 3; i++) b.target(a, `10.1.0.${i}`, 8080);
    b.target(other, '10.2.0.1', 8080);
    const first = b.build();
    const c1 = compile(first);
    // Same entries (as the snapshot builder hands out for unchanged resources), new revision.
    const second = { ...first, revision: first.revision + 1, targets: [...first.targets] };
    const c2 = compile(second);
    const targetsOf = (c: typeof c1, id: string) => c.targetGroups.get(id)!.targets;
    assert.equal(targetsOf(c2, a)[0], targetsOf(c1, a)[0], 'same compiled target objects');
    assert.equal(targetsOf(c2, a)[0]!.pool, targetsOf(c1, a)[0]!.pool, 'same pool');
    assert.equal(pools.size, 4, 'the reused pools survived the sweep');
    // One target of `a` changes: `a` is compiled again, `other` is still reused.
    const changed = { ...first.targets[1]!, port: 9090 };
    const third = {
      ...first,
      revision: first.revision + 2,
      targets: first.targets.map((t, i) => (i === 1 ? changed : t)),
    };
    const c3 = compile(third);
    assert.notEqual(targetsOf(c3, a)[0], targetsOf(c2, a)[0]);
    assert.deepEqual(
      targetsOf(c3, a).map((t) => t.key),
      ['10.1.0.1:8080', '10.1.0.2:9090', '10.1.0.3:8080'],
    );
    assert.equal(targetsOf(c3, other)[0], targetsOf(c1, other)[0]);
    assert.equal(pools.size, 4, 'the :8080 pool of the changed target was swept, :9090 added');
    // A pool swept since (its group left the snapshot) is never handed out again.
    const withoutOther = {
      ...third,
      revision: third.revision + 1,
      targets: third.targets.filter((t) => t.targetGroupId !== other),
    };
    compile(withoutOther);
    const back = compile({ ...third, revision: third.revision + 2 });
    assert.notEqual(targetsOf(back, other)[0], targetsOf(c1, other)[0], 'recompiled, new pool');
    assert.equal(pools.size, 4);
    await pools.closeAll(100);
  });
});
