/**
 * TLS session resumption on HTTPS listeners through a real `trellis up`: a client that kept the
 * session (ticket) of its first connection resumes it on the next, for a custom domain whose
 * certificate the SNI callback selects and for the generated name — as nginx's default
 * configuration does. (bench/tls.md: new-connection rates against nginx depend on resumption.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { ACMClient } from '@aws-sdk/client-acm';
import {
  CreateListenerCommand,
  CreateServiceCommand,
  CreateServiceNetworkServiceAssociationCommand,
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
  type RecordingUpstream,
} from '../support/dataplane-fixtures.js';
import { defaultVpcId, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { acmClient, customerCa, importCert } from './tls-fixtures.js';

const ingress = randomLoopback();
const port = randomPort();
const domain = `resume-${Math.random().toString(36).slice(2, 8)}.example.com`;
const corp = customerCa();
let proc: TrellisProcess;
let lattice: VPCLatticeClient;
let acm: ACMClient;
let upstream: RecordingUpstream;
let generatedName: string;
let localCa: string;

/**
 * One HTTP/1.1 exchange over a new TLS connection offering `session`; resolves whether the
 * session was reused and the session to offer next (the newest ticket the server sent).
 */
function exchange(
  servername: string,
  ca: string,
  session: Buffer | undefined,
): Promise<{ reused: boolean; session: Buffer | undefined; status: string }> {
  return new Promise((resolve, reject) => {
    let latest: Buffer | undefined;
    const s: TLSSocket = connect({
      host: ingress,
      port,
      servername,
      ca,
      ...(session ? { session } : {}),
    });
    s.on('session', (ticket: Buffer) => (latest = ticket));
    let text = '';
    s.once('secureConnect', () =>
      s.write(`GET / HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`),
    );
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('end', () =>
      resolve({
        reused: s.isSessionReused(),
        session: latest ?? session,
        status: text.slice(0, 12),
      }),
    );
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('timed out')));
  });
}

before(async () => {
  proc = await startTrellis({
    args: ['--dataplane-host', ingress],
    env: { TRELLIS_STORE_SYNCHRONOUS: 'NORMAL' },
  });
  lattice = proc.lattice();
  acm = acmClient(proc);
  localCa = readFileSync(join(proc.dataDir, 'ca.pem'), 'utf8');
  const vpcId = defaultVpcId(proc.accountId);
  const net = await createNetwork(lattice, vpcId);
  upstream = await startUpstream('resume');
  const arn = await importCert(acm, corp.issue([domain]));
  const svc = await lattice.send(
    new CreateServiceCommand({
      name: uniqueName('resume'),
      customDomainName: domain,
      certificateArn: arn,
    }),
  );
  generatedName = svc.dnsEntry!.domainName!;
  await lattice.send(
    new CreateServiceNetworkServiceAssociationCommand({
      serviceNetworkIdentifier: net.id,
      serviceIdentifier: svc.id,
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
  await waitFor(
    async () =>
      (await exchange(domain, corp.rootPem, undefined).catch(() => undefined))?.status ===
      'HTTP/1.1 200',
    { timeoutMs: 15_000, message: 'HTTPS listener serves the custom domain' },
  );
});

after(async () => {
  acm?.destroy();
  lattice?.destroy();
  await proc?.stop();
  await upstream?.close();
});

describe('TLS session resumption on HTTPS listeners', () => {
  for (const [what, name, ca] of [
    ['custom domain (certificate chosen by SNI)', () => domain, () => corp.rootPem],
    ['generated name (local CA certificate)', () => generatedName, () => localCa],
  ] as const) {
    test(`${what}: the second connection resumes the first one's session`, async () => {
      const first = await exchange(name(), ca(), undefined);
      assert.equal(first.status, 'HTTP/1.1 200');
      assert.equal(first.reused, false);
      assert.ok(first.session, 'the server issued a session ticket');
      const second = await exchange(name(), ca(), first.session);
      assert.equal(second.status, 'HTTP/1.1 200');
      assert.equal(second.reused, true, 'the ticket was accepted');
    });
  }
});
