/**
 * TLS_PASSTHROUGH listeners end to end through a real `trellis up` (spec §7.1, §8 gotcha 16): the
 * proxy reads the ClientHello's SNI without terminating TLS and pipes the bytes to a target of the
 * listener's TCP target group; the client verifies the *target's* certificate (issued by a CA only
 * the client and target know). Two services on one port are told apart by SNI; an HTTPS listener
 * sharing the port still terminates its own names; unknown SNI and garbage are closed; the
 * connection is access-logged with its SNI and "-" where HTTP fields do not apply.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ACMClient } from '@aws-sdk/client-acm';
import {
  CreateAccessLogSubscriptionCommand,
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
  CreateTargetGroupCommand,
  PutAuthPolicyCommand,
  RegisterTargetsCommand,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import {
  createNetwork,
  createTargetGroup,
  forwardTo,
  randomLoopback,
  randomPort,
  startUpstream,
  waitFor,
  type Network,
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { acmClient, customerCa, httpsGet, importCert } from './tls-fixtures.js';

const ingress = randomLoopback();
const port = randomPort();
const tag = Math.random().toString(36).slice(2, 8);
const domainA = `a-${tag}.passthrough.example.com`;
const domainB = `b-${tag}.passthrough.example.com`;
const domainHttps = `terminated-${tag}.example.com`;
/** AWS_IAM services: one whose policy allows Connect, one whose policy allows only Invoke. */
const domainConnect = `connect-${tag}.passthrough.example.com`;
const domainInvokeOnly = `invoke-${tag}.passthrough.example.com`;
const LOG_GROUP = `passthrough-${tag}`;
/** The targets' own PKI: the proxy never holds these keys. */
const targetCa = customerCa();
/** The HTTPS listener's certificate issuer (terminated by Trellis). */
const corp = customerCa();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let acm: ACMClient;
let net: Network;
let vpcId: string;
let upstream: RecordingUpstream;
const targets: HttpsServer[] = [];

/** An HTTPS server with its own certificate for `name`, answering its name and the SNI it saw. */
async function tlsTarget(name: string): Promise<number> {
  const cert = targetCa.issue([name]);
  const server = createHttpsServer(
    { key: cert.privateKeyPem, cert: cert.certificatePem + (cert.chainPem ?? '') },
    (req, res) => {
      const sni = (req.socket as unknown as { servername?: string }).servername;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            target: name,
            sni,
            headers: req.headers,
            bodyBytes: Buffer.concat(chunks).length,
          }),
        );
      });
    },
  );
  targets.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A service with `domain` and a TLS_PASSTHROUGH listener on `port` to a TCP group of `targetPort`. */
async function passthroughService(
  domain: string,
  targetPort: number,
  allowAction?: string,
): Promise<{ id: string }> {
  const svc = await lattice.send(
    new CreateServiceCommand({
      name: uniqueName('pass'),
      customDomainName: domain,
      ...(allowAction !== undefined ? { authType: 'AWS_IAM' } : {}),
    }),
  );
  if (allowAction !== undefined)
    await lattice.send(
      new PutAuthPolicyCommand({
        resourceIdentifier: svc.id,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: '*', Action: allowAction, Resource: '*' }],
        }),
      }),
    );
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: svc.id,
    }),
  );
  const tg = await lattice.send(
    new CreateTargetGroupCommand({
      name: uniqueName('tcp'),
      type: 'IP',
      config: {
        port: targetPort,
        protocol: 'TCP',
        vpcIdentifier: vpcId,
        healthCheck: { enabled: false },
      },
    }),
  );
  await lattice.send(
    new RegisterTargetsCommand({ targetGroupIdentifier: tg.id, targets: [{ id: '127.0.0.1' }] }),
  );
  await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.id,
      name: uniqueName('tls'),
      protocol: 'TLS_PASSTHROUGH',
      port,
      defaultAction: forwardTo(tg.id!),
    }),
  );
  return { id: svc.id! };
}

interface TargetAnswer {
  target: string;
  sni: string;
  headers: Record<string, string>;
  bodyBytes: number;
}

/** HTTPS through the passthrough, verifying the target's certificate against the targets' CA. */
async function viaPassthrough(domain: string, path = '/'): Promise<TargetAnswer & { cn?: string }> {
  const r = await httpsGet(ingress, port, { servername: domain, ca: targetCa.rootPem, path });
  assert.equal(r.status, 200);
  return {
    ...(JSON.parse(r.body) as TargetAnswer),
    ...(r.peerSubjectCn ? { cn: r.peerSubjectCn } : {}),
  };
}

