import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Upstream } from './test-support/net.js';
import { randomLoopback, randomPort, send, startUpstream } from './test-support/net.js';
import { startPlane, type Plane } from './test-support/harness.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

describe('auth gate stage', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  const b = new SnapshotBuilder();
  let up: Upstream;
  let plane: Plane;
  const hosts: Record<string, string> = {};

  before(async () => {
    up = await startUpstream('a');
    const vpc = b.vpc([ingress]);
    const open = b.network('NONE');
    const iamNet = b.network('AWS_IAM');
    b.associateVpc(open, vpc);
    b.associateVpc(iamNet, vpc);
    const tg = b.targetGroup('IP', { port: up.port });
    b.target(tg, '127.0.0.1');
    const add = (name: string, net: string, authType: 'NONE' | 'AWS_IAM'): void => {
      const id = b.service({ authType });
      b.associateService(net, id);
      b.listener(id, port, forward(tg));
      hosts[name] = b.hostOf(id);
    };
    add('open', open, 'NONE');
    add('iam-service', open, 'AWS_IAM');
    add('iam-network', iamNet, 'NONE');
    plane = await startPlane(b);
  });

  after(async () => {
    await plane.stop();
    await up.close();
  });

  const cases = [
    { name: 'open', status: 200, reason: undefined },
    { name: 'iam-service', status: 403, reason: 'Service' },
    { name: 'iam-network', status: 403, reason: 'Network' },
  ] as const;
  for (const tc of cases) {
    it(`${tc.name} → ${tc.status}`, async () => {
      const r = await send(ingress, port, { host: hosts[tc.name], path: `/${tc.name}` });
      assert.equal(r.status, tc.status);
      const rec = await plane.record((x) => x.requestPath === `/${tc.name}`);
      assert.equal(rec.authDeniedReason, tc.reason);
      if (tc.status === 403) {
        assert.match(
          r.body,
          /^AccessDeniedException: User: anonymous is not authorized to perform: vpc-lattice-svcs:Invoke/,
        );
        assert.equal(rec.failureReason, 'ClientAccessDenied');
        assert.equal(rec.targetIpPort, '');
      }
    });
  }

  it('a custom gate decides for AWS_IAM services and its principal is logged', async () => {
    const b2 = new SnapshotBuilder();
    const ingress2 = randomLoopback();
    const vpc = b2.vpc([ingress2]);
    const net = b2.network('AWS_IAM');
    b2.associateVpc(net, vpc);
    const svc = b2.service({ authType: 'AWS_IAM' });
    b2.associateService(net, svc);
    const tg = b2.targetGroup('IP', { port: up.port });
    b2.target(tg, '127.0.0.1');
    b2.listener(svc, port, forward(tg));
    const seen: string[] = [];
    const custom = await startPlane(b2, {
      authGate: {
        check: ({ binding, request }) => {
          seen.push(binding.serviceArn);
          return request.headers.authorization === 'ok'
            ? { allow: true, resolvedUser: 'arn:aws:iam::111122223333:role/r' }
            : { allow: false, status: 403, message: 'denied\n', authDeniedReason: 'Identity' };
        },
      },
    });
    try {
      const ok = await send(ingress2, port, {
        host: b2.hostOf(svc),
        headers: { authorization: 'ok' },
      });
      assert.equal(ok.status, 200);
      const no = await send(ingress2, port, { host: b2.hostOf(svc) });
      assert.equal(no.status, 403);
      assert.equal(no.body, 'denied\n');
      await custom.record((r) => r.responseCode === 403);
      assert.equal(custom.records[0]!.resolvedUser, 'arn:aws:iam::111122223333:role/r');
      assert.equal(custom.records[1]!.authDeniedReason, 'Identity');
      assert.deepEqual(seen, [b2.serviceArnOf(svc), b2.serviceArnOf(svc)]);
    } finally {
      await custom.stop();
    }
  });

  it('a gate that throws answers 500 for that request and the data plane keeps serving', async () => {
    const b3 = new SnapshotBuilder();
    const ingress3 = randomLoopback();
    const vpc = b3.vpc([ingress3]);
    const net = b3.network('AWS_IAM');
    b3.associateVpc(net, vpc);
    const svc = b3.service();
    b3.associateService(net, svc);
    const tg = b3.targetGroup('IP', { port: up.port });
    b3.target(tg, '127.0.0.1');
    b3.listener(svc, port, forward(tg));
    const p3 = await startPlane(b3, {
      authGate: {
        check: () => {
          throw new Error('gate bug');
        },
      },
    });
    try {
      const r = await send(ingress3, port, { host: b3.hostOf(svc) });
      assert.equal(r.status, 500);
      const again = await send(ingress3, port, { host: b3.hostOf(svc) });
      assert.equal(again.status, 500);
    } finally {
      await p3.stop();
    }
  });
});
