/**
 * Issue #3: a target that refuses the connection does not cost the client a 502 while another
 * target of the same group can answer (nginx `proxy_next_upstream error`, Envoy retry on
 * `connect-failure`). The dead target is port 1 on loopback, which nothing listens on (never a
 * bound-then-closed ephemeral port: another test could be given it). No health checker runs, so
 * only the retry keeps requests from failing.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../iam/x509/certificate-issuer.js';
import { startPlane, type Plane } from './test-support/harness.js';
import {
  randomLoopback,
  randomPort,
  send,
  sendRaw,
  startUpstream,
  type Upstream,
} from './test-support/net.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

const REQUESTS = 50;

function httpsGet(address: string, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: address,
        port,
        servername: host,
        headers: { host },
        path: '/',
        agent: false,
        rejectUnauthorized: false, // a self-signed test certificate
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('retry on another target after a connect failure (issue #3)', () => {
  const ingress = randomLoopback();
  const httpPort = randomPort();
  let httpsPort = randomPort();
  while (httpsPort === httpPort) httpsPort = randomPort();
  const b = new SnapshotBuilder();
  let live: Upstream;
  let plane: Plane;
  let host = '';
  let deadHost = '';

  before(async () => {
    live = await startUpstream('live');
    const vpc = b.vpc([ingress]);
    const net = b.network();
    b.associateVpc(net, vpc);
    const svc = b.service();
    b.associateService(net, svc);
    const tg = b.targetGroup('IP', { port: 1 });
    b.target(tg, '127.0.0.1', 1); // refused: nothing listens on port 1
    b.target(tg, live.address, live.port);
    b.listener(svc, httpPort, forward(tg));
    b.listener(svc, httpsPort, forward(tg), 'HTTPS');
    host = b.hostOf(svc);
    // A group whose only target is dead still answers 502, after the bounded tries.
    const deadSvc = b.service();
    b.associateService(net, deadSvc);
    const deadTg = b.targetGroup('IP', { port: 1 });
    b.target(deadTg, '127.0.0.1', 1);
    b.listener(deadSvc, httpPort, forward(deadTg));
    deadHost = b.hostOf(deadSvc);
    const cert = selfSignedCertificate({ dnsNames: [host] });
    plane = await startPlane(b, {
      tls: {
        openKey: (sealed) => sealed,
        generatedNameCertificate: {
          certificatePem: cert.certificatePem,
          privateKeyPem: cert.privateKeyPem,
          chainPem: '',
        },
      },
    });
  });

  after(async () => {
    await plane.stop();
    await live.close();
  });

  it('HTTP listener (fast path): every request answered by the live target', async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const r = await send(ingress, httpPort, { host, path: `/fast/${i}` });
      assert.equal(r.status, 200, `request ${i}: ${r.body}`);
      assert.equal(r.headers['x-upstream'], 'live');
    }
    // The access log names the target that answered.
    const rec = await plane.record((r) => r.requestPath === '/fast/0');
    assert.equal(rec.targetIpPort, `${live.address}:${live.port}`);
    assert.equal(rec.responseCode, 200);
  });

  it('HTTP listener (fast path): a request body reaches the live target whole', async () => {
    for (let i = 0; i < 10; i++) {
      const body = `payload-${i}-`.repeat(100);
      const r = await send(ingress, httpPort, { host, method: 'POST', path: '/post', body });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { body: string }).body, body);
    }
  });

  it('HTTPS listener (fast path over TLS): every request answered', async () => {
    for (let i = 0; i < REQUESTS; i++)
      assert.equal(await httpsGet(ingress, httpsPort, host), 200, `request ${i}`);
  });

  it('node:http path (HTTP/1.0 is handed to it): every request answered', async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const raw = await sendRaw(
        ingress,
        httpPort,
        `GET /slow/${i} HTTP/1.0\r\nHost: ${host}\r\n\r\n`,
        30_000,
      );
      assert.match(raw, /^HTTP\/1\.[01] 200 /, `request ${i}: ${raw.slice(0, 200)}`);
      assert.match(raw, /"name":"live"/);
    }
    const rec = await plane.record((r) => r.requestPath === '/slow/0');
    assert.equal(rec.targetIpPort, `${live.address}:${live.port}`);
  });

  it('every target refuses: 502 TargetConnectionError on both paths', async () => {
    const r = await send(ingress, httpPort, { host: deadHost, path: '/dead-fast' });
    assert.equal(r.status, 502);
    const raw = await sendRaw(
      ingress,
      httpPort,
      `GET /dead-slow HTTP/1.0\r\nHost: ${deadHost}\r\n\r\n`,
      30_000,
    );
    assert.match(raw, /^HTTP\/1\.[01] 502 /);
    for (const path of ['/dead-fast', '/dead-slow']) {
      const rec = await plane.record((x) => x.requestPath === path);
      assert.equal(rec.failureReason, 'TargetConnectionError');
    }
  });
});
