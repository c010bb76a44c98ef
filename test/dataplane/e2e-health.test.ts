/**
 * End to end through a real `trellis up`: active health checks (spec §5) as `ListTargets` shows
 * them and as traffic feels them — INITIAL → HEALTHY, UNUSED, UNAVAILABLE, DRAINING, a target
 * killed mid-run, fail-open when every target is unhealthy. Configured through the official SDK.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  CreateRuleCommand,
  DeregisterTargetsCommand,
  type HealthCheckConfig,
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
  sleep,
  startUpstream,
  targetStatuses,
  waitFor,
  waitForAnswer,
  whoAnswers,
  type Network,
  type RecordingUpstream,
  type ServiceInfo,
  type TargetGroupInfo,
  type UpstreamHandler,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';

/** The fastest checks the API allows: every 5 s, two failures to go UNHEALTHY. */
const FAST_CHECKS: HealthCheckConfig = {
  enabled: true,
  healthCheckIntervalSeconds: 5,
  healthCheckTimeoutSeconds: 3,
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 2,
  path: '/health',
};

const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let vpcId: string;
let net: Network;
const upstreams: RecordingUpstream[] = [];

async function upstream(name: string, handler?: UpstreamHandler): Promise<RecordingUpstream> {
  const up = await startUpstream(name, handler ? { handler } : {});
  upstreams.push(up);
  return up;
}

/** A service whose listener forwards to a new group holding `ups` (per-target ports). */
async function serviceFor(
  ups: RecordingUpstream[],
  healthCheck: HealthCheckConfig,
): Promise<{ svc: ServiceInfo; tg: TargetGroupInfo; listenerId: string }> {
  const tg = await createTargetGroup(
    lattice,
    vpcId,
    ups[0]!.port,
    ups.map((u) => ({ id: '127.0.0.1', port: u.port })),
    { healthCheck },
  );
  const svc = await createService(lattice, net.id, { stem: 'health' });
  const listenerId = await createListener(lattice, svc.id, port, forwardTo(tg.id));
  return { svc, tg, listenerId };
}

async function status(tg: TargetGroupInfo, up: RecordingUpstream): Promise<string | undefined> {
  return (await targetStatuses(lattice, tg.id))[`127.0.0.1:${up.port}`]?.status;
}

async function waitForStatus(
  tg: TargetGroupInfo,
  up: RecordingUpstream,
  want: string,
  timeoutMs: number,
): Promise<number> {
  const start = Date.now();
  await waitFor(async () => (await status(tg, up)) === want, {
    timeoutMs,
    intervalMs: 100,
    message: `${up.name} never ${want} (status ${await status(tg, up)})`,
  });
  return Date.now() - start;
}

// Scenarios whose health checks need wall time are set up first, so their clocks run together.
let killA: RecordingUpstream, killB: RecordingUpstream;
let kill: { svc: ServiceInfo; tg: TargetGroupInfo };
let openA: RecordingUpstream, openB: RecordingUpstream;
let open: { svc: ServiceInfo; tg: TargetGroupInfo };

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
  vpcId = defaultVpcId(proc.accountId);
  net = await createNetwork(lattice, vpcId);

  killA = await upstream('kill-a');
  killB = await upstream('kill-b');
  kill = await serviceFor([killA, killB], FAST_CHECKS);
  openA = await upstream('open-a');
  openB = await upstream('open-b');
  openA.healthStatus = 503;
  openB.healthStatus = 503;
  open = await serviceFor([openA, openB], FAST_CHECKS);
});

after(async () => {
  lattice?.destroy();
  await proc?.stop();
  await Promise.all(upstreams.map((u) => u.close()));
});

describe('ListTargets statuses (spec §1.5 Targets, §5)', () => {
  test('a new target is INITIAL until its first check passes, then HEALTHY', async () => {
    const up = await upstream('fresh');
    up.healthDelayMs = 1_500; // the first probe is answered slowly: INITIAL is observable
    const { svc, tg } = await serviceFor([up], FAST_CHECKS);
    assert.equal(await status(tg, up), 'INITIAL');
    const took = await waitForStatus(tg, up, 'HEALTHY', 8_000);
    console.log(`INITIAL → HEALTHY after ${took} ms`);
    assert.ok(up.probes.length >= 1);
    assert.equal(up.probes[0]!.url, '/health');
    assert.equal(await whoAnswers(ingress, port, { host: svc.dnsName }), 'fresh');
  });

  test('a group no listener uses reports UNUSED; one with checks disabled UNAVAILABLE', async () => {
    const up = await upstream('idle');
    const unused = await createTargetGroup(lattice, vpcId, up.port, [
      { id: '127.0.0.1', port: up.port },
    ]);
    assert.equal(await status(unused, up), 'UNAVAILABLE', 'checks disabled wins over UNUSED');
    const checked = await createTargetGroup(
      lattice,
      vpcId,
      up.port,
      [{ id: '127.0.0.1', port: up.port }],
      { healthCheck: FAST_CHECKS },
    );
    assert.equal(await status(checked, up), 'UNUSED');
    await sleep(1_500); // past the first-probe window: an unused group is never probed
    assert.equal(await status(checked, up), 'UNUSED');
    assert.equal(up.probes.length, 0);

    const served = await upstream('unchecked');
    const { svc, tg } = await serviceFor([served], { enabled: false });
    assert.equal(await status(tg, served), 'UNAVAILABLE');
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'unchecked');
    assert.equal(served.probes.length, 0);
  });
});

