import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { AcmError } from '../errors/acm-errors.js';
import {
  certificateArn,
  type CertificateKeyAlgorithm,
  type StoredCertificate,
} from '../model/certificate-types.js';
import type { Service } from '../model/lattice-types.js';
import type { StoredResource } from '../store/store.js';
import type { OperationScope, WriteScope } from './manager-context.js';

/**
 * What the certificate store needs from outside (wired by bin/): sealing private keys at rest and
 * the local CA. Managers never read key files themselves.
 */
export interface CertificatePorts {
  /** Seals a private key PEM (AES-256-GCM under the data dir's certificate key). */
  seal(privateKeyPem: string): string;
  /** Issues a server certificate from the local CA for these DNS names. */
  issue(dnsNames: readonly string[]): {
    certificatePem: string;
    privateKeyPem: string;
    chainPem: string;
  };
}

/** ACM limits: certificate and chain ≤ 32 KiB, key ≤ 5 KiB (PEM). */
const MAX_CERTIFICATE_BYTES = 32_768;
const MAX_CHAIN_BYTES = 2_097_152;
const MAX_KEY_BYTES = 5_120;
const ARN = /^arn:[a-z0-9-]+:acm:([a-z0-9-]+):(\d{12}):certificate\/([0-9a-z-]+)$/;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function invalid(message: string): AcmError {
  return new AcmError('ValidationException', message);
}

/** awsJson blobs arrive base64; the CLI may also pass PEM text directly. */
function blobText(value: unknown, member: string, limit: number, required: boolean): string {
  if (value === undefined || value === null || value === '') {
    if (required)
      throw invalid(
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    return '';
  }
  if (typeof value !== 'string') throw invalid(`${member} must be a base64-encoded blob.`);
  const text = value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64').toString('utf8');
  if (Buffer.byteLength(text) > limit)
    throw invalid(`${member} is longer than the limit of ${limit} bytes.`);
  return text;
}

function parsePemCertificates(text: string, member: string): X509Certificate[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw invalid(`The ${member} is not a PEM-encoded X.509 certificate.`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw invalid(`The ${member} could not be parsed as an X.509 certificate.`);
    }
  });
}

function keyAlgorithm(key: KeyObject): CertificateKeyAlgorithm {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength ?? 0;
    if (bits === 1024 || bits === 2048 || bits === 3072 || bits === 4096)
      return `RSA_${bits}` as CertificateKeyAlgorithm;
  } else if (key.asymmetricKeyType === 'ec') {
    if (d.namedCurve === 'prime256v1') return 'EC_prime256v1';
    if (d.namedCurve === 'secp384r1') return 'EC_secp384r1';
    if (d.namedCurve === 'secp521r1') return 'EC_secp521r1';
  }
  throw invalid(
    'The private key is not supported: use RSA (1024–4096 bits) or EC (P-256, P-384, P-521).',
  );
}

/** Names a certificate covers: SAN dNSName entries, and the subject CN. */
function namesOf(cert: X509Certificate): { domainName: string; sans: string[] } {
  const sans = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4));
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  return { domainName: cn ?? sans[0] ?? '', sans };
}

/** Validates an import (spec: bad input is refused with a clear error and not stored). */
function validateImport(
  certificatePem: string,
  privateKeyPem: string,
  chainPem: string,
  now: Date,
): { cert: X509Certificate; key: KeyObject; chain: X509Certificate[] } {
  const certs = parsePemCertificates(certificatePem, 'certificate');
  if (certs.length !== 1)
    throw invalid('The certificate field must contain exactly one certificate.');
  const cert = certs[0]!;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch (err) {
    const encrypted = /ENCRYPTED|passphrase/i.test(`${privateKeyPem} ${(err as Error).message}`);
    throw invalid(
      encrypted
        ? 'The private key is encrypted: import an unencrypted PEM key.'
        : 'The private key is not a valid PEM-encoded private key.',
    );
  }
  if (!cert.checkPrivateKey(key))
    throw invalid('The private key does not match the public key of the certificate.');
  if (new Date(cert.validTo).getTime() <= now.getTime())
    throw invalid(
      `The certificate has expired (notAfter ${new Date(cert.validTo).toISOString()}).`,
    );
  if (new Date(cert.validFrom).getTime() > now.getTime())
    throw invalid(
      `The certificate is not yet valid (notBefore ${new Date(cert.validFrom).toISOString()}).`,
    );
  const chain = chainPem ? parsePemCertificates(chainPem, 'certificate chain') : [];
  let child = cert;
  for (const link of chain) {
    if (!child.checkIssued(link) || !child.verify(link.publicKey))
      throw invalid(
        'The certificate chain does not match: each certificate must be issued by the next.',
      );
    child = link;
  }
  return { cert, key, chain };
}

