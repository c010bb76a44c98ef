import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connect as tlsConnect,
  createServer as createTlsServer,
  type Server as TlsServer,
} from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { selfSignedCertificate } from '../iam/x509/certificate-issuer.js';
import type { RequestRecord } from './request-record.js';
import { startPlane, type Plane } from './test-support/harness.js';
import { randomLoopback, randomPort } from './test-support/net.js';
import { SnapshotBuilder, forward } from './test-support/snapshot-builder.js';

/**
 * Long-lived tunnels of the data plane: WebSocket upgrades (upgrade-tunnel.ts) and TLS
 * passthrough connections (tls-passthrough.ts) close after the service's idle timeout with no
 * data (spec §6), and a stopping data plane cuts the ones still open once its drain grace is over
 * instead of waiting for them.
 */
describe('WebSocket and TLS passthrough tunnels', () => {
  const ingress = randomLoopback();
  const httpPort = randomPort();
  let tlsPort = randomPort();
  while (tlsPort === httpPort) tlsPort = randomPort();
  const domain = 'ledger.tunnels.example.com';
  const idleDomain = 'idle.tunnels.example.com';
  const goneDomain = 'gone.tunnels.example.com';
  const b = new SnapshotBuilder();
  let goneListener = '';
  let plane: Plane;
  let wsTarget: Server;
  let wss: WebSocketServer;
  let tlsTarget: TlsServer;
  let host = '';
  let idleHost = '';

  before(async () => {
    wsTarget = createServer((_req, res) => res.end('ok'));
    wss = new WebSocketServer({ server: wsTarget });
    wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));
    await new Promise<void>((resolve) => wsTarget.listen(0, '127.0.0.1', resolve));
    const cert = selfSignedCertificate({ dnsNames: [domain, idleDomain, goneDomain] });
    tlsTarget = createTlsServer({ key: cert.privateKeyPem, cert: cert.certificatePem }, (s) => {
      s.on('data', (d: Buffer) => s.write(d)); // echo inside TLS
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => tlsTarget.listen(0, '127.0.0.1', resolve));

    const vpc = b.vpc([ingress]);
    const net = b.network();
    b.associateVpc(net, vpc);
    const wsPort = (wsTarget.address() as AddressInfo).port;
    const tcpPort = (tlsTarget.address() as AddressInfo).port;
    // Two services per kind: the default 60 s idle timeout, and 1 s.
    for (const [idle, domainName] of [
      [60, domain],
      [1, idleDomain],
    ] as const) {
      const svc = b.service({ customDomainName: domainName, idleTimeoutSeconds: idle });
      b.associateService(net, svc);
      const httpTg = b.targetGroup('IP', { port: wsPort });
      b.target(httpTg, '127.0.0.1');
      b.listener(svc, httpPort, forward(httpTg));
      const tcpTg = b.targetGroup('IP', { port: tcpPort, protocol: 'TCP' });
      b.target(tcpTg, '127.0.0.1');
      b.listener(svc, tlsPort, forward(tcpTg), 'TLS_PASSTHROUGH');
      if (idle === 60) host = domainName;
      else idleHost = domainName;
    }
    // A third service whose passthrough listener a later snapshot removes.
    const gone = b.service({ customDomainName: goneDomain });
    b.associateService(net, gone);
    const goneTg = b.targetGroup('IP', { port: tcpPort, protocol: 'TCP' });
    b.target(goneTg, '127.0.0.1');
    goneListener = b.listener(gone, tlsPort, forward(goneTg), 'TLS_PASSTHROUGH');
    plane = await startPlane(b, { timeouts: { drainMs: 300 } });
  });

  after(async () => {
    await plane.stop();
    for (const c of wss.clients) c.terminate();
    wss.close();
    wsTarget.closeAllConnections();
    await new Promise<void>((resolve) => wsTarget.close(() => resolve()));
    await new Promise<void>((resolve) => tlsTarget.close(() => resolve()));
  });

  function openWs(hostName: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${ingress}:${httpPort}/t`, { headers: { host: hostName } });
      ws.once('open', () => {
        ws.on('error', () => undefined); // a cut tunnel may surface as a reset
        resolve(ws);
      });
      ws.once('error', reject);
    });
  }

  /** A TLS connection through the passthrough whose echo came back (the tunnel is open). */
  function openPassthrough(servername: string): Promise<ReturnType<typeof tlsConnect>> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: ingress, port: tlsPort, servername, rejectUnauthorized: false });
      s.once('secureConnect', () => s.write('ping'));
      s.once('data', () => resolve(s));
      s.once('error', reject);
    });
  }

  const closed = (e: { once(ev: 'close', f: () => void): unknown }): Promise<void> =>
    new Promise((resolve) => e.once('close', () => resolve()));

  it('idle tunnels close after the service idle timeout (spec §6: no data)', async () => {
    const ws = await openWs(idleHost);
    const tls = await openPassthrough(idleHost);
    tls.on('error', () => undefined);
    // Nothing is sent: both are closed by the proxy (the test timeout bounds the wait).
    await Promise.all([closed(ws), closed(tls)]);
    // Logged as finished connections, not as failures.
    const found = () => ({
      pass: plane.records.find((r) => r.serverNameIndication === idleHost),
      upgrade: plane.records.find((r) => r.hostHeader === idleHost),
    });
    while (found().pass === undefined || found().upgrade === undefined)
      await new Promise((resolve) => setTimeout(resolve, 20)); // bounded by the test timeout
    const records = found() as { pass: RequestRecord; upgrade: RequestRecord };
    assert.equal(records.pass.failureReason, undefined);
    assert.equal(records.upgrade.failureReason, undefined);
    assert.equal(records.upgrade.responseCode, 101);
  });

  it('removing the passthrough listener cuts its open connections after the drain grace', async () => {
    const tls = await openPassthrough(goneDomain);
    tls.on('error', () => undefined);
    const gone = closed(tls);
    b.removeListener(goneListener);
    await plane.publish(b);
    await gone; // the 60 s idle timeout is not waited for
    // Other names on the port are untouched.
    const still = await openPassthrough(host);
    still.destroy();
  });

  it('stop cuts tunnels still open once the drain grace is over', async () => {
    const ws = await openWs(host);
    const echoed = await new Promise<string>((resolve) => {
      ws.once('message', (m: Buffer) => resolve(m.toString()));
      ws.send('still here');
    });
    assert.equal(echoed, 'still here');
    const tls = await openPassthrough(host);
    tls.on('error', () => undefined);
    const wsClosed = closed(ws);
    const tlsClosed = closed(tls);
    await plane.stop(); // resolves: the 60 s idle timeout is not waited for
    await Promise.all([wsClosed, tlsClosed]);
  });
});
