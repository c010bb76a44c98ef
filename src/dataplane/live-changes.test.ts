import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { EchoBody, Upstream } from './test-support/net.js';
import { randomLoopback, randomPort, send, startUpstream } from './test-support/net.js';
import { startPlane, type Plane } from './test-support/harness.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

describe('live snapshot changes', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  const port2 = port + 1;
  const b = new SnapshotBuilder();
  let one: Upstream, two: Upstream, slow: Upstream;
  let plane: Plane;
  let host = '';
  let svc = '';
  let tgOne = '';
  let tgTwo = '';
  let slowHost = '';

  before(async () => {
    one = await startUpstream('one');
    two = await startUpstream('two');
    slow = await startUpstream('slow', '127.0.0.1', (_req, res) => {
      setTimeout(() => res.end('slow-done'), 400);
      return true;
    });
    const vpc = b.vpc([ingress]);
    const net = b.network();
    b.associateVpc(net, vpc);
    svc = b.service();
    b.associateService(net, svc);
    host = b.hostOf(svc);
    tgOne = b.targetGroup('IP', { port: one.port });
    b.target(tgOne, '127.0.0.1');
    tgTwo = b.targetGroup('IP', { port: two.port });
    b.target(tgTwo, '127.0.0.1');
    b.listener(svc, port, forward(tgOne));
    const slowSvc = b.service();
    b.associateService(net, slowSvc);
    slowHost = b.hostOf(slowSvc);
    const slowTg = b.targetGroup('IP', { port: slow.port });
    b.target(slowTg, '127.0.0.1');
    b.listener(slowSvc, port, forward(slowTg));
    plane = await startPlane(b);
  });

  after(async () => {
    await plane.stop();
    await Promise.all([one.close(), two.close(), slow.close()]);
  });

  it('swaps snapshots under load with zero failed requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let failures = 0;
    const seen = new Set<string>();
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        try {
          const r = await send(ingress, port, { host, agent });
          if (r.status !== 200) failures += 1;
          else seen.add((JSON.parse(r.body) as EchoBody).name);
        } catch {
          failures += 1;
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    const listener = b.s.listeners.find((l) => l.serviceId === svc)!;
    for (let i = 0; i < 20; i++) {
      listener.defaultAction = forward(i % 2 === 0 ? tgTwo : tgOne);
      await plane.publish(b);
      await new Promise((r) => setTimeout(r, 15));
    }
    running = false;
    await Promise.all(workers);
    agent.destroy();
    assert.equal(failures, 0);
    assert.deepEqual(seen, new Set(['one', 'two']));
  });

  it('an in-flight request finishes on the snapshot it began with', async () => {
    const pending = send(ingress, port, { host: slowHost });
    await new Promise((r) => setTimeout(r, 100));
    // Remove the slow service entirely while its request is in flight.
    b.s.serviceNetworkServiceAssociations = b.s.serviceNetworkServiceAssociations.filter(
      (a) => b.hostOf(a.serviceId) !== slowHost,
    );
    await plane.publish(b);
    const after404 = await send(ingress, port, { host: slowHost });
    assert.equal(after404.status, 404);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'slow-done');
  });

  it('a snapshot that fails to compile never replaces the running one', async () => {
    const before = plane.plane.revision;
    const bad = b.build() as unknown as { listeners: { defaultAction: unknown }[] };
    const broken = structuredClone(bad);
    broken.listeners[0]!.defaultAction = forward('tg-doesnotexist0000');
    plane.source.push(broken as never);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(plane.plane.revision, before);
    const r = await send(ingress, port, { host });
    assert.equal(r.status, 200);
  });

  it('opens and closes listener ports as listeners come and go', async () => {
    const l2 = b.listener(svc, port2, forward(tgTwo));
    await plane.publish(b);
    const bound = () =>
      plane.plane
        .listeners()
        .map((l) => l.port)
        .sort();
    assert.deepEqual(bound(), [port, port2]);
    const r = await send(ingress, port2, { host });
    assert.equal((JSON.parse(r.body) as EchoBody).name, 'two');
    assert.equal(JSON.parse(r.body).headers['x-forwarded-port'], String(port2));
    b.removeListener(l2);
    await plane.publish(b);
    assert.deepEqual(bound(), [port]);
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(send(ingress, port2, { host }), /ECONNREFUSED/);
    const still = await send(ingress, port, { host });
    assert.equal(still.status, 200);
  });

  it("removing a target group's targets moves its requests to 503, adding them back restores", async () => {
    const listener = b.s.listeners.find((l) => l.serviceId === svc && l.port === port)!;
    listener.defaultAction = forward(tgOne);
    b.removeTargets(tgOne);
    await plane.publish(b);
    assert.equal((await send(ingress, port, { host })).status, 503);
    b.target(tgOne, '127.0.0.1');
    await plane.publish(b);
    assert.equal((await send(ingress, port, { host })).status, 200);
  });
});