function parseArn(scope: OperationScope, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw invalid(
      "1 validation error detected: Value null at 'certificateArn' failed to satisfy constraint: Member must not be null",
    );
  const m = ARN.exec(value);
  if (m === null) throw new AcmError('InvalidArnException', `The ARN ${value} is not valid.`);
  if (m[1] !== scope.ctx.region || m[2] !== scope.caller.accountId)
    throw new AcmError('ResourceNotFoundException', `Could not find certificate ${value}.`);
  return m[3]!;
}

async function findCertificate(
  scope: OperationScope,
  arn: unknown,
): Promise<StoredResource<StoredCertificate>> {
  const id = parseArn(scope, arn);
  const found = await scope.reader.get<StoredCertificate>('certificate', id);
  if (found === undefined || found.accountId !== scope.caller.accountId)
    throw new AcmError('ResourceNotFoundException', `Could not find certificate ${String(arn)}.`);
  return found;
}

function checkTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 50)
    throw new AcmError('InvalidTagException', 'Tags must be a list of at most 50 {Key, Value}.');
  const out: Record<string, string> = {};
  for (const t of value as { Key?: unknown; Value?: unknown }[]) {
    if (typeof t?.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128)
      throw new AcmError('InvalidTagException', 'Each tag needs a Key of 1–128 characters.');
    out[t.Key] = typeof t.Value === 'string' ? t.Value : '';
  }
  return out;
}

function record(
  scope: WriteScope,
  id: string,
  cert: X509Certificate,
  key: KeyObject,
  chainPem: string,
  sealed: string,
  type: StoredCertificate['type'],
  prior: StoredCertificate | undefined,
): StoredCertificate {
  const now = scope.ctx.now();
  const { domainName, sans } = namesOf(cert);
  const out: StoredCertificate = {
    certificateArn: certificateArn(
      scope.ctx.partition,
      scope.ctx.region,
      scope.caller.accountId,
      id,
    ),
    certificateId: id,
    domainName,
    subjectAlternativeNames: sans,
    subject: cert.subject.split('\n').join(','),
    issuer: cert.issuer.split('\n').join(','),
    serial: cert.serialNumber.toLowerCase().replace(/(..)(?=.)/g, '$1:'),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    keyAlgorithm: keyAlgorithm(key),
    type,
    status: 'ISSUED',
    createdAt: prior?.createdAt ?? now,
    certificatePem: cert.toString(),
    certificateChainPem: chainPem,
    sealedPrivateKey: sealed,
  };
  if (type === 'IMPORTED') out.importedAt = now;
  else out.issuedAt = now;
  if (prior?.tags !== undefined) out.tags = prior.tags;
  return out;
}

async function put(
  scope: WriteScope,
  data: StoredCertificate,
  existing: StoredResource<StoredCertificate> | undefined,
): Promise<void> {
  const input = {
    kind: 'certificate' as const,
    id: data.certificateId,
    accountId: scope.caller.accountId,
    arn: data.certificateArn,
    data,
  };
  if (existing === undefined) await scope.tx.insert(input);
  else await scope.tx.update(input);
}

/**
 * ACM ImportCertificate: a PEM certificate, its chain and an unencrypted private key. The
 * certificate must parse, match the key and be valid now; otherwise ValidationException and
 * nothing is stored. With `CertificateArn`, re-imports in place (rotation under the same ARN).
 */
