/**
 * End to end through a real `trellis up`: configuration changes made through the official SDK
 * while traffic flows — zero failed requests, listener ports opened and closed, the per-service
 * idle timeout, and (log only) how long an acknowledged API write takes to be served.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  CreateRuleCommand,
  DeleteListenerCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  RegisterTargetsCommand,
  UpdateListenerCommand,
  UpdateRuleCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createListener,
  createNetwork,
  createService,
  createTargetGroup,
  forwardTo,
  percentile,
  randomLoopback,
  randomPort,
  send,
  sleep,
  startUpstream,
  waitFor,
  waitForAnswer,
  whoAnswers,
  type Network,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let vpcId: string;
let net: Network;
const upstreams: RecordingUpstream[] = [];

async function upstream(name: string): Promise<RecordingUpstream> {
  const up = await startUpstream(name);
  upstreams.push(up);
  return up;
}

/** An upstream with its own IP target group (checks off: routable at once). */
async function group(name: string): Promise<{ up: RecordingUpstream; tg: string }> {
  const up = await upstream(name);
  const tg = await createTargetGroup(lattice, vpcId, up.port, [{ id: '127.0.0.1' }]);
  return { up, tg: tg.id };
}

/** Whether a TCP connection to `address:p` is accepted. */
function accepts(address: string, p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port: p });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
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
  await Promise.all(upstreams.map((u) => u.close()));
});

describe('changes under load (spec §1.5, §7.2)', () => {
  test('rules, weights, targets and target groups change under steady traffic: zero failures', async () => {
    const a = await group('a');
    const b = await group('b');
    const svc = await createService(lattice, net.id, { stem: 'load' });
    const listenerId = await createListener(lattice, svc.id, port, forwardTo(a.tg));
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'a');

    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const failures: string[] = [];
    const seen = new Map<string, number>();
    let sent = 0;
    const times: number[] = [];
    let running = true;
    const paths = ['/', '/api/x', '/static/y'];
    // Four clients, each about one request every 5 ms.
    const clients = Array.from({ length: 4 }, async (_, i) => {
      while (running) {
        const path = paths[(sent + i) % paths.length]!;
        sent += 1;
        const t0 = performance.now();
        const who = await whoAnswers(ingress, port, { host: svc.dnsName, path, agent });
        if (who.startsWith('<')) failures.push(`${path} → ${who}`);
        else seen.set(who, (seen.get(who) ?? 0) + 1);
        times.push(performance.now() - t0);
        await sleep(5);
      }
    });

    const step = (): Promise<void> => sleep(150);
    /** Waits until the load clients have been served by `name` (the change is live). */
    const served = (name: string): Promise<boolean> =>
      waitFor(() => (seen.get(name) ?? 0) > 0, {
        timeoutMs: 10_000,
        message: `${name} never served under load`,
      });
    const c = await group('c');
    // Weights on the default action.
    await lattice.send(
      new UpdateListenerCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listenerId,
        defaultAction: forwardTo({ id: a.tg, weight: 50 }, { id: b.tg, weight: 50 }),
      }),
    );
    await served('b');
    await step();
    // A rule, then its action and match changed, then removed.
    const rule = await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listenerId,
        name: uniqueName('api'),
        priority: 10,
        match: { httpMatch: { pathMatch: { match: { prefix: '/api' } } } },
        action: forwardTo(c.tg),
      }),
    );
    await served('c');
    await step();
    await lattice.send(
      new UpdateRuleCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listenerId,
        ruleIdentifier: rule.id,
        action: forwardTo({ id: b.tg, weight: 1 }, { id: c.tg, weight: 3 }),
      }),
    );
    await step();
    await lattice.send(
      new UpdateRuleCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listenerId,
        ruleIdentifier: rule.id,
        match: { httpMatch: { pathMatch: { match: { prefix: '/static' } } } },
      }),
    );
    await step();
    // A second target in a group, then the first one deregistered (it drains).
    const a2 = await upstream('a2');
    await lattice.send(
      new RegisterTargetsCommand({
        targetGroupIdentifier: a.tg,
        targets: [{ id: '127.0.0.1', port: a2.port }],
      }),
    );
    await step();
    await lattice.send(
      new DeregisterTargetsCommand({ targetGroupIdentifier: a.tg, targets: [{ id: '127.0.0.1' }] }),
    );
    await served('a2');
    await step();
    // A new group takes over; the old one is deleted once nothing forwards to it.
    const d = await group('d');
    await lattice.send(
      new UpdateListenerCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listenerId,
        defaultAction: forwardTo(d.tg),
      }),
    );
    await served('d');
    await step();
    await lattice.send(
      new DeleteRuleCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listenerId,
        ruleIdentifier: rule.id,
      }),
    );
    await step();
    await lattice.send(new DeleteTargetGroupCommand({ targetGroupIdentifier: b.tg }));
    await step();

    running = false;
    await Promise.all(clients);
    agent.destroy();
    console.log(
      `changes under load: ${sent} requests (p50 ${percentile(times, 50).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms), served by ${JSON.stringify([...seen])}`,
    );
    assert.deepEqual(failures, []);
    assert.ok(sent >= 40, `steady load (${sent} requests)`);
    for (const name of ['a', 'b', 'c', 'a2', 'd'])
      assert.ok((seen.get(name) ?? 0) > 0, `${name} served some requests`);
    assert.equal(await whoAnswers(ingress, port, { host: svc.dnsName, path: '/api/z' }), 'd');
  });
});

