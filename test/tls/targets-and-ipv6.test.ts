/**
 * HTTPS to targets (spec §7.3: TLS without certificate validation, so a self-signed upstream
 * works) and IPv6 end to end (spec §7.6): an IPv6 ingress address, the IPv6 client address in
 * `x-forwarded-for`, an HTTPS listener on IPv6 — through a real `trellis up`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateTargetGroupCommand,
  RegisterTargetsCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { selfSignedCertificate } from '../../src/iam/x509/certificate-issuer.js';
import {
  createNetwork,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  send,
  startUpstream,
  waitFor,
  type EchoBody,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { createVpc } from '../support/inventory-client.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { acmClient, customerCa, httpsGet, importCert } from './tls-fixtures.js';

const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let selfSigned: Server;
const upstreams: RecordingUpstream[] = [];

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
});

after(async () => {
  lattice?.destroy();
  await proc?.stop();
  selfSigned?.close();
  await Promise.all(upstreams.map((u) => u.close()));
});

async function service(
  networkId: string,
  options: { customDomainName?: string; certificateArn?: string } = {},
): Promise<{ id: string; dnsName: string }> {
  const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('t6'), ...options }));
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: networkId,
      serviceIdentifier: svc.id,
    }),
  );
  return { id: svc.id!, dnsName: svc.dnsEntry!.domainName! };
}

describe('HTTPS target groups (spec §7.3)', () => {
  test('a self-signed HTTPS upstream is reached over TLS without validation', async () => {
    const cert = selfSignedCertificate({ dnsNames: ['target.internal'] });
    const seen: { encrypted: boolean; url: string; proto: string | undefined }[] = [];
    selfSigned = createHttpsServer(
      { key: cert.privateKeyPem, cert: cert.certificatePem },
      (req, res) => {
        seen.push({
          encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
          url: req.url ?? '',
          proto: req.headers['x-forwarded-proto'] as string | undefined,
        });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('tls upstream');
      },
    );
    await new Promise<void>((r) => selfSigned.listen(0, '127.0.0.1', r));
    const upstreamPort = (selfSigned.address() as AddressInfo).port;
    const vpcId = defaultVpcId(proc.accountId);
    const net = await createNetwork(lattice, vpcId);
    const tg = await lattice.send(
      new CreateTargetGroupCommand({
        name: uniqueName('https-tg'),
        type: 'IP',
        config: {
          port: upstreamPort,
          protocol: 'HTTPS',
          protocolVersion: 'HTTP1',
          vpcIdentifier: vpcId,
          healthCheck: { enabled: false },
        },
      }),
    );
    await lattice.send(
      new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '127.0.0.1' }] }),
    );
    const svc = await service(net.id);
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.id,
        name: uniqueName('http'),
        protocol: 'HTTP',
        port,
        defaultAction: forwardTo(tg.id!),
      }),
    );
    const r = (await waitFor(
      async () => {
        const a = await send(ingress, port, { host: svc.dnsName, path: '/secure' });
        return a.status === 200 ? a : null;
      },
      { timeoutMs: 10_000, message: 'HTTPS target answers' },
    ))!;
    assert.equal(r.body, 'tls upstream');
    assert.deepEqual(seen.at(-1), { encrypted: true, url: '/secure', proto: 'http' });
  });
});

describe('IPv6 end to end (spec §7.6)', () => {
  let v6Port: number;
  let vpcId: string;
  let upstream: RecordingUpstream;
  let networkId: string;

  before(async () => {
    v6Port = randomPort();
    vpcId = await createVpc(proc, { ingressAddresses: ['::1'] });
    upstream = await startUpstream('v6-echo', { host: '::1' });
    upstreams.push(upstream);
    networkId = (await createNetwork(lattice, vpcId)).id; // spec §7.5: one SNVA per VPC
  });

  test('an IPv6 ingress address serves an IPv6 client; x-forwarded-for carries ::1', async () => {
    const tg = await createTargetGroup(lattice, vpcId, upstream.port, [{ id: '::1' }], {
      ipAddressType: 'IPV6',
    });
    const svc = await service(networkId);
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.id,
        name: uniqueName('http6'),
        protocol: 'HTTP',
        port: v6Port,
        defaultAction: forwardTo(tg.id),
      }),
    );
    const r = (await waitFor(
      async () => {
        const a = await send('::1', v6Port, { host: svc.dnsName, path: '/v6' });
        return a.status === 200 ? a : null;
      },
      { timeoutMs: 10_000, message: 'IPv6 ingress answers' },
    ))!;
    const echo = r.echo();
    assert.equal(echo.url, '/v6');
    assert.equal(echo.headers['x-forwarded-for'], '::1');
    assert.equal(echo.headers['x-amzn-source-vpc'], vpcId);
    assert.equal(upstream.requests.at(-1)!.remoteAddress, '::1', 'IPv6 target reached over IPv6');
  });

  test('an HTTPS listener on the IPv6 ingress, with the custom domain certificate', async () => {
    const corp = customerCa();
    const domain = `v6-${Math.random().toString(36).slice(2, 8)}.example.com`;
    const acm = acmClient(proc);
    const arn = await importCert(acm, corp.issue([domain]));
    acm.destroy();
    const tg = await createTargetGroup(lattice, vpcId, upstream.port, [{ id: '::1' }], {
      ipAddressType: 'IPV6',
    });
    const svc = await service(networkId, { customDomainName: domain, certificateArn: arn });
    const tlsPort = randomPort();
    await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier: svc.id,
        name: uniqueName('https6'),
        protocol: 'HTTPS',
        port: tlsPort,
        defaultAction: forwardTo(tg.id),
      }),
    );
    const r = (await waitFor(
      async () => {
        const a = await httpsGet('::1', tlsPort, {
          servername: domain,
          ca: corp.rootPem,
          path: '/v6tls',
        });
        return a.status === 200 ? a : null;
      },
      { timeoutMs: 10_000, message: 'HTTPS on IPv6 answers' },
    ))!;
    const echo = JSON.parse(r.body) as EchoBody;
    assert.equal(echo.headers['x-forwarded-for'], '::1');
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    assert.equal(echo.headers['x-forwarded-port'], String(tlsPort));
    // The generated name is served too, with the local CA's certificate.
    const local = readFileSync(join(proc.dataDir, 'ca.pem'), 'utf8');
    assert.equal(
      (await httpsGet('::1', tlsPort, { servername: svc.dnsName, ca: local })).status,
      200,
    );
  });
});