export async function importCertificate(
  scope: WriteScope,
  ports: CertificatePorts,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const certificatePem = blobText(input.Certificate, 'certificate', MAX_CERTIFICATE_BYTES, true);
  const privateKeyPem = blobText(input.PrivateKey, 'privateKey', MAX_KEY_BYTES, true);
  const chainText = blobText(input.CertificateChain, 'certificateChain', MAX_CHAIN_BYTES, false);
  const tags = checkTags(input.Tags);
  const { cert, key, chain } = validateImport(
    certificatePem,
    privateKeyPem,
    chainText,
    new Date(scope.ctx.now()),
  );
  let existing: StoredResource<StoredCertificate> | undefined;
  if (input.CertificateArn !== undefined) {
    existing = await findCertificate(scope, input.CertificateArn);
    if (tags !== undefined) throw invalid('Tags cannot be given when re-importing a certificate.');
  }
  const id = existing?.id ?? randomUUID();
  const chainPem = chain.map((c) => c.toString()).join('');
  const data = record(
    scope,
    id,
    cert,
    key,
    chainPem,
    ports.seal(key.export({ type: 'pkcs8', format: 'pem' }) as string),
    'IMPORTED',
    existing?.data,
  );
  if (tags !== undefined) data.tags = tags;
  await put(scope, data, existing);
  return { CertificateArn: data.certificateArn };
}

const DOMAIN =
  /^(\*\.)?[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

/**
 * ACM RequestCertificate, answered by Trellis's local CA: the certificate is issued at once
 * (status ISSUED, type PRIVATE) for `DomainName` plus `SubjectAlternativeNames`; no DNS or email
 * validation takes place, because the local CA only vouches to clients that trust its root.
 */
export async function requestCertificate(
  scope: WriteScope,
  ports: CertificatePorts,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const domain = input.DomainName;
  if (typeof domain !== 'string' || !DOMAIN.test(domain) || domain.length > 253)
    throw invalid(`DomainName ${String(domain)} is not a valid domain name.`);
  const extra = input.SubjectAlternativeNames ?? [];
  if (
    !Array.isArray(extra) ||
    extra.length > 99 ||
    extra.some((d) => typeof d !== 'string' || !DOMAIN.test(d))
  )
    throw invalid('SubjectAlternativeNames must be a list of at most 99 valid domain names.');
  const tags = checkTags(input.Tags);
  const names = [...new Set([domain, ...(extra as string[])].map((d) => d.toLowerCase()))];
  const issued = ports.issue(names);
  const cert = new X509Certificate(issued.certificatePem);
  const key = createPrivateKey(issued.privateKeyPem);
  const id = randomUUID();
  const data = record(
    scope,
    id,
    cert,
    key,
    issued.chainPem,
    ports.seal(issued.privateKeyPem),
    'PRIVATE',
    undefined,
  );
  if (tags !== undefined) data.tags = tags;
  await put(scope, data, undefined);
  return { CertificateArn: data.certificateArn };
}

async function servicesUsing(scope: OperationScope, arn: string): Promise<string[]> {
  const page = await scope.reader.list<Service>({
    kind: 'service',
    accountId: scope.caller.accountId,
    where: { certificateArn: arn },
  });
  return page.items.map((s) => s.data.arn);
}

const epoch = (iso: string | undefined): number | undefined =>
  iso === undefined ? undefined : Math.floor(Date.parse(iso) / 1000);

/** ACM DescribeCertificate (no key material, ever). */
export async function describeCertificate(
  scope: OperationScope,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const c = (await findCertificate(scope, input.CertificateArn)).data;
  const inUseBy = await servicesUsing(scope, c.certificateArn);
  return {
    Certificate: {
      CertificateArn: c.certificateArn,
      DomainName: c.domainName,
      SubjectAlternativeNames: c.subjectAlternativeNames.length
        ? c.subjectAlternativeNames
        : [c.domainName],
      Serial: c.serial,
      Subject: c.subject,
      Issuer: c.issuer,
      CreatedAt: epoch(c.createdAt),
      ...(c.importedAt ? { ImportedAt: epoch(c.importedAt) } : {}),
      ...(c.issuedAt ? { IssuedAt: epoch(c.issuedAt) } : {}),
      Status: c.status,
      NotBefore: epoch(c.notBefore),
      NotAfter: epoch(c.notAfter),
      KeyAlgorithm: c.keyAlgorithm,
      SignatureAlgorithm: c.keyAlgorithm.startsWith('RSA') ? 'SHA256WITHRSA' : 'SHA256WITHECDSA',
      InUseBy: inUseBy,
      Type: c.type,
      KeyUsages: [{ Name: 'DIGITAL_SIGNATURE' }, { Name: 'KEY_ENCIPHERMENT' }],
      ExtendedKeyUsages: [{ Name: 'TLS_WEB_SERVER_AUTHENTICATION', OID: '1.3.6.1.5.5.7.3.1' }],
      RenewalEligibility: 'INELIGIBLE',
    },
  };
}

/** ACM GetCertificate: the certificate and chain PEM (never the key). */
export async function getCertificate(
  scope: OperationScope,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const c = (await findCertificate(scope, input.CertificateArn)).data;
  return {
    Certificate: c.certificatePem,
    ...(c.certificateChainPem ? { CertificateChain: c.certificateChainPem } : {}),
  };
}

/** ACM ListCertificates (pages by `MaxItems` 1–1000 and an opaque `NextToken`). */
export async function listCertificates(
  scope: OperationScope,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const max = input.MaxItems ?? 1000;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 1000)
    throw invalid('MaxItems must be an integer between 1 and 1000.');
  let afterId: string | undefined;
  if (input.NextToken !== undefined) {
    const decoded =
      typeof input.NextToken === 'string'
        ? Buffer.from(input.NextToken, 'base64url').toString('utf8')
        : '';
    if (!decoded.startsWith('c1:'))
      throw new AcmError('InvalidArgsException', 'NextToken is not valid.');
    afterId = decoded.slice(3);
  }
  const statuses = (input.CertificateStatuses as unknown[] | undefined) ?? [];
  const page = await scope.reader.list<StoredCertificate>({
    kind: 'certificate',
    accountId: scope.caller.accountId,
    limit: max,
    ...(afterId !== undefined ? { afterId } : {}),
  });
  const list: Record<string, unknown>[] = [];
  for (const item of page.items) {
    const c = item.data;
    if (statuses.length > 0 && !statuses.includes(c.status)) continue;
    const sans = c.subjectAlternativeNames.length ? c.subjectAlternativeNames : [c.domainName];
    list.push({
      CertificateArn: c.certificateArn,
      DomainName: c.domainName,
      SubjectAlternativeNameSummaries: sans,
      HasAdditionalSubjectAlternativeNames: false,
      Status: c.status,
      Type: c.type,
      KeyAlgorithm: c.keyAlgorithm,
      InUse: (await servicesUsing(scope, c.certificateArn)).length > 0,
      CreatedAt: epoch(c.createdAt),
      ...(c.importedAt ? { ImportedAt: epoch(c.importedAt) } : {}),
      ...(c.issuedAt ? { IssuedAt: epoch(c.issuedAt) } : {}),
      NotBefore: epoch(c.notBefore),
      NotAfter: epoch(c.notAfter),
    });
  }
  return {
    CertificateSummaryList: list,
    ...(page.lastId !== undefined
      ? { NextToken: Buffer.from(`c1:${page.lastId}`).toString('base64url') }
      : {}),
  };
}