describe('listener ports (spec §7.1)', () => {
  test('a listener port added is opened, removed is closed', async () => {
    const e = await group('ports');
    const svc = await createService(lattice, net.id, { stem: 'ports' });
    await createListener(lattice, svc.id, port, forwardTo(e.tg));
    const extra = port === 65_000 ? port - 1 : port + 1;
    assert.equal(await accepts(ingress, extra), false, 'extra port closed before');
    const listenerId = await createListener(lattice, svc.id, extra, forwardTo(e.tg));
    await waitForAnswer(ingress, extra, { host: svc.dnsName, path: '/extra' }, 'ports');
    const r = await send(ingress, extra, { host: svc.dnsName });
    assert.equal(r.echo().headers['x-forwarded-port'], String(extra));

    await lattice.send(
      new DeleteListenerCommand({ serviceIdentifier: svc.id, listenerIdentifier: listenerId }),
    );
    await waitFor(async () => !(await accepts(ingress, extra)), {
      message: 'removed listener port still accepts connections',
    });
    assert.equal(await whoAnswers(ingress, port, { host: svc.dnsName }), 'ports');
  });
});

describe('idle timeout (spec §1.5 Service idleTimeoutSeconds, §8.17)', () => {
  // The API's minimum is 60 s, too slow to wait out here; closing an idle connection after the
  // service's timeout is covered in src/dataplane/compile-snapshot.test.ts with 1 s. End to end we
  // check what the data plane tells keep-alive clients.
  test('the keep-alive timeout advertised to clients is the service idleTimeoutSeconds', async () => {
    const f = await group('idle');
    const g = await group('idle');
    const short = await createService(lattice, net.id, { stem: 'idle60' });
    await createListener(lattice, short.id, port, forwardTo(f.tg));
    const long = await createService(lattice, net.id, { stem: 'idle300', idleTimeoutSeconds: 300 });
    await createListener(lattice, long.id, port, forwardTo(g.tg));
    await waitForAnswer(ingress, port, { host: long.dnsName }, 'idle');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const r60 = await send(ingress, port, { host: short.dnsName, agent });
    assert.equal(r60.headers['keep-alive'], 'timeout=60');
    const r300 = await send(ingress, port, { host: long.dnsName, agent });
    assert.equal(r300.headers['keep-alive'], 'timeout=300');
    const fixed = await send(ingress, port, { host: 'unknown.example.com', agent });
    assert.equal(fixed.status, 404);
    agent.destroy();
  });
});

describe('propagation latency (log only)', () => {
  test('API write acknowledged → data plane serving it, over 50 changes', async () => {
    const x = await group('lat-x');
    const y = await group('lat-y');
    const svc = await createService(lattice, net.id, { stem: 'latency' });
    const listenerId = await createListener(lattice, svc.id, port, forwardTo(x.tg));
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'lat-x');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const samples: number[] = [];
    for (let i = 0; i < 50; i++) {
      const next = i % 2 === 0 ? y : x;
      await lattice.send(
        new UpdateListenerCommand({
          serviceIdentifier: svc.id,
          listenerIdentifier: listenerId,
          defaultAction: forwardTo(next.tg),
        }),
      );
      const acked = performance.now();
      await waitFor(
        async () =>
          (await whoAnswers(ingress, port, { host: svc.dnsName, agent })) === next.up.name,
        { intervalMs: 0, message: `change ${i} never served` },
      );
      samples.push(performance.now() - acked);
    }
    agent.destroy();
    const fmt = (v: number): string => `${v.toFixed(1)} ms`;
    console.log(
      `API ack → served: p50 ${fmt(percentile(samples, 50))}, p99 ${fmt(percentile(samples, 99))}, max ${fmt(Math.max(...samples))} over ${samples.length} changes`,
    );
    assert.equal(samples.length, 50);
  });
});