/** What happens to a raw connection that sends `bytes`: the bytes it got back and how it ended. */
function rawExchange(bytes: Buffer): Promise<{ received: number; ended: string }> {
  return new Promise((resolve) => {
    let received = 0;
    const s = netConnect({ host: ingress, port }, () => s.write(bytes));
    s.on('data', (c: Buffer) => (received += c.length));
    s.on('error', (err: Error & { code?: string }) =>
      resolve({ received, ended: err.code ?? 'error' }),
    );
    s.on('close', () => resolve({ received, ended: 'closed' }));
    s.setTimeout(15_000, () => {
      resolve({ received, ended: 'timeout' });
      s.destroy();
    });
  });
}

/** Records of the log group so far. */
function logRecords(): Record<string, unknown>[] {
  const dir = join(proc.dataDir, 'logs', 'cloudwatch', encodeURIComponent(LOG_GROUP));
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return [];
  }
  return files
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function handshake(servername: string, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: ingress, port, servername, ca });
    s.once('secureConnect', () => {
      resolve('ok');
      s.destroy();
    });
    s.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
    s.once('close', () => resolve('closed'));
    s.setTimeout(15_000, () => {
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
  upstream = await startUpstream('terminated');
  const [portA, portB] = [await tlsTarget(domainA), await tlsTarget(domainB)];
  const portConnect = await tlsTarget(domainConnect);
  const portInvoke = await tlsTarget(domainInvokeOnly);
  const invokeOnly = await passthroughService(
    domainInvokeOnly,
    portInvoke,
    'vpc-lattice-svcs:Invoke',
  );
  await passthroughService(domainConnect, portConnect, 'vpc-lattice-svcs:Connect');
  const a = await passthroughService(domainA, portA);
  await passthroughService(domainB, portB);
  await lattice.send(
    new CreateAccessLogSubscriptionCommand({
      resourceIdentifier: invokeOnly.id,
      destinationArn: `arn:aws:logs:${proc.region}:${proc.accountId}:log-group:${LOG_GROUP}`,
    }),
  );
  await lattice.send(
    new CreateAccessLogSubscriptionCommand({
      resourceIdentifier: a.id,
      destinationArn: `arn:aws:logs:${proc.region}:${proc.accountId}:log-group:${LOG_GROUP}`,
    }),
  );
  // An HTTPS listener of another service on the same port: Trellis terminates its name.
  const arn = await importCert(acm, corp.issue([domainHttps]));
  const svc = await lattice.send(
    new CreateServiceCommand({
      name: uniqueName('term'),
      customDomainName: domainHttps,
      certificateArn: arn,
    }),
  );
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: svc.id,
    }),
  );
  await lattice.send(
    new CreateAccessLogSubscriptionCommand({
      resourceIdentifier: svc.id,
      destinationArn: `arn:aws:logs:${proc.region}:${proc.accountId}:log-group:${LOG_GROUP}`,
    }),
  );
  const tg = await createTargetGroup(lattice, vpcId, upstream.port, [{ id: '127.0.0.1' }]);
  await lattice.send(
    new CreateListenerCommand({
      serviceIdentifier: svc.id,
      name: uniqueName('https'),
      protocol: 'HTTPS',
      port,
      defaultAction: forwardTo(tg.id),
    }),
  );
  for (const d of [domainA, domainB, domainConnect])
    await waitFor(async () => (await handshake(d, targetCa.rootPem)) === 'ok', {
      timeoutMs: 30_000,
      message: `passthrough serves ${d}`,
    });
  await waitFor(async () => (await handshake(domainHttps, corp.rootPem)) === 'ok', {
    timeoutMs: 30_000,
    message: 'HTTPS listener on the shared port',
  });
});

after(async () => {
  acm?.destroy();
  lattice?.destroy();
  await proc?.stop();
  await upstream?.close();
  for (const t of targets) {
    t.closeAllConnections();
    await new Promise<void>((resolve) => t.close(() => resolve()));
  }
});

