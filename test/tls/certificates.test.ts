/**
 * The certificate store through `@aws-sdk/client-acm` against a real `trellis up`: import with
 * validation (expired, mismatched key, garbage → ValidationException, nothing stored), the local
 * CA (RequestCertificate), no private key from any API, keys sealed at rest, and services that
 * name certificates (spec §1.5 Service, §7.4).
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ImportCertificateCommand,
  ListCertificatesCommand,
  RequestCertificateCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException as AcmValidationException,
  type ACMClient,
} from '@aws-sdk/client-acm';
import {
  CreateServiceCommand,
  UpdateServiceCommand,
  ValidationException,
  type VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { selfSignedCertificate } from '../../src/iam/x509/certificate-issuer.js';
import { expectAwsError, uniqueName } from '../support/sdk-helpers.js';
import { startTrellis, type TrellisProcess } from '../support/trellis-process.js';
import { acmClient, customerCa, importCert } from './tls-fixtures.js';

let proc: TrellisProcess;
let acm: ACMClient;
let lattice: VPCLatticeClient;
const corp = customerCa();

before(async () => {
  proc = await startTrellis({ args: ['--no-dataplane'] });
  acm = acmClient(proc);
  lattice = proc.lattice();
});

after(async () => {
  acm?.destroy();
  lattice?.destroy();
  await proc?.stop();
});

async function count(): Promise<number> {
  const out = await acm.send(new ListCertificatesCommand({}));
  return out.CertificateSummaryList?.length ?? 0;
}

describe('ImportCertificate (ACM subset)', () => {
  test('a valid certificate with its chain is stored and described, never with its key', async () => {
    const leaf = corp.issue(['pay.example.com', '*.pay.example.com']);
    const arn = await acm.send(
      new ImportCertificateCommand({
        Certificate: Buffer.from(leaf.certificatePem),
        PrivateKey: Buffer.from(leaf.privateKeyPem),
        CertificateChain: Buffer.from(corp.rootPem),
      }),
    );
    assert.match(
      arn.CertificateArn!,
      new RegExp(`^arn:aws:acm:${proc.region}:${proc.accountId}:certificate/[0-9a-f-]{36}$`),
    );
    const d = await acm.send(
      new DescribeCertificateCommand({ CertificateArn: arn.CertificateArn }),
    );
    const c = d.Certificate!;
    assert.equal(c.DomainName, 'pay.example.com');
    assert.deepEqual(c.SubjectAlternativeNames, ['pay.example.com', '*.pay.example.com']);
    assert.equal(c.Type, 'IMPORTED');
    assert.equal(c.Status, 'ISSUED');
    assert.equal(c.KeyAlgorithm, 'RSA_2048');
    assert.ok(c.NotAfter instanceof Date && c.NotAfter.getTime() > Date.now());
    assert.match(c.Issuer ?? '', /Example Corp Root/);
    const got = await acm.send(new GetCertificateCommand({ CertificateArn: arn.CertificateArn }));
    assert.equal(
      new X509Certificate(got.Certificate!).fingerprint256,
      new X509Certificate(leaf.certificatePem).fingerprint256,
    );
    assert.match(got.CertificateChain ?? '', /BEGIN CERTIFICATE/);
    for (const answer of [d, got, await acm.send(new ListCertificatesCommand({}))])
      assert.ok(!JSON.stringify(answer).includes('PRIVATE KEY'), 'no key material in answers');
  });

  const bad: {
    name: string;
    make: () => { Certificate: Uint8Array; PrivateKey: Uint8Array; CertificateChain?: Uint8Array };
    message: RegExp;
  }[] = [
    {
      name: 'expired certificate',
      make: () => {
        const c = corp.issue(['old.example.com'], 1, new Date(Date.now() - 10 * 86_400_000));
        return {
          Certificate: Buffer.from(c.certificatePem),
          PrivateKey: Buffer.from(c.privateKeyPem),
        };
      },
      message: /expired/,
    },
    {
      name: 'key of another certificate',
      make: () => {
        const a = corp.issue(['a.example.com']);
        const b = corp.issue(['b.example.com']);
        return {
          Certificate: Buffer.from(a.certificatePem),
          PrivateKey: Buffer.from(b.privateKeyPem),
        };
      },
      message: /does not match/,
    },
    {
      name: 'garbage certificate',
      make: () => ({
        Certificate: Buffer.from(
          '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
        ),
        PrivateKey: Buffer.from(corp.issue(['x.example.com']).privateKeyPem),
      }),
      message: /could not be parsed|not a PEM/,
    },
    {
      name: 'not PEM at all',
      make: () => ({ Certificate: Buffer.from('hello'), PrivateKey: Buffer.from('world') }),
      message: /not a PEM/,
    },
    {
      name: 'garbage key',
      make: () => ({
        Certificate: Buffer.from(corp.issue(['k.example.com']).certificatePem),
        PrivateKey: Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      }),
      message: /not a valid PEM-encoded private key/,
    },
    {
      name: 'chain that did not issue the certificate',
      make: () => {
        const c = corp.issue(['c.example.com']);
        return {
          Certificate: Buffer.from(c.certificatePem),
          PrivateKey: Buffer.from(c.privateKeyPem),
          CertificateChain: Buffer.from(customerCa().rootPem),
        };
      },
      message: /chain does not match/,
    },
  ];
  for (const b of bad) {
    test(`refused and not stored: ${b.name}`, async () => {
      const before = await count();
      const err = await expectAwsError(
        acm.send(new ImportCertificateCommand(b.make())),
        AcmValidationException,
      );
      assert.match(err.message, b.message);
      assert.equal(await count(), before);
    });
  }

  test('unknown ARNs answer ResourceNotFoundException', async () => {
    await expectAwsError(
      acm.send(
        new DescribeCertificateCommand({
          CertificateArn: `arn:aws:acm:${proc.region}:${proc.accountId}:certificate/00000000-0000-0000-0000-000000000000`,
        }),
      ),
      ResourceNotFoundException,
    );
  });

  test('re-import to the same ARN replaces the certificate in place', async () => {
    const arn = await importCert(acm, corp.issue(['rotate.example.com']));
    const next = corp.issue(['rotate.example.com', 'www.rotate.example.com']);
    await acm.send(
      new ImportCertificateCommand({
        CertificateArn: arn,
        Certificate: Buffer.from(next.certificatePem),
        PrivateKey: Buffer.from(next.privateKeyPem),
      }),
    );
    const d = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    assert.deepEqual(d.Certificate!.SubjectAlternativeNames, [
      'rotate.example.com',
      'www.rotate.example.com',
    ]);
  });
});

describe('local CA (RequestCertificate)', () => {
  test('issues at once a certificate that chains to <data-dir>/ca.pem', async () => {
    const out = await acm.send(
      new RequestCertificateCommand({
        DomainName: 'inventory.corp.internal',
        SubjectAlternativeNames: ['*.inventory.corp.internal'],
      }),
    );
    const d = await acm.send(
      new DescribeCertificateCommand({ CertificateArn: out.CertificateArn }),
    );
    assert.equal(d.Certificate!.Status, 'ISSUED');
    assert.equal(d.Certificate!.Type, 'PRIVATE');
    const pem = (await acm.send(new GetCertificateCommand({ CertificateArn: out.CertificateArn })))
      .Certificate!;
    const root = new X509Certificate(readFileSync(join(proc.dataDir, 'ca.pem')));
    const leaf = new X509Certificate(pem);
    assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey), 'signed by the local CA');
    assert.equal(leaf.checkHost('a.inventory.corp.internal'), '*.inventory.corp.internal');
    assert.equal(leaf.checkHost('a.b.inventory.corp.internal'), undefined);
  });

  test('keys are sealed at rest: key file is 0600 and the database holds no PEM key', () => {
    assert.equal(statSync(join(proc.dataDir, 'keys', 'certificate-key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(proc.dataDir, 'keys', 'certificate-key')).size, 32);
    for (const f of ['trellis.db', 'trellis.db-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(proc.dataDir, f));
      } catch {
        continue;
      }
      assert.ok(!bytes.includes('PRIVATE KEY'), `${f} holds no plaintext key`);
    }
  });
});

describe('services and certificates (spec §1.5, §7.4)', () => {
  test('certificateArn must exist; a used certificate cannot be deleted until released', async () => {
    const missing = `arn:aws:acm:${proc.region}:${proc.accountId}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789`;
    const err = await expectAwsError(
      lattice.send(
        new CreateServiceCommand({
          name: uniqueName('certsvc'),
          customDomainName: 'x.example.com',
          certificateArn: missing,
        }),
      ),
      ValidationException,
      400,
    );
    assert.deepEqual(
      err.fieldList?.map((f) => f.name),
      ['certificateArn'],
    );
    const arn = await importCert(acm, selfSignedCertificate({ dnsNames: ['used.example.com'] }));
    const svc = await lattice.send(
      new CreateServiceCommand({
        name: uniqueName('certsvc'),
        customDomainName: 'used.example.com',
        certificateArn: arn,
      }),
    );
    const d = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    assert.deepEqual(d.Certificate!.InUseBy, [svc.arn]);
    await expectAwsError(
      acm.send(new DeleteCertificateCommand({ CertificateArn: arn })),
      ResourceInUseException,
    );
    await expectAwsError(
      lattice.send(
        new UpdateServiceCommand({ serviceIdentifier: svc.id, certificateArn: missing }),
      ),
      ValidationException,
    );
    await lattice.send(new UpdateServiceCommand({ serviceIdentifier: svc.id, certificateArn: '' }));
    await acm.send(new DeleteCertificateCommand({ CertificateArn: arn }));
    await expectAwsError(
      acm.send(new DescribeCertificateCommand({ CertificateArn: arn })),
      ResourceNotFoundException,
    );
  });
});