describe('deregistration (spec §5: DRAINING)', () => {
  test('a deregistered target gets no new requests and finishes its in-flight one', async () => {
    const slowly: UpstreamHandler = (req, res) => {
      if (req.url !== '/slow') return false;
      setTimeout(() => res.end('slow-done'), 1_500);
      return true;
    };
    const keep = await upstream('keep', slowly);
    const leave = await upstream('leave', slowly);
    const { svc, tg, listenerId } = await serviceFor([keep, leave], { enabled: false });
    await waitForAnswer(ingress, port, { host: svc.dnsName }, 'keep');

    // Two slow requests at once: round robin puts one on each target.
    const inFlight = [0, 1].map(() => send(ingress, port, { host: svc.dnsName, path: '/slow' }));
    await waitFor(() => leave.requests.some((r) => r.url === '/slow'), {
      message: 'no slow request reached the target to deregister',
    });
    await lattice.send(
      new DeregisterTargetsCommand({
        targetGroupIdentifier: tg.id,
        targets: [{ id: '127.0.0.1', port: leave.port }],
      }),
    );
    assert.equal(await status(tg, leave), 'DRAINING');
    assert.equal(await status(tg, keep), 'UNAVAILABLE');

    // A later write acts as a marker: once it is served, the deregistration is too.
    await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier: svc.id,
        listenerIdentifier: listenerId,
        name: uniqueName('marker'),
        priority: 1,
        match: { httpMatch: { pathMatch: { match: { exact: '/marker' } } } },
        action: { fixedResponse: { statusCode: 404 } },
      }),
    );
    await waitForAnswer(ingress, port, { host: svc.dnsName, path: '/marker' }, '<404>');

    const hits = leave.requests.length;
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    for (let i = 0; i < 40; i++)
      assert.equal(await whoAnswers(ingress, port, { host: svc.dnsName, agent }), 'keep');
    agent.destroy();
    assert.equal(leave.requests.length, hits, 'no new request reached the draining target');

    const done = await Promise.all(inFlight);
    for (const r of done) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'slow-done');
    }
  });
});

describe('targets failing (spec §5)', () => {
  test('a target killed mid-run turns UNHEALTHY and traffic moves to the healthy one', async () => {
    await waitForStatus(kill.tg, killA, 'HEALTHY', 8_000);
    await waitForStatus(kill.tg, killB, 'HEALTHY', 8_000);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let failuresBeforeMarked = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const who = await whoAnswers(ingress, port, { host: kill.svc.dnsName, agent });
        if (who !== 'kill-a' && who !== 'kill-b') failuresBeforeMarked += 1;
        await sleep(20);
      }
    })();
    await sleep(200);
    await killB.close();
    const killedAt = Date.now();
    await waitForStatus(kill.tg, killB, 'UNHEALTHY', 15_000);
    running = false;
    await loop;
    console.log(
      `killed target UNHEALTHY after ${Date.now() - killedAt} ms; ${failuresBeforeMarked} failed requests before that`,
    );
    const reason = (await targetStatuses(lattice, kill.tg.id))[`127.0.0.1:${killB.port}`];
    assert.equal(reason?.reasonCode, 'ConnectionRefused');
    assert.equal(await status(kill.tg, killA), 'HEALTHY');

    // Once it is marked, nothing fails.
    const answers: string[] = [];
    for (let i = 0; i < 100; i++)
      answers.push(await whoAnswers(ingress, port, { host: kill.svc.dnsName, agent }));
    agent.destroy();
    assert.deepEqual(new Set(answers), new Set(['kill-a']));
  });

  test('every target unhealthy → fail-open: traffic still reaches all of them', async () => {
    await waitForStatus(open.tg, openA, 'UNHEALTHY', 15_000);
    await waitForStatus(open.tg, openB, 'UNHEALTHY', 5_000);
    const reason = (await targetStatuses(lattice, open.tg.id))[`127.0.0.1:${openA.port}`];
    assert.equal(reason?.reasonCode, 'ResponseCodeMismatch');
    const answers: string[] = [];
    for (let i = 0; i < 20; i++)
      answers.push(await whoAnswers(ingress, port, { host: open.svc.dnsName }));
    assert.deepEqual(new Set(answers), new Set(['open-a', 'open-b']));
  });
});
