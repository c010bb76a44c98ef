import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  boolean,
  explicit,
  ia5,
  integer,
  integerFromBytes,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  time,
  utf8String,
} from './der-writer.js';

/** A certificate with its private key, PEM-encoded. */
export interface CertificateWithKey {
  certificatePem: string;
  privateKeyPem: string;
  /** Issuer chain (not including the root a client trusts); empty for self-signed. */
  chainPem: string;
}

/** Subject of an issued certificate and what it covers. */
export interface CertificateRequest {
  /** Subject CN; defaults to the first DNS name. */
  commonName?: string;
  /** subjectAltName dNSName entries (wildcards allowed: `*.example.com`). */
  dnsNames: readonly string[];
  /** subjectAltName iPAddress entries. */
  ipAddresses?: readonly string[];
  /** Default 397 days (the CA/Browser-forum maximum). */
  validityDays?: number;
  /** Default now − 5 minutes (clock skew). */
  notBefore?: Date;
  /** `RSA_2048` (default; spec §7.4: Lattice needs RSA 2048) or `EC_prime256v1`. */
  keyAlgorithm?: 'RSA_2048' | 'EC_prime256v1';
}

/** The built-in certificate authority: issues server certificates for custom domains. */
export interface LocalCertificateAuthority {
  /** The root certificate clients trust (written to `<data-dir>/ca.pem`). */
  readonly certificatePem: string;
  issue(request: CertificateRequest): CertificateWithKey;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

const DAY_MS = 86_400_000;

function name(attrs: { commonName: string; organization?: string }): Buffer {
  const rdns = [set(sequence(oid(OID.commonName), utf8String(attrs.commonName)))];
  if (attrs.organization !== undefined)
    rdns.unshift(set(sequence(oid(OID.organization), utf8String(attrs.organization))));
  return sequence(...rdns);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

function signatureAlgorithm(key: KeyObject): Buffer {
  if (key.asymmetricKeyType === 'ec') return sequence(oid(OID.ecdsaWithSha256));
  if (key.asymmetricKeyType === 'rsa') return sequence(oid(OID.sha256WithRsa), nullValue());
  throw new Error(`unsupported issuer key type ${key.asymmetricKeyType}`);
}

/** RFC 7093 method: a hash of the whole SubjectPublicKeyInfo (any stable method is allowed). */
function keyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v !== 6) throw new Error(`not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g as string, 16), i * 2));
  return out;
}

interface SignInput {
  subject: Buffer;
  issuer: Buffer;
  subjectKey: KeyObject;
  issuerKey: KeyObject;
  issuerKeyId: Buffer;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
}

/** Builds and signs one X.509 v3 certificate (RFC 5280 §4.1); returns PEM. */
function signCertificate(input: SignInput): string {
  const spki = input.subjectKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive
  serial[0]! |= 0x01; // and 16 bytes long
  const extensions: Buffer[] = [
    extension(
      OID.basicConstraints,
      true,
      input.ca ? sequence(boolean(true), integer(0)) : sequence(),
    ),
    // keyCertSign|cRLSign (bits 5,6) for the CA; digitalSignature|keyEncipherment (bits 0,2).
    extension(
      OID.keyUsage,
      true,
      input.ca ? bitString(Buffer.from([0x06]), 1) : bitString(Buffer.from([0xa0]), 5),
    ),
    extension(OID.subjectKeyId, false, octetString(keyId(spki))),
    extension(OID.authorityKeyId, false, sequence(tagged(0x80, input.issuerKeyId))),
  ];
  if (!input.ca) {
    extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))));
    const names = [
      ...input.dnsNames.map((d) => ia5(0x82, d)),
      ...input.ipAddresses.map((ip) => tagged(0x87, ipBytes(ip))),
    ];
    if (names.length > 0) extensions.push(extension(OID.subjectAltName, false, sequence(...names)));
  }
  const algorithm = signatureAlgorithm(input.issuerKey);
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integerFromBytes(serial),
    algorithm,
    input.issuer,
    sequence(time(input.notBefore), time(input.notAfter)),
    input.subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, input.issuerKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  return toPem(der);
}

function tagged(tag: number, content: Buffer): Buffer {
  // Implicit primitive context tag: same length rules as any TLV.
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

function newKey(algorithm: 'RSA_2048' | 'EC_prime256v1'): KeyObject {
  return algorithm === 'RSA_2048'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

function pemKey(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Creates a self-signed root CA (EC P-256, 10 years): its PEM certificate and key. */
export function createRootCertificate(
  commonName = 'Trellis Local CA',
  validityDays = 3650,
): { certificatePem: string; privateKeyPem: string } {
  const key = newKey('EC_prime256v1');
  const subject = name({ commonName, organization: 'Trellis' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const certificatePem = signCertificate({
    subject,
    issuer: subject,
    subjectKey: createPublicKey(key),
    issuerKey: key,
    issuerKeyId: keyId(spki),
    notBefore: new Date(now - 300_000),
    notAfter: new Date(now + validityDays * DAY_MS),
    ca: true,
    dnsNames: [],
    ipAddresses: [],
  });
  return { certificatePem, privateKeyPem: pemKey(key) };
}

/** Reads `CN=…` and `O=…` of an X509Certificate subject text (as this module writes them). */
function parseName(text: string): { commonName: string; organization?: string } {
  let commonName = '';
  let organization: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('CN=')) commonName = line.slice(3);
    else if (line.startsWith('O=')) organization = line.slice(2);
  }
  return organization === undefined ? { commonName } : { commonName, organization };
}

/** A CA that signs with the given root (created by {@link createRootCertificate}). */
export function loadCertificateAuthority(root: {
  certificatePem: string;
  privateKeyPem: string;
}): LocalCertificateAuthority {
  const cert = new X509Certificate(root.certificatePem);
  const issuerKey = createPrivateKey(root.privateKeyPem);
  if (!cert.checkPrivateKey(issuerKey)) throw new Error('CA key does not match the CA certificate');
  const issuer = name(parseName(cert.subject));
  const issuerKeyId = keyId(cert.publicKey.export({ type: 'spki', format: 'der' }));
  return {
    certificatePem: root.certificatePem,
    issue(request) {
      if (request.dnsNames.length === 0 && (request.ipAddresses?.length ?? 0) === 0)
        throw new Error('a certificate needs at least one DNS name or IP address');
      const key = newKey(request.keyAlgorithm ?? 'RSA_2048');
      const notBefore = request.notBefore ?? new Date(Date.now() - 300_000);
      const notAfter = new Date(notBefore.getTime() + (request.validityDays ?? 397) * DAY_MS);
      const certificatePem = signCertificate({
        subject: name({ commonName: request.commonName ?? request.dnsNames[0] ?? 'ip' }),
        issuer,
        subjectKey: createPublicKey(key),
        issuerKey,
        issuerKeyId,
        notBefore,
        notAfter,
        ca: false,
        dnsNames: request.dnsNames,
        ipAddresses: request.ipAddresses ?? [],
      });
      return { certificatePem, privateKeyPem: pemKey(key), chainPem: '' };
    },
  };
}

/**
 * A self-signed leaf certificate (not a CA): for tests and for targets that present their own
 * certificate (spec §7.3: the proxy does not validate target certificates).
 */
export function selfSignedCertificate(request: CertificateRequest): CertificateWithKey {
  const key = newKey(request.keyAlgorithm ?? 'RSA_2048');
  const subject = name({ commonName: request.commonName ?? request.dnsNames[0] ?? 'self' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const notBefore = request.notBefore ?? new Date(Date.now() - 300_000);
  const certificatePem = signCertificate({
    subject,
    issuer: subject,
    subjectKey: createPublicKey(key),
    issuerKey: key,
    issuerKeyId: keyId(spki),
    notBefore,
    notAfter: new Date(notBefore.getTime() + (request.validityDays ?? 397) * DAY_MS),
    ca: false,
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses ?? [],
  });
  return { certificatePem, privateKeyPem: pemKey(key), chainPem: '' };
}