describe('TLS_PASSTHROUGH listeners (spec §7.1)', () => {
  test('the client verifies the target’s own certificate; SNI picks the service; nothing is injected', async () => {
    const a = await viaPassthrough(domainA, '/a');
    assert.equal(a.target, domainA);
    assert.equal(a.cn, domainA, 'the certificate is the target’s, not the proxy’s');
    assert.equal(a.sni, domainA, 'the target sees the client’s SNI');
    assert.equal(a.headers['x-forwarded-for'], undefined, 'spec §3.1: nothing is injected');
    assert.equal(a.headers['x-amzn-lattice-network'], undefined);
    const b = await viaPassthrough(domainB);
    assert.equal(b.target, domainB);
    assert.equal(b.cn, domainB);
  });

  test('a request body larger than one TLS record passes through whole', async () => {
    const body = Buffer.alloc(300_000, 7);
    const r = await new Promise<TargetAnswer>((resolve, reject) => {
      const s = tlsConnect({ host: ingress, port, servername: domainA, ca: targetCa.rootPem });
      const chunks: Buffer[] = [];
      s.once('secureConnect', () => {
        s.write(
          `POST /upload HTTP/1.1\r\nhost: ${domainA}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
        );
        s.end(body);
      });
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as TargetAnswer);
      });
      s.on('error', reject);
    });
    assert.equal(r.bodyBytes, body.length);
  });

  test('AWS_IAM: anonymous Connect is what auth policies see (spec §2.3)', async () => {
    // Allowed: a policy allowing vpc-lattice-svcs:Connect to anyone.
    assert.equal((await viaPassthrough(domainConnect)).target, domainConnect);
    // Denied: a policy allowing only Invoke; the connection is closed before any target byte.
    const outcome = await handshake(domainInvokeOnly, targetCa.rootPem);
    assert.notEqual(outcome, 'ok');
    assert.notEqual(outcome, 'timeout');
    // The log subscription converges on its own: retry until a denied attempt is logged.
    const record = await waitFor(
      async () => {
        const found = logRecords().find((r) => r.serverNameIndication === domainInvokeOnly);
        if (found === undefined) await handshake(domainInvokeOnly, targetCa.rootPem);
        return found;
      },
      { timeoutMs: 20_000, message: 'the denied connection is logged' },
    );
    assert.equal(record?.failureReason, 'ClientAccessDenied');
    assert.equal(record?.authDeniedReason, 'Service');
    assert.equal(record?.resolvedUser, 'Anonymous');
    assert.equal(record?.targetIpPort, '-');
  });

  test('an HTTPS listener sharing the port still terminates its own name', async () => {
    const r = await httpsGet(ingress, port, { servername: domainHttps, ca: corp.rootPem });
    assert.equal(r.status, 200);
    assert.equal(r.peerSubjectCn, domainHttps);
    const echo = JSON.parse(r.body) as { headers: Record<string, string> };
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    // spec §4.1: HTTPS requests are logged with their SNI, TLS version and cipher.
    const record = await waitFor(
      async () => {
        const found = logRecords().find((x) => x.serverNameIndication === domainHttps);
        if (found === undefined)
          await httpsGet(ingress, port, { servername: domainHttps, ca: corp.rootPem });
        return found;
      },
      { timeoutMs: 20_000, message: 'an HTTPS record in the log group' },
    );
    assert.equal(record?.tlsVersion, 'TLSv1.3');
    assert.equal(record?.sslCipher, 'TLS_AES_128_GCM_SHA256');
    assert.equal(record?.protocol, 'HTTP/1.1');
    assert.equal(record?.responseCode, 200);
  });

  test('unknown SNI is refused at the handshake; the port keeps serving', async () => {
    const outcome = await handshake(`nobody-${tag}.example.com`, targetCa.rootPem);
    assert.notEqual(outcome, 'ok');
    assert.notEqual(outcome, 'timeout');
    assert.equal((await viaPassthrough(domainA)).target, domainA);
  });

  test('bytes that are not a ClientHello are closed without an answer', async () => {
    const bad = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00]);
    for (const bytes of [Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'), bad]) {
      const r = await rawExchange(bytes);
      assert.equal(r.received, 0, 'no answer');
      assert.ok(r.ended === 'closed' || r.ended === 'ECONNRESET', r.ended);
    }
  });

  test('each connection is access-logged with its SNI; HTTP fields are "-"', async () => {
    const record = await waitFor(
      async () => {
        const found = logRecords().find((r) => r.serverNameIndication === domainA);
        if (found === undefined) await viaPassthrough(domainA, '/logged');
        return found;
      },
      { timeoutMs: 15_000, message: 'a passthrough record in the log group' },
    );
    assert.ok(record);
    assert.equal(record.requestMethod, '-');
    assert.equal(record.requestPath, '-');
    assert.equal(record.hostHeader, '-');
    assert.equal(record.responseCode, '-');
    assert.equal(record.tlsVersion, '-', 'the proxy does not terminate passthrough TLS');
    assert.equal(record.sslCipher, '-');
    assert.match(String(record.targetIpPort), /^127\.0\.0\.1:\d+$/);
    assert.match(String(record.targetGroupArn), /:targetgroup\/tg-/);
    assert.equal(record.sourceVpcId, vpcId);
    assert.ok((record.bytesReceived as number) > 0 && (record.bytesSent as number) > 0);
  });
});
