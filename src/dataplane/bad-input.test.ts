import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Upstream } from './test-support/net.js';
import { randomLoopback, randomPort, send, sendRaw, startUpstream } from './test-support/net.js';
import { startPlane, type Plane } from './test-support/harness.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

describe('bad input (spec §6)', () => {
  const ingress = randomLoopback();
  const port = randomPort();
  const b = new SnapshotBuilder();
  let up: Upstream;
  let slow: Upstream;
  let plane: Plane;
  let host = '';
  let slowHost = '';
  const aborted: string[] = [];

  before(async () => {
    up = await startUpstream('a');
    slow = await startUpstream('slow', '127.0.0.1', (req, res) => {
      req.resume();
      res.on('close', () => aborted.push(req.url ?? ''));
      return true; // never answers
    });
    const vpc = b.vpc([ingress]);
    const net = b.network();
    b.associateVpc(net, vpc);
    const svc = b.service();
    b.associateService(net, svc);
    const tg = b.targetGroup('IP', { port: up.port });
    b.target(tg, '127.0.0.1');
    b.listener(svc, port, forward(tg));
    host = b.hostOf(svc);
    const slowSvc = b.service();
    b.associateService(net, slowSvc);
    const slowTg = b.targetGroup('IP', { port: slow.port });
    b.target(slowTg, '127.0.0.1');
    b.listener(slowSvc, port, forward(slowTg));
    slowHost = b.hostOf(slowSvc);
    plane = await startPlane(b, { timeouts: { clientHeadersMs: 400, targetResponseMs: 10_000 } });
  });

  after(async () => {
    await plane.stop();
    await up.close();
    await slow.close();
  });

  const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

  const cases: { name: string; bytes: () => string; status: RegExp }[] = [
    {
      name: 'more than 100 headers',
      bytes: () =>
        head([
          'GET / HTTP/1.1',
          `Host: ${host}`,
          ...Array.from({ length: 101 }, (_, i) => `x-h${i}: v`),
        ]),
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'headers over 60 KB',
      bytes: () => head(['GET / HTTP/1.1', `Host: ${host}`, `x-big: ${'a'.repeat(62 * 1024)}`]),
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'URL over 16 KB',
      bytes: () => head([`GET /${'u'.repeat(17 * 1024)} HTTP/1.1`, `Host: ${host}`]),
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'Content-Length with Transfer-Encoding',
      bytes: () =>
        head([
          'POST / HTTP/1.1',
          `Host: ${host}`,
          'Content-Length: 4',
          'Transfer-Encoding: chunked',
        ]) + '0\r\n\r\n',
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'duplicate Content-Length',
      bytes: () =>
        head(['POST / HTTP/1.1', `Host: ${host}`, 'Content-Length: 1', 'Content-Length: 2']) + 'ab',
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'Transfer-Encoding not ending in chunked',
      bytes: () => head(['POST / HTTP/1.1', `Host: ${host}`, 'Transfer-Encoding: gzip']) + 'abc',
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'malformed request line',
      bytes: () => head(['GARBAGE', `Host: ${host}`]),
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'space before colon in a header name',
      bytes: () => head(['GET / HTTP/1.1', `Host : ${host}`]),
      status: /^HTTP\/1\.1 400 /,
    },
    {
      name: 'absolute-form target that is not a path',
      bytes: () => head(['GET http://evil/ HTTP/1.1', `Host: ${host}`]),
      status: /^HTTP\/1\.1 400 /,
    },
  ];

  for (const tc of cases) {
    it(`${tc.name} → 400 and the connection closes`, async () => {
      const started = Date.now();
      const out = await sendRaw(ingress, port, tc.bytes(), 3000);
      assert.match(out, tc.status, out.slice(0, 200));
      assert.ok(Date.now() - started < 2500, 'connection should close, not linger');
      assert.equal(up.hits, 0, 'nothing may reach the target');
    });
  }

  it('a smuggled second request is never forwarded', async () => {
    const smuggled = head(['GET /smuggled HTTP/1.1', `Host: ${host}`]);
    const bytes =
      head([
        'POST / HTTP/1.1',
        `Host: ${host}`,
        `Content-Length: ${smuggled.length}`,
        'Transfer-Encoding: chunked',
      ]) +
      '0\r\n\r\n' +
      smuggled;
    const out = await sendRaw(ingress, port, bytes, 3000);
    assert.match(out, /^HTTP\/1\.1 400 /);
    assert.equal(out.match(/HTTP\/1\.1/g)?.length, 1);
    assert.equal(up.hits, 0);
  });

  it('slowloris: an unfinished request head times out', async () => {
    const started = Date.now();
    const out = await sendRaw(ingress, port, `GET / HTTP/1.1\r\nHost: ${host}\r\nx-slow: a`, 5000);
    const took = Date.now() - started;
    assert.ok(took < 3000, `took ${took} ms`);
    assert.ok(out === '' || /^HTTP\/1\.1 408 /.test(out), out);
  });

  it('a client vanishing mid-body or mid-wait cancels the upstream request', async () => {
    await new Promise<void>((resolve) => {
      const s = connect({ host: ingress, port }, () => {
        s.write(
          head(['POST /vanish HTTP/1.1', `Host: ${slowHost}`, 'Content-Length: 1000']) +
            'x'.repeat(10),
        );
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 150);
      });
      s.on('error', () => undefined);
    });
    const deadline = Date.now() + 2000;
    while (!aborted.includes('/vanish') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(aborted.includes('/vanish'), 'upstream request should be torn down');
    const rec = plane.records.find((r) => r.requestPath === '/vanish');
    assert.equal(rec?.failureReason, 'ClientConnectionClosed');
    // Still serving afterwards.
    const ok = await send(ingress, port, { host });
    assert.equal(ok.status, 200);
  });

  it('every bad request was logged as ClientProtocolError', () => {
    assert.ok(
      plane.records.filter((r) => r.failureReason === 'ClientProtocolError').length >= cases.length,
    );
  });
});