/** ACM DeleteCertificate: refused with ResourceInUseException while a service names it. */
export async function deleteCertificate(
  scope: WriteScope,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const found = await findCertificate(scope, input.CertificateArn);
  const users = await servicesUsing(scope, found.data.certificateArn);
  if (users.length > 0)
    throw new AcmError(
      'ResourceInUseException',
      `Certificate ${found.data.certificateArn} is in use by ${users.join(', ')}.`,
    );
  await scope.tx.delete('certificate', found.id);
  return {};
}

/**
 * For CreateService/UpdateService (spec §1.5, §7.4): `certificateArn` must name a certificate of
 * the caller's account in this Region. Answers a Lattice ValidationException message, or undefined.
 */
export async function certificateProblem(
  scope: OperationScope,
  arn: string,
): Promise<string | undefined> {
  const m = ARN.exec(arn);
  if (m === null || m[1] !== scope.ctx.region || m[2] !== scope.caller.accountId)
    return `certificate ${arn} is not a certificate of this account in ${scope.ctx.region}`;
  const found = await scope.reader.get<StoredCertificate>('certificate', m[3]!);
  if (found === undefined || found.accountId !== scope.caller.accountId)
    return `certificate ${arn} does not exist (import it with ImportCertificate or trellis certificate import)`;
  return undefined;
}
