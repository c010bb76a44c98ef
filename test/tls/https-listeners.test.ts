/**
 * HTTPS listeners end to end through a real `trellis up` (spec §7.1, §7.4): TLS terminated with
 * the service's certificate for its custom domain and the local CA's for generated names, chosen
 * by SNI; unknown or missing SNI refused at the handshake; rotation of `certificateArn` applied to
 * new handshakes without dropping open connections. Every client verifies the server certificate
 * against a CA it was given (no `rejectUnauthorized: false`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ACMClient } from '@aws-sdk/client-acm';
import {
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
  DeleteListenerCommand,
  UpdateServiceCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createTargetGroup,
  createNetwork,
  forwardTo,
  randomLoopback,
  randomPort,
  startUpstream,
  waitFor,
  type EchoBody,
  type Network,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { acmClient, customerCa, httpsGet, importCert } from './tls-fixtures.js';

const run = promisify(execFile);
const ingress = randomLoopback();
const port = randomPort();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let acm: ACMClient;
let net: Network;
let upstream: RecordingUpstream;
let vpcId: string;
let localCa: string;
const corp = customerCa();

interface HttpsService {
  id: string;
  dnsName: string;
}

/** A service with an HTTPS listener on `port` forwarding to the echo upstream. */
async function httpsService(
  options: {
    customDomainName?: string;
    certificateArn?: string;
  },
  listenerPort = port,
): Promise<HttpsService & { listenerId: string }> {
  const svc = await lattice.send(new CreateServiceCommand({ name: uniqueName('tls'), ...options }));
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: svc.id,
    }),
  );
  const listener = await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.id,
      name: uniqueName('https'),
      protocol: 'HTTPS',
      port: listenerPort,
      // spec §1.5: a target group serves one service, so each service gets its own.
      defaultAction: forwardTo(
        (await createTargetGroup(lattice, vpcId, upstream.port, [{ id: '127.0.0.1' }])).id,
      ),
    }),
  );
  return { id: svc.id!, dnsName: svc.dnsEntry!.domainName!, listenerId: listener.id! };
}

/** Handshake outcome for a name: 'ok' or the error code. */
function handshake(
  servername: string | undefined,
  ca: string,
  extra: { maxVersion?: 'TLSv1.2'; ALPNProtocols?: string[] } = {},
  toPort = port,
): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({
      host: ingress,
      port: toPort,
      ca,
      ...(servername ? { servername } : {}),
      ...extra,
    });
    s.once('secureConnect', () => {
      resolve(`ok ${s.getProtocol()} ${s.getCipher().name} ${s.alpnProtocol}`);
      s.destroy();
    });
    s.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
    s.setTimeout(5_000, () => {
      resolve('timeout');
      s.destroy();
    });
  });
}

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
  acm = acmClient(proc);
  vpcId = defaultVpcId(proc.accountId);
  net = await createNetwork(lattice, vpcId);
  upstream = await startUpstream('tls-echo');
  localCa = readFileSync(join(proc.dataDir, 'ca.pem'), 'utf8');
});

after(async () => {
  acm?.destroy();
  lattice?.destroy();
  await proc?.stop();
  await upstream?.close();
});

