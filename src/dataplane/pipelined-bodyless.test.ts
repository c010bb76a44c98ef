/**
 * Issue #3: pipelined requests whose answers carry no body (HEAD, 204, 304) are each answered, in
 * order, on the fast path and on the node:http path (a plane with the fast path off).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPlane, type Plane } from './test-support/harness.js';
import {
  randomLoopback,
  randomPort,
  sendRaw,
  startUpstream,
  type Upstream,
} from './test-support/net.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

/** Status lines of every response in `raw`, in order. */
function statusLines(raw: string): string[] {
  return raw.match(/HTTP\/1\.1 \d{3}[^\r]*/g) ?? [];
}

describe('pipelined requests with body-less answers (issue #3)', () => {
  const fastIngress = randomLoopback();
  let slowIngress = randomLoopback();
  while (slowIngress === fastIngress) slowIngress = randomLoopback();
  const port = randomPort();
  let up: Upstream;
  let fast: Plane;
  let slow: Plane;
  const hosts = new Map<string, string>();

  before(async () => {
    up = await startUpstream('pipe', '127.0.0.1', (req, res) => {
      if (req.url === '/nc') {
        res.writeHead(204).end();
        return true;
      }
      if (req.url === '/nm') {
        res.writeHead(304, { etag: '"x"' }).end();
        return true;
      }
      return false;
    });
    // One plane per ingress address (each listens on every address of its snapshot).
    const build = (ingress: string): SnapshotBuilder => {
      const b = new SnapshotBuilder();
      const vpc = b.vpc([ingress]);
      const net = b.network();
      b.associateVpc(net, vpc);
      const svc = b.service();
      b.associateService(net, svc);
      const tg = b.targetGroup('IP', { port: 1 });
      b.target(tg, up.address, up.port);
      b.listener(svc, port, forward(tg));
      hosts.set(ingress, b.hostOf(svc));
      return b;
    };
    fast = await startPlane(build(fastIngress));
    slow = await startPlane(build(slowIngress), { fastPath: false });
  });

  after(async () => {
    await fast.stop();
    await slow.stop();
    await up.close();
  });

  const pipeline = (host: string): string =>
    `HEAD /a HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
    `GET /nc HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
    `HEAD /b HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
    `GET /nm HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
    `GET /c HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

  for (const [name, ingress] of [
    ['fast path', () => fastIngress],
    ['node:http path', () => slowIngress],
  ] as const) {
    it(`${name}: HEAD, 204, HEAD, 304, GET pipelined in one write get five answers in order`, async () => {
      const raw = await sendRaw(ingress(), port, pipeline(hosts.get(ingress())!), 30_000);
      assert.deepEqual(
        statusLines(raw).map((l) => l.slice(9, 12)),
        ['200', '204', '200', '304', '200'],
        raw,
      );
      assert.match(raw, /"url":"\/c"[^]*$/);
      assert.doesNotMatch(raw, /"url":"\/a"/); // a HEAD answer has no body
    });
  }
});
