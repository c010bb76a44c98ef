/**
 * Issue #3: a client that announces a request body and then stops sending it does not hold a
 * fast-path connection (and a target connection) forever: 408 and close, as nginx answers on
 * `client_body_timeout`, logged with a failure reason. The whole-request bound is set short here
 * (`timeouts.clientRequestMs`); in production the service's idle timeout between reads applies too.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startPlane, type Plane } from './test-support/harness.js';
import {
  randomLoopback,
  randomPort,
  send,
  startUpstream,
  type Upstream,
} from './test-support/net.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

/** Writes `bytes`, then reads until the proxy closes (or 60 s pass, which fails the test). */
function stallAndRead(address: string, port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: address, port }, () => socket.write(bytes));
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, 60_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', done);
  });
}

describe('a stalled request body times out on the fast path (issue #3)', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  let up: Upstream;
  let plane: Plane;
  let host = '';

  before(async () => {
    up = await startUpstream('body');
    const b = new SnapshotBuilder();
    const vpc = b.vpc([ingress]);
    const net = b.network();
    b.associateVpc(net, vpc);
    const svc = b.service();
    b.associateService(net, svc);
    const tg = b.targetGroup('IP', { port: 1 });
    b.target(tg, up.address, up.port);
    b.listener(svc, port, forward(tg));
    host = b.hostOf(svc);
    // Generous against a loaded machine for the 200 below; short for the stall.
    plane = await startPlane(b, { timeouts: { clientRequestMs: 5_000, clientHeadersMs: 5_000 } });
  });

  after(async () => {
    await plane.stop();
    await up.close();
  });

  it('Content-Length: 1000000 then silence → 408, connection closed, logged', async () => {
    const raw = await stallAndRead(
      ingress,
      port,
      `POST /stall HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1000000\r\n\r\npartial body`,
    );
    assert.match(raw, /^HTTP\/1\.1 408 /, raw);
    assert.match(raw, /connection: close/i);
    const rec = await plane.record((r) => r.requestPath === '/stall');
    assert.equal(rec.responseCode, 408);
    assert.equal(rec.failureReason, 'ClientProtocolError');
  });

  it('a body sent whole is still forwarded', async () => {
    const body = 'x'.repeat(200_000);
    const r = await send(ingress, port, { host, method: 'POST', path: '/whole', body });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { body: string }).body.length, body.length);
  });
});