describe('HTTPS listener with a custom domain (spec §7.4)', () => {
  let svc: HttpsService;
  const domain = `pay-${Math.random().toString(36).slice(2, 8)}.example.com`;

  before(async () => {
    const arn = await importCert(acm, corp.issue([domain]));
    svc = await httpsService({ customDomainName: domain, certificateArn: arn });
    await waitFor(async () => (await handshake(domain, corp.rootPem)).startsWith('ok'), {
      timeoutMs: 10_000,
      message: 'HTTPS listener serves the custom domain',
    });
  });

  test('a client trusting only the customer CA gets the service, with x-forwarded-proto https', async () => {
    const r = await httpsGet(ingress, port, {
      servername: domain,
      ca: corp.rootPem,
      path: '/pay?x=1',
    });
    assert.equal(r.status, 200);
    assert.equal(r.protocol, 'TLSv1.3');
    assert.equal(r.alpn, false, 'node:https offers no ALPN; the listener answers without it');
    assert.equal(r.peerSubjectCn, domain);
    const echo = JSON.parse(r.body) as EchoBody;
    assert.equal(echo.url, '/pay?x=1');
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    assert.equal(echo.headers['x-forwarded-port'], String(port));
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
  });

  test('TLS 1.2 negotiates the spec’s first cipher; ALPN prefers h2 (spec §7.1)', async () => {
    assert.equal(
      await handshake(domain, corp.rootPem, { maxVersion: 'TLSv1.2' }),
      'ok TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 false',
    );
    assert.equal(
      await handshake(domain, corp.rootPem, { ALPNProtocols: ['h2', 'http/1.1'] }),
      'ok TLSv1.3 TLS_AES_128_GCM_SHA256 h2',
    );
  });

  test('the generated name is served with the local CA certificate', async () => {
    const r = await httpsGet(ingress, port, { servername: svc.dnsName, ca: localCa });
    assert.equal(r.status, 200);
    assert.match(r.peerSubjectCn ?? '', /^\*\.[0-9a-z]+\.vpc-lattice-svcs\..+\.on\.aws$/);
  });

  const refused: [string, () => Promise<string>][] = [
    ['unknown SNI', () => handshake('nobody.example.com', corp.rootPem)],
    ['no SNI', () => handshake(undefined, corp.rootPem)],
    [
      'the custom domain with a client that trusts only the local CA',
      () => handshake(domain, localCa),
    ],
  ];
  for (const [name, attempt] of refused) {
    test(`refused at the handshake: ${name}`, async () => {
      const outcome = await attempt();
      assert.ok(!outcome.startsWith('ok'), outcome);
      // ...and the listener keeps serving others.
      assert.equal(
        (await httpsGet(ingress, port, { servername: domain, ca: corp.rootPem })).status,
        200,
      );
    });
  }

  test('a custom domain whose certificate does not cover it has no certificate (no fallback)', async () => {
    const other = `wrong-${Math.random().toString(36).slice(2, 8)}.example.com`;
    const arn = await importCert(acm, corp.issue(['*.other.example.com']));
    await httpsService({ customDomainName: other, certificateArn: arn });
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await handshake(other, corp.rootPem), /^(?!ok)/);
  });

  test('curl --cacert --resolve reaches the custom domain', async (t) => {
    const caFile = join(proc.dataDir, 'corp-root.pem');
    writeFileSync(caFile, corp.rootPem);
    const args = ['-sS', '--cacert', caFile, '--resolve', `${domain}:${port}:${ingress}`];
    let out: { stdout: string };
    try {
      out = await run('curl', [...args, `https://${domain}:${port}/curl`], { timeout: 10_000 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return t.diagnostic('no curl here');
      throw err;
    }
    assert.equal((JSON.parse(out.stdout) as EchoBody).url, '/curl');
  });
});

describe('certificate rotation (spec §7.4)', () => {
  test('a new certificateArn applies to new handshakes; an open keep-alive connection carries on', async () => {
    const domain = `rot-${Math.random().toString(36).slice(2, 8)}.example.com`;
    const oldArn = await importCert(acm, corp.issue([domain]));
    const svc = await httpsService({ customDomainName: domain, certificateArn: oldArn });
    await waitFor(async () => (await handshake(domain, corp.rootPem)).startsWith('ok'), {
      timeoutMs: 10_000,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await httpsGet(ingress, port, { servername: domain, ca: corp.rootPem, agent });
      assert.equal(first.status, 200);
      const next = customerCa();
      const newArn = await importCert(acm, next.issue([domain]));
      await lattice.send(
        new UpdateServiceCommand({ serviceIdentifier: svc.id, certificateArn: newArn }),
      );
      await waitFor(async () => (await handshake(domain, next.rootPem)).startsWith('ok'), {
        timeoutMs: 10_000,
        message: 'new handshakes get the new certificate',
      });
      assert.ok(
        !(await handshake(domain, corp.rootPem)).startsWith('ok'),
        'old certificate no longer served',
      );
      const again = await httpsGet(ingress, port, { servername: domain, ca: corp.rootPem, agent });
      assert.equal(again.status, 200);
      assert.equal(again.localPort, first.localPort, 'the same TLS connection carried on');
    } finally {
      agent.destroy();
    }
  });
});

describe('HTTPS listener removal', () => {
  test('deleting the only HTTPS listener on a port closes the TLS socket', async () => {
    const otherPort = port === 65_000 ? 64_999 : port + 1;
    const domain = `gone-${Math.random().toString(36).slice(2, 8)}.example.com`;
    const arn = await importCert(acm, corp.issue([domain]));
    const svc = await httpsService({ customDomainName: domain, certificateArn: arn }, otherPort);
    const probe = (): Promise<string> => handshake(domain, corp.rootPem, {}, otherPort);
    await waitFor(async () => (await probe()).startsWith('ok'), { timeoutMs: 10_000 });
    await lattice.send(
      new DeleteListenerCommand({ serviceIdentifier: svc.id, listenerIdentifier: svc.listenerId }),
    );
    await waitFor(async () => (await probe()) === 'ECONNREFUSED', {
      timeoutMs: 15_000,
      message: 'the TLS port is closed',
    });
  });
});
